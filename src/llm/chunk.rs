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
#[serde(default, from = "RawDelta")]
pub struct Delta {
    pub content: Option<String>,
    pub reasoning_content: Option<String>,
    pub reasoning: Option<String>,
    pub tool_calls: Option<Vec<ToolCallDelta>>,
}

/// A delta as sent: `content` is a string, or (Mistral's reasoning models, Magistral)
/// an array of typed parts: `{"type":"text","text":…}` and
/// `{"type":"thinking","thinking":[{"type":"text","text":…}]}`. Parts become `content`
/// and `reasoning_content`, so the assembler sees one shape.
#[derive(Default, Deserialize)]
#[serde(default)]
struct RawDelta {
    #[serde(deserialize_with = "text_or_parts")]
    content: Option<Parts>,
    reasoning_content: Option<String>,
    reasoning: Option<String>,
    tool_calls: Option<Vec<ToolCallDelta>>,
}

/// `content` split by kind: the visible text and the thinking, each in order.
#[derive(Default)]
struct Parts {
    text: String,
    thinking: String,
}

impl From<RawDelta> for Delta {
    fn from(raw: RawDelta) -> Self {
        let (content, thinking) = match raw.content {
            None => (None, None),
            Some(p) => (Some(p.text), Some(p.thinking).filter(|t| !t.is_empty())),
        };
        let reasoning_content = match (raw.reasoning_content, thinking) {
            (Some(r), Some(t)) => Some(r + &t),
            (r, t) => r.or(t),
        };
        Delta {
            content,
            reasoning_content,
            reasoning: raw.reasoning,
            tool_calls: raw.tool_calls,
        }
    }
}

/// A string (the common case, read without going through `Value`), null, or an array
/// of typed parts; parts of unknown types (an image, a reference) are left out.
fn text_or_parts<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Parts>, D::Error> {
    struct V;
    impl<'de> serde::de::Visitor<'de> for V {
        type Value = Option<Parts>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a string, null or an array of content parts")
        }
        fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
            Ok(Some(Parts {
                text: v.to_owned(),
                thinking: String::new(),
            }))
        }
        fn visit_string<E: serde::de::Error>(self, v: String) -> Result<Self::Value, E> {
            Ok(Some(Parts {
                text: v,
                thinking: String::new(),
            }))
        }
        fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_none<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_some<D2: serde::Deserializer<'de>>(self, d: D2) -> Result<Self::Value, D2::Error> {
            d.deserialize_any(V)
        }
        fn visit_seq<A: serde::de::SeqAccess<'de>>(
            self,
            mut seq: A,
        ) -> Result<Self::Value, A::Error> {
            let mut parts = Parts::default();
            while let Some(part) = seq.next_element::<Value>()? {
                collect_part(&part, &mut parts, false);
            }
            Ok(Some(parts))
        }
    }
    d.deserialize_any(V)
}

/// One content part into `parts`: text as text (as thinking inside a thinking part),
/// a thinking part's inner parts (or its plain string) as thinking.
fn collect_part(part: &Value, parts: &mut Parts, in_thinking: bool) {
    let sink = |parts: &mut Parts, text: &str| {
        if in_thinking {
            parts.thinking.push_str(text)
        } else {
            parts.text.push_str(text)
        }
    };
    match part {
        Value::String(s) => sink(parts, s),
        Value::Object(map) => match map.get("type").and_then(Value::as_str) {
            Some("text") | None => {
                if let Some(t) = map.get("text").and_then(Value::as_str) {
                    sink(parts, t);
                }
            }
            Some("thinking") | Some("reasoning") => {
                match map.get("thinking").or_else(|| map.get("reasoning")) {
                    Some(Value::String(s)) => parts.thinking.push_str(s),
                    Some(Value::Array(inner)) => {
                        for p in inner {
                            collect_part(p, parts, true);
                        }
                    }
                    _ => {}
                }
            }
            Some(_) => {}
        },
        _ => {}
    }
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

    fn delta(json: &str) -> Delta {
        let c: Chunk = serde_json::from_str(json).unwrap();
        c.choices.into_iter().next().unwrap().delta.unwrap()
    }

    #[test]
    fn content_as_typed_parts_gives_text_and_thinking() {
        // Magistral through Mistral's API / vLLM: thinking first, then the answer
        let d = delta(
            r#"{"choices":[{"index":0,"delta":{"role":"assistant","content":[{"type":"thinking","thinking":[{"type":"text","text":"The user wants "},{"type":"text","text":"a list."}]}]}}]}"#,
        );
        assert_eq!(d.content.as_deref(), Some(""));
        assert_eq!(
            d.reasoning_content.as_deref(),
            Some("The user wants a list.")
        );
        let d = delta(
            r#"{"choices":[{"index":0,"delta":{"content":[{"type":"text","text":"Here it is"}]}}]}"#,
        );
        assert_eq!(d.content.as_deref(), Some("Here it is"));
        assert_eq!(d.reasoning_content, None);
        // both kinds in one delta, a plain string inside thinking, unknown part types
        let d = delta(
            r#"{"choices":[{"delta":{"content":[{"type":"thinking","thinking":"hmm"},{"type":"image_url","image_url":{"url":"x"}},{"type":"text","text":"ok"},"!"],"reasoning_content":"a "}}]}"#,
        );
        assert_eq!(d.content.as_deref(), Some("ok!"));
        assert_eq!(d.reasoning_content.as_deref(), Some("a hmm"));
        // plain strings and null still read as before
        assert_eq!(
            delta(r#"{"choices":[{"delta":{"content":"hi"}}]}"#)
                .content
                .as_deref(),
            Some("hi")
        );
        assert_eq!(
            delta(r#"{"choices":[{"delta":{"content":null}}]}"#).content,
            None
        );
        // a number is still a chunk of an unexpected shape
        assert!(serde_json::from_str::<Chunk>(r#"{"choices":[{"delta":{"content":5}}]}"#).is_err());
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
