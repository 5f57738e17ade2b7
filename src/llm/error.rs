use super::overflow::Overflow;
use crate::config::offline::Refusal;

#[derive(Debug, thiserror::Error)]
pub enum LlmError {
    #[error(transparent)]
    Offline(#[from] Refusal),
    #[error("{0}")]
    BadEndpoint(String),
    /// No endpoint answered; one line per endpoint tried.
    #[error("cannot reach the model server: {}", .0.join("; "))]
    Unreachable(Vec<String>),
    #[error("the server at {endpoint} answered HTTP {status}: {message}")]
    Http {
        endpoint: String,
        status: u16,
        message: String,
    },
    #[error("the server at {endpoint} sent something cove cannot read: {message}")]
    Protocol { endpoint: String, message: String },
    /// The request does not fit the server's context window (an HTTP error or an error
    /// event before any output); `message` is the server's own words.
    #[error(
        "the request does not fit the model's context window{} (the server at {endpoint} said: {message})",
        overflow.numbers().map(|n| format!(": {n}")).unwrap_or_default()
    )]
    ContextOverflow {
        endpoint: String,
        overflow: Overflow,
        message: String,
    },
}

impl LlmError {
    /// The process exit code for this error (see DESIGN.md: 2 config, 3 unreachable, 4 server error).
    pub fn exit_code(&self) -> i32 {
        match self {
            LlmError::Offline(_) | LlmError::BadEndpoint(_) => 2,
            LlmError::Unreachable(_) => 3,
            LlmError::Http { .. }
            | LlmError::Protocol { .. }
            | LlmError::ContextOverflow { .. } => 4,
        }
    }
}
