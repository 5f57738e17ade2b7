//! Snapshots of whole rendered frames (ratatui TestBackend) at 120x40, 80x24 and 40x20:
//! empty session, a reply mid-stream with a code block, reasoning collapsed and
//! expanded, an error card, the help overlay. `cargo insta review` to accept changes.

mod tui_support;

use cove::app::state::State;
use cove::app::{Msg, update};
use cove::config::theme::Theme;
use cove::protocol::{AgentEvent, StreamEvent, TurnOutcome};
use crossterm::event::KeyCode;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use tui_support::*;

const SIZES: [(u16, u16); 3] = [(120, 40), (80, 24), (40, 20)];

fn frame(s: &mut State, w: u16, h: u16) -> String {
    s.view.size = (w, h);
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| cove::ui::render(f, s)).unwrap();
    let buf = t.backend().buffer().clone();
    let mut out = String::new();
    for y in 0..h {
        let mut line = String::new();
        for x in 0..w {
            line.push_str(buf[(x, y)].symbol());
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

fn snap_all(name: &str, build: impl Fn() -> State) {
    for (w, h) in SIZES {
        let mut s = build();
        let text = frame(&mut s, w, h);
        insta::assert_snapshot!(format!("{name}_{w}x{h}"), text);
    }
}

fn stream(s: &mut State, turn: u64, ev: StreamEvent) {
    update(s, agent(AgentEvent::Stream { turn, event: ev }));
}

fn mono() -> State {
    state_with(Theme::monochrome())
}

fn asked(text: &str) -> State {
    let mut s = mono();
    type_text(&mut s, text);
    update(&mut s, key(KeyCode::Enter));
    let started = s.turn().unwrap().started;
    s.now = started;
    s
}

#[test]
fn empty_session() {
    snap_all("empty", mono);
}

#[test]
fn reply_mid_stream_with_a_code_block() {
    snap_all("mid_stream", || {
        let mut s = asked("How do I read a file in Rust?");
        stream(&mut s, 1, StreamEvent::Content {
            text: "Use `std::fs::read_to_string`:\n\n```rust\nuse std::fs;\n\nfn main() -> std::io::Result<()> {\n    let text = fs::read_to_string(\"notes.txt\")?;\n    println!(\"{} bytes\", text.len());\n".into(),
        });
        s
    });
}

#[test]
fn reasoning_collapsed_and_expanded() {
    let build = || {
        let mut s = asked("Is 91 prime?");
        stream(
            &mut s,
            1,
            StreamEvent::Reasoning {
                text: "91 = 7 × 13.\nSo it is not prime.".into(),
            },
        );
        stream(
            &mut s,
            1,
            StreamEvent::Content {
                text: "No: **91 = 7 × 13**.".into(),
            },
        );
        update(
            &mut s,
            agent(AgentEvent::TurnDone {
                turn: 1,
                outcome: TurnOutcome {
                    ttft_ms: Some(41.0),
                    tokens_per_s: Some(138.0),
                    context_tokens: Some(220),
                    ..TurnOutcome::default()
                },
            }),
        );
        s
    };
    snap_all("reasoning_collapsed", build);
    snap_all("reasoning_expanded", || {
        let mut s = build();
        update(&mut s, ctrl('t'));
        s
    });
}

#[test]
fn error_card() {
    snap_all("error_card", || {
        let mut s = asked("hello?");
        update(&mut s, agent(AgentEvent::TurnFailed {
            turn: 1,
            error: "cannot reach the model server: http://127.0.0.1:8080/v1: Connection refused (os error 111)".into(),
            hint: "Is the model server running? `cove doctor` checks each endpoint.".into(),
        }));
        s
    });
}

#[test]
fn help_overlay() {
    snap_all("help", || {
        let mut s = mono();
        update(
            &mut s,
            Msg::Key(crossterm::event::KeyEvent::new(
                KeyCode::F(1),
                crossterm::event::KeyModifiers::NONE,
            )),
        );
        s
    });
}

#[test]
fn images_sent_and_attached() {
    use cove::protocol::{ImageAttachment, Thumbnail};
    let image = |label: &str| ImageAttachment {
        data_url: "data:image/png;base64,AAAA".into(),
        label: label.into(),
        preview: Some(Thumbnail {
            width: 16,
            height: 8,
            rgb: (0..16 * 8).flat_map(|i| [(i * 2) as u8, 40, 200]).collect(),
        }),
    };
    snap_all("images", || {
        let mut s = state_with(Theme::builtin("dark").unwrap());
        update(&mut s, Msg::Attached(Ok(image("1920x1080 PNG 412 KB"))));
        type_text(&mut s, "what is wrong here?");
        update(&mut s, key(KeyCode::Enter));
        let started = s.turn().unwrap().started;
        s.now = started;
        stream(
            &mut s,
            1,
            StreamEvent::Content {
                text: "The dialog says the disk is full.".into(),
            },
        );
        update(
            &mut s,
            agent(AgentEvent::TurnDone {
                turn: 1,
                outcome: TurnOutcome::default(),
            }),
        );
        update(&mut s, Msg::Attached(Ok(image("800x600 JPEG 61 KB"))));
        s.flash = None;
        s
    });
}
