//! The session's MCP servers (`mcp::McpHub`) as tools of the agent: started with the
//! agent, in the background; before each request the registry is brought up to date
//! with the servers that are up (tools of a server that came up are added, those of one
//! that went away removed), what went wrong is told once, and when the servers' schemas
//! exceed `[mcp] schema_budget` the model is offered `tool_search` instead of them.

use std::sync::Arc;

use super::*;
use crate::config::offline::HostPolicy;
use crate::mcp::McpHub;
use crate::mcp::search::{self, ToolSearch};
use crate::mcp::tool::McpToolAdapter;
use crate::session::record::Record;

/// The longest a message waits for servers still starting (their own timeouts are
/// shorter unless set higher).
const MAX_WAIT_SECS: u64 = 120;

/// Starts the configured servers (none: no hub).
pub(super) fn start_hub(config: &Config, root: &std::path::Path) -> Option<Arc<McpHub>> {
    if config.mcp.servers.is_empty() {
        return None;
    }
    let policy = HostPolicy {
        offline: config.offline,
        allowed_hosts: config.allowed_hosts.clone(),
    };
    Some(McpHub::start(&config.mcp, root, &policy))
}

/// Tells the user at once when a server fails to start or stops, not only at the next
/// message (checked four times a second; ends with the session).
pub(super) fn forward_notices(hub: Arc<McpHub>, events: EventTx) {
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(std::time::Duration::from_millis(250)).await;
            for text in hub.take_notices() {
                if !events.send(AgentEvent::Notice { text }) {
                    return;
                }
            }
        }
    });
}

impl Agent {
    /// How images an MCP tool returns reach the model: the vision model (`[vision]`)
    /// describes them. Without one they are named, not shown (tool results are text for
    /// every OpenAI-compatible server).
    fn describe_images(&self) -> Option<crate::mcp::tool::Describe> {
        let (mc, client) = self.settings.vision.as_ref()?;
        let (name, client) = (mc.name.clone(), client.clone());
        let max_tokens = mc.max_tokens;
        Some(Arc::new(
            move |what: String, images: Vec<(String, String)>| {
                let client = client.clone();
                let name = name.clone();
                Box::pin(async move {
                    let model = crate::llm::probe::resolve_model(&client, name.as_deref())
                        .await
                        .map_err(|e| e.to_string())?;
                    let attachments: Vec<ImageAttachment> = images
                        .iter()
                        .enumerate()
                        .map(|(i, (mime, data))| ImageAttachment {
                            data_url: format!("data:{mime};base64,{data}"),
                            label: format!("image {} from {what}", i + 1),
                            preview: None,
                        })
                        .collect();
                    let req = ChatRequest {
                        model,
                        messages: vec![
                            Message::system(turn::VISION_PROMPT),
                            user_message(
                                format!(
                                    "{what} returned these images. Describe what they show, quoting any text exactly."
                                ),
                                &attachments,
                            ),
                        ],
                        tools: Vec::new(),
                        max_tokens,
                        temperature: Some(0.0),
                        purpose: crate::guard::ledger::Purpose::Vision,
                        ..ChatRequest::default()
                    };
                    let done = client
                        .stream_chat(&req, &mut |_| {})
                        .await
                        .map_err(|e| e.to_string())?;
                    Ok(done.reply.content)
                })
                    as futures_util::future::BoxFuture<'static, Result<String, String>>
            },
        ))
    }

    /// `/mcp`: each server, its state and tools, as a notice.
    pub(super) fn show_mcp(&self) {
        let text = match &self.mcp {
            None => "No MCP servers are configured ([mcp.servers.NAME] in ~/.config/cove/config.toml; `cove mcp` checks them).".to_owned(),
            Some(hub) => {
                let lines: Vec<String> = hub
                    .servers()
                    .iter()
                    .map(|s| {
                        let tools: Vec<String> = s.tools().into_iter().map(|t| t.name).collect();
                        let tools = if tools.is_empty() {
                            String::new()
                        } else {
                            format!(" · {} tools: {}", tools.len(), tools.join(", "))
                        };
                        format!(
                            "MCP `{}` ({}, approval {}): {}{tools}",
                            s.name,
                            s.transport(),
                            format!("{:?}", s.config.approval()).to_lowercase(),
                            s.state().label()
                        )
                    })
                    .collect();
                let search = if self.settings.registry.get(search::NAME).is_some() {
                    "\nTheir schemas exceed [mcp] schema_budget: the model finds them with tool_search."
                } else {
                    ""
                };
                format!("{}{search}", lines.join("\n"))
            }
        };
        self.send(AgentEvent::Notice { text });
    }

    /// Brings the registry up to date with the MCP servers; says what failed. Servers
    /// still starting are waited for (each at most its `startup_timeout_secs`), so the
    /// first message of a session, or of `cove exec`, sees every tool it was given.
    pub(super) async fn sync_mcp(&mut self) {
        let Some(hub) = self.mcp.clone() else {
            return;
        };
        let starting: Vec<String> = hub
            .servers()
            .iter()
            .filter(|s| s.state() == crate::mcp::ServerState::Starting)
            .map(|s| s.name.clone())
            .collect();
        if !starting.is_empty() {
            self.send(AgentEvent::Notice {
                text: format!(
                    "waiting for MCP server(s) to start: {}",
                    starting.join(", ")
                ),
            });
            // Esc stops the wait; the turn goes on with the servers that are up
            let cancel = self.cancel.clone();
            tokio::select! {
                _ = hub.wait_started(std::time::Duration::from_secs(MAX_WAIT_SECS)) => {}
                _ = cancel.cancelled() => {}
            }
        }
        for text in hub.take_notices() {
            self.send(AgentEvent::Notice { text: text.clone() });
            self.log_if_open(Record::Notice { text });
        }
        let registry = &self.settings.registry;
        let tools = hub.tools();
        let budget = self
            .settings
            .config
            .mcp
            .schema_budget
            .unwrap_or(crate::config::DEFAULT_SCHEMA_BUDGET) as usize;
        let over = search::schema_tokens(&tools) > budget;
        // gone: the tools of servers that stopped
        self.mcp_tools.retain(|name| {
            let keep = tools.iter().any(|t| &t.exposed == name);
            if !keep {
                registry.remove(name);
            }
            keep
        });
        for t in tools {
            if !self.mcp_tools.contains(&t.exposed) {
                let policy = hub
                    .servers()
                    .iter()
                    .find(|s| s.name == t.server)
                    .map_or(Policy::Ask, |s| s.config.approval());
                let name = t.exposed.clone();
                let adapter = McpToolAdapter::new(hub.clone(), t, self.describe_images());
                match registry.add(Arc::new(adapter), policy) {
                    Ok(()) => self.mcp_tools.push(name),
                    Err(e) => tracing::warn!("MCP tool `{name}` left out: {e}"),
                }
            }
        }
        for name in &self.mcp_tools {
            registry.set_hidden(name, over);
        }
        let searching = registry.get(search::NAME).is_some();
        if over && !searching {
            // reading cove's own list of tools: nothing to ask about
            let _ = registry.add(Arc::new(ToolSearch::new(hub.clone())), Policy::Always);
        } else if !over && searching {
            registry.remove(search::NAME);
        }
    }
}
