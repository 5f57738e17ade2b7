//! A server's tool as a cove tool (`tools::Tool`): offered under `<server>__<tool>` with
//! the server's schema, put to the user like any call (the server's `approval` policy;
//! the server's read-only hint is shown, never trusted to skip asking), run over MCP
//! with Esc cancelling the request on the server.

use std::sync::Arc;

use futures_util::future::BoxFuture;
use serde_json::{Map, Value};

use super::{McpHub, McpTool};
use crate::domain::conversation::ToolSpec;
use crate::tools::context::{ToolContext, ToolOutput};
use crate::tools::{Approval, RunResult, Tool, ToolError, Turn};

/// Describes images a tool returned, for a model that only reads text: given what the
/// call was (for the vision model's prompt) and the images as `(mime type, base64)`.
/// The agent builds it over its vision model (`[vision]`).
pub type Describe = Arc<
    dyn Fn(String, Vec<(String, String)>) -> BoxFuture<'static, Result<String, String>>
        + Send
        + Sync,
>;

pub struct McpToolAdapter {
    hub: Arc<McpHub>,
    tool: McpTool,
    describe: Option<Describe>,
}

impl McpToolAdapter {
    pub fn new(hub: Arc<McpHub>, tool: McpTool, describe: Option<Describe>) -> Self {
        McpToolAdapter {
            hub,
            tool,
            describe,
        }
    }
}

/// The one line the queue shows beside the tool's name: its arguments.
pub fn summary(args: &Map<String, Value>) -> String {
    // the queue shows the tool's name (`<server>__<tool>`) beside it
    let mut line = Value::Object(args.clone()).to_string();
    if line.len() > 200 {
        let mut cut = 200;
        while !line.is_char_boundary(cut) {
            cut -= 1;
        }
        line.truncate(cut);
        line.push('…');
    }
    crate::domain::text::neutralize_controls(&line).into_owned()
}

impl Tool for McpToolAdapter {
    type Args = Map<String, Value>;

    /// The name it is offered under (`<server>__<tool>`), not the server's own.
    #[allow(clippy::misnamed_getters)]
    fn name(&self) -> &str {
        &self.tool.exposed
    }

    fn spec(&self) -> ToolSpec {
        let mut description = self.tool.description.clone();
        if description.len() > 1024 {
            let mut cut = 1024;
            while !description.is_char_boundary(cut) {
                cut -= 1;
            }
            description.truncate(cut);
        }
        ToolSpec {
            name: self.tool.exposed.clone(),
            description: format!("{description} (MCP server `{}`)", self.tool.server),
            parameters: self.tool.schema.clone(),
        }
    }

    /// A server's claim, not cove's knowledge: MCP calls never run beside others unasked.
    fn read_only(&self) -> bool {
        false
    }

    fn abandonable(&self) -> bool {
        true
    }

    fn parse(&self, args: Value) -> Result<Self::Args, String> {
        match args {
            Value::Object(m) => Ok(m),
            _ => Err(format!(
                "the arguments of `{}` must be a JSON object",
                self.tool.exposed
            )),
        }
    }

    fn approval(&self, args: &Self::Args) -> Approval {
        let hint = if self.tool.read_only_hint {
            " (the server says it only reads)"
        } else {
            ""
        };
        Approval {
            summary: Some(format!("{}{hint}", summary(args))),
            ..Approval::default()
        }
    }

    fn run(
        &self,
        _ctx: &ToolContext,
        args: Arc<Self::Args>,
        _turn: &Turn,
    ) -> BoxFuture<'static, RunResult> {
        let hub = self.hub.clone();
        let tool = self.tool.clone();
        let describe = self.describe.clone();
        Box::pin(async move {
            let Some((server, _)) = hub.find(&tool.exposed) else {
                return Err(ToolError::Tell(format!(
                    "the MCP server `{}` is not available any more; its tools are gone",
                    tool.server
                )));
            };
            // dropping this future (Esc) cancels the request on the server
            match server.call(&tool.name, (*args).clone()).await {
                Ok(out) => {
                    let mut text = out.text;
                    if !out.images.is_empty() {
                        // the images go the vision path: the model gets what they show
                        let n = out.images.len();
                        let what =
                            format!("the tool `{}` of MCP server `{}`", tool.name, tool.server);
                        text.push_str(&match describe {
                            Some(d) => match d(what, out.images).await {
                                Ok(desc) => format!("\n[what the vision model sees in the {n} image(s)]\n{desc}"),
                                Err(e) => format!("\n({n} image(s) could not be described: {e})"),
                            },
                            None => format!(
                                "\n({n} image(s) not shown to the model: configure a [vision] model to have them described)"
                            ),
                        });
                    }
                    Ok(ToolOutput {
                        text,
                        is_error: out.is_error,
                        changes: Vec::new(),
                    })
                }
                Err(e) => Err(ToolError::Tell(e)),
            }
        })
    }
}
