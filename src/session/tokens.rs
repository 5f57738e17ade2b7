//! Token estimates without the model's tokenizer: good enough to decide when to compact
//! and to show the context use; the server's own count replaces it whenever a reply
//! reports `usage`.

use crate::domain::conversation::{Content, ContentPart, Message};

/// Tokens in `text`: about one per 3.5 bytes for code and English (BPE vocabularies of
/// 32k-150k entries), rounded up; errs high so that compaction comes early, not late.
pub fn estimate(text: &str) -> usize {
    (text.len() * 2).div_ceil(7)
}

/// An image as vision models count it (a 1568-px image is 1,000-2,500 tokens).
pub const IMAGE_TOKENS: usize = 1_500;

/// Per-message overhead of chat templates (role markers, separators).
const MESSAGE_OVERHEAD: usize = 4;

/// Tokens one message takes in a request.
pub fn message(m: &Message) -> usize {
    let content = match &m.content {
        None => 0,
        Some(Content::Text(t)) => estimate(t),
        Some(Content::Parts(parts)) => parts
            .iter()
            .map(|p| match p {
                ContentPart::Text(text) => estimate(text),
                ContentPart::ImageUrl(_) => IMAGE_TOKENS,
            })
            .sum(),
    };
    let calls: usize = m
        .tool_calls
        .iter()
        .map(|c| estimate(&c.name) + estimate(&c.arguments) + 8)
        .sum();
    MESSAGE_OVERHEAD + content + calls
}

/// Tokens of a whole conversation.
pub fn messages(ms: &[Message]) -> usize {
    ms.iter().map(message).sum()
}
