//! One configured MCP server: started in the background, its tools listed once it is up,
//! its calls bounded by a timeout and cancelled (MCP `notifications/cancelled`) when the
//! caller stops waiting. A server that fails to start or dies keeps the tail of its
//! stderr, so the user sees why; the session goes on without it.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rmcp::ServiceExt;
use rmcp::model::CallToolRequestParams;
use rmcp::service::{Peer, RoleClient};
use rmcp::transport::TokioChildProcess;
use serde_json::Value;
use tokio::io::AsyncReadExt;

use super::names;
use super::result::{self, CallOutput};
use crate::config::McpServerConfig;
use crate::config::offline::HostPolicy;

const DEFAULT_STARTUP: Duration = Duration::from_secs(30);
const DEFAULT_CALL: Duration = Duration::from_secs(120);
/// The bytes of a server's stderr kept to explain a failure.
const STDERR_TAIL: usize = 2048;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerState {
    /// `enabled = false`.
    Disabled,
    Starting,
    Ready,
    /// Never came up: why (with the stderr tail).
    Failed(String),
    /// Was up, then its connection ended: why.
    Stopped(String),
}

impl ServerState {
    pub fn label(&self) -> String {
        match self {
            ServerState::Disabled => "disabled".into(),
            ServerState::Starting => "starting".into(),
            ServerState::Ready => "ready".into(),
            ServerState::Failed(why) => format!("failed: {why}"),
            ServerState::Stopped(why) => format!("stopped: {why}"),
        }
    }
}

/// A tool of a server, as offered to the model.
#[derive(Debug, Clone, PartialEq)]
pub struct McpTool {
    pub server: String,
    /// The server's own name for it.
    pub name: String,
    /// `<server>__<tool>`.
    pub exposed: String,
    pub description: String,
    /// The tool's input schema (a JSON object schema).
    pub schema: Value,
    /// The server says the tool does not change anything (`readOnlyHint`). A hint from
    /// a program cove does not control: shown, never used to skip approval.
    pub read_only_hint: bool,
}

pub struct Server {
    pub name: String,
    pub config: McpServerConfig,
    /// The offline rule, for HTTP servers.
    policy: HostPolicy,
    state: Mutex<ServerState>,
    tools: Mutex<Vec<McpTool>>,
    peer: Mutex<Option<Peer<RoleClient>>>,
    stderr: Arc<Mutex<VecDeque<u8>>>,
    /// The task reading stderr (waited for briefly when the server fails, so its last
    /// words are in the tail).
    stderr_reader: Mutex<Option<tokio::task::JoinHandle<()>>>,
    /// Set once starting has ended (ready or failed).
    started: tokio::sync::watch::Sender<bool>,
}

impl Server {
    pub fn new(name: &str, config: McpServerConfig, policy: HostPolicy) -> Arc<Self> {
        let state = if config.is_enabled() {
            ServerState::Starting
        } else {
            ServerState::Disabled
        };
        let (started, _) = tokio::sync::watch::channel(!config.is_enabled());
        Arc::new(Server {
            name: name.to_owned(),
            config,
            policy,
            state: Mutex::new(state),
            tools: Mutex::new(Vec::new()),
            peer: Mutex::new(None),
            stderr: Arc::new(Mutex::new(VecDeque::new())),
            stderr_reader: Mutex::new(None),
            started,
        })
    }

    pub fn state(&self) -> ServerState {
        self.state
            .lock()
            .map(|s| s.clone())
            .unwrap_or(ServerState::Starting)
    }

    pub fn tools(&self) -> Vec<McpTool> {
        self.tools.lock().map(|t| t.clone()).unwrap_or_default()
    }

    pub fn transport(&self) -> &'static str {
        if self.config.url.is_some() {
            "http"
        } else {
            "stdio"
        }
    }

    fn set_state(&self, s: ServerState) {
        if let Ok(mut st) = self.state.lock() {
            *st = s;
        }
    }

    /// Waits until starting has ended, at most `max`.
    pub async fn wait_started(&self, max: Duration) {
        let mut rx = self.started.subscribe();
        let _ = tokio::time::timeout(max, rx.wait_for(|done| *done)).await;
    }

    /// The last lines the server wrote to stderr (escape sequences made harmless).
    pub fn stderr_tail(&self) -> String {
        let bytes: Vec<u8> = self
            .stderr
            .lock()
            .map(|b| b.iter().copied().collect())
            .unwrap_or_default();
        let text = String::from_utf8_lossy(&bytes);
        let clean: String = text
            .chars()
            .map(|c| if c.is_control() && c != '\n' { ' ' } else { c })
            .collect();
        clean.trim().to_owned()
    }

    fn with_tail(&self, why: String) -> String {
        let tail = self.stderr_tail();
        if tail.is_empty() {
            why
        } else {
            format!("{why}; its stderr ends: {tail}")
        }
    }

    /// Starts the server and lists its tools; then watches the connection. Returns a
    /// notice for the user when the server failed or stopped.
    /// `serve`, with a panic inside it (the SDK, a transport) made a failed server instead of
    /// a task that dies and leaves the server "starting" for ever.
    pub async fn run(self: Arc<Self>, workspace: PathBuf, notices: Arc<Mutex<Vec<String>>>) {
        use futures_util::FutureExt;
        let this = self.clone();
        let run = std::panic::AssertUnwindSafe(self.serve(workspace, notices.clone()));
        if let Err(p) = run.catch_unwind().await {
            let why = p
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| p.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                .unwrap_or_else(|| "an internal error".into());
            if let Ok(mut peer) = this.peer.lock() {
                *peer = None;
            }
            if this.state() == ServerState::Ready {
                this.set_state(ServerState::Stopped(format!(
                    "cove's MCP client failed: {why}"
                )));
            } else {
                this.fail(format!("cove's MCP client failed: {why}"), &notices);
            }
        }
    }

    async fn serve(self: Arc<Self>, workspace: PathBuf, notices: Arc<Mutex<Vec<String>>>) {
        if !self.config.is_enabled() {
            return;
        }
        let startup = self
            .config
            .startup_timeout_secs
            .map_or(DEFAULT_STARTUP, Duration::from_secs);
        let service = match tokio::time::timeout(startup, self.connect(&workspace)).await {
            Ok(Ok(service)) => service,
            Ok(Err(why)) => return self.fail_after_output(why, &notices).await,
            Err(_) => {
                return self.fail(
                    format!(
                        "it did not start within {} s (mcp.servers.{}.startup_timeout_secs)",
                        startup.as_secs(),
                        self.name
                    ),
                    &notices,
                );
            }
        };
        let peer = service.peer().clone();
        let listed = tokio::time::timeout(startup, peer.list_all_tools()).await;
        let tools = match listed {
            Ok(Ok(tools)) => tools,
            Ok(Err(e)) => {
                return self
                    .fail_after_output(format!("listing its tools failed: {e}"), &notices)
                    .await;
            }
            Err(_) => return self.fail("listing its tools timed out".into(), &notices),
        };
        let allow = self.config.tools.clone();
        let tools: Vec<McpTool> = tools
            .into_iter()
            .filter(|t| {
                allow
                    .as_ref()
                    .is_none_or(|a| a.iter().any(|n| n == t.name.as_ref()))
            })
            .map(|t| {
                let v = serde_json::to_value(&t).unwrap_or(Value::Null);
                McpTool {
                    server: self.name.clone(),
                    exposed: names::exposed(&self.name, &t.name),
                    name: t.name.to_string(),
                    description: t.description.as_deref().unwrap_or("").to_owned(),
                    schema: Value::Object((*t.input_schema).clone()),
                    read_only_hint: v
                        .pointer("/annotations/readOnlyHint")
                        .and_then(Value::as_bool)
                        .unwrap_or(false),
                }
            })
            .collect();
        if let Ok(mut t) = self.tools.lock() {
            *t = tools;
        }
        if let Ok(mut p) = self.peer.lock() {
            *p = Some(peer);
        }
        self.set_state(ServerState::Ready);
        self.started.send_replace(true);
        tracing::info!(server = %self.name, "MCP server ready");
        // the connection ends when the process exits or the stream closes
        let quit = service.waiting().await;
        if let Ok(mut p) = self.peer.lock() {
            *p = None;
        }
        let why = self.with_tail(match quit {
            Ok(reason) => format!("its connection ended ({reason:?})"),
            Err(e) => format!("its connection task failed ({e})"),
        });
        tracing::warn!(server = %self.name, "MCP server stopped: {why}");
        if let Ok(mut n) = notices.lock() {
            n.push(format!("MCP server `{}` stopped: {why}", self.name));
        }
        self.set_state(ServerState::Stopped(why));
    }

    /// `fail`, once the server's stderr has been read to its end (at most 500 ms).
    async fn fail_after_output(&self, why: String, notices: &Mutex<Vec<String>>) {
        let reader = self.stderr_reader.lock().ok().and_then(|mut r| r.take());
        if let Some(reader) = reader {
            let _ = tokio::time::timeout(Duration::from_millis(500), reader).await;
        }
        self.fail(why, notices);
    }

    fn fail(&self, why: String, notices: &Mutex<Vec<String>>) {
        let why = self.with_tail(why);
        tracing::warn!(server = %self.name, "MCP server failed: {why}");
        // the notice first: whoever waits for the start sees it with the state
        if let Ok(mut n) = notices.lock() {
            n.push(format!("MCP server `{}` did not start: {why}", self.name));
        }
        self.set_state(ServerState::Failed(why));
        self.started.send_replace(true);
    }

    async fn connect(
        &self,
        workspace: &Path,
    ) -> Result<rmcp::service::RunningService<RoleClient, ()>, String> {
        if let Some(url) = &self.config.url {
            let transport = super::http::transport(&self.name, &self.config, url, &self.policy)?;
            let served = ().serve(transport).await.map_err(|e| {
                format!(
                    "the MCP handshake with {} failed: {}",
                    crate::config::mask_url_credentials(url),
                    with_causes(&e)
                )
            });
            self.record("handshake", 0, 0, served.as_ref().err());
            return served;
        }
        let Some(command) = self
            .config
            .command
            .as_deref()
            .filter(|c| !c.trim().is_empty())
        else {
            return Err(format!(
                "mcp.servers.{} has neither `command` nor `url`",
                self.name
            ));
        };
        let mut cmd = tokio::process::Command::new(command);
        cmd.args(&self.config.args)
            .envs(&self.config.env)
            .current_dir(match &self.config.cwd {
                Some(dir) => workspace.join(dir),
                None => workspace.to_owned(),
            })
            .kill_on_drop(true);
        // cove's own secrets are not the server's business
        for key in ["COVE_API_KEY", "COVE_VISION_API_KEY"] {
            if !self.config.env.contains_key(key) {
                cmd.env_remove(key);
            }
        }
        let (transport, stderr) = TokioChildProcess::builder(cmd)
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("`{command}` could not be started: {e}"))?;
        if let Some(mut err) = stderr {
            let tail = self.stderr.clone();
            let reader = tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                while let Ok(n) = err.read(&mut buf).await {
                    if n == 0 {
                        break;
                    }
                    if let Ok(mut t) = tail.lock() {
                        t.extend(&buf[..n]);
                        let extra = t.len().saturating_sub(STDERR_TAIL);
                        t.drain(..extra);
                    }
                }
            });
            if let Ok(mut r) = self.stderr_reader.lock() {
                *r = Some(reader);
            }
        }
        ().serve(transport).await.map_err(|e| {
            let e = e.to_string();
            if e.contains("Broken pipe") || e.contains("connection closed") {
                "it ended before the MCP handshake".to_owned()
            } else {
                format!("the MCP handshake failed: {e}")
            }
        })
    }

    /// Calls one of this server's tools. Dropping the future cancels the call on the
    /// server.
    pub async fn call(
        &self,
        tool: &str,
        args: serde_json::Map<String, Value>,
    ) -> Result<CallOutput, String> {
        let peer = self
            .peer
            .lock()
            .ok()
            .and_then(|p| p.clone())
            .ok_or_else(|| match self.state() {
                ServerState::Starting => format!(
                    "the MCP server `{}` is still starting; try again in a moment",
                    self.name
                ),
                other => format!(
                    "the MCP server `{}` is not available ({})",
                    self.name,
                    other.label()
                ),
            })?;
        let limit = self
            .config
            .tool_timeout_secs
            .map_or(DEFAULT_CALL, Duration::from_secs);
        let bytes_out = serde_json::to_vec(&args).map_or(0, |b| b.len());
        let mut params = CallToolRequestParams::new(tool.to_owned());
        params.arguments = Some(args);
        let (answer, bytes_in) = match tokio::time::timeout(limit, peer.call_tool(params)).await {
            Ok(Ok(r)) => {
                let json = serde_json::to_value(&r).unwrap_or(Value::Null);
                let n = json.to_string().len();
                (Ok(result::from_json(&json)), n)
            }
            Ok(Err(e)) => (
                Err(self.with_tail(format!(
                    "the MCP server `{}` answered with an error: {e}",
                    self.name
                ))),
                0,
            ),
            Err(_) => (
                Err(format!(
                    "the call to `{tool}` on MCP server `{}` took longer than {} s and was cancelled (mcp.servers.{}.tool_timeout_secs)",
                    self.name,
                    limit.as_secs(),
                    self.name
                )),
                0,
            ),
        };
        self.record(
            &format!("tools/call {tool}"),
            bytes_out,
            bytes_in,
            answer.as_ref().err(),
        );
        answer
    }

    /// A ledger line for an exchange with a streamable-HTTP server (a local process's
    /// stdio is not a network request): the handshake, each tool call.
    fn record(&self, what: &str, bytes_out: usize, bytes_in: usize, error: Option<&String>) {
        let Some(url) = &self.config.url else { return };
        use crate::guard::ledger::{Entry, Ledger, Purpose, default_path};
        let mut e = Entry::request(Purpose::Mcp, "POST", url);
        e.bytes_out = bytes_out as u64;
        e.bytes_in = bytes_in as u64;
        e.detail = Some(format!("mcp server `{}`: {what}", self.name));
        e.outcome = Some(error.map_or_else(|| "ok".to_owned(), |e| format!("failed: {e}")));
        if let Err(e) = Ledger::new(default_path()).append(&e) {
            tracing::error!("{e}");
        }
    }
}

/// An error with the errors under it ("error sending request" says little; "invalid peer
/// certificate: UnknownIssuer" says why).
fn with_causes(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let more = s.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        source = s.source();
    }
    text
}
