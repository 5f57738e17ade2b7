//! Messages that cross task boundaries.
//!
//! `StreamEvent` is what the model client (`llm/`) reports while a reply streams in; the
//! one-shot `cove ask` prints them and the TUI's agent loop forwards them to the UI.
//! `Op` (UI -> agent) and `AgentEvent` (agent -> UI) join this file with the agent loop.
//! This module depends on nothing else in the crate.

use serde::Serialize;

mod events;
pub use events::{EventRx, EventTx, STREAM_BACKLOG, StreamCoalescer, event_channel};

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

/// What the UI asks of the agent.
#[derive(Debug, Clone, PartialEq)]
pub enum Op {
    /// Start a turn with the user's message. `turn` is the UI's id for it.
    UserTurn {
        turn: u64,
        text: String,
        /// Images attached to the message, ready to send.
        images: Vec<ImageAttachment>,
    },
    /// Stop the running turn now; what arrived stays, queued calls are rejected.
    Interrupt,
    /// The user's decision on a queued tool call.
    Decide {
        call_id: String,
        decision: Decision,
    },
    /// Revert the last turn's file changes.
    Undo,
    /// List the session's allowances.
    Permissions,
    /// Everything cove changed this session, against the files as they were before.
    SessionDiff,
    /// Take back allowance number N (1-based), or all.
    Revoke {
        which: Option<usize>,
    },
    /// `/clear`: start a new session.
    NewSession,
    /// Continue the session journaled at this path.
    Resume {
        path: std::path::PathBuf,
    },
    /// The workspace's sessions, for the picker (`AgentEvent::Sessions`).
    ListSessions,
    /// `/export [PATH]`: the session as Markdown.
    Export {
        path: Option<String>,
    },
    /// `/compact`: summarise the older turns now.
    Compact,
    /// `!command`: run a command as the user (no approval) and tell the model its output.
    UserShell {
        turn: u64,
        command: String,
    },
    /// `/commit MESSAGE`: commit the files cove changed this session.
    Commit {
        message: String,
    },
    /// `/model NAME`: switch to profile NAME (or model NAME on the same server).
    SwitchModel {
        name: Option<String>,
    },
    Shutdown,
}

/// What the agent reports to the UI.
#[derive(Debug, Clone, PartialEq)]
pub enum AgentEvent {
    /// The server's state as found by the start-up probe (and after each turn).
    Server(ServerStatus),
    /// An increment of the reply of `turn`.
    Stream { turn: u64, event: StreamEvent },
    /// The turn ended (completely, cut short, or interrupted).
    TurnDone { turn: u64, outcome: TurnOutcome },
    /// The turn failed before or during streaming.
    TurnFailed {
        turn: u64,
        error: String,
        hint: String,
    },
    /// The model answering this response (the vision model for a message with images).
    Responder { turn: u64, model: String },
    /// Something to tell the user outside a turn (undo, permissions, auto-commit).
    Notice { text: String },
    /// A model response of the turn ended; the agent goes on with its tool calls.
    /// The UI starts a fresh reply entry for the next response.
    StepDone { turn: u64, outcome: TurnOutcome },
    /// The file a streaming edit (tool call `index` of the current reply) is about, read as
    /// soon as its path arrived: `Ok(None)` = it does not exist yet.
    LiveBase {
        turn: u64,
        index: usize,
        path: String,
        text: Result<Option<String>, String>,
    },
    /// The answer to `Op::SessionDiff`: per file, its text before cove's first change
    /// (`None`: it did not exist) and now (`None`: deleted).
    SessionDiff { changes: Vec<ProposedChange> },
    /// A tool call needs the user's decision.
    ApprovalNeeded { turn: u64, request: ApprovalRequest },
    /// A tool call started running (approved or allowed by policy).
    ToolStarted { turn: u64, call_id: String },
    /// A session was loaded (`--continue`, `--resume`, `/sessions`) or a new one began
    /// (`/clear`): the transcript to show instead of the current one.
    SessionLoaded {
        id: String,
        transcript: Vec<TranscriptItem>,
        /// The highest turn number in it (the UI numbers on from there).
        turns: u64,
    },
    /// The workspace's sessions, newest first, and the running one's id.
    Sessions {
        sessions: Vec<SessionSummary>,
        current: String,
    },
    /// A `!command` the user ran ended: the command, its output (capped) and whether it succeeded.
    ShellDone {
        turn: u64,
        command: String,
        output: String,
        ok: bool,
    },
    /// The agent finished an op the UI waits for (`/compact`, `/clear`, a resume).
    Ready,
    /// The id of the session that begins with the program (its journal's name).
    SessionStarted { id: String },
    /// The estimated size of the next request against the window.
    ContextUsage { tokens: u64, window: Option<u64> },
    /// A tool call ended: its one-line result and the changes it made.
    ToolFinished {
        turn: u64,
        call_id: String,
        kind: ToolResultKind,
        summary: String,
        changes: Vec<ProposedChange>,
    },
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct ServerStatus {
    pub reachable: bool,
    pub endpoint: String,
    pub model: String,
    /// The context window: configured, else what the server reports.
    pub context_window: Option<u64>,
    /// Why it is unreachable, when it is.
    pub detail: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct TurnOutcome {
    /// `stop`, `length`, `tool_calls`, ... as the server said.
    pub finish_reason: Option<String>,
    pub interrupted: bool,
    /// The stream ended early, or the server sent an error mid-stream: the message.
    pub cut_short: Option<String>,
    pub ttft_ms: Option<f64>,
    pub tokens_per_s: Option<f64>,
    /// Prompt + completion tokens of this request, as the server counted them.
    pub context_tokens: Option<u64>,
    pub tool_calls: Vec<ToolCallInfo>,
    /// Content after recovered tool calls were cut out, when it differs from what streamed.
    pub final_content: Option<String>,
}

/// A tool call as the UI shows it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ToolCallInfo {
    pub id: String,
    pub name: String,
    pub arguments: String,
    /// What cove did to make the call usable ("recovered from text", "repaired JSON:
    /// trailing comma"), shown on its card.
    pub mended: Option<String>,
}

/// A file as a proposed or applied change would leave it (text, lossy for binary).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ProposedChange {
    /// Relative to the workspace root.
    pub path: String,
    /// `None`: the file does not exist before. Shared, not copied: the agent, the queue
    /// and the diff pane all hold the same text of what may be a very large file.
    pub old: Option<std::sync::Arc<str>>,
    /// `None`: the file is deleted.
    pub new: Option<std::sync::Arc<str>>,
}

/// A tool call waiting for the user's decision.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ApprovalRequest {
    pub call_id: String,
    pub tool: String,
    /// What the call does, as far as the queue, the card and `e` care.
    pub kind: ApprovalKind,
    /// The arguments as the model sent them (JSON), for the view of everything (`v`).
    pub arguments: String,
    /// The text `e` opens for editing: the command line of a command, else the arguments
    /// as indented JSON.
    pub edit_text: String,
    /// One line: the path and +/- counts, or the command.
    pub summary: String,
    /// Why this call is dangerous, when it is (always needs explicit approval).
    pub danger: Option<String>,
    /// What the call would change, for the diff pane.
    pub changes: Vec<ProposedChange>,
    /// For `a` on a shell call: the command prefix that would be allowed for the session.
    pub session_prefix: Option<String>,
}

/// What a queued call does, so that a front-end needs no tool names and no JSON.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum ApprovalKind {
    /// Runs this command line (`shell`): `e` edits it, `a` allows its prefix
    /// (`session_prefix`).
    Command(String),
    /// Changes files (the request's `changes`). `in_editor`: the new content of a one-file
    /// change may be edited whole in `$EDITOR`.
    Files { in_editor: bool },
    /// Commits with this message.
    Commit(String),
    /// Anything else (reads, custom and MCP tools): what it does is its arguments.
    #[default]
    Other,
}

/// The user's decision on one queued call. Only keystrokes produce these.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    Approve,
    /// Approve and stop asking for this tool (for shell: this command prefix) this session.
    ApproveForSession,
    /// Approve, and run shell commands starting with this prefix (which the user confirmed
    /// or changed) without asking for the rest of the session.
    AllowPrefix(String),
    /// Approve only part of a file change: these hunks (`(file index, hunk index)`, as
    /// the diff pane numbers them) are left out.
    ApproveHunks {
        declined: Vec<(usize, usize)>,
    },
    /// Approve with the file content the user saved in their editor (edit_file and
    /// write_file): that content is written instead of the model's.
    ApproveContent(String),
    /// Approve with arguments the user edited (JSON text for tools, the command for shell).
    ApproveEdited(String),
    Reject {
        reason: Option<String>,
    },
}

/// How a tool call ended, for its card in the chat.
#[derive(Debug, Clone, PartialEq)]
pub enum ToolResultKind {
    Done,
    Failed,
    Rejected,
}

/// An image attached to a user message, already downscaled and encoded.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageAttachment {
    /// `data:image/...;base64,...`
    pub data_url: String,
    /// `1920x1080 PNG 412 KB` (numbered when shown: `image 1: …`)
    pub label: String,
    /// A small picture of it for the chat.
    pub preview: Option<Thumbnail>,
}

/// A few dozen pixels of an image, RGB, row by row.
#[derive(Debug, Clone, PartialEq)]
pub struct Thumbnail {
    pub width: u32,
    pub height: u32,
    pub rgb: Vec<u8>,
}

/// A past entry of a resumed session, as the chat shows it.
#[derive(Debug, Clone, PartialEq)]
pub enum TranscriptItem {
    User {
        text: String,
        /// Labels of the images that were attached.
        images: Vec<String>,
        /// Their thumbnails, when they could be made (in the order of `images`).
        previews: Vec<Option<Thumbnail>>,
    },
    Assistant {
        model: String,
        content: String,
        reasoning: String,
        tools: Vec<PastTool>,
    },
    Notice(String),
}

/// A tool call of a past reply.
#[derive(Debug, Clone, PartialEq)]
pub struct PastTool {
    pub id: String,
    pub name: String,
    pub arguments: String,
    /// "recovered from text", "repaired JSON: …" (see `ToolCall::mended`).
    pub mended: Option<String>,
    /// `None`: the session ended before it finished.
    pub result: Option<(ToolResultKind, String)>,
}

/// One session of the workspace, as `cove sessions` and the picker show it.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionSummary {
    pub id: String,
    pub path: std::path::PathBuf,
    /// `2026-11-30 10:44` (UTC)
    pub started: String,
    pub first_prompt: String,
    pub turns: u64,
    pub files_changed: u64,
}
