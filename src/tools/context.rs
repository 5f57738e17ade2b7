//! What every tool gets and gives back.

use std::path::PathBuf;
use std::sync::Arc;

use serde_json::Value;

/// The environment a tool runs in.
#[derive(Debug, Clone)]
pub struct ToolContext {
    /// The workspace root, canonicalised. Every path the model names resolves inside it.
    pub root: PathBuf,
    /// Environment variables never passed to commands the model runs (API keys).
    pub secret_env: Vec<String>,
    /// Configured API keys: a variable holding one of them is not passed on either.
    pub secret_values: Vec<String>,
    /// `[guard] deny_read`: more files whose writes always ask (see `tools::protected`).
    pub protected: Vec<String>,
    /// How the processes started for the model are confined (`[sandbox]`).
    pub sandbox: crate::sandbox::Sandbox,
    /// Default timeout for `shell`, in seconds.
    pub shell_timeout_secs: u64,
    /// Most bytes of output a tool returns to the model (head and tail kept).
    pub max_output_bytes: usize,
    /// Longest a `search` runs before answering with what it found.
    pub search_time_limit: std::time::Duration,
    /// The editor whose buffers text files are read from and written through, inside one
    /// that offers its file system (`cove acp`; see `tools::files`).
    pub editor: Option<Arc<dyn super::files::EditorFiles>>,
}

impl ToolContext {
    pub fn new(root: PathBuf) -> Self {
        ToolContext {
            root,
            secret_env: Vec::new(),
            secret_values: Vec::new(),
            protected: Vec::new(),
            sandbox: crate::sandbox::Sandbox::default(),
            shell_timeout_secs: 120,
            max_output_bytes: 30_000,
            search_time_limit: super::fs::SEARCH_TIME_LIMIT,
            editor: None,
        }
    }
}

/// One file as a change left it: `old`/`new` are `None` when the file did not exist
/// before / does not exist after. Enough to show a diff and to undo exactly. The bytes are
/// shared (`domain::shared`): the proposal, the card, undo and the journal hold one copy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileChange {
    pub path: PathBuf,
    pub old: Option<Arc<[u8]>>,
    pub new: Option<Arc<[u8]>>,
}

/// What a tool returns: the text the model sees, whether it is an error, and the file
/// changes it made (empty for read-only tools and for errors: a failed tool writes nothing).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ToolOutput {
    pub text: String,
    pub is_error: bool,
    pub changes: Vec<FileChange>,
}

impl ToolOutput {
    pub fn ok(text: impl Into<String>) -> Self {
        ToolOutput {
            text: text.into(),
            is_error: false,
            changes: Vec::new(),
        }
    }

    pub fn error(text: impl Into<String>) -> Self {
        ToolOutput {
            text: text.into(),
            is_error: true,
            changes: Vec::new(),
        }
    }
}

/// "a string", "an array", ...: for messages about wrong-typed arguments.
pub fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
