//! The tools the model may call: the [`Tool`] trait (name, schema, typed arguments,
//! approval, preview, run), the [`Registry`] that holds the built-in, custom and MCP tools
//! alike, each built-in tool, custom command tools, and process execution. The agent
//! decides what runs.

pub mod args;
pub mod atomic;
pub mod builtin;
pub mod context;
pub mod custom;
mod danger;
pub mod files;
pub mod fs;
pub mod hunks;
pub mod isolate;
pub mod live_base;
pub mod on_disk;
pub mod patch;
pub mod protected;
pub mod registry;
mod schema;
pub mod shell;
pub mod shell_command;
pub mod shell_lex;
pub mod shell_policy;
pub mod tool;

pub use registry::Registry;
pub use schema::{BUILTIN_TOOLS, offered_tools};
pub use tool::{Approval, Call, DynTool, Preview, RunResult, Tool, ToolError, Turn};
