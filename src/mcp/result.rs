//! What an MCP tool call returned, as the model gets it: text blocks as they are,
//! structured content as JSON, images and audio as a short note (their bytes are kept
//! for a front-end, never pasted into the conversation), resource links and embedded
//! resources by their URI (an embedded text resource with its text). Bounded: the model
//! gets at most `MAX_TEXT` bytes.
//!
//! It reads the result as JSON rather than through the SDK's types, so an SDK update
//! that reshapes them cannot change what the model is told.

use serde_json::Value;

/// The most text a call's result gives the model (as `shell` output is capped).
pub const MAX_TEXT: usize = 32 * 1024;
/// The most image bytes kept from one result (base64 text).
const MAX_IMAGE_BYTES: usize = 8 * 1024 * 1024;

#[derive(Debug, Clone, PartialEq, Default)]
pub struct CallOutput {
    pub text: String,
    /// The server marked the result as an error (`isError`).
    pub is_error: bool,
    /// `(mime type, base64 data)` of images in the result.
    pub images: Vec<(String, String)>,
}

pub fn from_json(result: &Value) -> CallOutput {
    let mut out = CallOutput {
        is_error: result
            .get("isError")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        ..CallOutput::default()
    };
    let mut parts: Vec<String> = Vec::new();
    for block in result
        .get("content")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let s = |k: &str| block.get(k).and_then(Value::as_str).unwrap_or("");
        match s("type") {
            "text" => parts.push(s("text").to_owned()),
            "image" | "audio" => {
                let (mime, data) = (s("mimeType"), s("data"));
                parts.push(format!(
                    "[{} {mime}, {} bytes]",
                    s("type"),
                    (data.len() / 4 * 3)
                        .saturating_sub(data.bytes().rev().take_while(|b| *b == b'=').count())
                ));
                if s("type") == "image" && data.len() <= MAX_IMAGE_BYTES {
                    out.images.push((mime.to_owned(), data.to_owned()));
                }
            }
            "resource_link" => {
                let name = s("name");
                parts.push(format!(
                    "[resource {}{}]",
                    s("uri"),
                    if name.is_empty() {
                        String::new()
                    } else {
                        format!(" ({name})")
                    }
                ));
            }
            "resource" => {
                let r = block.get("resource").cloned().unwrap_or(Value::Null);
                let uri = r.get("uri").and_then(Value::as_str).unwrap_or("");
                match r.get("text").and_then(Value::as_str) {
                    Some(t) => parts.push(format!("[resource {uri}]\n{t}")),
                    None => parts.push(format!("[binary resource {uri}]")),
                }
            }
            other => parts.push(format!("[{other} content]")),
        }
    }
    if let Some(structured) = result.get("structuredContent").filter(|v| !v.is_null()) {
        // servers send the same as text too, often: only when it adds something
        let json = structured.to_string();
        if !parts.iter().any(|p| p.contains(&json)) {
            parts.push(json);
        }
    }
    let mut text = parts.join("\n");
    if text.is_empty() {
        text = "(the tool returned nothing)".into();
    }
    if text.len() > MAX_TEXT {
        let mut cut = MAX_TEXT;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        let total = text.len();
        text.truncate(cut);
        text.push_str(&format!("\n[… cut: {total} bytes in all]"));
    }
    out.text = text;
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_kind_of_block_becomes_text() {
        let out = from_json(&json!({"content": [
            {"type": "text", "text": "Echo: hi"},
            {"type": "image", "mimeType": "image/png", "data": "iVBORw0KGgo="},
            {"type": "resource_link", "uri": "file:///a.txt", "name": "a"},
            {"type": "resource", "resource": {"uri": "mem://x", "text": "inside"}},
            {"type": "resource", "resource": {"uri": "mem://b", "blob": "AAAA"}},
            {"type": "hologram"}
        ], "structuredContent": {"sum": 3}}));
        assert_eq!(
            out.text,
            "Echo: hi\n[image image/png, 8 bytes]\n[resource file:///a.txt (a)]\n[resource mem://x]\ninside\n[binary resource mem://b]\n[hologram content]\n{\"sum\":3}"
        );
        assert_eq!(
            out.images,
            vec![("image/png".into(), "iVBORw0KGgo=".into())]
        );
        assert!(!out.is_error);
    }

    #[test]
    fn errors_empty_results_and_huge_ones() {
        let out =
            from_json(&json!({"content": [{"type": "text", "text": "boom"}], "isError": true}));
        assert!(out.is_error);
        assert_eq!(from_json(&json!({})).text, "(the tool returned nothing)");
        let big = "é".repeat(MAX_TEXT);
        let out = from_json(&json!({"content": [{"type": "text", "text": big}]}));
        assert!(out.text.len() < MAX_TEXT + 100);
        assert!(out.text.ends_with("bytes in all]"));
        // structured content the text already holds is not repeated
        let out = from_json(
            &json!({"content": [{"type": "text", "text": "{\"a\":1}"}], "structuredContent": {"a": 1}}),
        );
        assert_eq!(out.text, "{\"a\":1}");
    }
}
