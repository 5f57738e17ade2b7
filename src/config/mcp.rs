//! `[mcp]`: the MCP servers whose tools cove offers the model (`src/mcp/`). Untrusted
//! from a workspace file (`config::trust`): a cloned repository cannot start programs.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::Policy;

/// Tokens of MCP tool schemas offered as they are; past it the model gets one
/// `tool_search` tool instead and asks for the schemas it needs.
pub const DEFAULT_SCHEMA_BUDGET: u32 = 2_000;

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub struct McpConfig {
    pub servers: BTreeMap<String, McpServerConfig>,
    pub schema_budget: Option<u32>,
}

/// `[mcp.servers.NAME]`: a stdio server (`command`) or a streamable HTTP one (`url`).
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub struct McpServerConfig {
    pub command: Option<String>,
    pub args: Vec<String>,
    pub env: BTreeMap<String, String>,
    /// The server's working directory (relative: to the workspace); the workspace by default.
    pub cwd: Option<String>,
    pub url: Option<String>,
    pub headers: BTreeMap<String, String>,
    /// `false` keeps the server configured but not started.
    pub enabled: Option<bool>,
    /// Only these of the server's tools are offered (all when unset).
    pub tools: Option<Vec<String>>,
    /// Whether its calls ask (default), run, or are refused.
    pub approval: Option<Policy>,
    pub startup_timeout_secs: Option<u64>,
    pub tool_timeout_secs: Option<u64>,
}

impl McpServerConfig {
    pub fn is_enabled(&self) -> bool {
        self.enabled.unwrap_or(true)
    }

    pub fn approval(&self) -> Policy {
        self.approval.unwrap_or(Policy::Ask)
    }
}
