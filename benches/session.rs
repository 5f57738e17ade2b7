//! Sessions: appending one journal record (written and fsync'd: what a reply or tool
//! result waits for before the UI shows it done), and resuming a long session (load and
//! replay of a 500-turn journal with tool calls, results and file changes).

use cove::domain::conversation::{Message, ToolCall};
use cove::session::journal::{self, Journal};
use cove::session::record::{Blob, Record};
use cove::session::replay::replay;
use criterion::{Criterion, criterion_group, criterion_main};

fn start() -> Record {
    Record::Start {
        version: 1,
        id: "bench".into(),
        workspace: "/w".into(),
        started: 0,
        system_prompt: "You are cove. ".repeat(100),
        git: None,
    }
}

fn msg(turn: u64, message: Message) -> Record {
    Record::Message {
        turn,
        message,
        shown: None,
        reasoning: None,
        model: Some("devstral".into()),
    }
}

/// One turn: question, a tool call, its result (2 KB), a file change (8 KB), the answer.
fn turn(t: u64) -> Vec<Record> {
    let call = ToolCall {
        id: format!("c{t:08}"),
        name: "edit_file".into(),
        arguments: r#"{"path":"src/lib.rs","old_string":"a","new_string":"b"}"#.into(),
        ..ToolCall::default()
    };
    let file = "fn main() { println!(\"hello\"); }\n".repeat(240);
    vec![
        msg(
            t,
            Message::user(format!("question {t}: please change the parser")),
        ),
        msg(t, Message::assistant("", vec![call.clone()])),
        Record::Decision {
            turn: t,
            call_id: call.id.clone(),
            tool: "edit_file".into(),
            decision: "approved".into(),
        },
        Record::Change {
            turn: t,
            path: "src/lib.rs".into(),
            old: Some(Blob::Text(file.clone().into())),
            new: Some(Blob::Text(file.into())),
        },
        msg(t, Message::tool_result(call.id.clone(), "x".repeat(2000))),
        Record::Tool {
            turn: t,
            call_id: call.id,
            name: "edit_file".into(),
            arguments: "{}".into(),
            edited: false,
            kind: "done".into(),
            summary: "edited src/lib.rs".into(),
        },
        msg(
            t,
            Message::assistant(format!("Done with {t}. ").repeat(20), Vec::new()),
        ),
        Record::TurnEnd { turn: t },
    ]
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut g = c.benchmark_group("session");
    let path = dir.path().join("append.jsonl");
    let mut j = Journal::create(&path).expect("journal");
    let reply = msg(
        1,
        Message::assistant("A reply of a few hundred bytes. ".repeat(12), Vec::new()),
    );
    g.bench_function("append_reply_fsync", |b| {
        b.iter(|| j.append(&reply).expect("append"))
    });

    let long = dir.path().join("long.jsonl");
    let mut j = Journal::create(&long).expect("journal");
    j.append(&start()).expect("append");
    for t in 1..=500 {
        for r in turn(t) {
            j.append(&r).expect("append");
        }
    }
    drop(j);
    g.sample_size(20);
    g.bench_function("list_one_500_turn_session", |b| {
        b.iter(|| cove::session::store::info(&long).expect("a journal").turns)
    });
    g.bench_function("resume_500_turns", |b| {
        b.iter(|| {
            let l = journal::load(&long).expect("load");
            let r = replay(l.records, long.clone(), l.warnings).expect("replay");
            assert_eq!(r.turns, 500);
            r.messages.len()
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
