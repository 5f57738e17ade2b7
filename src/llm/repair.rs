//! Tool-call arguments that are almost JSON, repaired only where the repair cannot change
//! what the model meant:
//! - a trailing comma before `}` or `]`;
//! - a raw newline, carriage return, tab or other control character inside a string
//!   (escaped);
//! - text cut off right after a complete value (or after the comma that followed it):
//!   the open brackets are closed.
//!
//! Anything else (single quotes, bare keys, Python literals, a string or number cut in
//! the middle, a key without its value) is left as it is, so the model gets the parse
//! error and calls again: values are never guessed.

use serde_json::Value;

/// What was repaired, for the card and the journal ("trailing comma", ...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repaired {
    pub json: String,
    pub what: Vec<&'static str>,
}

impl Repaired {
    pub fn describe(&self) -> String {
        format!("repaired JSON: {}", self.what.join(", "))
    }
}

/// Arguments larger than this are not rescanned (a cut-off 10 MB write is refused as is).
const MAX_REPAIR_BYTES: usize = 16 * 1024 * 1024;

/// The repaired text of `raw` when it is not valid JSON and one of the repairs above
/// makes it a JSON object; `None` otherwise (including when `raw` is fine as it is).
pub fn repair_arguments(raw: &str) -> Option<Repaired> {
    let trimmed = raw.trim();
    if trimmed.is_empty()
        || trimmed.len() > MAX_REPAIR_BYTES
        || serde_json::from_str::<Value>(trimmed).is_ok()
    {
        return None;
    }
    let out = rewrite(trimmed)?;
    match serde_json::from_str::<Value>(&out.json) {
        Ok(Value::Object(_)) if !out.what.is_empty() => Some(out),
        _ => None,
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Last {
    /// An opening bracket or nothing yet.
    Open,
    /// A colon: the key's value must follow.
    Colon,
    Comma,
    /// A string in key position (its colon and value must follow).
    Key,
    /// A complete string, number, literal or closed container.
    Value,
}

fn note(what: &mut Vec<&'static str>, w: &'static str) {
    if !what.contains(&w) {
        what.push(w);
    }
}

fn rewrite(s: &str) -> Option<Repaired> {
    let mut json = String::with_capacity(s.len() + 16);
    let mut what = Vec::new();
    let mut stack: Vec<char> = Vec::new();
    let mut last = Last::Open;
    let mut chars = s.char_indices().peekable();
    // the byte where the last bare scalar (number, literal) started, if it is the last token
    let mut scalar_from: Option<usize> = None;
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => {
                let is_key = stack.last() == Some(&'{') && matches!(last, Last::Open | Last::Comma);
                json.push('"');
                let mut closed = false;
                while let Some((_, c)) = chars.next() {
                    match c {
                        '\\' => {
                            json.push('\\');
                            let (_, e) = chars.next()?;
                            json.push(e);
                        }
                        '"' => {
                            json.push('"');
                            closed = true;
                            break;
                        }
                        '\n' => {
                            json.push_str("\\n");
                            note(&mut what, "raw newline in a string");
                        }
                        '\t' => {
                            json.push_str("\\t");
                            note(&mut what, "raw tab in a string");
                        }
                        '\r' => {
                            json.push_str("\\r");
                            note(&mut what, "raw newline in a string");
                        }
                        c if (c as u32) < 0x20 => {
                            json.push_str(&format!("\\u{:04x}", c as u32));
                            note(&mut what, "control character in a string");
                        }
                        c => json.push(c),
                    }
                }
                if !closed {
                    return None; // a string cut in the middle: its value is unknown
                }
                last = if is_key { Last::Key } else { Last::Value };
                scalar_from = None;
            }
            '{' | '[' => {
                stack.push(c);
                json.push(c);
                last = Last::Open;
                scalar_from = None;
            }
            '}' | ']' => {
                let open = stack.pop()?;
                if (open == '{') != (c == '}') {
                    return None;
                }
                json.push(c);
                last = Last::Value;
                scalar_from = None;
            }
            ',' => {
                // a comma before a closing bracket is dropped
                let mut ahead = chars.clone();
                while ahead.peek().is_some_and(|(_, c)| c.is_whitespace()) {
                    ahead.next();
                }
                if matches!(ahead.peek(), Some((_, '}' | ']'))) && last == Last::Value {
                    note(&mut what, "trailing comma");
                } else {
                    json.push(',');
                    last = Last::Comma;
                }
                scalar_from = None;
            }
            ':' => {
                if last != Last::Key {
                    return None;
                }
                json.push(':');
                last = Last::Colon;
                scalar_from = None;
            }
            c if c.is_whitespace() => {
                json.push(c);
                scalar_from = None;
            }
            c => {
                if scalar_from.is_none() {
                    let value_here = match last {
                        Last::Colon => true,
                        Last::Open | Last::Comma => stack.last() != Some(&'{'),
                        _ => false,
                    };
                    if !value_here {
                        return None; // a bare key, or a value without its comma
                    }
                    scalar_from = Some(i);
                }
                json.push(c);
                last = Last::Value;
            }
        }
    }
    if !stack.is_empty() {
        // cut off: only after a complete value (or its comma) are the brackets closed
        match last {
            Last::Value => {}
            Last::Comma if json.ends_with(',') => {
                json.pop();
                note(&mut what, "trailing comma");
            }
            _ => return None,
        }
        if let Some(from) = scalar_from {
            // a number or literal at the very end may itself be cut (`12` of `123`)
            if !matches!(s[from..].trim_end(), "true" | "false" | "null") {
                return None;
            }
        }
        while let Some(open) = stack.pop() {
            json.push(if open == '{' { '}' } else { ']' });
        }
        note(&mut what, "closed the cut-off arguments");
    }
    Some(Repaired { json, what })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixed(raw: &str) -> Option<(Value, Vec<&'static str>)> {
        repair_arguments(raw).map(|r| (serde_json::from_str(&r.json).unwrap(), r.what))
    }

    #[test]
    fn valid_json_is_left_alone() {
        assert_eq!(repair_arguments(r#"{"path": "a"}"#), None);
        assert_eq!(repair_arguments(""), None);
    }

    #[test]
    fn trailing_commas_go() {
        let (v, what) = fixed(r#"{"path": "a", "lines": [1, 2,],}"#).unwrap();
        assert_eq!(v, serde_json::json!({"path": "a", "lines": [1, 2]}));
        assert_eq!(what, ["trailing comma"]);
    }

    #[test]
    fn raw_control_characters_in_strings_are_escaped() {
        let (v, what) = fixed("{\"content\": \"fn main() {\n\tprintln!();\r\n}\n\"}").unwrap();
        assert_eq!(v["content"], "fn main() {\n\tprintln!();\r\n}\n");
        assert_eq!(what, ["raw newline in a string", "raw tab in a string"]);
    }

    #[test]
    fn cut_after_a_complete_value_is_closed() {
        let (v, _) = fixed(r#"{"path": "a.rs", "old": "x", "new": "y""#).unwrap();
        assert_eq!(v["new"], "y");
        let (v, _) = fixed(r#"{"a": {"b": [1, "two"], "c": true"#).unwrap();
        assert_eq!(v, serde_json::json!({"a": {"b": [1, "two"], "c": true}}));
        let (v, what) = fixed(r#"{"path": "a.rs","#).unwrap();
        assert_eq!(v["path"], "a.rs");
        assert!(what.contains(&"closed the cut-off arguments"));
    }

    #[test]
    fn ambiguous_text_is_not_guessed() {
        for raw in [
            r#"{"path": "a.rs", "content": "half"#, // string cut
            r#"{"path": "a.rs", "limit": 12"#,      // number maybe cut
            r#"{"path": "a.rs", "limit":"#,         // key without value
            r#"{"path": "a.rs", "limit""#,          // key without colon
            r#"{'path': 'a.rs'}"#,                  // single quotes
            r#"{path: "a.rs"}"#,                    // bare key
            r#"{"recursive": True}"#,               // Python literal
            r#"{"a": [1}"#,                         // mismatched
            r#"["a", "b"]"#,                        // not an object
            r#"{"a": 1} trailing"#,                 // garbage after
            r#"{"a": tru"#,                         // literal cut
            "{",
            "{\"a\": \"x\\",
        ] {
            assert_eq!(repair_arguments(raw), None, "{raw}");
        }
    }

    #[test]
    fn describe_names_every_repair() {
        let r = repair_arguments("{\"a\": \"x\ny\",}").unwrap();
        assert_eq!(
            r.describe(),
            "repaired JSON: raw newline in a string, trailing comma"
        );
    }

    #[test]
    fn hostile_inputs_end_quickly() {
        let deep = "[".repeat(100_000);
        assert_eq!(repair_arguments(&deep), None);
        let mut wide = String::from("{\"a\": [");
        for _ in 0..100_000 {
            wide.push_str("1,");
        }
        // cut after a comma: every number before it is complete
        assert!(repair_arguments(&wide).is_some());
        wide.push('1');
        // a number at the very end could itself be cut
        assert_eq!(repair_arguments(&wide), None);
        assert_eq!(repair_arguments("\u{0}\u{1}\"\\"), None);
    }
}
