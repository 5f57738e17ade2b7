//! SSE parsing + stream assembly throughput (MB/s) and rate (deltas/s).
//!
//! The input is a realistic stream: OpenAI-style chunks as vLLM and llama.cpp send them
//! (ids, timestamps, one short content delta each), with a tool call in fragments at the
//! end, fed in 1,400-byte pieces as they come off a socket.
//! `scripts/bench-check.sh` reads criterion's estimates and fails below a floor.

use cove::llm::assemble::Assembler;
use cove::llm::sse::SseParser;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use serde_json::json;
use std::hint::black_box;

const DELTAS: usize = 5_000;

fn stream() -> Vec<u8> {
    let words = [
        "fn", " main", "()", " {", "\n    ", "println", "!(\"", "héllo", " 🦀", "\");", "\n}",
        " //", " done",
    ];
    let mut out = Vec::new();
    for i in 0..DELTAS {
        let chunk = json!({
            "id": "chatcmpl-8d1e2f3a4b5c6d7e", "object": "chat.completion.chunk", "created": 1_763_700_000,
            "model": "mistralai/Devstral-Small-2507", "system_fingerprint": null,
            "choices": [{"index": 0, "delta": {"content": words[i % words.len()]}, "logprobs": null, "finish_reason": null}]
        });
        out.extend_from_slice(format!("data: {chunk}\n\n").as_bytes());
    }
    for frag in [
        "{\"path\": \"src/",
        "main.rs\", \"old_string\": \"a\", ",
        "\"new_string\": \"b\"}",
    ] {
        let chunk = json!({"choices": [{"index": 0, "delta": {"tool_calls": [{"index": 0, "id": "Ab3dE6gH9", "function": {"name": "edit_file", "arguments": frag}}]}}]});
        out.extend_from_slice(format!("data: {chunk}\n\n").as_bytes());
    }
    out.extend_from_slice(b"data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"tool_calls\"}]}\n\ndata: [DONE]\n\n");
    out
}

fn run(bytes: &[u8]) -> usize {
    let mut parser = SseParser::new();
    let mut asm = Assembler::new();
    let (mut events, mut out) = (Vec::new(), Vec::new());
    let mut n = 0;
    for piece in bytes.chunks(1400) {
        parser.push(piece, &mut events).expect("parse");
        for ev in events.drain(..) {
            asm.push(&ev, &mut out);
        }
        n += out.len();
        out.clear();
    }
    let (reply, _) = asm.finish();
    n + reply.content.len()
}

fn bench(c: &mut Criterion) {
    let bytes = stream();
    let mut g = c.benchmark_group("sse_assemble");
    g.throughput(Throughput::Bytes(bytes.len() as u64));
    g.bench_function("bytes", |b| b.iter(|| run(black_box(&bytes))));
    g.throughput(Throughput::Elements(DELTAS as u64 + 3));
    g.bench_function("deltas", |b| b.iter(|| run(black_box(&bytes))));
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
