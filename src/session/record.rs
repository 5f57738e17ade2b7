//! What a session journal holds: one JSON object per line, tagged by `type`.
//! Only ever appended; replaying the records in order rebuilds the session.

use serde::{Deserialize, Serialize};

use crate::domain::conversation::Message;

/// The journal format's version, in the `start` record.
pub const VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Record {
    /// The first line of every journal.
    Start {
        version: u32,
        id: String,
        workspace: String,
        /// Unix seconds.
        started: u64,
        /// The whole system prompt, project context included: a resumed session sends
        /// the same prefix.
        system_prompt: String,
        /// The short git state the prompt was built with.
        #[serde(default)]
        git: Option<String>,
    },
    /// A message added to the conversation. For a user message, `shown` is what the user
    /// typed when the message sent to the model differs (notes, attached files).
    Message {
        turn: u64,
        message: Message,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        shown: Option<String>,
        /// The model's reasoning for an assistant message (kept, never sent back).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reasoning: Option<String>,
        /// The model that wrote an assistant message.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        model: Option<String>,
    },
    /// A message with images answered by the separate vision model: shown in the
    /// transcript; the model hears of it through a `note`.
    Vision {
        turn: u64,
        text: String,
        images: Vec<String>,
        model: String,
        answer: String,
    },
    /// The user's decision on a queued call (`approve`, `reject: reason`, …).
    Decision {
        turn: u64,
        call_id: String,
        tool: String,
        decision: String,
    },
    /// How a tool call ended, as its card shows it.
    Tool {
        turn: u64,
        call_id: String,
        name: String,
        arguments: String,
        /// `done`, `failed` or `rejected`.
        kind: String,
        summary: String,
    },
    /// A file cove changed: relative path, bytes before and after (`None`: absent).
    Change {
        turn: u64,
        path: String,
        old: Option<Blob>,
        new: Option<Blob>,
    },
    /// The turn ended; its changes form one `/undo` step.
    TurnEnd { turn: u64 },
    /// The newest `/undo` step was taken back.
    Undo,
    /// The git state the model knows of, after a turn (for the next turn's change note).
    Git { summary: Option<String> },
    /// What cove will tell the model with the next user message (empty: nothing).
    Note { text: String },
    /// The conversation was compacted: the messages that replace it (after the system
    /// prompt), and what was done, for the card.
    Compacted {
        messages: Vec<Message>,
        report: String,
    },
    /// A line for the transcript outside turns (undo, commit, errors).
    Notice { text: String },
}

/// File bytes in a journal: text when it is UTF-8, else base64.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Blob {
    Text(String),
    Base64(String),
}

impl Blob {
    pub fn from_bytes(bytes: &[u8]) -> Blob {
        match std::str::from_utf8(bytes) {
            Ok(t) => Blob::Text(t.to_owned()),
            Err(_) => {
                use base64::Engine;
                Blob::Base64(base64::engine::general_purpose::STANDARD.encode(bytes))
            }
        }
    }

    /// `None` for base64 that does not decode (a damaged journal).
    pub fn to_bytes(&self) -> Option<Vec<u8>> {
        match self {
            Blob::Text(t) => Some(t.as_bytes().to_vec()),
            Blob::Base64(b) => {
                use base64::Engine;
                base64::engine::general_purpose::STANDARD.decode(b).ok()
            }
        }
    }
}
