//! The agent: owns the conversation and the model client, runs one turn at a time, and
//! reports to the UI over a channel. The UI talks to it only through `Op`s.
//!
//! Tool execution and approvals join this loop with the tools issue; until then tool
//! calls the model makes are reported (and shown as cards) but not run, and no tools are
//! offered.

use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};

use crate::config::{Config, ModelConfig};
use crate::domain::conversation::Message;
use crate::llm::{ChatRequest, Client, ClientOptions, Completion, LlmError, StreamEnd, probe};
use crate::protocol::{AgentEvent, Op, ServerStatus, StreamEvent, ToolCallInfo, TurnOutcome};

pub struct AgentSettings {
    pub model: ModelConfig,
    pub client: Client,
    pub system_prompt: String,
}

impl AgentSettings {
    pub fn from_config(config: &Config, system_prompt: String) -> Result<Self, LlmError> {
        let env = |k: &str| std::env::var(k).ok();
        let client = Client::new(
            config.model.endpoints(&env),
            ClientOptions::from_config(config, &config.model),
        )?;
        Ok(AgentSettings {
            model: config.model.clone(),
            client,
            system_prompt,
        })
    }
}

/// Starts the agent on the current tokio runtime.
pub fn spawn(settings: AgentSettings) -> (UnboundedSender<Op>, UnboundedReceiver<AgentEvent>) {
    let (op_tx, op_rx) = unbounded_channel();
    let (ev_tx, ev_rx) = unbounded_channel();
    tokio::spawn(run(settings, op_rx, ev_tx));
    (op_tx, ev_rx)
}

struct Agent {
    settings: AgentSettings,
    conversation: Vec<Message>,
    model: Option<String>,
    context_window: Option<u64>,
    events: UnboundedSender<AgentEvent>,
}

async fn run(
    settings: AgentSettings,
    mut ops: UnboundedReceiver<Op>,
    events: UnboundedSender<AgentEvent>,
) {
    let mut agent = Agent {
        conversation: vec![Message::system(settings.system_prompt.clone())],
        model: settings.model.name.clone().filter(|n| !n.is_empty()),
        context_window: settings.model.context_window.map(u64::from),
        settings,
        events,
    };
    agent.probe().await;
    while let Some(op) = ops.recv().await {
        match op {
            Op::UserTurn { turn, text } => {
                if agent.turn(turn, text, &mut ops).await {
                    break;
                }
            }
            Op::Interrupt => {}
            Op::Shutdown => break,
        }
    }
}

impl Agent {
    fn send(&self, ev: AgentEvent) {
        // The UI has gone: nothing left to tell.
        let _ = self.events.send(ev);
    }

    /// Finds the model name, the context window and whether the server answers.
    async fn probe(&mut self) {
        let client = &self.settings.client;
        let endpoint = client
            .endpoints()
            .first()
            .map(|e| e.api_base.clone())
            .unwrap_or_default();
        let status = match probe::identify(client).await {
            Ok(facts) => {
                if self.model.is_none() {
                    self.model = Some(
                        facts
                            .models
                            .first()
                            .map(|m| m.id.clone())
                            .unwrap_or_else(|| "default".into()),
                    );
                }
                if self.context_window.is_none() {
                    self.context_window = facts
                        .context
                        .or_else(|| facts.models.first().and_then(|m| m.context));
                }
                ServerStatus {
                    reachable: true,
                    endpoint: facts.endpoint.api_base,
                    model: self.model.clone().unwrap_or_default(),
                    context_window: self.context_window,
                    detail: None,
                }
            }
            Err(e) => ServerStatus {
                reachable: false,
                endpoint,
                model: self
                    .model
                    .clone()
                    .unwrap_or_else(|| "(unknown model)".into()),
                context_window: self.context_window,
                detail: Some(e.to_string()),
            },
        };
        self.send(AgentEvent::Server(status));
    }

    /// Runs one turn. Returns true when the UI asked to shut down meanwhile.
    async fn turn(&mut self, turn: u64, text: String, ops: &mut UnboundedReceiver<Op>) -> bool {
        if self.model.is_none() {
            self.probe().await;
        }
        self.conversation.push(Message::user(text));
        let req = ChatRequest {
            model: self.model.clone().unwrap_or_else(|| "default".into()),
            messages: self.conversation.clone(),
            tools: Vec::new(),
            max_tokens: self.settings.model.max_tokens,
            temperature: self.settings.model.temperature,
        };
        let events = self.events.clone();
        let mut streamed = String::new();
        let mut shutdown = false;
        let result = {
            let mut on_event = |ev: StreamEvent| {
                if let StreamEvent::Content { text } = &ev {
                    streamed.push_str(text);
                }
                let _ = events.send(AgentEvent::Stream { turn, event: ev });
            };
            let stream = self.settings.client.stream_chat(&req, &mut on_event);
            tokio::pin!(stream);
            loop {
                tokio::select! {
                    r = &mut stream => break Some(r),
                    op = ops.recv() => match op {
                        Some(Op::Interrupt) => break None,
                        Some(Op::Shutdown) | None => { shutdown = true; break None }
                        Some(Op::UserTurn { .. }) => {} // the UI sends one turn at a time
                    },
                }
            }
        };
        match result {
            None => {
                // Interrupted: the stream future is dropped, which closes the connection.
                if !streamed.is_empty() {
                    self.conversation
                        .push(Message::assistant(streamed, Vec::new()));
                }
                self.send(AgentEvent::TurnDone {
                    turn,
                    outcome: TurnOutcome {
                        interrupted: true,
                        ..TurnOutcome::default()
                    },
                });
            }
            Some(Ok(c)) => {
                let outcome = outcome(&c, &streamed);
                self.conversation.push(Message::assistant(
                    c.reply.content.clone(),
                    c.reply.tool_calls.clone(),
                ));
                self.send(AgentEvent::TurnDone { turn, outcome });
            }
            Some(Err(e)) => {
                if !streamed.is_empty() {
                    self.conversation
                        .push(Message::assistant(streamed, Vec::new()));
                }
                let hint = hint_for(&e);
                self.send(AgentEvent::TurnFailed {
                    turn,
                    error: e.to_string(),
                    hint,
                });
                if matches!(e, LlmError::Unreachable(_)) {
                    self.probe().await;
                }
            }
        }
        shutdown
    }
}

fn outcome(c: &Completion, streamed: &str) -> TurnOutcome {
    let cut_short = match &c.end {
        StreamEnd::Complete => None,
        StreamEnd::ServerError(m) => Some(format!("the server reported an error mid-stream: {m}")),
        StreamEnd::Truncated => Some(format!(
            "the stream ended early ({})",
            c.reply
                .warnings
                .last()
                .cloned()
                .unwrap_or_else(|| "the connection closed".into())
        )),
    };
    TurnOutcome {
        finish_reason: c.reply.finish_reason.clone(),
        interrupted: false,
        cut_short,
        ttft_ms: c.ttft.map(|d| d.as_secs_f64() * 1000.0),
        tokens_per_s: c.tokens_per_s,
        context_tokens: c.reply.usage.map(|u| u.total_tokens),
        tool_calls: c
            .reply
            .tool_calls
            .iter()
            .map(|t| ToolCallInfo {
                id: t.id.clone(),
                name: t.name.clone(),
                arguments: t.arguments.clone(),
                recovered: t.recovered,
            })
            .collect(),
        final_content: (c.reply.content != streamed).then(|| c.reply.content.clone()),
    }
}

/// What the user can do about an error.
pub fn hint_for(e: &LlmError) -> String {
    match e {
        LlmError::Offline(_) => "Add the host to allowed_hosts in your config, or use a local server.".into(),
        LlmError::BadEndpoint(_) => "Fix model.api_base in your config (`cove config` shows where it is set).".into(),
        LlmError::Unreachable(_) => {
            "Is the model server running? `cove doctor` checks each endpoint; scripts/local-model.sh starts a local one.".into()
        }
        LlmError::Http { status: 401 | 403, .. } => "Check the API key (model.api_key, model.api_key_env or COVE_API_KEY).".into(),
        LlmError::Http { status: 404, .. } => "Check model.name and api_base; `cove models` lists what the server has.".into(),
        LlmError::Http { status: 413, .. } | LlmError::Http { status: 400, .. } => {
            "The request may exceed the server's context window: start a new session or raise the server's context size.".into()
        }
        LlmError::Http { status: 429 | 503, .. } => "The server is busy; try again in a moment.".into(),
        LlmError::Http { .. } => "See the server's log for details.".into(),
        LlmError::Protocol { .. } => "The server's reply was not in the OpenAI streaming format; check api_base.".into(),
    }
}
