//! The agent: owns the conversation, the model client and the tools; runs one turn at a
//! time: model response -> tool calls (each approved by the user or allowed by policy)
//! -> results back to the model -> next response, until the model answers without tool
//! calls. It reports to the UI over a channel; the UI reaches it only through `Op`s, and
//! only `Op::Decide` (sent on a keystroke) approves anything.

use std::collections::HashSet;
use std::path::PathBuf;

use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};

use crate::config::{Config, ImageRoute, ModelConfig, Policy, ToolsConfig};
use crate::domain::conversation::{Message, ToolCall};
use crate::llm::{ChatRequest, Client, ClientOptions, Completion, LlmError, StreamEnd, probe};
use crate::protocol::{
    AgentEvent, Decision, EventRx, EventTx, ImageAttachment, Op, ServerStatus, StreamEvent,
    ToolCallInfo, ToolResultKind, TurnOutcome,
};
use crate::tools::context::{FileChange, ToolContext, ToolOutput};
use crate::tools::{Registry, registry};

pub struct AgentSettings {
    pub model: ModelConfig,
    pub tools: ToolsConfig,
    /// The tools the model is offered and may call (built-in, custom, MCP), each with its
    /// policy: built from the config; a shared handle, so tools added later (MCP servers
    /// that finished starting) are offered from the next request on.
    pub registry: Registry,
    pub client: Client,
    pub system_prompt: String,
    pub ctx: ToolContext,
    /// Commit the files a turn changed when it ends (`[git] auto_commit`).
    pub auto_commit: bool,
    /// A separate vision model for messages with images (`[vision]`), when configured.
    pub vision: Option<(ModelConfig, std::sync::Arc<Client>)>,
    /// `[context]`: project budget, compaction, attachments.
    pub context: crate::config::ContextConfig,
    pub git_enabled: bool,
    /// Where this workspace's session journals go; `None`: not journaled.
    pub sessions_dir: Option<PathBuf>,
    /// Continue this journal instead of starting a new session.
    pub resume: Option<PathBuf>,
    /// The whole config, for `/model` (profiles).
    pub config: Config,
    /// `[model]` without the active profile: `/model NAME` lays profile NAME over it.
    pub base_model: ModelConfig,
    /// Nobody to ask (`cove exec`): calls this level does not cover are refused with the
    /// reason, and so are dangerous commands and writes to protected files; the
    /// front-end answers the rest.
    pub unattended: Option<crate::protocol::AutoApprove>,
    /// The approval mode a front-end may change while the session runs (`cove acp`).
    pub mode: std::sync::Arc<crate::protocol::ModeCell>,
}

/// The tools' environment from the config: the workspace `root` (canonicalised), the
/// secrets kept from commands, protected files, the sandbox. `cove sandbox` uses it too.
pub fn tool_context(config: &Config, root: PathBuf) -> ToolContext {
    let env = |k: &str| std::env::var(k).ok();
    let mut ctx = ToolContext::new(root);
    // every key cove knows of, in every profile (`/model` may switch to any of them)
    let models = [&config.model, &config.base_vision_model()]
        .into_iter()
        .cloned()
        .chain(config.profiles.values().cloned())
        .collect::<Vec<_>>();
    ctx.secret_env = std::iter::once("COVE_API_KEY".to_string())
        .chain(models.iter().filter_map(|m| m.api_key_env.clone()))
        .collect();
    ctx.secret_values = models
        .iter()
        .flat_map(|m| {
            m.api_key
                .clone()
                .into_iter()
                .chain(m.api_key_env.as_deref().and_then(env))
        })
        .chain(std::env::var("COVE_API_KEY").ok())
        .filter(|k| !k.trim().is_empty())
        .collect();
    ctx.protected = config.guard.deny_read.clone();
    ctx.sandbox = crate::sandbox::Sandbox::from_config(&config.sandbox, &ctx.root);
    ctx
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
        let guard = client.guard().clone();
        let ctx = tool_context(config, root);
        Ok(AgentSettings {
            model: config.model.clone(),
            tools: config.tools.clone(),
            registry: Registry::from_config(&config.tools),
            client,
            system_prompt,
            ctx,
            auto_commit: config.git.enabled && config.git.auto_commit,
            context: config.context.clone(),
            git_enabled: config.git.enabled,
            sessions_dir: None,
            resume: None,
            config: config.clone(),
            base_model: config.model.clone(),
            unattended: None,
            mode: Default::default(),
            vision: match config.image_route() {
                ImageRoute::Main => None,
                ImageRoute::Vision(mc) => {
                    // one guard for the session: the same placeholders, one ledger session
                    let opts = ClientOptions {
                        guard,
                        ..ClientOptions::from_config(config, &mc)
                    };
                    let client = Client::new(mc.endpoints(&env), opts)?;
                    Some((mc, std::sync::Arc::new(client)))
                }
            },
        })
    }
}
mod calls;
mod changes;
pub(crate) mod compaction;
mod journaling;
mod ledger;
mod limits;
mod mcp;
mod permissions;
mod repeats;
mod router;
mod task;
mod turn;
mod user_input;
mod verify;

use router::{Cancel, Decisions, Router, Stop};
use turn::TurnEnd;
pub use turn::hint_for;

/// Starts the agent on the current tokio runtime.
pub fn spawn(settings: AgentSettings) -> (UnboundedSender<Op>, EventRx) {
    spawn_after(settings, std::future::ready(()))
}

/// Starts the agent once `ready` completes (the TUI: its first frame is drawn, so the
/// project context, git and the server probe do not compete with it for the CPU). Ops
/// sent meanwhile wait in the channel.
pub fn spawn_after(
    settings: AgentSettings,
    ready: impl std::future::Future<Output = ()> + Send + 'static,
) -> (UnboundedSender<Op>, EventRx) {
    let (op_tx, op_rx) = unbounded_channel();
    let (ev_tx, ev_rx) = crate::protocol::event_channel();
    tokio::spawn(async move {
        ready.await;
        run(settings, op_rx, ev_tx).await
    });
    (op_tx, ev_rx)
}

struct Agent {
    settings: AgentSettings,
    conversation: Vec<Message>,
    model: Option<String>,
    context_window: Option<u64>,
    events: EventTx,
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
    session_base: Vec<(PathBuf, Option<std::sync::Arc<[u8]>>)>,
    /// What the status bar was last told about the server.
    status: ServerStatus,
    /// The session journal.
    log: journaling::SessionLog,
    /// The git state the model last heard of.
    git_seen: Option<String>,
    /// The server's count for the last request: (messages it held, prompt + completion tokens).
    last_usage: Option<(usize, u64)>,
    /// The turn running now (for journal records of changes).
    turn_now: u64,
    /// What was attached to the message being sent, for the journal.
    attached_notice: Option<String>,
    /// Tokens of the tool schemas in every request.
    tools_tokens: usize,
    /// The session's MCP servers, when any are configured.
    mcp: Option<std::sync::Arc<crate::mcp::McpHub>>,
    /// The MCP tools now in the registry.
    mcp_tools: Vec<String>,
    /// Where `context_window` came from (config, the server's probe, an overflow error).
    window_source: Option<probe::WindowSource>,
    /// What kind of server the probe found (Ollama gets `options.num_ctx`).
    server_kind: Option<probe::ServerKind>,
    /// Stops the work running now (set by the router for each op).
    cancel: Cancel,
    /// Calls waiting for a front-end's decision (resolved by the router).
    decisions: Decisions,
    /// Tokens of the requests of the running task (`Op::Task`).
    usage: crate::protocol::TokenUsage,
    /// The server did not answer: probe it again once the turn is over.
    reprobe: bool,
}

/// How a call is to be handled before it runs.
enum Gate {
    Run,
    Ask,
    /// Refused without asking (disabled tool, denied command, bad arguments): the text is the result.
    Refuse(String),
}

async fn run(settings: AgentSettings, ops: UnboundedReceiver<Op>, events: EventTx) {
    let tools_tokens = compaction::tools_tokens(&settings.registry.offered());
    let mut router = Router::new(ops, events.clone());
    let mut agent = Agent {
        conversation: vec![Message::system(settings.system_prompt.clone())],
        model: settings.model.name.clone().filter(|n| !n.is_empty()),
        context_window: settings.model.context_window.map(u64::from),
        window_source: settings
            .model
            .context_window
            .map(|_| probe::WindowSource::Config),
        server_kind: None,
        settings,
        events,
        allowed_tools: HashSet::new(),
        allowed_prefixes: Vec::new(),
        turn_changes: Vec::new(),
        undo_stack: Vec::new(),
        pending_note: None,
        status: ServerStatus::default(),
        session_base: Vec::new(),
        log: journaling::SessionLog::new(None),
        git_seen: None,
        last_usage: None,
        turn_now: 0,
        attached_notice: None,
        tools_tokens,
        mcp: None,
        mcp_tools: Vec::new(),
        cancel: Cancel::default(),
        decisions: router.decisions(),
        usage: Default::default(),
        reprobe: false,
    };
    agent.log.dir = agent.settings.sessions_dir.clone();
    // in the background: the first screen and the first message never wait for them
    agent.mcp = mcp::start_hub(&agent.settings.config, &agent.settings.ctx.root);
    if let Some(hub) = &agent.mcp {
        mcp::forward_notices(hub.clone(), agent.events.clone());
    }
    agent.begin_session().await;
    let resumed = match agent.settings.resume.take() {
        Some(path) => {
            let ok = agent.resume(path).await;
            agent.send(AgentEvent::Ready);
            ok
        }
        None => false,
    };
    if !resumed {
        agent.send(AgentEvent::SessionStarted {
            id: agent.log.id.clone(),
        });
    }
    let guard = agent.settings.client.guard().clone();
    guard.set_session(&agent.log.id);
    agent.probe().await;
    agent.report_usage();
    while let Some(op) = router.next().await {
        tracing::debug!(op = op.name(), "op");
        // the ledger's lines name the session the work is for (a resume or /clear changes it)
        guard.set_session(&agent.log.id);
        agent.cancel = router.cancel();
        let cancel = agent.cancel.clone();
        match op {
            // work that can be stopped: the router answers ops while it runs, up to the
            // event that ends it (the last thing the work does); what follows (journal,
            // undo steps, git state) is bookkeeping, and ops sent meanwhile wait for it
            Op::UserTurn { turn, text, images } => {
                let end = router
                    .drive(agent.run_turn(turn, text, images), &cancel)
                    .await;
                agent.settle_turn(turn, &end).await;
            }
            Op::UserShell { turn, command } => {
                router.drive(agent.user_shell(turn, command), &cancel).await
            }
            Op::Compact => {
                let work = async {
                    // stopped: the conversation is unchanged (a shutdown is the router's)
                    let _ = agent.compact(true).await;
                    agent.report_usage();
                    agent.send(AgentEvent::Ready);
                };
                router.drive(work, &cancel).await
            }
            Op::Task(task) => router.drive(agent.task(task), &cancel).await,
            // `/commit` alone: the model writes the message, which can be stopped
            Op::Commit { message } if message.trim().is_empty() => {
                let work = async {
                    agent.commit_session().await;
                    agent.send(AgentEvent::Ready);
                };
                router.drive(work, &cancel).await
            }
            // short, and not stopped by an interrupt: ops sent meanwhile wait their turn
            op => agent.handle(op).await,
        }
        if router.shut_down() {
            break;
        }
    }
}

impl Agent {
    /// An op that is not stoppable work (see `run`).
    async fn handle(&mut self, op: Op) {
        match op {
            Op::NewSession => {
                self.new_session().await;
                self.send(AgentEvent::Ready);
            }
            Op::Resume { path } => {
                self.resume(path).await;
                self.send(AgentEvent::Ready);
            }
            Op::ListSessions => self.list_sessions().await,
            Op::Export { path } => self.export(path),
            Op::Commit { message } => self.commit(&message),
            Op::SwitchModel { name } => self.switch_model(name).await,
            Op::Undo => self.undo(),
            Op::Permissions => self.show_permissions(),
            Op::McpStatus => self.show_mcp(),
            Op::Ledger => self.show_ledger().await,
            Op::SessionDiff => self.session_diff(),
            Op::Revoke { which } => self.revoke(which),
            // `run`'s, and the router's own
            Op::UserTurn { .. }
            | Op::UserShell { .. }
            | Op::Compact
            | Op::Task(_)
            | Op::Interrupt
            | Op::Decide { .. }
            | Op::Shutdown => {}
        }
    }

    /// A turn of the user's and what follows it.
    async fn user_turn(
        &mut self,
        turn: u64,
        text: String,
        images: Vec<ImageAttachment>,
    ) -> TurnEnd {
        let end = self.run_turn(turn, text, images).await;
        self.settle_turn(turn, &end).await;
        end
    }

    /// A turn of the user's: the message composed, the turn run (a panic anywhere in it,
    /// in a tool, a preview or the agent itself, ends the turn with an error card; the
    /// session, its journal and the user's words stay).
    async fn run_turn(&mut self, turn: u64, text: String, images: Vec<ImageAttachment>) -> TurnEnd {
        self.turn_now = turn;
        let kept = text.clone();
        let run = std::panic::AssertUnwindSafe(async {
            // a vision turn keeps the pending note for the coding model's next request
            if !images.is_empty() && self.settings.vision.is_some() {
                self.vision_turn(turn, text, images).await
            } else {
                let sent = self.compose(&text).await;
                let shown = (sent != text).then_some(text);
                self.turn(turn, sent, shown, images).await
            }
        });
        match futures_util::FutureExt::catch_unwind(run).await {
            Ok(end) => end,
            Err(p) => {
                let message = crate::tools::isolate::panic_message(p);
                self.turn_panicked(turn, &kept, &message);
                TurnEnd::Failed {
                    error: format!("cove hit an internal error during this turn: {message}"),
                    code: 1,
                }
            }
        }
    }

    /// After a turn: its changes kept for `/undo` (and committed when configured), the
    /// server probed again when it was unreachable, the git state and context use.
    async fn settle_turn(&mut self, turn: u64, end: &TurnEnd) {
        self.end_turn(turn);
        if *end == TurnEnd::Shutdown {
            return;
        }
        if std::mem::take(&mut self.reprobe) {
            self.probe().await;
        }
        self.after_turn().await;
    }

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
            .map(|e| crate::config::mask_url_credentials(&e.api_base).into_owned())
            .unwrap_or_default();
        let status = match probe::identify(client, self.model.as_deref()).await {
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
                // the config's window stands; otherwise the server's
                if self.window_source != Some(probe::WindowSource::Config)
                    && let Some((window, source)) = facts.window(None)
                {
                    self.context_window = Some(window);
                    self.window_source = Some(source);
                }
                self.server_kind = Some(facts.kind.clone());
                ServerStatus {
                    reachable: true,
                    endpoint: crate::config::mask_url_credentials(&facts.endpoint.api_base)
                        .into_owned(),
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
}

/// How a tool call ended: the text for the model, its kind, a one-line summary for the
/// card, the changes it made.
#[derive(Debug)]
struct CallOutcome {
    text: String,
    kind: ToolResultKind,
    summary: String,
    changes: Vec<crate::protocol::ProposedChange>,
    /// The arguments that ran, as JSON, when the user edited them (`e`): the model's
    /// history and the journal hold these instead of the proposed ones.
    ran: Option<String>,
}

impl CallOutcome {
    /// Not run or refused, with why (the model reads it, the card shows its first line).
    fn refused(kind: ToolResultKind, why: impl Into<String>) -> Self {
        let why = why.into();
        CallOutcome {
            summary: why.clone(),
            text: why,
            kind,
            changes: Vec::new(),
            ran: None,
        }
    }

    fn failed(why: impl Into<String>) -> Self {
        Self::refused(ToolResultKind::Failed, why)
    }

    fn rejected(why: impl Into<String>) -> Self {
        Self::refused(ToolResultKind::Rejected, why)
    }

    fn stopped() -> Self {
        Self::rejected("the user interrupted the turn while this ran; it was stopped")
    }
}

fn first_line(text: &str) -> String {
    let line = text.lines().next().unwrap_or("").to_owned();
    if line.chars().count() > 160 {
        format!("{}…", line.chars().take(160).collect::<String>())
    } else {
        line
    }
}

/// The user's message, with its images as an OpenAI content array when there are any.
fn user_message(text: String, images: &[ImageAttachment]) -> Message {
    Message::user_with_images(text, images.iter().map(|i| i.data_url.clone()).collect())
}
