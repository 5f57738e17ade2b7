//! The conversation as cove keeps it: messages, tool calls, usage.
//! Wire formats (OpenAI JSON) are built from these in `llm/request.rs`.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    System,
    User,
    Assistant,
    Tool,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::System => "system",
            Role::User => "user",
            Role::Assistant => "assistant",
            Role::Tool => "tool",
        }
    }
}

/// One part of a multi-part message (the OpenAI content array).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContentPart {
    Text(String),
    /// A `data:` URL or a URL the model server can reach itself.
    ImageUrl(String),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Content {
    Text(String),
    Parts(Vec<ContentPart>),
}

/// A tool call as the model made it. `id` is kept byte for byte as the server sent it
/// (Mistral's 9-character ids must be echoed back unchanged); `arguments` is the raw
/// JSON text, which may be malformed: the model is untrusted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolCall {
    pub id: String,
    pub name: String,
    pub arguments: String,
    /// True when the call was recovered from text the model printed instead of a
    /// structured call (see `llm::recover`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub recovered: bool,
    /// How cove repaired arguments that were almost JSON (`llm::repair`): "repaired
    /// JSON: trailing comma". `arguments` holds the repaired text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repaired: Option<String>,
}

impl ToolCall {
    /// What cove did to make this call usable, for the card and the journal.
    pub fn mended(&self) -> Option<String> {
        match (self.recovered, &self.repaired) {
            (false, None) => None,
            (true, None) => Some("recovered from text".into()),
            (false, Some(r)) => Some(r.clone()),
            (true, Some(r)) => Some(format!("recovered from text, {r}")),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    pub role: Role,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<Content>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tool_calls: Vec<ToolCall>,
    /// For `Role::Tool`: the id of the call this answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_call_id: Option<String>,
}

impl Message {
    pub fn text(role: Role, text: impl Into<String>) -> Self {
        Message {
            role,
            content: Some(Content::Text(text.into())),
            tool_calls: Vec::new(),
            tool_call_id: None,
        }
    }

    pub fn system(text: impl Into<String>) -> Self {
        Self::text(Role::System, text)
    }

    pub fn user(text: impl Into<String>) -> Self {
        Self::text(Role::User, text)
    }

    /// A user message with images: an OpenAI content array of the text, then each image's
    /// `data:` URL. Without images, a plain text message.
    pub fn user_with_images(text: impl Into<String>, image_urls: Vec<String>) -> Self {
        if image_urls.is_empty() {
            return Self::user(text);
        }
        let mut parts = vec![ContentPart::Text(text.into())];
        parts.extend(image_urls.into_iter().map(ContentPart::ImageUrl));
        Message {
            role: Role::User,
            content: Some(Content::Parts(parts)),
            tool_calls: Vec::new(),
            tool_call_id: None,
        }
    }

    pub fn assistant(text: impl Into<String>, tool_calls: Vec<ToolCall>) -> Self {
        let text = text.into();
        Message {
            role: Role::Assistant,
            content: (!text.is_empty()).then_some(Content::Text(text)),
            tool_calls,
            tool_call_id: None,
        }
    }

    /// The message's text (its text parts joined by blank lines; images left out).
    pub fn text_content(&self) -> String {
        match &self.content {
            None => String::new(),
            Some(Content::Text(t)) => t.clone(),
            Some(Content::Parts(parts)) => parts
                .iter()
                .filter_map(|p| match p {
                    ContentPart::Text(t) => Some(t.as_str()),
                    ContentPart::ImageUrl(_) => None,
                })
                .collect::<Vec<_>>()
                .join("\n"),
        }
    }

    pub fn tool_result(call_id: impl Into<String>, text: impl Into<String>) -> Self {
        Message {
            role: Role::Tool,
            content: Some(Content::Text(text.into())),
            tool_calls: Vec::new(),
            tool_call_id: Some(call_id.into()),
        }
    }
}

/// Token counts as the server reported them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Usage {
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    pub total_tokens: u64,
}

impl ToolCall {
    /// A fresh call id for a call the server sent without one (or that was recovered
    /// from text): 9 ASCII alphanumerics, the shape Mistral's chat template requires,
    /// which every other template accepts too.
    pub fn synthetic_id() -> String {
        use std::sync::atomic::{AtomicU64, Ordering};
        use std::time::{SystemTime, UNIX_EPOCH};
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        const ALPHABET: &[u8; 62] =
            b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        // splitmix64 of time and counter: distinct within a process, varied across runs
        let mut x = nanos ^ n.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        x ^= x >> 31;
        (0..9)
            .map(|_| {
                let c = ALPHABET[(x % 62) as usize] as char;
                x /= 62;
                c
            })
            .collect()
    }
}

/// A tool as offered to the model: name, description and JSON schema of its arguments.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ToolSpec {
    pub name: String,
    pub description: String,
    pub parameters: serde_json::Value,
}
