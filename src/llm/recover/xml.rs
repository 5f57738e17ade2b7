//! Qwen3-Coder's XML tool calls:
//!
//! ```text
//! <tool_call>
//! <function=edit_file>
//! <parameter=path>
//! src/main.rs
//! </parameter>
//! <parameter=old>
//! …raw text, any number of lines…
//! </parameter>
//! </function>
//! </tool_call>
//! ```
//!
//! Values are raw text: exactly one leading and one trailing newline is stripped. A value
//! is typed by the tool's schema: a parameter declared integer, number, boolean, array or
//! object is read as JSON when it is valid JSON of that kind, else kept as text (the tool
//! then says what is wrong). A missing `</parameter>` ends at the next parameter or at
//! `</function>`; a missing `<tool_call>` wrapper is accepted.

use serde_json::{Map, Value};

use super::{CLOSE, Found, OPEN};
use crate::domain::conversation::{ToolCall, ToolSpec};

const FUNCTION: &str = "<function=";
const FUNCTION_END: &str = "</function>";
const PARAM: &str = "<parameter=";
const PARAM_END: &str = "</parameter>";

pub(super) fn qwen_xml(content: &str, found: &mut Found) {
    let mut search_from = 0;
    while let Some(rel) = content[search_from..].find(FUNCTION) {
        let fn_at = search_from + rel;
        search_from = fn_at + FUNCTION.len();
        let Some((call, body_end)) = function(content, fn_at, found) else {
            continue;
        };
        // the span takes the `<tool_call>` wrapper when there is one
        let before = content[..fn_at].trim_end();
        let start = before.strip_suffix(OPEN).map_or(fn_at, |b| b.len());
        let after = &content[body_end..];
        let end = match after.trim_start().strip_prefix(CLOSE) {
            Some(t) => content.len() - t.len(),
            None => body_end,
        };
        if found.take(start, end, vec![call]) {
            search_from = end;
        }
    }
}

/// The call of the `<function=` at `at` and where its text ends.
fn function(content: &str, at: usize, found: &Found) -> Option<(ToolCall, usize)> {
    let head = &content[at + FUNCTION.len()..];
    let close = head.find('>')?;
    let name = head[..close].trim();
    if !found.is_offered(name) {
        return None;
    }
    let spec = found.offered.iter().find(|t| t.name == name)?;
    let body_from = at + FUNCTION.len() + close + 1;
    let body = &content[body_from..];
    // the body ends at `</function>`, else at `</tool_call>`, else at the end of the text
    let (body_len, end_len) = match (body.find(FUNCTION_END), body.find(CLOSE)) {
        (Some(f), Some(c)) if c < f => (c, 0),
        (Some(f), _) => (f, FUNCTION_END.len()),
        (None, Some(c)) => (c, 0),
        (None, None) => (body.len(), 0),
    };
    let args = parameters(&body[..body_len], spec)?;
    let mut call = super::call(name, Some(&Value::Object(args)));
    call.recovered = true;
    Some((call, body_from + body_len + end_len))
}

fn parameters(mut body: &str, spec: &ToolSpec) -> Option<Map<String, Value>> {
    let mut args = Map::new();
    while let Some(at) = body.find(PARAM) {
        let rest = &body[at + PARAM.len()..];
        let close = rest.find('>')?;
        let key = rest[..close].trim();
        if key.is_empty() {
            return None;
        }
        let value_and_more = &rest[close + 1..];
        let explicit = value_and_more.find(PARAM_END);
        let next = value_and_more.find(PARAM);
        let (len, skip) = match (explicit, next) {
            (Some(e), Some(n)) if n < e => (n, 0),
            (Some(e), _) => (e, PARAM_END.len()),
            (None, Some(n)) => (n, 0),
            (None, None) => (value_and_more.len(), 0),
        };
        let raw = strip_one_newline(&value_and_more[..len]);
        args.insert(key.to_owned(), typed(raw, spec, key));
        body = &value_and_more[len + skip..];
    }
    Some(args)
}

/// The value without exactly one leading and one trailing newline (`\r\n` counts as one).
fn strip_one_newline(v: &str) -> &str {
    let v = v
        .strip_prefix("\r\n")
        .or_else(|| v.strip_prefix('\n'))
        .unwrap_or(v);
    v.strip_suffix("\r\n")
        .or_else(|| v.strip_suffix('\n'))
        .unwrap_or(v)
}

fn typed(raw: &str, spec: &ToolSpec, key: &str) -> Value {
    let declared = spec
        .parameters
        .pointer(&format!(
            "/properties/{}/type",
            key.replace('~', "~0").replace('/', "~1")
        ))
        .and_then(Value::as_str)
        .unwrap_or("string");
    let fits = |v: &Value| match declared {
        "integer" => v.is_i64() || v.is_u64(),
        "number" => v.is_number(),
        "boolean" => v.is_boolean(),
        "array" => v.is_array(),
        "object" => v.is_object(),
        _ => false,
    };
    match serde_json::from_str::<Value>(raw.trim()) {
        Ok(v) if fits(&v) => v,
        _ => Value::String(raw.to_owned()),
    }
}
