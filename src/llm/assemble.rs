//! Stream assembly: SSE events in, `StreamEvent`s out, and the whole reply at the end.
//!
//! Handles what real servers send: a role-only first chunk, usage in a chunk with empty
//! `choices`, `reasoning_content` and `reasoning` (kept apart from content), tool calls
//! in argument fragments by `index` (OpenAI, vLLM hermes, llama.cpp), whole in one chunk
//! (Ollama), with id, name and first fragment together and a trailing fragment on the
//! finish chunk (vLLM's mistral parser), with `index` missing, several calls in parallel,
//! error frames mid-stream, and a stream that stops before `finish_reason` or `[DONE]`.

use serde_json::Value;

use super::chunk::{Chunk, Delta, ToolCallDelta, error_message};
use super::sse::SseEvent;
use super::think::{Piece, ThinkSplitter};
use crate::domain::conversation::{ToolCall, Usage};
use crate::protocol::StreamEvent;

/// Everything that arrived for one reply.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Reply {
    pub content: String,
    pub reasoning: String,
    pub tool_calls: Vec<ToolCall>,
    pub finish_reason: Option<String>,
    pub usage: Option<Usage>,
    /// The server's own timings (llama.cpp), verbatim.
    pub timings: Option<Value>,
    pub model: Option<String>,
    /// Chunks that could not be read and were skipped, and similar oddities.
    pub warnings: Vec<String>,
    /// Number of content, reasoning and tool-argument deltas: a token count fallback.
    pub delta_count: u64,
}

/// How the stream ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StreamEnd {
    /// `[DONE]` or a `finish_reason` arrived.
    Complete,
    /// The connection closed before either: what arrived is kept.
    Truncated,
    /// The server sent an error frame.
    ServerError(String),
}

#[derive(Debug, Default)]
struct PartialCall {
    id: String,
    name: String,
    arguments: String,
}

#[derive(Debug, Default)]
pub struct Assembler {
    reply: Reply,
    think: ThinkSplitter,
    calls: Vec<PartialCall>,
    /// The server's index -> the newest call with it (a lookup per fragment stays O(1)).
    by_index: std::collections::HashMap<u64, usize>,
    /// The server's id -> the first call with it.
    by_id: std::collections::HashMap<String, usize>,
    done: bool,
    error: Option<String>,
    /// Chunks skipped as unreadable; after the first few, counted instead of reported.
    skipped: usize,
    /// More than `MAX_CALLS` calls were started (the rest are ignored).
    capped: bool,
}

/// Skipped chunks reported one by one; the rest are counted in one warning at the end.
const SKIPPED_REPORTED: usize = 3;
/// Tool calls in one reply past which further calls are ignored (with a warning).
const MAX_CALLS: usize = 256;

impl Assembler {
    pub fn new() -> Self {
        Self::default()
    }

    /// True once `[DONE]` or an error frame arrived: nothing after it is read.
    pub fn is_finished(&self) -> bool {
        self.done || self.error.is_some()
    }

    /// True once any content, reasoning or tool call arrived.
    pub fn has_output(&self) -> bool {
        self.reply.delta_count > 0 || !self.calls.is_empty()
    }

    pub fn push(&mut self, ev: &SseEvent, out: &mut Vec<StreamEvent>) {
        if self.is_finished() {
            return;
        }
        let data = ev.data.trim();
        if data == "[DONE]" {
            self.done = true;
            return;
        }
        if data.is_empty() {
            return;
        }
        if ev.event.as_deref() == Some("error") {
            self.error = Some(match serde_json::from_str::<Value>(data) {
                Ok(v) => error_message(v.get("error").unwrap_or(&v)),
                Err(_) => data.to_owned(),
            });
            return;
        }
        // Typed parse first (the common case, and twice as fast as going through `Value`);
        // on failure, tell "not JSON" from "JSON of an unexpected shape".
        match serde_json::from_str::<Chunk>(data) {
            Ok(chunk) => self.push_chunk(chunk, out),
            Err(e) => {
                let what = if serde_json::from_str::<Value>(data).is_ok() {
                    "of an unexpected shape"
                } else {
                    "that is not valid JSON"
                };
                self.skipped += 1;
                if self.skipped <= SKIPPED_REPORTED {
                    self.warn(format!("skipped a chunk {what} ({e}): {}", clip(data)), out);
                }
            }
        }
    }

    /// Feeds one already-parsed chunk (also used for a non-streamed JSON reply).
    pub fn push_chunk(&mut self, chunk: Chunk, out: &mut Vec<StreamEvent>) {
        if let Some(err) = chunk.error.as_ref().filter(|e| !e.is_null()) {
            self.error = Some(error_message(err));
            return;
        }
        if let Some(model) = chunk.model.filter(|m| !m.is_empty()) {
            self.reply.model = Some(model);
        }
        if let Some(u) = chunk.usage {
            let prompt = u.prompt_tokens.unwrap_or(0);
            let completion = u.completion_tokens.unwrap_or(0);
            self.reply.usage = Some(Usage {
                prompt_tokens: prompt,
                completion_tokens: completion,
                total_tokens: u.total_tokens.unwrap_or(prompt + completion),
            });
        }
        if chunk.timings.is_some() {
            self.reply.timings = chunk.timings;
        }
        for choice in chunk.choices {
            if choice.index.unwrap_or(0) != 0 {
                continue; // cove asks for one choice; ignore any others
            }
            if let Some(delta) = choice.delta {
                self.push_delta(delta, out);
            }
            if let Some(message) = choice.message {
                self.push_delta(message, out);
            }
            if let Some(reason) = choice.finish_reason.filter(|r| !r.is_empty()) {
                self.reply.finish_reason = Some(reason);
            }
        }
    }

    fn push_delta(&mut self, delta: Delta, out: &mut Vec<StreamEvent>) {
        let reasoning = match (delta.reasoning_content, delta.reasoning) {
            (Some(a), Some(b)) if a == b => Some(a),
            (Some(a), Some(b)) => Some(a + &b),
            (a, b) => a.or(b),
        };
        if let Some(text) = reasoning.filter(|t| !t.is_empty()) {
            self.emit(Piece::Reasoning(text), out);
        }
        if let Some(text) = delta.content.filter(|t| !t.is_empty()) {
            let mut pieces = Vec::new();
            self.think.push(&text, &mut pieces);
            for p in pieces {
                self.emit(p, out);
            }
        }
        for call in delta.tool_calls.unwrap_or_default() {
            self.push_tool_delta(call, out);
        }
    }

    fn emit(&mut self, piece: Piece, out: &mut Vec<StreamEvent>) {
        self.reply.delta_count += 1;
        match piece {
            Piece::Reasoning(text) => {
                self.reply.reasoning.push_str(&text);
                out.push(StreamEvent::Reasoning { text });
            }
            Piece::Content(text) => {
                self.reply.content.push_str(&text);
                out.push(StreamEvent::Content { text });
            }
        }
    }

    /// Text held back while deciding about a `<think>` tag, released at the end.
    pub fn flush(&mut self, out: &mut Vec<StreamEvent>) {
        let mut pieces = Vec::new();
        self.think.finish(&mut pieces);
        for p in pieces {
            self.emit(p, out);
        }
    }

    fn push_tool_delta(&mut self, d: ToolCallDelta, out: &mut Vec<StreamEvent>) {
        let id = d.id.filter(|s| !s.is_empty());
        let (name, args) = match d.function {
            Some(f) => (f.name.filter(|s| !s.is_empty()), f.arguments),
            None => (None, None),
        };
        let slot = self.slot_for(d.index, id.as_deref(), name.as_deref());
        let slot = match slot {
            Some(i) => i,
            None if self.calls.len() >= MAX_CALLS => {
                if !self.capped {
                    self.capped = true;
                    self.warn(
                        format!("the reply started more than {MAX_CALLS} tool calls; the rest were ignored"),
                        out,
                    );
                }
                return;
            }
            None => {
                self.calls.push(PartialCall::default());
                let index = self.calls.len() - 1;
                if let Some(i) = d.index {
                    self.by_index.insert(i, index);
                }
                if let Some(id) = &id {
                    self.by_id.entry(id.clone()).or_insert(index);
                }
                out.push(StreamEvent::ToolCallStart {
                    index,
                    id: id.clone().unwrap_or_default(),
                    name: name.clone().unwrap_or_default(),
                });
                index
            }
        };
        let call = &mut self.calls[slot];
        if let Some(id) = id
            && call.id.is_empty()
        {
            self.by_id.entry(id.clone()).or_insert(slot);
            call.id = id;
        }
        if let Some(name) = name {
            if call.name.is_empty() {
                call.name = name;
            } else if call.name != name {
                call.name.push_str(&name);
            }
        }
        let fragment = match args {
            None | Some(Value::Null) => return,
            Some(Value::String(s)) => s,
            Some(other) => other.to_string(),
        };
        if fragment.is_empty() {
            return;
        }
        call.arguments.push_str(&fragment);
        self.reply.delta_count += 1;
        out.push(StreamEvent::ToolCallArgs {
            index: slot,
            fragment,
        });
    }

    /// Which existing call a fragment continues, if any.
    fn slot_for(&self, index: Option<u64>, id: Option<&str>, name: Option<&str>) -> Option<usize> {
        if let Some(index) = index {
            let pos = *self.by_index.get(&index)?;
            let c = &self.calls[pos];
            // Some servers reuse index 0 for every call; a new id means a new call.
            let new_id = matches!(id, Some(id) if !c.id.is_empty() && id != c.id);
            return (!new_id).then_some(pos);
        }
        if let Some(id) = id {
            return self.by_id.get(id).copied();
        }
        let last = self.calls.len().checked_sub(1)?;
        let starts_new = matches!(name, Some(n) if !self.calls[last].name.is_empty() && n != self.calls[last].name);
        (!starts_new).then_some(last)
    }

    fn warn(&mut self, message: String, out: &mut Vec<StreamEvent>) {
        out.push(StreamEvent::Notice {
            message: message.clone(),
        });
        self.reply.warnings.push(message);
    }

    /// The stream closed (or was stopped): the reply and how it ended.
    /// Call `flush` first to receive held-back text as events; anything still held is
    /// added to the reply here.
    pub fn finish(mut self) -> (Reply, StreamEnd) {
        self.flush(&mut Vec::new());
        if self.skipped > SKIPPED_REPORTED {
            self.reply.warnings.push(format!(
                "skipped {} unreadable chunks in all ({} more like the ones above)",
                self.skipped,
                self.skipped - SKIPPED_REPORTED
            ));
        }
        self.reply.tool_calls = self
            .calls
            .into_iter()
            .map(|c| ToolCall {
                id: if c.id.is_empty() {
                    ToolCall::synthetic_id()
                } else {
                    c.id
                },
                name: c.name,
                arguments: c.arguments,
                ..ToolCall::default()
            })
            .collect();
        let end = match self.error {
            Some(e) => StreamEnd::ServerError(e),
            None if self.done || self.reply.finish_reason.is_some() => StreamEnd::Complete,
            None => StreamEnd::Truncated,
        };
        (self.reply, end)
    }
}

fn clip(s: &str) -> String {
    const MAX: usize = 200;
    if s.len() <= MAX {
        return s.to_owned();
    }
    let mut end = MAX;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(datas: &[&str]) -> (Reply, StreamEnd, Vec<StreamEvent>) {
        let mut a = Assembler::new();
        let mut out = Vec::new();
        for d in datas {
            a.push(
                &SseEvent {
                    event: None,
                    data: (*d).to_owned(),
                },
                &mut out,
            );
        }
        let (r, e) = a.finish();
        (r, e, out)
    }

    #[test]
    fn role_chunk_content_usage_done() {
        let (r, end, ev) = run(&[
            r#"{"model":"m","choices":[{"index":0,"delta":{"role":"assistant"}}]}"#,
            r#"{"choices":[{"index":0,"delta":{"content":"Hel"}}]}"#,
            r#"{"choices":[{"index":0,"delta":{"content":"lo"},"finish_reason":null}]}"#,
            r#"{"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}"#,
            r#"{"choices":[],"usage":{"prompt_tokens":5,"completion_tokens":2,"total_tokens":7}}"#,
            "[DONE]",
        ]);
        assert_eq!(r.content, "Hello");
        assert_eq!(r.finish_reason.as_deref(), Some("stop"));
        assert_eq!(r.usage.unwrap().total_tokens, 7);
        assert_eq!(r.model.as_deref(), Some("m"));
        assert_eq!(end, StreamEnd::Complete);
        assert_eq!(ev.len(), 2);
    }

    #[test]
    fn reasoning_kept_apart_and_not_doubled() {
        let (r, _, _) = run(&[
            r#"{"choices":[{"delta":{"reasoning_content":"think "}}]}"#,
            r#"{"choices":[{"delta":{"reasoning":"more","reasoning_content":"more"}}]}"#,
            r#"{"choices":[{"delta":{"reasoning":" again"}}]}"#,
            r#"{"choices":[{"delta":{"content":"answer"},"finish_reason":"stop"}]}"#,
        ]);
        assert_eq!(r.reasoning, "think more again");
        assert_eq!(r.content, "answer");
    }

    #[test]
    fn fragments_by_index_with_parallel_calls() {
        let (r, _, _) = run(&[
            r#"{"choices":[{"delta":{"tool_calls":[{"index":0,"id":"call_a","type":"function","function":{"name":"read_file","arguments":""}}]}}]}"#,
            r#"{"choices":[{"delta":{"tool_calls":[{"index":1,"id":"call_b","type":"function","function":{"name":"search","arguments":"{\"pat"}}]}}]}"#,
            r#"{"choices":[{"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"path\":"}}]}}]}"#,
            r#"{"choices":[{"delta":{"tool_calls":[{"index":1,"function":{"arguments":"tern\":\"x\"}"}}]}}]}"#,
            r#"{"choices":[{"delta":{"tool_calls":[{"index":0,"function":{"arguments":"\"a.rs\"}"}}]},"finish_reason":"tool_calls"}]}"#,
        ]);
        assert_eq!(r.tool_calls.len(), 2);
        assert_eq!(r.tool_calls[0].id, "call_a");
        assert_eq!(r.tool_calls[0].arguments, r#"{"path":"a.rs"}"#);
        assert_eq!(r.tool_calls[1].name, "search");
        assert_eq!(r.tool_calls[1].arguments, r#"{"pattern":"x"}"#);
    }

    #[test]
    fn ollama_whole_calls_with_object_arguments_and_no_index() {
        let (r, end, _) = run(&[
            r#"{"choices":[{"delta":{"tool_calls":[{"id":"call_1","function":{"name":"read_file","arguments":{"path":"a"}}},{"id":"call_2","function":{"name":"git_status","arguments":"{}"}}]}}]}"#,
            r#"{"choices":[{"delta":{},"finish_reason":"tool_calls"}]}"#,
        ]);
        assert_eq!(end, StreamEnd::Complete);
        assert_eq!(r.tool_calls.len(), 2);
        assert_eq!(r.tool_calls[0].arguments, r#"{"path":"a"}"#);
        assert_eq!(r.tool_calls[1].name, "git_status");
    }

    #[test]
    fn mistral_ids_and_trailing_fragment_on_finish_chunk() {
        let (r, _, _) = run(&[
            r#"{"choices":[{"delta":{"tool_calls":[{"index":0,"id":"Ab3dE6gH9","function":{"name":"shell","arguments":"{\"command\": \"ls"}}]}}]}"#,
            r#"{"choices":[{"delta":{"tool_calls":[{"index":0,"function":{"arguments":"\"}"}}]},"finish_reason":"tool_calls"}]}"#,
        ]);
        assert_eq!(r.tool_calls[0].id, "Ab3dE6gH9");
        assert_eq!(r.tool_calls[0].arguments, r#"{"command": "ls"}"#);
    }

    #[test]
    fn same_index_new_id_is_a_new_call_and_missing_index_continues_last() {
        let (r, _, _) = run(&[
            r#"{"choices":[{"delta":{"tool_calls":[{"index":0,"id":"a","function":{"name":"x","arguments":"{}"}}]}}]}"#,
            r#"{"choices":[{"delta":{"tool_calls":[{"index":0,"id":"b","function":{"name":"y","arguments":"{"}}]}}]}"#,
            r#"{"choices":[{"delta":{"tool_calls":[{"function":{"arguments":"}"}}]}}]}"#,
        ]);
        assert_eq!(r.tool_calls.len(), 2);
        assert_eq!(r.tool_calls[1].arguments, "{}");
    }

    #[test]
    fn error_frame_mid_stream_keeps_what_arrived() {
        let (r, end, _) = run(&[
            r#"{"choices":[{"delta":{"content":"partial"}}]}"#,
            r#"{"error":{"message":"out of memory","type":"server_error"}}"#,
            r#"{"choices":[{"delta":{"content":"ignored"}}]}"#,
        ]);
        assert_eq!(r.content, "partial");
        assert_eq!(
            end,
            StreamEnd::ServerError("out of memory (server_error)".into())
        );
    }

    #[test]
    fn sse_error_events_in_any_shape() {
        for (data, expect) in [
            (r#"{"error":{"message":"bad grammar"}}"#, "bad grammar"),
            (r#"{"message":"rate limited"}"#, "rate limited"),
            ("plain words", "plain words"),
        ] {
            let mut a = Assembler::new();
            a.push(
                &SseEvent {
                    event: Some("error".into()),
                    data: data.into(),
                },
                &mut Vec::new(),
            );
            assert_eq!(a.finish().1, StreamEnd::ServerError(expect.into()));
        }
    }

    #[test]
    fn truncated_stream_and_bad_chunks() {
        let (r, end, ev) = run(&[
            r#"{"choices":[{"delta":{"content":"a"}}]}"#,
            "{not json",
            r#"{"choices":"nope"}"#,
        ]);
        assert_eq!(end, StreamEnd::Truncated);
        assert_eq!(r.content, "a");
        assert_eq!(r.warnings.len(), 2);
        assert!(matches!(ev[1], StreamEvent::Notice { .. }));
    }

    #[test]
    fn synthetic_ids_for_calls_without_one() {
        let (r, _, _) = run(&[
            r#"{"choices":[{"delta":{"tool_calls":[{"function":{"name":"git_status","arguments":"{}"}}]},"finish_reason":"tool_calls"}]}"#,
        ]);
        assert_eq!(r.tool_calls[0].id.len(), 9);
        assert!(
            r.tool_calls[0]
                .id
                .chars()
                .all(|c| c.is_ascii_alphanumeric())
        );
    }

    #[test]
    fn a_flood_of_bad_chunks_is_one_counted_warning() {
        let mut chunks = vec![r#"{"choices":[{"delta":{"content":"a"}}]}"#.to_string()];
        chunks.extend((0..200_000).map(|i| format!("{{bad {i}")));
        let refs: Vec<&str> = chunks.iter().map(String::as_str).collect();
        let (r, _, ev) = run(&refs);
        let notices = ev
            .iter()
            .filter(|e| matches!(e, StreamEvent::Notice { .. }))
            .count();
        assert_eq!(notices, SKIPPED_REPORTED);
        assert_eq!(
            r.warnings.len(),
            SKIPPED_REPORTED + 1,
            "{:?}",
            r.warnings.last()
        );
        assert!(
            r.warnings.last().unwrap().contains("200000"),
            "{:?}",
            r.warnings.last()
        );
    }

    #[test]
    fn many_indexes_are_linear_and_capped() {
        let chunks: Vec<String> = (0..20_000u64)
            .map(|i| {
                format!(
                    r#"{{"choices":[{{"delta":{{"tool_calls":[{{"index":{i},"id":"c{i}","function":{{"name":"read_file","arguments":"{{}}"}}}}]}}}}]}}"#
                )
            })
            .collect();
        let refs: Vec<&str> = chunks.iter().map(String::as_str).collect();
        let started = std::time::Instant::now();
        let (r, _, _) = run(&refs);
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
        assert_eq!(r.tool_calls.len(), MAX_CALLS);
        assert!(r.warnings.iter().any(|w| w.contains("ignored")));
    }
}
