//! `tool_search`: what the model gets instead of every MCP tool's schema when those
//! schemas would take more than `[mcp] schema_budget` tokens of each request (servers
//! with dozens of tools run to tens of thousands). The model searches by words; the
//! answer lists the best matching tools with their full schemas, and the model then
//! calls them by name like any other tool.

use std::sync::Arc;

use futures_util::future::BoxFuture;
use serde_json::{Value, json};

use super::{McpHub, McpTool};
use crate::domain::conversation::ToolSpec;
use crate::tools::context::{ToolContext, ToolOutput};
use crate::tools::{RunResult, Tool, Turn};

pub const NAME: &str = "tool_search";
/// Tools one search returns at most.
const MAX_RESULTS: usize = 5;

/// Tokens the MCP tools' schemas would take in every request.
pub fn schema_tokens(tools: &[McpTool]) -> usize {
    tools
        .iter()
        .map(|t| {
            crate::session::tokens::estimate(&format!("{}{}{}", t.exposed, t.description, t.schema))
        })
        .sum()
}

pub struct ToolSearch {
    hub: Arc<McpHub>,
}

impl ToolSearch {
    pub fn new(hub: Arc<McpHub>) -> Self {
        ToolSearch { hub }
    }
}

/// The tools that best match `query` (words in the name and description), best first.
pub fn search(tools: &[McpTool], query: &str) -> Vec<McpTool> {
    let words: Vec<String> = query
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.len() > 1)
        .map(str::to_lowercase)
        .collect();
    let mut scored: Vec<(usize, &McpTool)> = tools
        .iter()
        .map(|t| {
            let name = t.exposed.to_lowercase();
            let desc = t.description.to_lowercase();
            let score = words
                .iter()
                .map(|w| {
                    3 * usize::from(name.contains(w.as_str()))
                        + usize::from(desc.contains(w.as_str()))
                })
                .sum();
            (score, t)
        })
        .filter(|(s, _)| *s > 0)
        .collect();
    scored.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.exposed.cmp(&b.1.exposed)));
    scored
        .into_iter()
        .take(MAX_RESULTS)
        .map(|(_, t)| t.clone())
        .collect()
}

impl Tool for ToolSearch {
    type Args = String;

    fn name(&self) -> &str {
        NAME
    }

    fn spec(&self) -> ToolSpec {
        let servers: Vec<&str> = self.hub.servers().iter().map(|s| s.name.as_str()).collect();
        ToolSpec {
            name: NAME.into(),
            description: format!(
                "Find tools of the connected MCP servers ({}) by what they do. Returns up to {MAX_RESULTS} tools with their names and argument schemas; call them by name afterwards.",
                servers.join(", ")
            ),
            parameters: json!({
                "type": "object",
                "properties": {"query": {"type": "string", "description": "Words for what the tool should do, e.g. \"create github issue\"."}},
                "required": ["query"]
            }),
        }
    }

    fn read_only(&self) -> bool {
        true
    }

    fn parse(&self, args: Value) -> Result<Self::Args, String> {
        args.get("query")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .filter(|q| !q.trim().is_empty())
            .ok_or_else(|| "tool_search needs a `query`: words for what the tool should do".into())
    }

    fn run(
        &self,
        _ctx: &ToolContext,
        query: Arc<String>,
        _turn: &Turn,
    ) -> BoxFuture<'static, RunResult> {
        let found = search(&self.hub.tools(), &query);
        Box::pin(async move {
            if found.is_empty() {
                return Ok(ToolOutput::ok(format!("No MCP tool matches `{query}`.")));
            }
            let list: Vec<Value> = found
                .iter()
                .map(|t| json!({"name": t.exposed, "description": t.description, "parameters": t.schema}))
                .collect();
            Ok(ToolOutput::ok(
                serde_json::to_string_pretty(&list).unwrap_or_default(),
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tool(server: &str, name: &str, description: &str) -> McpTool {
        McpTool {
            server: server.into(),
            name: name.into(),
            exposed: super::super::names::exposed(server, name),
            description: description.into(),
            schema: json!({"type": "object"}),
            read_only_hint: false,
        }
    }

    #[test]
    fn search_ranks_names_over_descriptions_and_bounds_the_answer() {
        let tools = vec![
            tool("gh", "create_issue", "Open a new issue in a repository"),
            tool("gh", "list_issues", "List issues"),
            tool("gh", "create_pr", "Open a pull request"),
            tool("db", "query", "Run SQL"),
        ];
        let found = search(&tools, "create an issue");
        assert_eq!(found[0].exposed, "gh__create_issue");
        assert!(found.iter().all(|t| t.server == "gh"));
        assert!(search(&tools, "").is_empty());
        assert!(search(&tools, "kubernetes").is_empty());
        let many: Vec<McpTool> = (0..50)
            .map(|i| tool("s", &format!("t{i}"), "issue"))
            .collect();
        assert_eq!(search(&many, "issue").len(), MAX_RESULTS);
        assert!(schema_tokens(&many) > 0);
    }
}
