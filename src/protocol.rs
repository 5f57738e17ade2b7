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
    /// Say how the session's MCP servers are (`/mcp`).
    McpStatus,
    /// Show this session's lines of the privacy ledger (`/ledger`).
    Ledger,
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
    /// A task with nobody at the keyboard (`cove exec`): turns until the model is done and
    /// the check passes; ends with `AgentEvent::TaskDone`.
    Task(Task),
    Shutdown,
}

/// What `cove exec` asks of the agent.
#[derive(Debug, Clone, PartialEq)]
pub struct Task {
    /// The first message.
    pub text: String,
    pub images: Vec<ImageAttachment>,
    /// Run after each turn; while it fails, its output goes back to the model.
    pub verify: Option<Check>,
    /// Turns at most (each one model turn and one run of the check).
    pub max_turns: u32,
    /// Commit the files cove changed when the task is done (message from the model).
    pub commit: bool,
}

/// A command that says whether the work is done (`cove exec --verify`).
#[derive(Debug, Clone, PartialEq)]
pub struct Check {
    /// A command line for `sh -c`, run in the workspace and in the sandbox.
    pub command: String,
    pub timeout_secs: u64,
}

/// What an unattended run approves in place of a person (`cove exec --auto-approve`):
/// each level includes the ones before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum AutoApprove {
    /// Tools that only read.
    ReadOnly,
    /// Also file edits (`write_file`, `edit_file`, `apply_patch`).
    Edits,
    /// Also commands and commits (never a dangerous command or a protected file).
    All,
}

impl AutoApprove {
    pub fn as_str(self) -> &'static str {
        match self {
            AutoApprove::ReadOnly => "read-only",
            AutoApprove::Edits => "edits",
            AutoApprove::All => "all",
        }
    }
}

/// How a person at an editor wants calls decided (ACP's session modes; the TUI stays at
/// `Ask`). Kept in a `ModeCell` the front-end shares with the agent, so a change made while
/// a turn runs applies to the next call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ApprovalMode {
    /// Every call the policy does not allow asks.
    #[default]
    Ask,
    /// File edits run without asking (never a write to a protected file, never a
    /// dangerous command); the rest asks.
    AcceptEdits,
    /// Only tools that read run; anything else is refused with the reason.
    ReadOnly,
}

impl ApprovalMode {
    pub const ALL: [ApprovalMode; 3] = [
        ApprovalMode::Ask,
        ApprovalMode::AcceptEdits,
        ApprovalMode::ReadOnly,
    ];

    pub fn id(self) -> &'static str {
        match self {
            ApprovalMode::Ask => "ask",
            ApprovalMode::AcceptEdits => "accept-edits",
            ApprovalMode::ReadOnly => "read-only",
        }
    }

    pub fn from_id(id: &str) -> Option<ApprovalMode> {
        Self::ALL.into_iter().find(|m| m.id() == id)
    }
}

/// The session's `ApprovalMode`, shared by the front-end (which sets it) and the agent.
#[derive(Debug, Default)]
pub struct ModeCell(std::sync::atomic::AtomicU8);

impl ModeCell {
    pub fn get(&self) -> ApprovalMode {
        let n = self.0.load(std::sync::atomic::Ordering::Relaxed) as usize;
        ApprovalMode::ALL.get(n).copied().unwrap_or_default()
    }

    pub fn set(&self, mode: ApprovalMode) {
        let n = ApprovalMode::ALL
            .iter()
            .position(|m| *m == mode)
            .unwrap_or(0);
        self.0.store(n as u8, std::sync::atomic::Ordering::Relaxed);
    }
}

/// One run of the check.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CheckReport {
    pub command: String,
    pub passed: bool,
    /// The exit code; `None` when killed by a signal, timed out or not started.
    pub exit_code: Option<i32>,
    /// How it ended, in words (`exit code 1`, `timed out after 600 s`, why it did not start).
    pub status: String,
    pub timed_out: bool,
    pub duration_ms: u64,
    /// The end of its output (stdout and stderr as they came), bounded.
    pub tail: String,
}

/// The commit at the end of a task.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CommitReport {
    /// The short id; `None` when committing failed (`error`).
    pub id: Option<String>,
    pub message: String,
    /// Relative to the workspace.
    pub files: Vec<String>,
    pub error: Option<String>,
}

/// Tokens the server counted over a task's requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TokenUsage {
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    pub total_tokens: u64,
    pub requests: u64,
}

/// How a task ended.
#[derive(Debug, Clone, PartialEq)]
pub enum TaskStatus {
    /// The model finished and the check (if any) passes.
    Done,
    /// The check still fails after the last turn.
    CheckFailed,
    /// A turn reached `tools.max_iterations` model requests.
    MaxIterations,
    /// cove stopped a turn: the model repeated its calls.
    Repeating,
    /// A request failed, a reply was cut short, or the check could not run; `code` is the
    /// exit code (as for `cove ask`).
    Failed {
        code: u8,
    },
    Interrupted,
}

impl TaskStatus {
    pub fn as_str(&self) -> &'static str {
        match self {
            TaskStatus::Done => "done",
            TaskStatus::CheckFailed => "check_failed",
            TaskStatus::MaxIterations => "max_iterations",
            TaskStatus::Repeating => "repeating",
            TaskStatus::Failed { .. } => "error",
            TaskStatus::Interrupted => "interrupted",
        }
    }

    /// 0 done, 6 not done, 130 interrupted, else the failure's own code.
    pub fn exit_code(&self) -> u8 {
        match self {
            TaskStatus::Done => 0,
            TaskStatus::CheckFailed | TaskStatus::MaxIterations | TaskStatus::Repeating => 6,
            TaskStatus::Failed { code } => *code,
            TaskStatus::Interrupted => 130,
        }
    }
}

/// The end of a task.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskReport {
    pub status: TaskStatus,
    pub turns: u32,
    /// Files cove changed (relative to the workspace) that differ from how they were.
    pub files_changed: Vec<String>,
    pub commit: Option<CommitReport>,
    /// The last run of the check.
    pub verify: Option<CheckReport>,
    pub usage: TokenUsage,
    /// What went wrong, for `Failed` (and why a commit was not made).
    pub error: Option<String>,
}

impl Op {
    /// A short name, for logs and `AgentEvent::Busy`.
    pub fn name(&self) -> &'static str {
        match self {
            Op::UserTurn { .. } => "message",
            Op::Interrupt => "interrupt",
            Op::Decide { .. } => "decision",
            Op::Undo => "undo",
            Op::Permissions => "permissions",
            Op::McpStatus => "mcp",
            Op::Ledger => "ledger",
            Op::SessionDiff => "diff",
            Op::Revoke { .. } => "revoke",
            Op::NewSession => "new session",
            Op::Resume { .. } => "resume",
            Op::ListSessions => "sessions",
            Op::Export { .. } => "export",
            Op::Compact => "compact",
            Op::UserShell { .. } => "shell command",
            Op::Commit { .. } => "commit",
            Op::SwitchModel { .. } => "model",
            Op::Task(_) => "task",
            Op::Shutdown => "shutdown",
        }
    }

    /// The front-end's turn id the op carries, when it carries one.
    pub fn turn(&self) -> Option<u64> {
        match self {
            Op::UserTurn { turn, .. } | Op::UserShell { turn, .. } => Some(*turn),
            _ => None,
        }
    }
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
    /// A task's turn `turn` begins with this message (its first, or the failing check's
    /// output).
    TaskTurn { turn: u64, text: String },
    /// The check ran after turn `turn`.
    Checked { turn: u64, report: CheckReport },
    /// The task ended (`Op::Task`).
    TaskDone(TaskReport),
    /// The agent was busy with other work (a turn, a command, compaction) and did not do
    /// `op` (`Op::name`); `turn` is the op's own turn id, when it has one.
    Busy { op: String, turn: Option<u64> },
    /// `/undo` reverted the last turn that changed files: the files put back.
    Undone { restored: Vec<String> },
    /// A tool call ended: its one-line result, what it gave the model (bounded for
    /// display and safe for a terminal: `domain::output::bounded`) and the changes it made.
    ToolFinished {
        turn: u64,
        call_id: String,
        kind: ToolResultKind,
        summary: String,
        output: String,
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
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PastTool {
    pub id: String,
    pub name: String,
    /// The arguments that ran: the user's when they edited the call (`edited`).
    pub arguments: String,
    /// The user edited the arguments before approving.
    pub edited: bool,
    /// "recovered from text", "repaired JSON: …" (see `ToolCall::mended`).
    pub mended: Option<String>,
    /// `None`: the session ended before it finished.
    pub result: Option<(ToolResultKind, String)>,
    /// The files it changed (text files up to `PAST_CHANGE_MAX` bytes a side; others are
    /// named in the result only).
    pub changes: Vec<ProposedChange>,
    /// `/undo` took its changes back.
    pub undone: bool,
    /// What the call gave the model, bounded as `AgentEvent::ToolFinished::output`.
    pub output: String,
}

/// The largest side of a past change the transcript carries (bigger ones stay in the
/// journal, for undo, and are not shown again).
pub const PAST_CHANGE_MAX: usize = 4 << 20;

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
