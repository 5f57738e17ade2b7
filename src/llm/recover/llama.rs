//! Llama 3.x's printed calls: `<|python_tag|>{"name": …, "parameters": {…}}` (several may
//! follow, separated by `;`), closed by `<|eom_id|>`/`<|eot_id|>` or the end of the
//! text; and a reply that is nothing but a call object (or several, `;`- or
//! line-separated, or an array of them).

use super::{Found, json_prefix};
use crate::domain::conversation::ToolCall;

const PYTHON_TAG: &str = "<|python_tag|>";
const END_TOKENS: [&str; 2] = ["<|eom_id|>", "<|eot_id|>"];

pub(super) fn python_tag(content: &str, found: &mut Found) {
    let mut search_from = 0;
    while let Some(rel) = content[search_from..].find(PYTHON_TAG) {
        let start = search_from + rel;
        let from = start + PYTHON_TAG.len();
        search_from = from;
        let Some((calls, mut end)) = sequence(content, from, found) else {
            continue;
        };
        let tail = content[end..].trim_start();
        if let Some(t) = END_TOKENS.iter().find_map(|tok| tail.strip_prefix(tok)) {
            end = content.len() - t.len();
        }
        if found.take(start, end, calls) {
            search_from = end;
        }
    }
}

/// The whole reply is calls and nothing else.
pub(super) fn bare(content: &str, found: &mut Found) {
    let lead = content.len() - content.trim_start().len();
    if !content[lead..].starts_with(['{', '[']) {
        return;
    }
    if let Some((calls, end)) = sequence(content, lead, found)
        && content[end..].trim().is_empty()
    {
        found.take(lead, end, calls);
    }
}

/// Call objects (or arrays of them) from `from` on, separated by whitespace or `;`.
/// All of them must be calls to offered tools.
fn sequence(content: &str, from: usize, found: &Found) -> Option<(Vec<ToolCall>, usize)> {
    let mut calls = Vec::new();
    let mut end = from;
    let mut cursor = from;
    loop {
        let rest = &content[cursor..];
        let trimmed = rest.trim_start();
        if !trimmed.starts_with(['{', '[']) {
            break;
        }
        let at = cursor + (rest.len() - trimmed.len());
        let (v, len) = json_prefix(trimmed)?;
        calls.extend(found.calls_from_value(&v)?);
        end = at + len;
        let next = content[end..].trim_start();
        let next = next.strip_prefix(';').unwrap_or(next);
        cursor = content.len() - next.len();
    }
    (!calls.is_empty()).then_some((calls, end))
}
