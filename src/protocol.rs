//! Messages that cross task boundaries.
//!
//! `StreamEvent` is what the model client (`llm/`) reports while a reply streams in; the
//! one-shot `cove ask` prints them and the TUI's agent loop forwards them to the UI.
//! `Op` (UI -> agent) and `AgentEvent` (agent -> UI) join this file with the agent loop.
//! This module depends on nothing else in the crate.

use serde::Serialize;

/// One increment of a streaming reply, in the order the server sent it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum StreamEvent {
    /// A piece of the visible answer.
    Content { text: String },
    /// A piece of the model's reasoning (`reasoning_content` / `reasoning`), kept apart.
    Reasoning { text: String },
    /// A new tool call began. `index` is cove's own position for the call in this reply.
    ToolCallStart {
        index: usize,
        id: String,
        name: String,
    },
    /// More argument text for the call at `index` (JSON, possibly incomplete).
    ToolCallArgs { index: usize, fragment: String },
    /// Something the user should know that is not part of the answer
    /// (an endpoint was down and the next one is tried, a retry after 429, a skipped bad chunk).
    Notice { message: String },
}
