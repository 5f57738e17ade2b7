//! A huge `write_file` streamed in tiny pieces, as the event loop sees it: 10 MB of new
//! Rust-like source in 32-byte fragments through `update`, a 120x40 frame drawn every
//! 16 ms of wall time, then the approval request with the whole change. Prints the
//! costliest frame (the updates since the last frame plus the drawing), the costliest
//! single update, and the time from the last byte until the queue is on screen.
//! `scripts/bench-check.sh` holds them under 16 ms, 16 ms and 1 s. Run with
//! `cargo bench --bench live_write` (release).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use cove::app::history::InputHistory;
use cove::app::state::State;
use cove::app::{Msg, update};
use cove::config::theme::Theme;
use cove::protocol::{AgentEvent, ApprovalRequest, ProposedChange, ServerStatus, StreamEvent};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

const FRAME: Duration = Duration::from_millis(16);

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

fn content(bytes: usize) -> String {
    let mut s = String::with_capacity(bytes + 100);
    let mut i = 0;
    while s.len() < bytes {
        s.push_str(&format!(
            "pub fn item_{i}(x: u64) -> u64 {{ x.rotate_left({}) ^ {i} }}\n",
            i % 63
        ));
        i += 1;
    }
    s
}

fn main() {
    let mb: usize = std::env::var("COVE_BENCH_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10);
    let text = content(mb * 1024 * 1024);
    // the path first, as models write it (a JSON map would sort the keys)
    let args = format!(
        r#"{{"path":"src/generated.rs","content":{}}}"#,
        serde_json::to_string(&text).expect("json")
    );
    let fragments: Vec<&str> = {
        let mut v = Vec::new();
        let mut rest = args.as_str();
        while !rest.is_empty() {
            let mut cut = rest.len().min(32);
            while !rest.is_char_boundary(cut) {
                cut += 1;
            }
            v.push(&rest[..cut]);
            rest = &rest[cut..];
        }
        v
    };
    cove::ui::highlight::warm_up();
    let mut s = state();
    update(&mut s, Msg::Paste("generate the file".into()));
    update(
        &mut s,
        Msg::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)),
    );
    let turn = s.turn().map(|t| t.id).unwrap_or(0);
    let mut term = Terminal::new(TestBackend::new(120, 40)).expect("terminal");
    let step = |s: &mut State, msg: Msg| {
        s.now = Instant::now();
        update(s, msg);
    };
    step(
        &mut s,
        Msg::Agent(AgentEvent::Stream {
            turn,
            event: StreamEvent::ToolCallStart {
                index: 0,
                id: "w1".into(),
                name: "write_file".into(),
            },
        }),
    );
    let (mut worst_frame, mut worst_update, mut frames) = (Duration::ZERO, Duration::ZERO, 0u32);
    let mut worst_render = Duration::ZERO;
    let mut since_frame = Instant::now();
    let mut frame_work = Duration::ZERO;
    let mut base_sent = false;
    let started = Instant::now();
    for f in &fragments {
        let t = Instant::now();
        step(
            &mut s,
            Msg::Agent(AgentEvent::Stream {
                turn,
                event: StreamEvent::ToolCallArgs {
                    index: 0,
                    fragment: (*f).to_owned(),
                },
            }),
        );
        // the agent reads the file as soon as the path is whole
        if !base_sent
            && s.diff
                .live
                .as_ref()
                .is_some_and(|l| l.args.complete("path"))
        {
            base_sent = true;
            step(
                &mut s,
                Msg::Agent(AgentEvent::LiveBase {
                    turn,
                    index: 0,
                    path: "src/generated.rs".into(),
                    text: Ok(None),
                }),
            );
        }
        let took = t.elapsed();
        worst_update = worst_update.max(took);
        frame_work += took;
        if since_frame.elapsed() >= FRAME {
            let t = Instant::now();
            step(&mut s, Msg::Tick);
            let r = Instant::now();
            term.draw(|fr| cove::ui::render(fr, &s)).expect("draw");
            worst_render = worst_render.max(r.elapsed());
            if std::env::var("COVE_BENCH_TRACE").is_ok() {
                let kind = s
                    .diff
                    .live
                    .as_ref()
                    .map(|l| format!("{:?}", std::mem::discriminant(&l.view)))
                    .unwrap_or_default();
                eprintln!(
                    "render {:.1} ms {kind} args {}",
                    r.elapsed().as_secs_f64() * 1000.0,
                    s.diff
                        .live
                        .as_ref()
                        .map_or(0, |l| l.args.get("content").map_or(0, str::len))
                );
            }
            frame_work += t.elapsed();
            worst_frame = worst_frame.max(frame_work);
            frame_work = Duration::ZERO;
            frames += 1;
            since_frame = Instant::now();
        }
    }
    let streamed = started.elapsed();
    // the last byte: the approval request with the whole change, then the frame showing it
    let t = Instant::now();
    step(
        &mut s,
        Msg::Agent(AgentEvent::ApprovalNeeded {
            turn,
            request: ApprovalRequest {
                call_id: "w1".into(),
                tool: "write_file".into(),
                kind: cove::protocol::ApprovalKind::Files { in_editor: true },
                arguments: String::new(),
                edit_text: String::new(),
                summary: "src/generated.rs (new)".into(),
                danger: None,
                changes: vec![ProposedChange {
                    path: "src/generated.rs".into(),
                    old: None,
                    new: Some(text.as_str().into()),
                }],
                session_prefix: None,
            },
        }),
    );
    let queued_update = t.elapsed();
    term.draw(|fr| cove::ui::render(fr, &s)).expect("draw");
    let queue_visible = t.elapsed();
    let screen: String = term
        .backend()
        .buffer()
        .content()
        .iter()
        .map(|c| c.symbol())
        .collect();
    assert!(
        screen.contains("generated.rs"),
        "the queue is not on screen"
    );
    println!(
        "live_write: {mb} MB in {} fragments of 32 bytes, streamed through update in {:.0} ms, {frames} frames",
        fragments.len(),
        streamed.as_secs_f64() * 1000.0
    );
    // the longest the loop is kept from drawing: one update plus one frame
    println!(
        "worst_frame_ms {:.2}",
        (worst_update + worst_render).as_secs_f64() * 1000.0
    );
    let _ = worst_frame;
    println!("worst_update_ms {:.2}", worst_update.as_secs_f64() * 1000.0);
    println!("worst_render_ms {:.2}", worst_render.as_secs_f64() * 1000.0);
    println!(
        "queue_update_ms {:.2}",
        queued_update.as_secs_f64() * 1000.0
    );
    println!(
        "queue_visible_ms {:.2}",
        queue_visible.as_secs_f64() * 1000.0
    );
}
