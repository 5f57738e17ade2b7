//! The MCP client: the servers of `[mcp.servers]`, started in the background when a
//! session starts (never in the way of the first screen), their tools offered to the
//! model as `<server>__<tool>` and called through the same approval queue as built-in
//! tools. Built on `rmcp` (pinned); only this module names its types.

mod http;
pub mod names;
pub mod result;
pub mod search;
mod server;
pub mod tool;

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub use result::CallOutput;
pub use server::{McpTool, Server, ServerState};

use crate::config::McpConfig;
use crate::config::offline::HostPolicy;

/// Every configured server of a session.
#[derive(Default)]
pub struct McpHub {
    servers: Vec<Arc<Server>>,
    /// Failures and stops not yet shown to the user.
    notices: Arc<Mutex<Vec<String>>>,
}

impl std::fmt::Debug for McpHub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("McpHub")
            .field(
                "servers",
                &self.servers.iter().map(|s| &s.name).collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl McpHub {
    /// Starts every enabled server on the running tokio runtime, in the background.
    /// Servers with a name cove cannot use are reported, not started.
    pub fn start(config: &McpConfig, workspace: &Path, policy: &HostPolicy) -> Arc<McpHub> {
        let notices = Arc::new(Mutex::new(Vec::new()));
        let mut servers = Vec::new();
        for (name, cfg) in &config.servers {
            if !names::valid_server_name(name) {
                if let Ok(mut n) = notices.lock() {
                    n.push(format!(
                        "MCP server `{}` is not started: a server's name is 1-32 letters, digits, `-` or `_` (no `__`)",
                        crate::domain::text::neutralize_controls(name)
                    ));
                }
                continue;
            }
            let server = Server::new(name, cfg.clone(), policy.clone());
            tokio::spawn(server.clone().run(workspace.to_owned(), notices.clone()));
            servers.push(server);
        }
        Arc::new(McpHub { servers, notices })
    }

    pub fn is_empty(&self) -> bool {
        self.servers.is_empty()
    }

    pub fn servers(&self) -> &[Arc<Server>] {
        &self.servers
    }

    /// Waits until every server has started or failed, at most `max`.
    pub async fn wait_started(&self, max: Duration) {
        let all = self.servers.iter().map(|s| s.wait_started(max));
        futures_util::future::join_all(all).await;
    }

    /// The tools of the servers that are up.
    pub fn tools(&self) -> Vec<McpTool> {
        self.servers
            .iter()
            .filter(|s| s.state() == ServerState::Ready)
            .flat_map(|s| s.tools())
            .collect()
    }

    /// The server and tool behind an offered name.
    pub fn find(&self, exposed: &str) -> Option<(Arc<Server>, McpTool)> {
        self.servers.iter().find_map(|s| {
            s.tools()
                .into_iter()
                .find(|t| t.exposed == exposed)
                .map(|t| (s.clone(), t))
        })
    }

    /// Failures and stops since the last call, for the user.
    pub fn take_notices(&self) -> Vec<String> {
        self.notices
            .lock()
            .map(|mut n| std::mem::take(&mut *n))
            .unwrap_or_default()
    }
}
