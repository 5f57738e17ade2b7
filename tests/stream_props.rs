//! Property tests for the SSE parser and stream assembly: any chunking of a stream gives
//! the same events and the same assembled reply; arbitrary bytes never panic.

use cove::llm::assemble::{Assembler, Reply, StreamEnd};
use cove::llm::sse::SseParser;
use cove::protocol::StreamEvent;
use proptest::prelude::*;
use serde_json::json;

#[derive(Debug, Clone)]
enum Piece {
    Content(String),
    Reasoning(String),
    /// A tool call fragment for call `slot` (0..3); the first fragment of a slot carries id and name.
    ToolArgs(usize, String),
    Comment,
}

#[derive(Debug, Clone, Copy)]
enum Ending {
    Lf,
    CrLf,
    Cr,
}

fn text() -> impl Strategy<Value = String> {
    // ASCII, accents, CJK, emoji, JSON-hostile characters, newlines
    prop::collection::vec(
        prop_oneof![
            "[a-z ]{1,6}",
            Just("é".to_string()),
            Just("日本".to_string()),
            Just("🦀".to_string()),
            Just("\"\\{}[]".to_string()),
            Just("\n".to_string()),
            Just("data: [DONE]".to_string()),
        ],
        1..5,
    )
    .prop_map(|v| v.concat())
}

fn piece() -> impl Strategy<Value = Piece> {
    prop_oneof![
        4 => text().prop_map(Piece::Content),
        2 => text().prop_map(Piece::Reasoning),
        2 => (0usize..3, text()).prop_map(|(s, t)| Piece::ToolArgs(s, t)),
        1 => Just(Piece::Comment),
    ]
}

fn ending() -> impl Strategy<Value = Ending> {
    prop_oneof![Just(Ending::Lf), Just(Ending::CrLf), Just(Ending::Cr)]
}

/// Serialises pieces the way servers do; returns the bytes and the expected assembly.
fn build(pieces: &[(Piece, Ending, bool)], done: bool) -> (Vec<u8>, String, String, Vec<String>) {
    let mut out = Vec::new();
    let (mut content, mut reasoning) = (String::new(), String::new());
    let mut args = vec![String::new(); 3];
    let mut started = [false; 3];
    let mut order = Vec::new();
    let event = |data: &str, end: Ending, multiline: bool, out: &mut Vec<u8>| {
        let eol: &[u8] = match end {
            Ending::Lf => b"\n",
            Ending::CrLf => b"\r\n",
            Ending::Cr => b"\r",
        };
        let lines: Vec<String> = if multiline {
            let v: serde_json::Value = serde_json::from_str(data).unwrap();
            serde_json::to_string_pretty(&v)
                .unwrap()
                .lines()
                .map(str::to_owned)
                .collect()
        } else {
            vec![data.to_owned()]
        };
        for l in lines {
            out.extend_from_slice(b"data: ");
            out.extend_from_slice(l.as_bytes());
            out.extend_from_slice(eol);
        }
        out.extend_from_slice(eol);
    };
    event(
        &json!({"choices":[{"index":0,"delta":{"role":"assistant"}}]}).to_string(),
        Ending::Lf,
        false,
        &mut out,
    );
    for (p, end, multiline) in pieces {
        let data = match p {
            Piece::Content(t) => {
                content.push_str(t);
                json!({"choices":[{"index":0,"delta":{"content":t}}]})
            }
            Piece::Reasoning(t) => {
                reasoning.push_str(t);
                json!({"choices":[{"index":0,"delta":{"reasoning_content":t}}]})
            }
            Piece::ToolArgs(slot, t) => {
                args[*slot].push_str(t);
                let call = if started[*slot] {
                    json!({"index":slot,"function":{"arguments":t}})
                } else {
                    started[*slot] = true;
                    order.push(*slot);
                    json!({"index":slot,"id":format!("call{slot}"),"type":"function","function":{"name":format!("tool{slot}"),"arguments":t}})
                };
                json!({"choices":[{"index":0,"delta":{"tool_calls":[call]}}]})
            }
            Piece::Comment => {
                out.extend_from_slice(b": keep-alive\n\n");
                continue;
            }
        };
        event(&data.to_string(), *end, *multiline, &mut out);
    }
    if done {
        event(
            &json!({"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}).to_string(),
            Ending::Lf,
            false,
            &mut out,
        );
        event(&json!({"choices":[],"usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3}}).to_string(), Ending::CrLf, false, &mut out);
        out.extend_from_slice(b"data: [DONE]\n\n");
    }
    let ordered_args = order.iter().map(|&s| args[s].clone()).collect();
    (out, content, reasoning, ordered_args)
}

fn feed(bytes: &[u8], cuts: &[usize]) -> (Reply, StreamEnd, Vec<StreamEvent>) {
    let mut parser = SseParser::new();
    let mut asm = Assembler::new();
    let (mut events, mut out) = (Vec::new(), Vec::new());
    let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (bytes.len() + 1)).collect();
    cuts.sort_unstable();
    let mut at = 0;
    for c in cuts.into_iter().chain([bytes.len()]) {
        parser.push(&bytes[at..c], &mut events).unwrap();
        at = c;
    }
    parser.finish(&mut events);
    for ev in &events {
        asm.push(ev, &mut out);
    }
    let (reply, end) = asm.finish();
    (reply, end, out)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn any_chunking_gives_the_same_reply(
        pieces in prop::collection::vec((piece(), ending(), any::<bool>()), 0..25),
        done in any::<bool>(),
        cuts in prop::collection::vec(any::<usize>(), 0..40),
    ) {
        let (bytes, content, reasoning, args) = build(&pieces, done);
        let whole = feed(&bytes, &[]);
        let split = feed(&bytes, &cuts);
        prop_assert_eq!(&whole, &split);
        let (reply, end, _) = whole;
        prop_assert_eq!(reply.content, content);
        prop_assert_eq!(reply.reasoning, reasoning);
        let got: Vec<String> = reply.tool_calls.iter().map(|c| c.arguments.clone()).collect();
        prop_assert_eq!(got, args);
        prop_assert_eq!(end, if done { StreamEnd::Complete } else { StreamEnd::Truncated });
    }

    #[test]
    fn one_byte_at_a_time_equals_whole(pieces in prop::collection::vec((piece(), ending(), any::<bool>()), 0..10)) {
        let (bytes, ..) = build(&pieces, true);
        let every: Vec<usize> = (0..bytes.len()).collect();
        prop_assert_eq!(feed(&bytes, &[]), feed(&bytes, &every));
    }

    #[test]
    fn byte_order_mark_typed_parts_and_an_error_line_survive_any_chunking(
        parts in prop::collection::vec((text(), any::<bool>(), any::<bool>()), 0..12),
        error_line in any::<bool>(),
        cuts in prop::collection::vec(any::<usize>(), 0..40),
    ) {
        // what a Mistral reasoning model streams (content as typed parts), behind a
        // byte-order mark, maybe ended by an older llama.cpp's `error:` line
        let mut bytes = b"\xEF\xBB\xBF".to_vec();
        let (mut content, mut reasoning) = (String::new(), String::new());
        for (t, thinking, nested) in &parts {
            let part = match (thinking, nested) {
                (false, _) => {
                    content.push_str(t);
                    json!({"type": "text", "text": t})
                }
                (true, true) => {
                    reasoning.push_str(t);
                    json!({"type": "thinking", "thinking": [{"type": "text", "text": t}]})
                }
                (true, false) => {
                    reasoning.push_str(t);
                    json!({"type": "thinking", "thinking": t})
                }
            };
            let chunk = json!({"choices":[{"index":0,"delta":{"content":[part]}}]});
            bytes.extend_from_slice(format!("data: {chunk}\n\n").as_bytes());
        }
        if error_line {
            bytes.extend_from_slice(b"error: {\"code\":500,\"message\":\"slot failed\",\"type\":\"server_error\"}\n\n");
        }
        bytes.extend_from_slice(b"data: [DONE]\n\n");
        let whole = feed(&bytes, &[]);
        let split = feed(&bytes, &cuts);
        prop_assert_eq!(&whole, &split);
        let (reply, end, _) = whole;
        prop_assert_eq!(reply.content, content);
        prop_assert_eq!(reply.reasoning, reasoning);
        prop_assert!(reply.warnings.is_empty(), "{:?}", reply.warnings);
        let expected = if error_line {
            StreamEnd::ServerError("slot failed (server_error)".into())
        } else {
            StreamEnd::Complete
        };
        prop_assert_eq!(end, expected);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..2000), cuts in prop::collection::vec(any::<usize>(), 0..10)) {
        let _ = feed(&bytes, &cuts);
    }

    #[test]
    fn arbitrary_sse_framed_text_never_panics(lines in prop::collection::vec("(data|event|id|:)?:? ?[\\PC]{0,40}", 0..40)) {
        let text = lines.join("\n");
        let _ = feed(text.as_bytes(), &[3, 17, 40]);
    }

    #[test]
    fn hostile_json_chunks_never_panic(values in prop::collection::vec(hostile_chunk(), 0..20)) {
        let body: String = values.iter().map(|v| format!("data: {v}\n\n")).collect();
        let _ = feed(body.as_bytes(), &[]);
    }
}

/// Chunk-like JSON with fields of the wrong types and odd values.
fn hostile_chunk() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(serde_json::Value::from),
        "[\\PC]{0,10}".prop_map(serde_json::Value::from),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::from),
            prop::collection::btree_map(
                prop_oneof![
                    Just("choices".to_string()),
                    Just("delta".to_string()),
                    Just("tool_calls".to_string()),
                    Just("index".to_string()),
                    Just("function".to_string()),
                    Just("arguments".to_string()),
                    Just("content".to_string()),
                    Just("error".to_string()),
                    Just("usage".to_string()),
                    "[a-z]{1,5}",
                ],
                inner,
                0..4
            )
            .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}
