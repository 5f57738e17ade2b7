//! Tool calls that a weak local model printed as text instead of structured calls.
//!
//! Recognised forms, each only when the name is one of the tools offered:
//! - Mistral: `[TOOL_CALLS]name{json}`, `[TOOL_CALLS]name[ARGS]{json}` (also with
//!   `[CALL_ID]id` before `[ARGS]`), several in a row, and
//!   `[TOOL_CALLS][{"name":..,"arguments":..}, ...]`
//! - Hermes / Qwen: `<tool_call>{"name":..,"arguments":..}</tool_call>`
//! - Qwen3-Coder's XML: `<tool_call><function=NAME><parameter=KEY>value</parameter>…
//!   </function></tool_call>` (`xml`)
//! - Llama 3.x: `<|python_tag|>{"name":..,"parameters":..}` and a bare call object (or
//!   several, `;`-separated) as the whole reply (`llama`)
//! - a fenced code block (```json or bare ```) holding a call object or an array of them.
//!
//! Recovered calls are flagged (`ToolCall::recovered`) and their text is removed from
//! the content, so the transcript shows the call once, as a call; the text around them
//! stays the reply's text. Arguments that are almost JSON inside a delimited form are
//! repaired as structured ones are (`llm::repair`), and the call says so.

mod llama;
mod xml;

use serde_json::Value;

use super::repair::repair_arguments;
use crate::domain::conversation::{ToolCall, ToolSpec};

/// Looks for printed tool calls in `content`. Returns the content with the recovered
/// spans removed and the calls in the order they were printed, or `None` when nothing
/// was recovered.
pub fn recover_tool_calls(content: &str, offered: &[ToolSpec]) -> Option<(String, Vec<ToolCall>)> {
    if offered.is_empty() {
        return None;
    }
    let mut found = Found::new(offered);
    mistral(content, &mut found);
    xml::qwen_xml(content, &mut found);
    hermes(content, &mut found);
    llama::python_tag(content, &mut found);
    fenced(content, &mut found);
    if found.spans.is_empty() {
        llama::bare(content, &mut found);
    }
    if found.spans.is_empty() {
        return None;
    }
    found.spans.sort_by_key(|s| s.0);
    let mut rest = String::with_capacity(content.len());
    let mut calls = Vec::new();
    let mut at = 0;
    for (start, end, c) in found.spans {
        rest.push_str(&content[at..start]);
        at = end;
        calls.extend(c);
    }
    rest.push_str(&content[at..]);
    Some((rest.trim().to_owned(), calls))
}

/// The calls found so far, each with the span of text it came from; spans never overlap
/// (the first form to claim text keeps it).
pub(super) struct Found<'a> {
    pub offered: &'a [ToolSpec],
    spans: Vec<(usize, usize, Vec<ToolCall>)>,
}

impl<'a> Found<'a> {
    fn new(offered: &'a [ToolSpec]) -> Self {
        Found {
            offered,
            spans: Vec::new(),
        }
    }

    pub fn is_offered(&self, name: &str) -> bool {
        self.offered.iter().any(|t| t.name == name)
    }

    pub fn taken(&self, start: usize, end: usize) -> bool {
        self.spans.iter().any(|&(s, e, _)| s < end && start < e)
    }

    /// Keeps `calls` for `start..end` unless another form has that text already.
    pub fn take(&mut self, start: usize, end: usize, calls: Vec<ToolCall>) -> bool {
        if calls.is_empty() || self.taken(start, end) {
            return false;
        }
        self.spans.push((start, end, calls));
        true
    }

    fn call_from_object(&self, v: &Value) -> Option<ToolCall> {
        let obj = v.as_object()?;
        let inner = obj
            .get("function")
            .and_then(Value::as_object)
            .unwrap_or(obj);
        let name = inner.get("name")?.as_str()?;
        if !self.is_offered(name) {
            return None;
        }
        let args = inner.get("arguments").or_else(|| inner.get("parameters"));
        Some(call(name, args))
    }

    /// Calls from a value that is one call object or an array of them. All or nothing.
    pub fn calls_from_value(&self, v: &Value) -> Option<Vec<ToolCall>> {
        match v {
            Value::Array(items) if !items.is_empty() => {
                items.iter().map(|i| self.call_from_object(i)).collect()
            }
            Value::Object(_) => self.call_from_object(v).map(|c| vec![c]),
            _ => None,
        }
    }

    /// Calls from delimited text that should be JSON: as it is, else repaired.
    fn calls_from_text(&self, text: &str) -> Option<Vec<ToolCall>> {
        let text = text.trim();
        if let Ok(v) = serde_json::from_str::<Value>(text) {
            return self.calls_from_value(&v);
        }
        let fixed = repair_arguments(text)?;
        let v = serde_json::from_str::<Value>(&fixed.json).ok()?;
        let mut calls = self.calls_from_value(&v)?;
        for c in &mut calls {
            c.repaired = Some(fixed.describe());
        }
        Some(calls)
    }
}

/// The first JSON value at the start of `s` (after whitespace) and where it ends.
pub(super) fn json_prefix(s: &str) -> Option<(Value, usize)> {
    let mut it = serde_json::Deserializer::from_str(s).into_iter::<Value>();
    let value = it.next()?.ok()?;
    Some((value, it.byte_offset()))
}

pub(super) fn call(name: &str, args: Option<&Value>) -> ToolCall {
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
        repaired: None,
    }
}

const TOOL_CALLS: &str = "[TOOL_CALLS]";

fn mistral(content: &str, found: &mut Found) {
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
                && let Some(calls) = found.calls_from_value(&v)
                && found.take(start, pos + len, calls)
            {
                search_from = pos + len;
            }
            continue;
        }
        // name{json}, name[ARGS]{json} or name[CALL_ID]id[ARGS]{json}, several in a row
        let mut end = start;
        let mut cursor = pos;
        let mut calls = Vec::new();
        loop {
            let rest = &content[cursor..];
            let name_len = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.'))
                .unwrap_or(rest.len());
            let name = &rest[..name_len];
            if name.is_empty() || !found.is_offered(name) {
                break;
            }
            let mut after = &rest[name_len..];
            if let Some(a) = after.strip_prefix("[CALL_ID]") {
                let Some(args_at) = a.find("[ARGS]") else {
                    break;
                };
                after = &a[args_at..];
            }
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
        if end > start && found.take(start, end, calls) {
            search_from = end;
        }
    }
}

const OPEN: &str = "<tool_call>";
const CLOSE: &str = "</tool_call>";

fn hermes(content: &str, found: &mut Found) {
    let mut search_from = 0;
    while let Some(rel) = content[search_from..].find(OPEN) {
        let start = search_from + rel;
        let inner_start = start + OPEN.len();
        search_from = inner_start;
        let inner = &content[inner_start..];
        let trimmed = inner.trim_start();
        let lead = inner.len() - trimmed.len();
        let (calls, end) = match json_prefix(trimmed) {
            Some((v, len)) => {
                let Some(calls) = found.calls_from_value(&v) else {
                    continue;
                };
                let mut end = inner_start + lead + len;
                if let Some(t) = content[end..].trim_start().strip_prefix(CLOSE) {
                    end = content.len() - t.len();
                }
                (calls, end)
            }
            // almost JSON: only between both tags, so the repair knows where it ends
            None => {
                let Some(close) = inner.find(CLOSE) else {
                    continue;
                };
                let Some(calls) = found.calls_from_text(&inner[..close]) else {
                    continue;
                };
                (calls, inner_start + close + CLOSE.len())
            }
        };
        if found.take(start, end, calls) {
            search_from = end;
        }
    }
}

fn fenced(content: &str, found: &mut Found) {
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
        if found.taken(start, end) {
            continue;
        }
        if let Some(calls) = found.calls_from_text(&content[body_start..body_end]) {
            found.take(start, end, calls);
        }
    }
}

#[cfg(test)]
mod tests;
