//! The agent: owns the conversation, the model client and the tools; runs one turn at a
//! time: model response -> tool calls (each approved by the user or allowed by policy)
//! -> results back to the model -> next response, until the model answers without tool
//! calls. It reports to the UI over a channel; the UI reaches it only through `Op`s, and
//! only `Op::Decide` (sent on a keystroke) approves anything.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};

use crate::config::{Config, ImageRoute, ModelConfig, Policy, ToolsConfig, shell_pattern_matches};
use crate::domain::conversation::{Message, ToolCall};
use crate::llm::{ChatRequest, Client, ClientOptions, Completion, LlmError, StreamEnd, probe};
use crate::protocol::{
    AgentEvent, Decision, ImageAttachment, Op, ServerStatus, StreamEvent, ToolCallInfo,
    ToolResultKind, TurnOutcome,
};
use crate::tools::context::{FileChange, ToolContext, ToolOutput};
use crate::tools::{offered_tools, registry};

pub struct AgentSettings {
    pub model: ModelConfig,
    pub tools: ToolsConfig,
    pub client: Client,
    pub system_prompt: String,
    pub ctx: ToolContext,
    /// Commit the files a turn changed when it ends (`[git] auto_commit`).
    pub auto_commit: bool,
    /// A separate vision model for messages with images (`[vision]`), when configured.
    pub vision: Option<(ModelConfig, std::sync::Arc<Client>)>,
}

impl AgentSettings {
    /// `root` is the workspace, canonicalised.
    pub fn from_config(
        config: &Config,
        system_prompt: String,
        root: PathBuf,
    ) -> Result<Self, LlmError> {
        let env = |k: &str| std::env::var(k).ok();
        let client = Client::new(
            config.model.endpoints(&env),
            ClientOptions::from_config(config, &config.model),
        )?;
        let mut ctx = ToolContext::new(root);
        ctx.secret_env = std::iter::once("COVE_API_KEY".to_string())
            .chain(config.model.api_key_env.clone())
            .chain(config.vision.api_key_env.clone())
            .collect();
        Ok(AgentSettings {
            model: config.model.clone(),
            tools: config.tools.clone(),
            client,
            system_prompt,
            ctx,
            auto_commit: config.git.enabled && config.git.auto_commit,
            vision: match config.image_route() {
                ImageRoute::Main => None,
                ImageRoute::Vision(mc) => {
                    let client =
                        Client::new(mc.endpoints(&env), ClientOptions::from_config(config, &mc))?;
                    Some((mc, std::sync::Arc::new(client)))
                }
            },
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
    /// Tools the user allowed for the session with `a`.
    allowed_tools: HashSet<String>,
    /// Shell command prefixes the user allowed for the session.
    allowed_prefixes: Vec<String>,
    /// Files changed in the running turn, in order (old and new bytes).
    turn_changes: Vec<FileChange>,
    /// The changes of each finished turn that changed files, newest last (for `/undo`).
    undo_stack: Vec<Vec<FileChange>>,
    /// Told to the model with the next user message (e.g. that the user undid changes).
    pending_note: Option<String>,
    /// Each file cove changed this session, as it was before the first change (in order).
    session_base: Vec<(PathBuf, Option<Vec<u8>>)>,
    /// What the status bar was last told about the server.
    status: ServerStatus,
}

/// How a call is to be handled before it runs.
enum Gate {
    Run,
    Ask,
    /// Refused without asking (disabled tool, denied command, bad arguments): the text is the result.
    Refuse(String),
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
        allowed_tools: HashSet::new(),
        allowed_prefixes: Vec::new(),
        turn_changes: Vec::new(),
        undo_stack: Vec::new(),
        pending_note: None,
        status: ServerStatus::default(),
        session_base: Vec::new(),
    };
    agent.probe().await;
    while let Some(op) = ops.recv().await {
        tracing::debug!(op = ?std::mem::discriminant(&op), "op between turns");
        match op {
            Op::UserTurn { turn, text, images } => {
                // a vision turn keeps the pending note for the coding model's next request
                let shutdown = if !images.is_empty() && agent.settings.vision.is_some() {
                    agent.vision_turn(turn, text, images, &mut ops).await
                } else {
                    let text = match agent.pending_note.take() {
                        Some(note) => format!("{note}\n\n{text}"),
                        None => text,
                    };
                    agent.turn(turn, text, images, &mut ops).await
                };
                agent.end_turn();
                if shutdown {
                    break;
                }
            }
            Op::Undo => agent.undo(),
            Op::Permissions => agent.show_permissions(),
            Op::SessionDiff => agent.session_diff(),
            Op::Revoke { which } => agent.revoke(which),
            Op::Interrupt | Op::Decide { .. } => {}
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
        self.status = status.clone();
        self.send(AgentEvent::Server(status));
    }

    /// A reply came from `endpoint`: the server is reachable there (after a failed start,
    /// or after failover to another endpoint), and the status bar should say so.
    fn answered_from(&mut self, endpoint: &str) {
        if self.status.reachable && self.status.endpoint == endpoint {
            return;
        }
        self.status.reachable = true;
        self.status.detail = None;
        self.status.endpoint = endpoint.to_owned();
        if let Some(m) = &self.model {
            self.status.model = m.clone();
        }
        self.send(AgentEvent::Server(self.status.clone()));
    }

    /// Runs one turn: model response, tool calls (approved by the user or allowed by
    /// policy), results back to the model, until it answers without tool calls, the
    /// iteration limit, an error, or an interrupt. Returns true on shutdown.
    async fn turn(
        &mut self,
        turn: u64,
        text: String,
        images: Vec<ImageAttachment>,
        ops: &mut UnboundedReceiver<Op>,
    ) -> bool {
        if self.model.is_none() {
            self.probe().await;
        }
        let user_at = self.conversation.len();
        self.conversation.push(user_message(text.clone(), &images));
        let tools = offered_tools(&self.settings.tools);
        let max_steps = self.settings.tools.max_iterations.unwrap_or(25).max(1);
        let mut changed: Vec<PathBuf> = Vec::new();
        for step in 1..=max_steps {
            let req = ChatRequest {
                model: self.model.clone().unwrap_or_else(|| "default".into()),
                messages: self.conversation.clone(),
                tools: tools.clone(),
                max_tokens: self.settings.model.max_tokens,
                temperature: self.settings.model.temperature,
            };
            let (result, streamed, shutdown) = self
                .stream_step(&self.settings.client, turn, &req, ops)
                .await;
            let c = match result {
                None => {
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
                    return shutdown;
                }
                Some(Err(e)) => {
                    let nothing_came = streamed.is_empty();
                    if !nothing_came {
                        self.conversation
                            .push(Message::assistant(streamed, Vec::new()));
                    }
                    let mut hint = hint_for(&e);
                    if step == 1 && !images.is_empty() && nothing_came {
                        // Servers refuse images their model cannot see; keep the text so
                        // the conversation can go on without resending them.
                        let note = format!(
                            "{text}\n\n({} image(s) were attached, but the model server refused them.)",
                            images.len()
                        );
                        self.conversation[user_at] = Message::user(note);
                        hint = format!(
                            "This model may not take images: point [vision] at a vision model (e.g. Qwen3-VL), or serve this one with its vision projector (llama.cpp --mmproj). The images are left out of the conversation. {hint}"
                        );
                    }
                    self.send(AgentEvent::TurnFailed {
                        turn,
                        error: e.to_string(),
                        hint,
                    });
                    if matches!(e, LlmError::Unreachable(_)) {
                        self.probe().await;
                    }
                    return false;
                }
                Some(Ok(c)) => c,
            };
            self.answered_from(&c.endpoint);
            let calls = c.reply.tool_calls.clone();
            let outcome = outcome(&c, &streamed);
            // Calls of a reply that was cut short are not run, so they stay out of the
            // conversation: a call without a result is refused by strict chat templates.
            let complete = c.end == StreamEnd::Complete;
            let kept = if complete { calls.clone() } else { Vec::new() };
            if !c.reply.content.is_empty() || !kept.is_empty() {
                self.conversation
                    .push(Message::assistant(c.reply.content.clone(), kept));
            }
            if calls.is_empty() || !complete {
                self.send(AgentEvent::TurnDone { turn, outcome });
                return false;
            }
            self.send(AgentEvent::StepDone { turn, outcome });
            match self.run_calls(turn, &calls, &mut changed, ops).await {
                CallsEnd::Done => {}
                CallsEnd::Interrupted => {
                    self.send(AgentEvent::TurnDone {
                        turn,
                        outcome: TurnOutcome {
                            interrupted: true,
                            ..TurnOutcome::default()
                        },
                    });
                    return false;
                }
                CallsEnd::Shutdown => return true,
            }
            if step == max_steps {
                self.send(AgentEvent::TurnFailed {
                    turn,
                    error: format!("stopped after {max_steps} model requests in one turn (tools.max_iterations)"),
                    hint: "Send a message to let the model continue, or raise tools.max_iterations.".into(),
                });
            }
        }
        false
    }

    /// A message with images for a separate vision model: its answer streams into the
    /// chat under its name and reaches the coding model as text with the next message.
    async fn vision_turn(
        &mut self,
        turn: u64,
        text: String,
        images: Vec<ImageAttachment>,
        ops: &mut UnboundedReceiver<Op>,
    ) -> bool {
        let Some((mc, client)) = self.settings.vision.clone() else {
            return false;
        };
        let fail = |e: &LlmError, model: &str| AgentEvent::TurnFailed {
            turn,
            error: e.to_string(),
            hint: format!(
                "{} (vision model `{model}`: check [vision] in the config, or set [model] vision = true to send images to the main model)",
                hint_for(e)
            ),
        };
        let model = match probe::resolve_model(&client, mc.name.as_deref()).await {
            Ok(m) => m,
            Err(e) => {
                self.send(fail(&e, "unnamed"));
                return false;
            }
        };
        self.send(AgentEvent::Responder {
            turn,
            model: model.clone(),
        });
        let req = ChatRequest {
            model: model.clone(),
            messages: vec![
                Message::system(VISION_PROMPT),
                user_message(text.clone(), &images),
            ],
            tools: Vec::new(),
            max_tokens: mc.max_tokens,
            temperature: mc.temperature,
        };
        let (result, streamed, shutdown) = self.stream_step(&client, turn, &req, ops).await;
        let (answer, done) = match result {
            None => {
                let interrupted = TurnOutcome {
                    interrupted: true,
                    ..TurnOutcome::default()
                };
                (streamed, Err(interrupted))
            }
            Some(Ok(c)) => (c.reply.content.clone(), Ok(outcome(&c, &streamed))),
            Some(Err(e)) => {
                self.send(fail(&e, &model));
                return shutdown;
            }
        };
        let labels: Vec<&str> = images.iter().map(|i| i.label.as_str()).collect();
        let note = (!answer.trim().is_empty()).then(|| {
            format!(
                "(The user attached {} and asked: \"{}\". The vision model `{model}` described it as follows.)\n{}",
                labels.join(", "),
                text.trim(),
                answer.trim()
            )
        });
        match (done, note) {
            // the user asked for a change: the coding model goes on in the same turn
            (Ok(outcome), Some(note)) if !shutdown && asks_for_action(&text) => {
                self.send(AgentEvent::StepDone { turn, outcome });
                let model = self.model.clone().unwrap_or_default();
                self.send(AgentEvent::Responder { turn, model });
                let earlier = self
                    .pending_note
                    .take()
                    .map_or(String::new(), |n| format!("{n}\n\n"));
                let go_on = format!(
                    "{earlier}{note}\n\nNow act on the user's request using that description."
                );
                self.turn(turn, go_on, Vec::new(), ops).await
            }
            (done, note) => {
                let outcome = done.unwrap_or_else(|o| o);
                self.send(AgentEvent::TurnDone { turn, outcome });
                self.pending_note = match (self.pending_note.take(), note) {
                    (Some(a), Some(b)) => Some(format!("{a}\n\n{b}")),
                    (a, b) => a.or(b),
                };
                shutdown
            }
        }
    }

    /// Streams one model response. `None` = interrupted (or shut down: the flag).
    async fn stream_step(
        &self,
        client: &Client,
        turn: u64,
        req: &ChatRequest,
        ops: &mut UnboundedReceiver<Op>,
    ) -> (Option<Result<Completion, LlmError>>, String, bool) {
        let events = self.events.clone();
        let mut streamed = String::new();
        let mut shutdown = false;
        let root = self.settings.ctx.root.clone();
        let mut bases = crate::tools::live_base::BaseWatcher::default();
        let result = {
            let mut on_event = |ev: StreamEvent| {
                if let StreamEvent::Content { text } = &ev {
                    streamed.push_str(text);
                }
                let base = bases.see(&root, &ev);
                let _ = events.send(AgentEvent::Stream { turn, event: ev });
                if let Some((index, path, text)) = base {
                    let _ = events.send(AgentEvent::LiveBase {
                        turn,
                        index,
                        path,
                        text,
                    });
                }
            };
            let stream = client.stream_chat(req, &mut on_event);
            tokio::pin!(stream);
            loop {
                tokio::select! {
                    r = &mut stream => break Some(r),
                    op = ops.recv() => match op {
                        Some(Op::Interrupt) => {
                            tracing::debug!(turn, "interrupt while streaming");
                            break None;
                        }
                        Some(Op::Shutdown) | None => { shutdown = true; break None }
                        // the UI sends nothing else while a turn runs
                        Some(_) => {}
                    },
                }
            }
        };
        (result, streamed, shutdown)
    }

    fn gate(&self, call: &ToolCall, args: &Result<serde_json::Value, String>) -> Gate {
        let name = call.name.as_str();
        if !registry::is_known(name) {
            return Gate::Refuse(format!(
                "there is no tool named `{name}`; the tools are: {}",
                crate::tools::BUILTIN_TOOLS.join(", ")
            ));
        }
        let policy = self.settings.tools.policy(name).unwrap_or(Policy::Ask);
        if policy == Policy::Never {
            return Gate::Refuse(format!("the tool `{name}` is disabled in this workspace"));
        }
        let args = match args {
            Ok(a) => a,
            Err(e) => {
                return Gate::Refuse(format!(
                    "error: {e}. Call `{name}` again with a JSON object of arguments."
                ));
            }
        };
        if name == "shell" {
            let cmd = args
                .get("command")
                .and_then(serde_json::Value::as_str)
                .unwrap_or("");
            let tools = &self.settings.tools;
            let parts = crate::tools::shell_split::simple_commands(cmd);
            // deny patterns see the whole line and each of its commands
            // an opaque line is cut at every operator and bracket instead, so that a denied
            // command inside `( … )` or `$( … )` is still seen
            let pieces: Vec<String> = match &parts {
                Some(p) => p.clone(),
                None => crate::tools::shell_split::rough_pieces(cmd),
            };
            let denied = tools.shell_deny.iter().find(|p| {
                shell_pattern_matches(p, cmd)
                    || pieces.iter().any(|part| shell_pattern_matches(p, part))
            });
            if let Some(p) = denied {
                return Gate::Refuse(format!(
                    "the command `{cmd}` is denied by the user's configuration (tools.shell_deny: `{p}`)"
                ));
            }
            // Dangerous commands always ask, whatever the policy.
            if crate::tools::shell::dangerous(cmd).is_some() {
                return Gate::Ask;
            }
            // allowed only when every command of the line is (an opaque line never is)
            let allowed = parts.is_some_and(|parts| {
                !parts.is_empty()
                    && parts.iter().all(|part| {
                        tools
                            .shell_allow
                            .iter()
                            .any(|p| shell_pattern_matches(p, part))
                            || self
                                .allowed_prefixes
                                .iter()
                                .any(|p| part == p || part.starts_with(&format!("{p} ")))
                    })
            });
            if allowed {
                return Gate::Run;
            }
        }
        if policy == Policy::Always || self.allowed_tools.contains(name) {
            Gate::Run
        } else {
            Gate::Ask
        }
    }

    /// Decides and runs the calls of one model response; appends their results.
    async fn run_calls(
        &mut self,
        turn: u64,
        calls: &[ToolCall],
        changed: &mut Vec<PathBuf>,
        ops: &mut UnboundedReceiver<Op>,
    ) -> CallsEnd {
        let ctx = self.settings.ctx.clone();
        let parsed: Vec<Result<serde_json::Value, String>> = calls
            .iter()
            .map(|c| registry::parse_args(&c.arguments))
            .collect();
        let mut decisions: HashMap<String, Decision> = HashMap::new();
        let mut proposals: HashMap<String, Vec<crate::protocol::ProposedChange>> = HashMap::new();
        let mut gates = Vec::new();
        for (call, args) in calls.iter().zip(&parsed) {
            let g = self.gate(call, args);
            if let (Gate::Ask, Ok(a)) = (&g, args) {
                let request = registry::describe(&ctx, &call.id, &call.name, &call.arguments, a);
                // the change as the user sees it: hunk choices refer to these hunks
                proposals.insert(call.id.clone(), request.changes.clone());
                self.send(AgentEvent::ApprovalNeeded { turn, request });
            }
            gates.push(g);
        }
        let waiting: HashSet<String> = calls
            .iter()
            .zip(&gates)
            .filter(|(_, g)| matches!(g, Gate::Ask))
            .map(|(c, _)| c.id.clone())
            .collect();
        let mut end = CallsEnd::Done;
        while decisions.len() < waiting.len() {
            match ops.recv().await {
                Some(Op::Decide { call_id, decision }) if waiting.contains(&call_id) => {
                    decisions.insert(call_id, decision);
                }
                Some(Op::Interrupt) => {
                    end = CallsEnd::Interrupted;
                    break;
                }
                Some(Op::Shutdown) | None => return CallsEnd::Shutdown,
                Some(_) => {}
            }
        }
        let mut ready = if matches!(end, CallsEnd::Done) {
            self.run_read_only_together(turn, &ctx, calls, &parsed, &gates)
                .await
        } else {
            HashMap::new()
        };
        for (i, ((call, args), gate)) in calls.iter().zip(parsed).zip(gates).enumerate() {
            if !matches!(end, CallsEnd::Done) && args.is_ok() && !matches!(gate, Gate::Refuse(_)) {
                // interrupted: nothing more runs
                let why = "the user interrupted the turn; not run".to_string();
                self.finish_call(
                    turn,
                    call,
                    &why,
                    ToolResultKind::Rejected,
                    why.clone(),
                    Vec::new(),
                );
                continue;
            }
            let (text, kind, summary, changes) = match (gate, args) {
                (Gate::Refuse(why), _) => (why.clone(), ToolResultKind::Failed, why, Vec::new()),
                (_, Err(e)) => (e.clone(), ToolResultKind::Failed, e, Vec::new()),
                (Gate::Ask, Ok(args)) => {
                    match decisions.get(&call.id) {
                        None => {
                            let why = "the user interrupted the turn before deciding; not run"
                                .to_string();
                            (why.clone(), ToolResultKind::Rejected, why, Vec::new())
                        }
                        Some(Decision::Reject { reason }) => {
                            let text = match reason.as_deref().filter(|r| !r.trim().is_empty()) {
                                Some(r) => format!("The user declined this call: {r}"),
                                None => "The user declined this call.".to_string(),
                            };
                            (text.clone(), ToolResultKind::Rejected, text, Vec::new())
                        }
                        Some(decision) => {
                            let mut args = args;
                            let mut edited_note = String::new();
                            match decision {
                                Decision::ApproveForSession => self.allow_for_session(call, &args),
                                Decision::AllowPrefix(p) => self.allow_prefix(p),
                                Decision::ApproveEdited(new) => {
                                    match edited_args(&call.name, &args, new) {
                                        Ok(a) => {
                                            args = a;
                                            edited_note = "(The user edited the arguments before approving.)\n".into();
                                        }
                                        Err(e) => {
                                            let text = format!(
                                                "the user's edited arguments are not valid: {e}; not run"
                                            );
                                            self.finish_call(
                                                turn,
                                                call,
                                                &text,
                                                ToolResultKind::Failed,
                                                text.clone(),
                                                Vec::new(),
                                            );
                                            continue;
                                        }
                                    }
                                }
                                Decision::ApproveContent(content)
                                    if matches!(call.name.as_str(), "edit_file" | "write_file") =>
                                {
                                    let path = args.get("path").cloned().unwrap_or_default();
                                    args = serde_json::json!({ "path": path, "content": content });
                                    self.send(AgentEvent::ToolStarted {
                                        turn,
                                        call_id: call.id.clone(),
                                    });
                                    let mut out = crate::tools::fs::write_file(&ctx, &args);
                                    if !out.is_error {
                                        out.text = format!(
                                            "(The user edited your proposed change in their editor and applied their version instead; the file now holds exactly what they saved. Read it before changing it further.)\n{}",
                                            out.text
                                        );
                                    }
                                    let (text, kind, summary, changes) =
                                        self.tool_result(&ctx, changed, out);
                                    self.finish_call(turn, call, &text, kind, summary, changes);
                                    continue;
                                }
                                Decision::ApproveHunks { declined }
                                    if !declined.is_empty()
                                        && crate::domain::live_edit::previews(&call.name) =>
                                {
                                    self.send(AgentEvent::ToolStarted {
                                        turn,
                                        call_id: call.id.clone(),
                                    });
                                    let proposed =
                                        proposals.get(&call.id).map_or(&[][..], Vec::as_slice);
                                    let out = crate::tools::hunks::apply_selected(
                                        &ctx, &call.name, &args, declined, proposed,
                                    );
                                    let (text, kind, summary, changes) =
                                        self.tool_result(&ctx, changed, out);
                                    self.finish_call(turn, call, &text, kind, summary, changes);
                                    continue;
                                }
                                _ => {}
                            }
                            match self.run_tool(turn, &ctx, call, &args, changed, ops).await {
                                Ok((text, kind, summary, changes)) => {
                                    (format!("{edited_note}{text}"), kind, summary, changes)
                                }
                                Err(stop) => {
                                    end = stop;
                                    stopped_result()
                                }
                            }
                        }
                    }
                }
                (Gate::Run, Ok(args)) => match ready.remove(&i) {
                    Some(out) => self.tool_result(&ctx, changed, out),
                    None => match self.run_tool(turn, &ctx, call, &args, changed, ops).await {
                        Ok(result) => result,
                        Err(stop) => {
                            end = stop;
                            stopped_result()
                        }
                    },
                },
            };
            self.finish_call(turn, call, &text, kind, summary, changes);
        }
        end
    }

    fn finish_call(
        &mut self,
        turn: u64,
        call: &ToolCall,
        text: &str,
        kind: ToolResultKind,
        summary: String,
        changes: Vec<crate::protocol::ProposedChange>,
    ) {
        self.conversation
            .push(Message::tool_result(call.id.clone(), text));
        self.send(AgentEvent::ToolFinished {
            turn,
            call_id: call.id.clone(),
            kind,
            summary,
            changes,
        });
    }

    /// Runs one call: result text for the model, how it ended, a one-line summary for the
    /// card, and the changes it made.
    /// Runs every read-only call that needs no decision, all at once on blocking threads
    /// (they change nothing, so their order does not matter); results by call index.
    async fn run_read_only_together(
        &self,
        turn: u64,
        ctx: &ToolContext,
        calls: &[ToolCall],
        parsed: &[Result<serde_json::Value, String>],
        gates: &[Gate],
    ) -> HashMap<usize, ToolOutput> {
        let runnable: Vec<usize> = (0..calls.len())
            .filter(|&i| {
                matches!(gates[i], Gate::Run)
                    && parsed[i].is_ok()
                    && registry::read_only(&calls[i].name)
            })
            .collect();
        if runnable.len() < 2 || calls.iter().any(|c| !registry::read_only(&c.name)) {
            // a lone read, or reads mixed with changes: in order, one by one
            return HashMap::new();
        }
        let mut handles = Vec::new();
        for &i in &runnable {
            self.send(AgentEvent::ToolStarted {
                turn,
                call_id: calls[i].id.clone(),
            });
            let (ctx, name) = (ctx.clone(), calls[i].name.clone());
            let args = parsed[i].clone().unwrap_or_default();
            handles.push((
                i,
                tokio::task::spawn_blocking(move || {
                    registry::execute_read_only(&ctx, &name, &args)
                }),
            ));
        }
        let mut out = HashMap::new();
        for (i, h) in handles {
            let result = match h.await {
                Ok(Some(o)) => o,
                Ok(None) => ToolOutput::error("not a read-only tool"),
                Err(e) => ToolOutput::error(format!("the tool failed: {e}")),
            };
            out.insert(i, result);
        }
        out
    }

    /// Runs one call; Esc (or shutdown) while it runs stops it (a shell command's whole
    /// process group is killed) and is returned as the error.
    async fn run_tool(
        &mut self,
        turn: u64,
        ctx: &ToolContext,
        call: &ToolCall,
        args: &serde_json::Value,
        changed: &mut Vec<PathBuf>,
        ops: &mut UnboundedReceiver<Op>,
    ) -> Result<CallResult, CallsEnd> {
        self.send(AgentEvent::ToolStarted {
            turn,
            call_id: call.id.clone(),
        });
        let out = {
            let run = registry::execute(ctx, &call.name, args, changed);
            tokio::pin!(run);
            loop {
                tokio::select! {
                    out = &mut run => break out,
                    op = ops.recv() => match op {
                        Some(Op::Interrupt) => return Err(CallsEnd::Interrupted),
                        Some(Op::Shutdown) | None => return Err(CallsEnd::Shutdown),
                        Some(_) => {}
                    },
                }
            }
        };
        Ok(self.tool_result(ctx, changed, out))
    }

    /// A tool's output as the call's result: text, kind, one-line summary, changes.
    fn tool_result(
        &mut self,
        ctx: &ToolContext,
        changed: &mut Vec<PathBuf>,
        out: ToolOutput,
    ) -> CallResult {
        self.absorb(changed, &out);
        let changes = out
            .changes
            .iter()
            .map(|c| registry::proposed(ctx, c))
            .collect();
        let kind = if out.is_error {
            ToolResultKind::Failed
        } else {
            ToolResultKind::Done
        };
        let summary = first_line(&out.text);
        (out.text, kind, summary, changes)
    }

    /// Records what a tool changed: for git_commit (paths of the turn) and for undo.
    fn absorb(&mut self, changed: &mut Vec<PathBuf>, out: &ToolOutput) {
        for c in &out.changes {
            if !changed.contains(&c.path) {
                changed.push(c.path.clone());
            }
            if !self.session_base.iter().any(|(p, _)| p == &c.path) {
                self.session_base.push((c.path.clone(), c.old.clone()));
            }
            self.turn_changes.push(c.clone());
        }
    }

    /// `/diff`: each changed file now against how it was before cove first changed it.
    fn session_diff(&self) {
        let ctx = &self.settings.ctx;
        let changes = self
            .session_base
            .iter()
            .filter_map(|(path, before)| {
                let now = std::fs::read(path).ok();
                (now != *before).then(|| {
                    registry::proposed(
                        ctx,
                        &FileChange {
                            path: path.clone(),
                            old: before.clone(),
                            new: now,
                        },
                    )
                })
            })
            .collect();
        self.send(AgentEvent::SessionDiff { changes });
    }

    /// After a turn: keep its changes for `/undo`, and commit them when configured.
    fn end_turn(&mut self) {
        let changes = std::mem::take(&mut self.turn_changes);
        if changes.is_empty() {
            return;
        }
        if self.settings.auto_commit {
            let mut paths: Vec<PathBuf> = Vec::new();
            for c in &changes {
                if !paths.contains(&c.path) {
                    paths.push(c.path.clone());
                }
            }
            let message = self
                .conversation
                .iter()
                .rev()
                .find_map(|m| match (&m.role, &m.content) {
                    (
                        crate::domain::conversation::Role::Assistant,
                        Some(crate::domain::conversation::Content::Text(t)),
                    ) if !t.trim().is_empty() => Some(first_line(t.trim())),
                    _ => None,
                })
                .unwrap_or_else(|| "Changes made with cove".into());
            let note = match crate::git::commit(&self.settings.ctx.root, &paths, &message) {
                Ok(id) => format!("committed {id}: {message}"),
                Err(e) => format!("auto-commit failed: {e}"),
            };
            self.send(AgentEvent::Notice { text: note });
        }
        self.undo_stack.push(changes);
    }

    /// Reverts the last turn that changed files, exactly; a file changed since (outside
    /// cove) is left alone and named.
    fn undo(&mut self) {
        let Some(changes) = self.undo_stack.pop() else {
            self.send(AgentEvent::Notice {
                text: "Nothing to undo.".into(),
            });
            return;
        };
        let root = self.settings.ctx.root.clone();
        let rel = |p: &std::path::Path| p.strip_prefix(&root).unwrap_or(p).display().to_string();
        // The state before the turn: the first `old` seen for each path; the state after: the last `new`.
        let mut order: Vec<PathBuf> = Vec::new();
        let mut before: HashMap<PathBuf, Option<Vec<u8>>> = HashMap::new();
        let mut after: HashMap<PathBuf, Option<Vec<u8>>> = HashMap::new();
        for c in &changes {
            if !before.contains_key(&c.path) {
                before.insert(c.path.clone(), c.old.clone());
                order.push(c.path.clone());
            }
            after.insert(c.path.clone(), c.new.clone());
        }
        let (mut restored, mut refused) = (Vec::new(), Vec::new());
        for path in order {
            let now = std::fs::read(&path).ok();
            if now != after[&path] {
                refused.push(format!("{} (changed outside cove since)", rel(&path)));
                continue;
            }
            let result = match &before[&path] {
                Some(bytes) => crate::tools::atomic::write_atomic(&path, bytes),
                None => std::fs::remove_file(&path),
            };
            match result {
                Ok(()) => restored.push(rel(&path)),
                Err(e) => refused.push(format!("{} ({e})", rel(&path))),
            }
        }
        let mut text = if restored.is_empty() {
            "Undo changed nothing.".to_string()
        } else {
            format!("Undone: {}.", restored.join(", "))
        };
        if !refused.is_empty() {
            text.push_str(&format!(" Left alone: {}.", refused.join(", ")));
        }
        if !restored.is_empty() {
            self.pending_note = Some(format!(
                "(Note from cove: the user undid your last changes to {}; those files are back as they were.)",
                restored.join(", ")
            ));
        }
        self.send(AgentEvent::Notice { text });
    }

    fn permissions(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .allowed_tools
            .iter()
            .map(|t| format!("tool `{t}`"))
            .collect();
        out.sort();
        out.extend(
            self.allowed_prefixes
                .iter()
                .map(|p| format!("shell commands starting `{p}`")),
        );
        out
    }

    fn show_permissions(&self) {
        let list = self.permissions();
        let mut lines = vec![if list.is_empty() {
            "No session allowances (press `a` on a queued call to add one).".to_string()
        } else {
            let items: Vec<String> = list
                .iter()
                .enumerate()
                .map(|(i, p)| format!("{}. {p}", i + 1))
                .collect();
            format!(
                "Allowed for this session: {}. `/permissions revoke N` or `/permissions revoke all` takes one back.",
                items.join("; ")
            )
        }];
        // what the configuration says, which /permissions cannot change
        let t = &self.settings.tools;
        let mut by_policy: Vec<String> = Vec::new();
        for policy in [Policy::Always, Policy::Ask, Policy::Never] {
            let names: Vec<&str> = crate::tools::BUILTIN_TOOLS
                .iter()
                .copied()
                .filter(|n| t.policy(n) == Some(policy))
                .collect();
            if !names.is_empty() {
                by_policy.push(format!("{policy:?}: {}", names.join(", ")).to_lowercase());
            }
        }
        lines.push(format!("From the config: {}.", by_policy.join("; ")));
        let quote = |v: &[String]| {
            v.iter()
                .map(|p| format!("`{p}`"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        if !t.shell_allow.is_empty() {
            lines.push(format!(
                "Shell commands run without asking: {}.",
                quote(&t.shell_allow)
            ));
        }
        if !t.shell_deny.is_empty() {
            lines.push(format!(
                "Shell commands never run: {}.",
                quote(&t.shell_deny)
            ));
        }
        self.send(AgentEvent::Notice {
            text: lines.join("\n"),
        });
    }

    fn revoke(&mut self, which: Option<usize>) {
        let list = self.permissions();
        let text = match which {
            None => {
                self.allowed_tools.clear();
                self.allowed_prefixes.clear();
                "Revoked every session allowance.".to_string()
            }
            Some(n) if n >= 1 && n <= list.len() => {
                let mut tools: Vec<String> = self.allowed_tools.iter().cloned().collect();
                tools.sort();
                if n <= tools.len() {
                    self.allowed_tools.remove(&tools[n - 1]);
                } else {
                    self.allowed_prefixes.remove(n - 1 - tools.len());
                }
                format!("Revoked: {}.", list[n - 1])
            }
            Some(n) => format!("There is no allowance number {n} (see /permissions)."),
        };
        self.send(AgentEvent::Notice { text });
    }

    fn allow_prefix(&mut self, prefix: &str) {
        let p = prefix.split_whitespace().collect::<Vec<_>>().join(" ");
        if !p.is_empty() && !self.allowed_prefixes.contains(&p) {
            self.allowed_prefixes.push(p);
        }
    }

    fn allow_for_session(&mut self, call: &ToolCall, args: &serde_json::Value) {
        if call.name == "shell" {
            let cmd = args
                .get("command")
                .and_then(serde_json::Value::as_str)
                .unwrap_or("");
            let prefix = registry::command_prefix(cmd);
            if !prefix.is_empty() && !self.allowed_prefixes.contains(&prefix) {
                self.allowed_prefixes.push(prefix);
            }
        } else {
            self.allowed_tools.insert(call.name.clone());
        }
    }
}

enum CallsEnd {
    Done,
    Interrupted,
    Shutdown,
}

/// A call's result: text for the model, kind, one-line summary, the changes it made.
type CallResult = (
    String,
    ToolResultKind,
    String,
    Vec<crate::protocol::ProposedChange>,
);

fn stopped_result() -> CallResult {
    let why = "the user interrupted the turn while this ran; it was stopped".to_string();
    (why.clone(), ToolResultKind::Rejected, why, Vec::new())
}

fn first_line(text: &str) -> String {
    let line = text.lines().next().unwrap_or("").to_owned();
    if line.chars().count() > 160 {
        format!("{}…", line.chars().take(160).collect::<String>())
    } else {
        line
    }
}

/// The arguments after the user's edit: for shell the edit is the command itself,
/// otherwise a JSON object.
fn edited_args(
    tool: &str,
    original: &serde_json::Value,
    edited: &str,
) -> Result<serde_json::Value, String> {
    if tool == "shell" {
        let mut a = original.clone();
        if let Some(obj) = a.as_object_mut() {
            obj.insert(
                "command".into(),
                serde_json::Value::String(edited.trim().to_owned()),
            );
        }
        return Ok(a);
    }
    registry::parse_args(edited)
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

/// Whether a message with images asks for a change (so the coding model acts on the vision
/// model's description in the same turn) rather than only a look.
fn asks_for_action(text: &str) -> bool {
    const VERBS: &[&str] = &[
        "fix",
        "repair",
        "resolve",
        "solve",
        "change",
        "edit",
        "update",
        "patch",
        "implement",
        "refactor",
        "correct",
        "apply",
        "add",
        "remove",
        "rewrite",
        "write",
        "make",
        "debug",
    ];
    text.to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .any(|w| VERBS.contains(&w))
}

/// What the vision model is asked to do with the user's images.
const VISION_PROMPT: &str = "You look at images for a coding assistant. Answer the user's question about them. \
Quote error messages, code, file names and numbers exactly as they appear.";

/// The user's message, with its images as an OpenAI content array when there are any.
fn user_message(text: String, images: &[ImageAttachment]) -> Message {
    Message::user_with_images(text, images.iter().map(|i| i.data_url.clone()).collect())
}
