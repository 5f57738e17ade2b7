//! TUI rendering cost.
//! - `frame_10k_messages`: one frame (120x40) with 10,000 messages in the transcript,
//!   following the end and scrolled to the middle.
//! - `stream_1s_at_20k_tok_s`: one second of a 20,000 tokens/s stream as the event loop
//!   sees it: 20,000 deltas through `update`, a frame drawn every 1/60 s. Under 1 s per
//!   iteration means the UI keeps up; `scripts/bench-check.sh` checks both figures.

use std::path::PathBuf;

use cove::app::history::InputHistory;
use cove::app::state::State;
use cove::app::{Msg, update};
use cove::config::theme::Theme;
use cove::protocol::{AgentEvent, ServerStatus, StreamEvent, TurnOutcome};
use criterion::{Criterion, criterion_group, criterion_main};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

fn state() -> State {
    let theme = Theme::builtin("dark").expect("dark theme");
    let mut s = State::new(
        PathBuf::from("/bench"),
        "bench".into(),
        theme,
        InputHistory::default(),
        cove::ui::measurer(),
    );
    s.server = ServerStatus {
        reachable: true,
        endpoint: "http://127.0.0.1:8080/v1".into(),
        model: "m".into(),
        context_window: Some(32768),
        detail: None,
    };
    s.probing = false;
    s.view.size = (120, 40);
    s
}

fn send(s: &mut State, text: &str) -> u64 {
    update(s, Msg::Paste(text.into()));
    update(
        s,
        Msg::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)),
    );
    s.turn().map(|t| t.id).unwrap_or(0)
}

const REPLY: &str = "Here is how:\n\n1. Open the file with `std::fs::File::open`.\n2. Wrap it in a `BufReader`.\n\n```rust\nuse std::io::BufRead;\nfn count(path: &str) -> std::io::Result<usize> {\n    let f = std::fs::File::open(path)?;\n    Ok(std::io::BufReader::new(f).lines().count())\n}\n```\n\nThat is **all** there is to it.";

fn transcript(n_messages: usize) -> State {
    let mut s = state();
    for i in 0..n_messages / 2 {
        let turn = send(
            &mut s,
            &format!("question number {i}: how do I count lines?"),
        );
        update(
            &mut s,
            Msg::Agent(AgentEvent::Stream {
                turn,
                event: StreamEvent::Content { text: REPLY.into() },
            }),
        );
        update(
            &mut s,
            Msg::Agent(AgentEvent::TurnDone {
                turn,
                outcome: TurnOutcome::default(),
            }),
        );
    }
    s
}

fn bench(c: &mut Criterion) {
    let mut term = Terminal::new(TestBackend::new(120, 40)).expect("test backend");
    let mut s = transcript(10_000);
    term.draw(|f| cove::ui::render(f, &s)).expect("draw");
    let mut g = c.benchmark_group("tui");
    g.bench_function("frame_10k_messages_follow", |b| {
        b.iter(|| term.draw(|f| cove::ui::render(f, &s)).map(|_| ()))
    });
    s.view.scroll = cove::app::state::Scroll::Anchored {
        entry: s.chat.entries[5_000].id,
        line: 0,
    };
    g.bench_function("frame_10k_messages_scrolled", |b| {
        b.iter(|| term.draw(|f| cove::ui::render(f, &s)).map(|_| ()))
    });
    g.sample_size(10);
    g.bench_function("stream_1s_at_20k_tok_s", |b| {
        b.iter(|| {
            let mut s = state();
            let turn = send(&mut s, "write a long essay");
            let words = [
                "The ",
                "quick ",
                "brown ",
                "fox ",
                "jumps ",
                "over ",
                "the ",
                "lazy ",
                "dog",
                ".\n\n",
                "`code` ",
                "and ",
                "**bold** ",
            ];
            for i in 0..20_000usize {
                let text = words[i % words.len()].to_owned();
                update(
                    &mut s,
                    Msg::Agent(AgentEvent::Stream {
                        turn,
                        event: StreamEvent::Content { text },
                    }),
                );
                if i % 333 == 0 {
                    term.draw(|f| cove::ui::render(f, &s)).expect("draw");
                    s.dirty = false;
                }
            }
            s
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
