//! Context overflow: the server refusing a request that does not fit its context window,
//! recognised in every shape real servers send it, with the numbers they give.
//!
//! - llama.cpp (`exceed_context_size_error`, HTTP 400, or an `error:` SSE line from older
//!   builds): `{"error":{"code":400,"message":"request (13392 tokens) exceeds the available
//!   context size (8192 tokens), try increasing it","type":"exceed_context_size_error",
//!   "n_prompt_tokens":13392,"n_ctx":8192}}`; older builds say only "the request exceeds
//!   the available context size, try increasing it".
//! - vLLM (HTTP 400, `{"object":"error","message":…}` or `{"error":{"message":…}}`):
//!   "This model's maximum context length is 4096 tokens. However, you requested 5000
//!   tokens (4000 in the messages, 1000 in the completion)…", "…However, your request has
//!   4176 input tokens…", and, when only `max_tokens` is too large, "'max_tokens' or
//!   'max_completion_tokens' is too large: 8000. This model's maximum context length is
//!   4096 tokens and your request has 2778 input tokens (8000 > 4096 - 2778)".
//! - OpenAI-style `context_length_exceeded` ("…your messages resulted in 9000 tokens…") and
//!   LM Studio ("Trying to keep the first 5000 tokens when context the overflows. However,
//!   the model is loaded with context length of only 4096 tokens…").

use serde_json::Value;

/// What a server said when it refused a request that does not fit its window.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Overflow {
    /// The request's prompt, in tokens as the server counted them.
    pub prompt_tokens: Option<u64>,
    /// The context window the server runs with (per slot for llama.cpp).
    pub window: Option<u64>,
    /// The reply size the request asked for (`max_tokens`), when the server names it.
    pub reply_tokens: Option<u64>,
}

impl Overflow {
    /// Room the window leaves for the reply when the prompt itself fits and only the
    /// requested `max_tokens` does not: asking for that much instead makes it fit.
    pub fn reply_room(&self) -> Option<u64> {
        match (self.prompt_tokens, self.window, self.reply_tokens) {
            (Some(p), Some(w), Some(r)) if p < w && r > w - p => Some(w - p),
            _ => None,
        }
    }

    /// "the prompt is 13392 tokens, the window 8192 tokens" (what is known of it).
    pub fn numbers(&self) -> Option<String> {
        let mut parts = Vec::new();
        if let Some(p) = self.prompt_tokens {
            parts.push(format!("the prompt is {p} tokens"));
        }
        if let Some(w) = self.window {
            parts.push(format!("the window {w} tokens"));
        }
        if let Some(r) = self.reply_tokens {
            parts.push(format!("{r} tokens were asked for the reply"));
        }
        (!parts.is_empty()).then(|| parts.join(", "))
    }
}

/// An overflow in an HTTP error body or in the data of an error event (`error:` line,
/// `event: error`, a `data: {"error":…}` frame). `None`: some other error.
pub fn from_body(body: &str) -> Option<Overflow> {
    let Ok(v) = serde_json::from_str::<Value>(body.trim()) else {
        return from_message(body);
    };
    // the error object: `{"error":{…}}`, `{"error":"text"}`, `{"detail":…}` (FastAPI),
    // or the body itself (vLLM's `{"object":"error","message":…}`, llama.cpp's `error:` line)
    let err = v
        .get("error")
        .filter(|e| !e.is_null())
        .or_else(|| v.get("detail"))
        .unwrap_or(&v);
    let message = match err {
        Value::String(s) => s.clone(),
        Value::Object(map) => map
            .get("message")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .unwrap_or_default(),
        other => other.to_string(),
    };
    let field = |name: &str| err.get(name).and_then(Value::as_u64);
    let tag = |name: &str| err.get(name).and_then(Value::as_str).unwrap_or("");
    let tagged = tag("type") == "exceed_context_size_error"
        || tag("code") == "context_length_exceeded"
        || tag("type") == "context_length_exceeded";
    let mut found = match from_message(&message) {
        Some(o) => o,
        None if tagged => Overflow::default(),
        None => return None,
    };
    // llama.cpp's own fields are exact; they win over numbers read from the text
    if let Some(p) = field("n_prompt_tokens") {
        found.prompt_tokens = Some(p);
    }
    if let Some(w) = field("n_ctx") {
        found.window = Some(w);
    }
    Some(found)
}

/// An overflow named in an error message's text, with the numbers it gives.
pub fn from_message(message: &str) -> Option<Overflow> {
    let m = message.to_ascii_lowercase();
    const SIGNS: &[&str] = &[
        "exceeds the available context size",
        "exceed_context_size_error",
        "is larger than the max context size",
        "maximum context length",
        "context_length_exceeded",
        "context length exceeded",
        "context length of only",
        "greater than the context length",
    ];
    if !SIGNS.iter().any(|s| m.contains(s)) {
        return None;
    }
    let first = |keys: &[(&str, Side)]| {
        keys.iter().find_map(|(key, side)| match side {
            Side::After => number_after(&m, key),
            Side::Before => number_before(&m, key),
        })
    };
    let window = first(&[
        ("available context size (", Side::After),
        ("max context size (", Side::After),
        ("maximum context length is ", Side::After),
        ("context length of only ", Side::After),
    ]);
    let prompt = first(&[
        ("request (", Side::After),
        ("input (", Side::After),
        (" in the messages", Side::Before),
        ("your request has ", Side::After),
        ("your messages resulted in ", Side::After),
        ("keep the first ", Side::After),
        ("you requested ", Side::After),
    ]);
    let reply = first(&[
        (" in the completion", Side::Before),
        ("is too large: ", Side::After),
    ]);
    Some(Overflow {
        prompt_tokens: prompt,
        window,
        reply_tokens: reply,
    })
}

enum Side {
    /// The number follows the key.
    After,
    /// The number ends right before the key.
    Before,
}

/// The decimal number that starts right after the first `key` in `text`.
fn number_after(text: &str, key: &str) -> Option<u64> {
    let at = text.find(key)? + key.len();
    let digits: &str = &text[at..];
    let end = digits
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(digits.len());
    digits[..end].parse().ok()
}

/// The decimal number that ends right before the first `key` in `text`.
fn number_before(text: &str, key: &str) -> Option<u64> {
    let at = text.find(key)?;
    let head = &text[..at];
    let start = head
        .rfind(|c: char| !c.is_ascii_digit())
        .map_or(0, |i| i + 1);
    head[start..].parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn o(p: Option<u64>, w: Option<u64>, r: Option<u64>) -> Overflow {
        Overflow {
            prompt_tokens: p,
            window: w,
            reply_tokens: r,
        }
    }

    #[test]
    fn llama_cpp_bodies_with_and_without_numbers() {
        // HTTP 400 from a current llama-server
        let body = r#"{"error":{"code":400,"message":"request (13392 tokens) exceeds the available context size (8192 tokens), try increasing it","type":"exceed_context_size_error","n_prompt_tokens":13392,"n_ctx":8192}}"#;
        assert_eq!(from_body(body), Some(o(Some(13392), Some(8192), None)));
        // the fields win over the text
        let body = r#"{"error":{"code":400,"message":"request (1 tokens) exceeds the available context size (2 tokens), try increasing it","type":"exceed_context_size_error","n_prompt_tokens":5000,"n_ctx":4096}}"#;
        assert_eq!(from_body(body), Some(o(Some(5000), Some(4096), None)));
        // an older build's `error:` SSE line: the error object itself, no numbers
        let line = r#"{"code":400,"message":"the request exceeds the available context size, try increasing it","type":"exceed_context_size_error"}"#;
        assert_eq!(from_body(line), Some(o(None, None, None)));
        // typed but worded differently
        let typed = r#"{"error":{"code":400,"message":"too long","type":"exceed_context_size_error","n_prompt_tokens":4500,"n_ctx":4096}}"#;
        assert_eq!(from_body(typed), Some(o(Some(4500), Some(4096), None)));
        // non-splittable tasks
        let emb = r#"{"error":{"code":400,"message":"input (5000 tokens) is larger than the max context size (4096 tokens). skipping","type":"exceed_context_size_error"}}"#;
        assert_eq!(from_body(emb), Some(o(Some(5000), Some(4096), None)));
    }

    #[test]
    fn vllm_bodies_old_and_new() {
        let old = r#"{"object":"error","message":"This model's maximum context length is 4096 tokens. However, you requested 5000 tokens (4000 in the messages, 1000 in the completion). Please reduce the length of the messages or completion.","type":"BadRequestError","param":null,"code":400}"#;
        assert_eq!(from_body(old), Some(o(Some(4000), Some(4096), Some(1000))));
        let input = r#"{"error":{"message":"This model's maximum context length is 32768 tokens. However, your request has 40112 input tokens. Please reduce the length of the input messages. None","type":"BadRequestError","param":null,"code":400}}"#;
        assert_eq!(from_body(input), Some(o(Some(40112), Some(32768), None)));
        let max_tokens = r#"{"error":{"message":"'max_tokens' or 'max_completion_tokens' is too large: 8000. This model's maximum context length is 4096 tokens and your request has 2778 input tokens (8000 > 4096 - 2778). None","type":"BadRequestError","param":null,"code":400}}"#;
        let got = from_body(max_tokens).unwrap();
        assert_eq!(got, o(Some(2778), Some(4096), Some(8000)));
        assert_eq!(got.reply_room(), Some(1318));
        // the prompt itself too big: no room to give
        assert_eq!(from_body(input).unwrap().reply_room(), None);
    }

    #[test]
    fn openai_and_lm_studio_wordings() {
        let openai = r#"{"error":{"message":"This model's maximum context length is 8192 tokens. However, your messages resulted in 9021 tokens. Please reduce the length of the messages.","type":"invalid_request_error","param":"messages","code":"context_length_exceeded"}}"#;
        assert_eq!(from_body(openai), Some(o(Some(9021), Some(8192), None)));
        let lms = r#"{"error":"Trying to keep the first 5210 tokens when context the overflows. However, the model is loaded with context length of only 4096 tokens, which is not enough. Try to load the model with a larger context length, or provide a shorter input"}"#;
        assert_eq!(from_body(lms), Some(o(Some(5210), Some(4096), None)));
        assert_eq!(
            from_message("upstream: This model's maximum context length is 2048 tokens"),
            Some(o(None, Some(2048), None))
        );
    }

    #[test]
    fn other_errors_are_not_overflows() {
        for body in [
            r#"{"error":{"message":"model not found","type":"NotFoundError"}}"#,
            r#"{"error":{"message":"tools param requires --jinja flag","type":"invalid_request_error"}}"#,
            r#"{"detail":"Not Found"}"#,
            "upstream connect error",
            r#"{"error":{"message":"image input is not supported - hint: if this is unexpected, you may need to provide the mmproj","type":"invalid_request_error"}}"#,
            "",
            "[]",
        ] {
            assert_eq!(from_body(body), None, "{body}");
        }
    }

    #[test]
    fn numbers_text() {
        assert_eq!(
            o(Some(5000), Some(4096), None).numbers().as_deref(),
            Some("the prompt is 5000 tokens, the window 4096 tokens")
        );
        assert_eq!(o(None, None, None).numbers(), None);
        assert_eq!(number_after("x (12) y", "x ("), Some(12));
        assert_eq!(
            number_before("99 in the messages", " in the messages"),
            Some(99)
        );
        assert_eq!(number_after("request (", "request ("), None);
    }
}
