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

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::mpsc::{UnboundedSender, unbounded_channel};

mod wire;

pub use wire::EditorMcpServer;
use wire::{
    Incoming, diff_content, editor_mcp_servers, prompt_images, prompt_text, read_lines, tool_kind,
    write_lines,
};

use crate::agent::{self, AgentSettings};
use crate::protocol::{
    AgentEvent, ApprovalRequest, Decision, ImageAttachment, Op, StreamEvent, ToolResultKind,
};

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

/// Turns an image's bytes into an attachment (decoded, downscaled, encoded within the
/// session's `[vision]` limits), or says why not.
pub type ImagePrep = Box<dyn Fn(&[u8]) -> Result<ImageAttachment, String> + Send>;

/// What a session needs from the caller.
pub struct SessionSetup {
    pub settings: AgentSettings,
    pub prepare_image: ImagePrep,
    /// At most this many images a prompt.
    pub max_images: usize,
}

struct Session {
    ops: UnboundedSender<Op>,
    /// The workspace (canonical): diffs name files by absolute path.
    root: PathBuf,
    turn: u64,
    /// The id of the `session/prompt` request being answered, while a turn runs.
    prompt: Option<Value>,
    /// Tool names by call id.
    tools: HashMap<String, String>,
    prepare_image: ImagePrep,
    max_images: usize,
}

/// Runs the ACP agent until the reader ends. Returns the exit code.
pub async fn serve<R, W>(reader: R, writer: W, factory: SessionFactory) -> u8
where
    R: AsyncRead + Unpin + Send + 'static,
    W: AsyncWrite + Unpin + Send + 'static,
{
    let (in_tx, mut incoming) = unbounded_channel();
    let (out, out_rx) = unbounded_channel::<Value>();
    tokio::spawn(read_lines(reader, in_tx));
    let writer_task = tokio::spawn(write_lines(writer, out_rx));
    let (ev_tx, mut events) = unbounded_channel::<(String, AgentEvent)>();
    let mut server = Server {
        out,
        factory,
        sessions: HashMap::new(),
        next_session: 0,
        next_request: 0,
        permissions: HashMap::new(),
        ev_tx,
    };
    loop {
        tokio::select! {
            msg = incoming.recv() => match msg {
                Some(Incoming::Message(v)) => server.message(v),
                Some(Incoming::Bad { code, message }) => server.error(Value::Null, code, &message),
                None => break,
            },
            Some((sid, ev)) = events.recv() => server.event(&sid, ev),
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
    factory: SessionFactory,
    sessions: HashMap<String, Session>,
    next_session: u64,
    next_request: u64,
    /// Our `session/request_permission` requests awaiting an answer: session, call, and
    /// the shell prefix "allow always" allows.
    permissions: HashMap<u64, (String, String, Option<String>)>,
    ev_tx: UnboundedSender<(String, AgentEvent)>,
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

    fn update(&self, sid: &str, update: Value) {
        self.send(json!({
            "jsonrpc": "2.0",
            "method": "session/update",
            "params": {"sessionId": sid, "update": update},
        }));
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
            "initialize" => self.reply(
                id,
                json!({
                    "protocolVersion": PROTOCOL_VERSION,
                    "agentCapabilities": {
                        "loadSession": false,
                        "promptCapabilities": {"image": true, "audio": false, "embeddedContext": true},
                        "mcpCapabilities": {"http": true, "sse": false},
                    },
                    "authMethods": [],
                    "agentInfo": {"name": "cove", "title": "cove", "version": env!("CARGO_PKG_VERSION")},
                }),
            ),
            "authenticate" => self.reply(id, json!({})),
            "session/new" => self.new_session(id, &params),
            "session/prompt" => self.prompt(id, &params),
            _ => self.error(id, METHOD_NOT_FOUND, &format!("method not found: {method}")),
        }
    }

    fn notification(&mut self, method: &str, params: &Value) {
        match method {
            "session/cancel" => {
                let sid = params.get("sessionId").and_then(Value::as_str);
                if let Some(s) = sid.and_then(|sid| self.sessions.get(sid)) {
                    let _ = s.ops.send(Op::Interrupt);
                }
            }
            other => tracing::debug!("acp: notification ignored: {other}"),
        }
    }

    fn new_session(&mut self, id: Value, params: &Value) {
        let Some(cwd) = params.get("cwd").and_then(Value::as_str) else {
            return self.error(id, INVALID_PARAMS, "session/new needs cwd");
        };
        let cwd = PathBuf::from(cwd);
        if !cwd.is_absolute() || !cwd.is_dir() {
            return self.error(
                id,
                INVALID_PARAMS,
                &format!("cwd must be an absolute directory: {}", cwd.display()),
            );
        }
        let mcp = match editor_mcp_servers(params) {
            Ok(m) => m,
            Err(e) => return self.error(id, INVALID_PARAMS, &e),
        };
        let SessionSetup {
            settings,
            prepare_image,
            max_images,
        } = match (self.factory)(&cwd, mcp) {
            Ok(s) => s,
            Err(e) => return self.error(id, INTERNAL_ERROR, &e),
        };
        self.next_session += 1;
        let sid = format!("cove-{}-{}", std::process::id(), self.next_session);
        let (ops, mut events) = agent::spawn(settings);
        let tx = self.ev_tx.clone();
        let key = sid.clone();
        tokio::spawn(async move {
            while let Some(ev) = events.recv().await {
                if tx.send((key.clone(), ev)).is_err() {
                    return;
                }
            }
        });
        let root = cwd.canonicalize().unwrap_or(cwd);
        self.sessions.insert(
            sid.clone(),
            Session {
                ops,
                root,
                turn: 0,
                prompt: None,
                tools: HashMap::new(),
                prepare_image,
                max_images,
            },
        );
        self.reply(id, json!({"sessionId": sid}));
    }

    fn prompt(&mut self, id: Value, params: &Value) {
        let Some(sid) = params.get("sessionId").and_then(Value::as_str) else {
            return self.error(id, INVALID_PARAMS, "session/prompt needs sessionId");
        };
        let Some(blocks) = params.get("prompt").and_then(Value::as_array) else {
            return self.error(id, INVALID_PARAMS, "session/prompt needs prompt");
        };
        let text = prompt_text(blocks);
        let Some(s) = self.sessions.get(sid) else {
            return self.error(id, INVALID_PARAMS, &format!("no session {sid}"));
        };
        let images = match prompt_images(blocks, s.max_images, &s.prepare_image) {
            Ok(images) => images,
            Err(e) => return self.error(id, INVALID_PARAMS, &e),
        };
        if text.trim().is_empty() && images.is_empty() {
            return self.error(id, INVALID_PARAMS, "the prompt has no text");
        }
        if text.len() > MAX_PROMPT {
            return self.error(
                id,
                INVALID_PARAMS,
                &format!("the prompt is longer than {MAX_PROMPT} bytes"),
            );
        }
        let Some(s) = self.sessions.get_mut(sid) else {
            return self.error(id, INVALID_PARAMS, &format!("no session {sid}"));
        };
        if s.prompt.is_some() {
            return self.error(id, INVALID_REQUEST, "a prompt is already running");
        }
        s.turn += 1;
        s.prompt = Some(id);
        let _ = s.ops.send(Op::UserTurn {
            turn: s.turn,
            text,
            images,
        });
    }

    fn response(&mut self, id: &Value, v: &Value) {
        let Some((sid, call_id, prefix)) = id.as_u64().and_then(|n| self.permissions.remove(&n))
        else {
            return tracing::debug!("acp: a response to nothing: {id}");
        };
        let option = v
            .pointer("/result/outcome")
            .filter(|o| o.get("outcome").and_then(Value::as_str) == Some("selected"))
            .and_then(|o| o.get("optionId"))
            .and_then(Value::as_str);
        let decision = match option {
            Some("allow_once") => Decision::Approve,
            Some("allow_always") => match prefix {
                Some(p) => Decision::AllowPrefix(p),
                None => Decision::ApproveForSession,
            },
            Some(_) => Decision::Reject { reason: None },
            // cancelled, an error or an answer cove does not know: not run
            None => Decision::Reject {
                reason: Some("the user did not approve this call".into()),
            },
        };
        if let Some(s) = self.sessions.get(&sid) {
            let _ = s.ops.send(Op::Decide { call_id, decision });
        }
    }

    fn event(&mut self, sid: &str, ev: AgentEvent) {
        match ev {
            AgentEvent::Stream { event, .. } => match event {
                StreamEvent::Content { text } => self.update(
                    sid,
                    json!({"sessionUpdate": "agent_message_chunk", "content": {"type": "text", "text": text}}),
                ),
                StreamEvent::Reasoning { text } => self.update(
                    sid,
                    json!({"sessionUpdate": "agent_thought_chunk", "content": {"type": "text", "text": text}}),
                ),
                StreamEvent::ToolCallStart { id, name, .. } => {
                    self.update(
                        sid,
                        json!({
                            "sessionUpdate": "tool_call",
                            "toolCallId": id,
                            "title": name,
                            "kind": tool_kind(&name),
                            "status": "pending",
                        }),
                    );
                    if let Some(s) = self.sessions.get_mut(sid) {
                        s.tools.insert(id, name);
                    }
                }
                StreamEvent::ToolCallArgs { .. } | StreamEvent::Notice { .. } => {}
            },
            AgentEvent::ApprovalNeeded { request, .. } => self.ask(sid, &request),
            AgentEvent::ToolStarted { call_id, .. } => self.update(
                sid,
                json!({"sessionUpdate": "tool_call_update", "toolCallId": call_id, "status": "in_progress"}),
            ),
            AgentEvent::ToolFinished {
                call_id,
                kind,
                summary,
                changes,
                ..
            } => {
                let mut content =
                    vec![json!({"type": "content", "content": {"type": "text", "text": summary}})];
                if let Some(s) = self.sessions.get(sid) {
                    content.extend(diff_content(&s.root, &changes));
                }
                self.update(
                    sid,
                    json!({
                        "sessionUpdate": "tool_call_update",
                        "toolCallId": call_id,
                        "status": if kind == ToolResultKind::Done { "completed" } else { "failed" },
                        "content": content,
                    }),
                );
            }
            AgentEvent::TurnDone { outcome, .. } => {
                let reason = if outcome.interrupted {
                    "cancelled"
                } else if outcome.finish_reason.as_deref() == Some("length") {
                    "max_tokens"
                } else {
                    "end_turn"
                };
                if let Some(id) = self.take_prompt(sid) {
                    self.reply(id, json!({"stopReason": reason}));
                }
            }
            AgentEvent::TurnFailed { error, hint, .. } => {
                if let Some(id) = self.take_prompt(sid) {
                    self.error(id, INTERNAL_ERROR, &format!("{error} ({hint})"));
                }
            }
            AgentEvent::Busy { op, turn: Some(_) } => {
                // the prompt was not started: answered now, not left waiting
                if let Some(id) = self.take_prompt(sid) {
                    self.error(id, INTERNAL_ERROR, &format!("cove is busy ({op}); try again"));
                }
            }
            other => tracing::trace!("acp: event not forwarded: {other:?}"),
        }
    }

    /// The prompt being answered, taken when its turn ended; permission requests of the
    /// turn that were never answered are forgotten with it (bounded).
    fn take_prompt(&mut self, sid: &str) -> Option<Value> {
        self.permissions.retain(|_, (s, _, _)| s != sid);
        self.sessions.get_mut(sid).and_then(|s| s.prompt.take())
    }

    fn ask(&mut self, sid: &str, request: &ApprovalRequest) {
        self.next_request += 1;
        let n = self.next_request;
        self.permissions.insert(
            n,
            (
                sid.to_owned(),
                request.call_id.clone(),
                request.session_prefix.clone(),
            ),
        );
        let title = match &request.danger {
            Some(why) => format!("{} (dangerous: {why})", request.summary),
            None => request.summary.clone(),
        };
        let (content, locations) = match self.sessions.get(sid) {
            Some(s) => (
                diff_content(&s.root, &request.changes),
                request
                    .changes
                    .iter()
                    .map(|c| json!({"path": s.root.join(&c.path)}))
                    .collect::<Vec<_>>(),
            ),
            None => (Vec::new(), Vec::new()),
        };
        let raw_input = serde_json::from_str::<Value>(&request.arguments).unwrap_or(Value::Null);
        self.send(json!({
            "jsonrpc": "2.0",
            "id": n,
            "method": "session/request_permission",
            "params": {
                "sessionId": sid,
                "toolCall": {
                    "toolCallId": request.call_id,
                    "title": title,
                    "kind": tool_kind(&request.tool),
                    "status": "pending",
                    "rawInput": raw_input,
                    "content": content,
                    "locations": locations,
                },
                "options": [
                    {"optionId": "allow_once", "name": "Allow", "kind": "allow_once"},
                    {"optionId": "allow_always", "name": "Allow for this session", "kind": "allow_always"},
                    {"optionId": "reject_once", "name": "Reject", "kind": "reject_once"},
                ],
            },
        }));
    }
}
