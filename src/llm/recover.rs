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
mod tests;
