//! `cove acp`: the Agent Client Protocol (v1) front-end. JSON-RPC 2.0, one message per
//! line, on the reader and writer it is given (stdin and stdout in the program); nothing
//! else is ever written to the writer. Each ACP session is one agent (`agent::spawn`),
//! driven like `cove exec` drives it: prompts become `Op::UserTurn`, `session/cancel`
//! becomes `Op::Interrupt`, and `AgentEvent`s become `session/update` notifications.
//! An approval the agent asks for is put to the editor as `session/request_permission`;
//! its answer (or an interrupt) is the only thing that resolves it.
//!
//! The wire format is written here with serde_json rather than with the
//! `agent-client-protocol` crate (see ARCHITECTURE.md): the part of ACP cove speaks is
//! small, and the adapter keeps it in `acp/` (`wire.rs`: lines and the shapes cove reads
//! and writes; this file: sessions, requests and events).

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::{Value, json};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::mpsc::{UnboundedSender, unbounded_channel};

mod events;
mod files;
mod options;
mod replay;
mod session;
mod wire;

pub use wire::EditorMcpServer;
use wire::{Incoming, read_lines, write_lines};

use crate::agent::AgentSettings;
use crate::protocol::{AgentEvent, ImageAttachment, ModeCell, Op};

/// The ACP protocol version cove speaks.
pub const PROTOCOL_VERSION: u64 = 1;
/// The longest line (one JSON-RPC message) read; a longer one is answered with an error
/// and skipped, never buffered whole.
pub const MAX_LINE: usize = 8 * 1024 * 1024;
/// The longest prompt text taken from a `session/prompt`.
const MAX_PROMPT: usize = 1024 * 1024;

/// JSON-RPC error codes.
const PARSE_ERROR: i64 = -32700;
const INVALID_REQUEST: i64 = -32600;
const METHOD_NOT_FOUND: i64 = -32601;
const INVALID_PARAMS: i64 = -32602;
const INTERNAL_ERROR: i64 = -32603;

/// Makes the agent's settings for a session's working directory (config loading, trust,
/// sandbox and the session journal are the caller's, exactly as for the other commands).
pub type SessionFactory =
    Box<dyn Fn(&Path, Vec<EditorMcpServer>) -> Result<SessionSetup, String> + Send>;

/// Where a workspace's sessions are journaled (`None`: they are not).
pub type SessionsDir = Box<dyn Fn(&Path) -> Option<PathBuf> + Send>;

/// What the ACP front-end needs from the program around it.
pub struct Hooks {
    pub setup: SessionFactory,
    /// Where a workspace's sessions are journaled (`None`: they are not), for
    /// `session/list` and `session/load`.
    pub sessions_dir: SessionsDir,
}

/// Turns an image's bytes into an attachment (decoded, downscaled, encoded within the
/// session's `[vision]` limits), or says why not.
pub type ImagePrep = Arc<dyn Fn(&[u8]) -> Result<ImageAttachment, String> + Send + Sync>;

/// What a session needs from the caller.
pub struct SessionSetup {
    pub settings: AgentSettings,
    pub prepare_image: ImagePrep,
    /// At most this many images a prompt.
    pub max_images: usize,
    /// The models the editor may choose: (value, name); `default` is `[model]` as
    /// configured, the others are profiles.
    pub models: Vec<(String, String)>,
    /// The value of the one in use.
    pub model: String,
}

/// A session being opened: the request to answer once the agent named it.
struct Opening {
    request: Value,
    load: bool,
    /// What the agent said meanwhile (why a load failed).
    notice: Option<String>,
}

struct Session {
    ops: UnboundedSender<Op>,
    /// The id the editor knows: the journal's, once the agent named it (empty before).
    public: String,
    opening: Option<Opening>,
    /// The workspace (canonical): diffs name files by absolute path.
    root: PathBuf,
    turn: u64,
    /// The id of the `session/prompt` request being answered, while a turn or a command
    /// runs.
    prompt: Option<Value>,
    /// A command is running (instead of a turn) and ends like this.
    command: Option<options::CommandEnd>,
    /// Tool names by call id.
    tools: HashMap<String, String>,
    prepare_image: ImagePrep,
    max_images: usize,
    mode: Arc<ModeCell>,
    models: Vec<(String, String)>,
    model: String,
    /// A model chosen while a turn ran: switched to when it ends.
    pending_model: Option<String>,
    /// Tools the user rejected for the rest of the session ("reject always").
    rejected: HashSet<String>,
    /// The editor's file system, when it offers it.
    editor: Option<Arc<files::EditorFs>>,
    /// The prompt (`prompt`) waits for its images to be prepared.
    decoding: bool,
}

/// A prompt whose images were prepared on the blocking pool.
struct Prepared {
    key: String,
    id: Value,
    text: String,
    images: Result<Vec<ImageAttachment>, String>,
}

/// A `session/request_permission` of ours awaiting the editor's answer.
struct Asked {
    key: String,
    call_id: String,
    tool: String,
    /// The shell prefix "allow always" allows.
    prefix: Option<String>,
}

/// Runs the ACP agent until the reader ends. Returns the exit code.
pub async fn serve<R, W>(reader: R, writer: W, hooks: Hooks) -> u8
where
    R: AsyncRead + Unpin + Send + 'static,
    W: AsyncWrite + Unpin + Send + 'static,
{
    let (in_tx, mut incoming) = unbounded_channel();
    let (out, out_rx) = unbounded_channel::<Value>();
    tokio::spawn(read_lines(reader, in_tx));
    let writer_task = tokio::spawn(write_lines(writer, out_rx));
    let (ev_tx, mut events) = unbounded_channel::<(String, Option<AgentEvent>)>();
    let (prepared, mut ready) = unbounded_channel::<Prepared>();
    let mut server = Server {
        out,
        hooks,
        sessions: HashMap::new(),
        public: HashMap::new(),
        next_session: 0,
        next_request: 0,
        asked: HashMap::new(),
        ev_tx,
        client_fs: (false, false),
        fs_waiting: Default::default(),
        fs_next: Default::default(),
        prepared,
    };
    loop {
        tokio::select! {
            msg = incoming.recv() => match msg {
                Some(Incoming::Message(v)) => server.message(v),
                Some(Incoming::Bad { code, message }) => server.error(Value::Null, code, &message),
                None => break,
            },
            Some((key, ev)) = events.recv() => match ev {
                Some(ev) => server.event(&key, ev),
                None => server.gone(&key),
            },
            Some(p) = ready.recv() => server.prepared(p),
        }
    }
    for s in server.sessions.values() {
        let _ = s.ops.send(Op::Interrupt);
        let _ = s.ops.send(Op::Shutdown);
    }
    drop(server);
    let _ = writer_task.await;
    0
}

struct Server {
    out: UnboundedSender<Value>,
    hooks: Hooks,
    /// By cove's own key (stable from `session/new` on; the editor's id comes later).
    sessions: HashMap<String, Session>,
    /// The editor's session ids, to cove's keys.
    public: HashMap<String, String>,
    next_session: u64,
    next_request: u64,
    asked: HashMap<u64, Asked>,
    ev_tx: UnboundedSender<(String, Option<AgentEvent>)>,
    /// What the client offers: `fs/read_text_file`, `fs/write_text_file`.
    client_fs: (bool, bool),
    fs_waiting: files::Waiting,
    fs_next: Arc<std::sync::atomic::AtomicU64>,
    prepared: UnboundedSender<Prepared>,
}

impl Server {
    fn send(&self, v: Value) {
        let _ = self.out.send(v);
    }

    fn reply(&self, id: Value, result: Value) {
        self.send(json!({"jsonrpc": "2.0", "id": id, "result": result}));
    }

    fn error(&self, id: Value, code: i64, message: &str) {
        self.send(json!({"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": message}}));
    }

    /// A `session/update` for the session under `key`, by the id the editor knows.
    fn update(&self, key: &str, update: Value) {
        let Some(s) = self.sessions.get(key).filter(|s| !s.public.is_empty()) else {
            return;
        };
        self.send(json!({
            "jsonrpc": "2.0",
            "method": "session/update",
            "params": {"sessionId": s.public, "update": update},
        }));
    }

    /// The key of the session the params name (`sessionId`).
    fn key_of(&self, params: &Value) -> Result<String, String> {
        let sid = params
            .get("sessionId")
            .and_then(Value::as_str)
            .ok_or("sessionId is missing")?;
        self.public
            .get(sid)
            .cloned()
            .ok_or_else(|| format!("no session {sid}"))
    }

    fn message(&mut self, v: Value) {
        let id = v.get("id").cloned();
        let valid_id = matches!(
            id,
            None | Some(Value::Number(_)) | Some(Value::String(_)) | Some(Value::Null)
        );
        if !valid_id {
            return self.error(Value::Null, INVALID_REQUEST, "invalid id");
        }
        match (v.get("method"), id) {
            (Some(Value::String(method)), Some(id)) => {
                let params = v.get("params").cloned().unwrap_or(Value::Null);
                let method = method.clone();
                self.request(id, &method, params);
            }
            (Some(Value::String(method)), None) => {
                let params = v.get("params").cloned().unwrap_or(Value::Null);
                self.notification(method, &params);
            }
            (None, Some(id)) if v.get("result").is_some() || v.get("error").is_some() => {
                self.response(&id, &v);
            }
            (_, id) => self.error(
                id.unwrap_or(Value::Null),
                INVALID_REQUEST,
                "not a JSON-RPC request, notification or response",
            ),
        }
    }

    fn request(&mut self, id: Value, method: &str, params: Value) {
        match method {
            "initialize" => {
                let fs = params.pointer("/clientCapabilities/fs");
                let offers =
                    |k: &str| fs.and_then(|f| f.get(k)).and_then(Value::as_bool) == Some(true);
                self.client_fs = (offers("readTextFile"), offers("writeTextFile"));
                self.reply(
                id,
                json!({
                    "protocolVersion": PROTOCOL_VERSION,
                    "agentCapabilities": {
                        "loadSession": true,
                        "promptCapabilities": {"image": true, "audio": false, "embeddedContext": true},
                        "mcpCapabilities": {"http": true, "sse": false},
                        "sessionCapabilities": {"list": {}},
                    },
                    "authMethods": [],
                    "agentInfo": {"name": "cove", "title": "cove", "version": env!("CARGO_PKG_VERSION")},
                }),
            )
            }
            "authenticate" => self.reply(id, json!({})),
            "session/new" => self.open(id, &params, None),
            "session/load" => match params.get("sessionId").and_then(Value::as_str) {
                Some(sid) => {
                    let sid = sid.to_owned();
                    self.open(id, &params, Some(sid))
                }
                None => self.error(id, INVALID_PARAMS, "session/load needs sessionId"),
            },
            "session/list" => self.list(id, &params),
            "session/prompt" => self.prompt(id, &params),
            "session/set_mode" => self.set_mode(id, &params),
            "session/set_config_option" => self.set_config_option(id, &params),
            _ => self.error(id, METHOD_NOT_FOUND, &format!("method not found: {method}")),
        }
    }

    fn notification(&mut self, method: &str, params: &Value) {
        match method {
            "session/cancel" => {
                let Some(key) = self.key_of(params).ok() else {
                    return;
                };
                let Some(s) = self.sessions.get_mut(&key) else {
                    return;
                };
                if s.decoding {
                    // its images were still being prepared: the turn never starts
                    s.decoding = false;
                    if let Some(id) = s.prompt.take() {
                        self.reply(id, json!({"stopReason": "cancelled"}));
                    }
                } else {
                    let _ = s.ops.send(Op::Interrupt);
                }
            }
            other => tracing::debug!("acp: notification ignored: {other}"),
        }
    }
}
