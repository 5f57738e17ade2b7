//! Tool calls that a weak local model printed as text instead of structured calls.
//!
//! Recognised forms, each only when the name is one of the tools offered:
//! - Mistral: `[TOOL_CALLS]name{json}`, `[TOOL_CALLS]name[ARGS]{json}`,
//!   `[TOOL_CALLS][{"name":..,"arguments":..}, ...]`
//! - Hermes / Qwen: `<tool_call>{"name":..,"arguments":..}</tool_call>`
//! - a fenced code block (```json or bare ```) holding `{"name":..,"arguments":..}` or an
//!   array of such objects.
//!
//! Recovered calls are flagged (`ToolCall::recovered`) and their text is removed from
//! the content, so the transcript shows the call once, as a call.

use serde_json::Value;

use crate::domain::conversation::ToolCall;

/// Looks for printed tool calls in `content`. Returns the content with the recovered
/// spans removed and the calls, or `None` when nothing was recovered.
pub fn recover_tool_calls(content: &str, offered: &[&str]) -> Option<(String, Vec<ToolCall>)> {
    if offered.is_empty() {
        return None;
    }
    let mut calls = Vec::new();
    let mut spans: Vec<(usize, usize)> = Vec::new();
    mistral(content, offered, &mut calls, &mut spans);
    hermes(content, offered, &mut calls, &mut spans);
    fenced(content, offered, &mut calls, &mut spans);
    if calls.is_empty() {
        return None;
    }
    spans.sort_unstable();
    let mut rest = String::with_capacity(content.len());
    let mut at = 0;
    for (start, end) in spans {
        if start >= at {
            rest.push_str(&content[at..start]);
            at = end;
        }
    }
    rest.push_str(&content[at..]);
    Some((rest.trim().to_owned(), calls))
}

/// The first JSON value at the start of `s` (after whitespace) and where it ends.
fn json_prefix(s: &str) -> Option<(Value, usize)> {
    let mut it = serde_json::Deserializer::from_str(s).into_iter::<Value>();
    let value = it.next()?.ok()?;
    Some((value, it.byte_offset()))
}

fn call_from_object(v: &Value, offered: &[&str]) -> Option<ToolCall> {
    let obj = v.as_object()?;
    let inner = obj
        .get("function")
        .and_then(Value::as_object)
        .unwrap_or(obj);
    let name = inner.get("name")?.as_str()?;
    if !offered.contains(&name) {
        return None;
    }
    let args = inner.get("arguments").or_else(|| inner.get("parameters"));
    Some(call(name, args))
}

fn call(name: &str, args: Option<&Value>) -> ToolCall {
    let arguments = match args {
        None | Some(Value::Null) => "{}".to_owned(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    };
    ToolCall {
        id: ToolCall::synthetic_id(),
        name: name.to_owned(),
        arguments,
        recovered: true,
    }
}

/// Calls from a value that is one call object or an array of them. All or nothing.
fn calls_from_value(v: &Value, offered: &[&str]) -> Option<Vec<ToolCall>> {
    match v {
        Value::Array(items) if !items.is_empty() => {
            items.iter().map(|i| call_from_object(i, offered)).collect()
        }
        Value::Object(_) => call_from_object(v, offered).map(|c| vec![c]),
        _ => None,
    }
}

const TOOL_CALLS: &str = "[TOOL_CALLS]";

fn mistral(
    content: &str,
    offered: &[&str],
    calls: &mut Vec<ToolCall>,
    spans: &mut Vec<(usize, usize)>,
) {
    let mut search_from = 0;
    while let Some(rel) = content[search_from..].find(TOOL_CALLS) {
        let start = search_from + rel;
        let mut pos = start + TOOL_CALLS.len();
        search_from = pos;
        let body = &content[pos..];
        let trimmed = body.trim_start();
        pos += body.len() - trimmed.len();
        if trimmed.starts_with('[') || trimmed.starts_with('{') {
            if let Some((v, len)) = json_prefix(trimmed)
                && let Some(found) = calls_from_value(&v, offered)
            {
                calls.extend(found);
                spans.push((start, pos + len));
                search_from = pos + len;
            }
            continue;
        }
        // name{json} or name[ARGS]{json}, possibly several in a row
        let mut end = start;
        let mut cursor = pos;
        loop {
            let rest = &content[cursor..];
            let name_len = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.'))
                .unwrap_or(rest.len());
            let name = &rest[..name_len];
            if name.is_empty() || !offered.contains(&name) {
                break;
            }
            let mut after = &rest[name_len..];
            if let Some(a) = after.strip_prefix("[ARGS]") {
                after = a;
            }
            let after_trim = after.trim_start();
            let Some((v, len)) = json_prefix(after_trim) else {
                break;
            };
            if !v.is_object() {
                break;
            }
            calls.push(call(name, Some(&v)));
            cursor = content.len() - after_trim.len() + len;
            end = cursor;
            let next = content[cursor..].trim_start();
            let next = next.strip_prefix(TOOL_CALLS).unwrap_or(next);
            cursor = content.len() - next.len();
        }
        if end > start {
            spans.push((start, end));
            search_from = end;
        }
    }
}

fn hermes(
    content: &str,
    offered: &[&str],
    calls: &mut Vec<ToolCall>,
    spans: &mut Vec<(usize, usize)>,
) {
    const OPEN: &str = "<tool_call>";
    const CLOSE: &str = "</tool_call>";
    let mut search_from = 0;
    while let Some(rel) = content[search_from..].find(OPEN) {
        let start = search_from + rel;
        let inner_start = start + OPEN.len();
        search_from = inner_start;
        let inner = &content[inner_start..];
        let trimmed = inner.trim_start();
        let Some((v, len)) = json_prefix(trimmed) else {
            continue;
        };
        let Some(found) = calls_from_value(&v, offered) else {
            continue;
        };
        let mut end = inner_start + (inner.len() - trimmed.len()) + len;
        let tail = &content[end..];
        if let Some(t) = tail.trim_start().strip_prefix(CLOSE) {
            end = content.len() - t.len();
        }
        calls.extend(found);
        spans.push((start, end));
        search_from = end;
    }
}

fn fenced(
    content: &str,
    offered: &[&str],
    calls: &mut Vec<ToolCall>,
    spans: &mut Vec<(usize, usize)>,
) {
    let mut search_from = 0;
    while let Some(rel) = content[search_from..].find("```") {
        let start = search_from + rel;
        let after_ticks = start + 3;
        let Some(nl) = content[after_ticks..].find('\n') else {
            return;
        };
        let lang = content[after_ticks..after_ticks + nl].trim();
        let body_start = after_ticks + nl + 1;
        let Some(close_rel) = content[body_start..].find("```") else {
            return;
        };
        let body_end = body_start + close_rel;
        let end = body_end + 3;
        search_from = end;
        if !(lang.is_empty()
            || lang.eq_ignore_ascii_case("json")
            || lang.eq_ignore_ascii_case("tool_call"))
        {
            continue;
        }
        let Ok(v) = serde_json::from_str::<Value>(content[body_start..body_end].trim()) else {
            continue;
        };
        if let Some(found) = calls_from_value(&v, offered) {
            if spans.iter().any(|&(s, e)| s < end && start < e) {
                continue; // already taken by another form
            }
            calls.extend(found);
            spans.push((start, end));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OFFERED: &[&str] = &["read_file", "shell", "git_status"];

    #[test]
    fn mistral_name_json_forms() {
        let (rest, calls) =
            recover_tool_calls(r#"[TOOL_CALLS]read_file{"path": "src/main.rs"}"#, OFFERED).unwrap();
        assert_eq!(rest, "");
        assert_eq!(calls.len(), 1);
        assert_eq!(calls[0].name, "read_file");
        assert_eq!(calls[0].arguments, r#"{"path":"src/main.rs"}"#);
        assert!(calls[0].recovered);

        let (_, calls) = recover_tool_calls(
            r#"[TOOL_CALLS]shell[ARGS]{"command":"ls"}[TOOL_CALLS]git_status{}"#,
            OFFERED,
        )
        .unwrap();
        assert_eq!(
            calls.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(),
            ["shell", "git_status"]
        );
    }

    #[test]
    fn mistral_array_form() {
        let (rest, calls) = recover_tool_calls(
            r#"Sure. [TOOL_CALLS] [{"name":"shell","arguments":{"command":"cargo test"}},{"name":"git_status","arguments":{}}]"#,
            OFFERED,
        )
        .unwrap();
        assert_eq!(rest, "Sure.");
        assert_eq!(calls.len(), 2);
    }

    #[test]
    fn hermes_tags_with_and_without_close() {
        let (rest, calls) = recover_tool_calls(
            "Let me look.\n<tool_call>\n{\"name\": \"read_file\", \"arguments\": {\"path\": \"a\"}}\n</tool_call>\nDone",
            OFFERED,
        )
        .unwrap();
        assert_eq!(rest, "Let me look.\n\nDone");
        assert_eq!(calls[0].arguments, r#"{"path":"a"}"#);
        let (_, calls) = recover_tool_calls(
            "<tool_call>{\"name\":\"shell\",\"parameters\":{\"command\":\"ls\"}}",
            OFFERED,
        )
        .unwrap();
        assert_eq!(calls[0].arguments, r#"{"command":"ls"}"#);
    }

    #[test]
    fn fenced_json_block() {
        let text = "I will run it:\n```json\n{\"name\": \"shell\", \"arguments\": {\"command\": \"ls\"}}\n```\n";
        let (rest, calls) = recover_tool_calls(text, OFFERED).unwrap();
        assert_eq!(rest, "I will run it:");
        assert_eq!(calls[0].name, "shell");
    }

    #[test]
    fn unknown_names_and_ordinary_json_are_left_alone() {
        assert!(recover_tool_calls(r#"[TOOL_CALLS]rm_everything{"x":1}"#, OFFERED).is_none());
        assert!(
            recover_tool_calls(
                "```json\n{\"name\": \"cove\", \"version\": 1}\n```",
                OFFERED
            )
            .is_none()
        );
        assert!(recover_tool_calls("```rust\nfn main() {}\n```", OFFERED).is_none());
        assert!(recover_tool_calls("<tool_call>{\"name\":\"shell\"", &[]).is_none());
        assert!(recover_tool_calls("<tool_call>{broken", OFFERED).is_none());
    }

    #[test]
    fn hostile_inputs_do_not_panic() {
        for s in [
            "[TOOL_CALLS]",
            "[TOOL_CALLS]shell",
            "[TOOL_CALLS]shell[ARGS]",
            "```",
            "```json\n",
            "<tool_call>",
            "[TOOL_CALLS]é{",
            "```\n[]\n```",
        ] {
            let _ = recover_tool_calls(s, OFFERED);
        }
    }
}
