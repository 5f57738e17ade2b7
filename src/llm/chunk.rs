//! The JSON of one streamed `chat.completion.chunk`, read leniently.
//!
//! Every field is optional and unknown fields are ignored: servers differ (vLLM,
//! llama.cpp, Ollama, LM Studio) and a missing field must not lose the rest of a chunk.

use serde::Deserialize;
use serde_json::Value;

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Chunk {
    pub model: Option<String>,
    pub choices: Vec<Choice>,
    pub usage: Option<UsageRaw>,
    /// `{"error": {...}}` or `{"error": "text"}` sent as a data frame mid-stream.
    pub error: Option<Value>,
    /// llama.cpp's own timings, sent on the last chunk.
    pub timings: Option<Value>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Choice {
    pub index: Option<u64>,
    pub delta: Option<Delta>,
    /// A few servers put the final (or only) message here instead of `delta`.
    pub message: Option<Delta>,
    pub finish_reason: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Delta {
    pub content: Option<String>,
    pub reasoning_content: Option<String>,
    pub reasoning: Option<String>,
    pub tool_calls: Option<Vec<ToolCallDelta>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ToolCallDelta {
    pub index: Option<u64>,
    pub id: Option<String>,
    pub function: Option<FunctionDelta>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct FunctionDelta {
    pub name: Option<String>,
    /// A string fragment (OpenAI, vLLM, llama.cpp) or, from some servers, a whole object.
    pub arguments: Option<Value>,
}

#[derive(Debug, Default, Clone, Copy, Deserialize)]
#[serde(default)]
pub struct UsageRaw {
    pub prompt_tokens: Option<u64>,
    pub completion_tokens: Option<u64>,
    pub total_tokens: Option<u64>,
}

/// The message of an error frame or error body, whatever shape the server used.
pub fn error_message(error: &Value) -> String {
    match error {
        Value::String(s) => s.clone(),
        Value::Object(map) => {
            let msg = map
                .get("message")
                .and_then(Value::as_str)
                .map(str::to_owned)
                .unwrap_or_else(|| error.to_string());
            match map.get("type").and_then(Value::as_str) {
                Some(kind) if !kind.is_empty() && !msg.contains(kind) => format!("{msg} ({kind})"),
                _ => msg,
            }
        }
        other => other.to_string(),
    }
}

/// The server's own message from an HTTP error body: `{"error": ...}` (OpenAI, vLLM,
/// llama.cpp), `{"detail": ...}` (FastAPI), `{"message": ...}`, or the text itself.
pub fn http_error_message(body: &str) -> String {
    let trimmed = body.trim();
    if let Ok(v) = serde_json::from_str::<Value>(trimmed) {
        if let Some(e) = v.get("error") {
            return error_message(e);
        }
        for key in ["detail", "message"] {
            if let Some(d) = v.get(key) {
                return match d {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
            }
        }
    }
    const MAX: usize = 2000;
    if trimmed.len() > MAX {
        let mut end = MAX;
        while !trimmed.is_char_boundary(end) {
            end -= 1;
        }
        format!("{}…", &trimmed[..end])
    } else {
        trimmed.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_messages_from_every_shape() {
        assert_eq!(
            http_error_message(r#"{"error":{"message":"model not found","type":"NotFoundError"}}"#),
            "model not found (NotFoundError)"
        );
        assert_eq!(http_error_message(r#"{"error":"boom"}"#), "boom");
        assert_eq!(http_error_message(r#"{"detail":"Not Found"}"#), "Not Found");
        assert_eq!(http_error_message("  upstream down \n"), "upstream down");
        assert!(http_error_message(&"é".repeat(3000)).ends_with('…'));
    }

    #[test]
    fn chunk_with_wrong_field_types_elsewhere_still_parses_known_shape() {
        let c: Chunk = serde_json::from_str(
            r#"{"id":"x","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"role":"assistant","content":null}}],"extra":{"a":1}}"#,
        )
        .unwrap();
        assert_eq!(c.choices.len(), 1);
        assert!(c.choices[0].delta.as_ref().unwrap().content.is_none());
    }
}
