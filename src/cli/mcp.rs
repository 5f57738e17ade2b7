//! `cove mcp`: the configured MCP servers, each started as a session would start it, with
//! its state and tools (or why it is not there).

use std::time::Duration;

use serde_json::json;

use cove::config::Loaded;
use cove::domain::text::neutralize_controls;
use cove::mcp::{McpHub, ServerState};

/// The longest `cove mcp` waits for servers before it prints what it has.
const WAIT: Duration = Duration::from_secs(60);

pub async fn run(loaded: Loaded, workspace: &std::path::Path, as_json: bool) -> u8 {
    let config = &loaded.config.mcp;
    if config.servers.is_empty() {
        if as_json {
            println!("{}", json!({ "servers": [] }));
        } else {
            println!(
                "No MCP servers are configured. Add one to ~/.config/cove/config.toml:\n\n[mcp.servers.everything]\ncommand = \"npx\"\nargs = [\"-y\", \"@modelcontextprotocol/server-everything\"]"
            );
        }
        return 0;
    }
    let policy = cove::config::offline::HostPolicy {
        offline: loaded.config.offline,
        allowed_hosts: loaded.config.allowed_hosts.clone(),
    };
    let hub = McpHub::start(config, workspace, &policy);
    hub.wait_started(WAIT).await;
    let notices = hub.take_notices();
    if as_json {
        let servers: Vec<_> = hub
            .servers()
            .iter()
            .map(|s| {
                let (state, error) = match s.state() {
                    ServerState::Failed(w) => ("failed", Some(w)),
                    ServerState::Stopped(w) => ("stopped", Some(w)),
                    other => (state_word(&other), None),
                };
                json!({
                    "name": s.name,
                    "transport": s.transport(),
                    "state": state,
                    "error": error,
                    "approval": format!("{:?}", s.config.approval()).to_lowercase(),
                    "tools": s.tools().iter().map(|t| json!({
                        "name": t.exposed,
                        "description": t.description,
                        "read_only_hint": t.read_only_hint,
                    })).collect::<Vec<_>>(),
                })
            })
            .collect();
        println!("{}", json!({ "servers": servers, "notices": notices }));
        return 0;
    }
    for s in hub.servers() {
        let tools = s.tools();
        let line = format!(
            "{}  {}  {}  approval {}{}",
            s.name,
            s.transport(),
            s.state().label(),
            format!("{:?}", s.config.approval()).to_lowercase(),
            if tools.is_empty() {
                String::new()
            } else {
                format!("  {} tools", tools.len())
            }
        );
        println!("{}", neutralize_controls(&line));
        for t in tools {
            let first_line = t.description.lines().next().unwrap_or("");
            println!(
                "  {}  {}",
                neutralize_controls(&t.exposed),
                neutralize_controls(first_line)
            );
        }
    }
    for n in notices.iter().filter(|n| n.contains("is not started")) {
        println!("{}", neutralize_controls(n));
    }
    0
}

fn state_word(s: &ServerState) -> &'static str {
    match s {
        ServerState::Disabled => "disabled",
        ServerState::Starting => "starting",
        ServerState::Ready => "ready",
        ServerState::Failed(_) => "failed",
        ServerState::Stopped(_) => "stopped",
    }
}
