//! `update` driven by message sequences: keys, paste, history, interrupt, quit, scroll,
//! and the agent's stream. No terminal involved.

mod tui_support;

use std::time::Duration;

use cove::app::state::*;
use cove::app::{Command, Msg, update};
use cove::protocol::{AgentEvent, Op, StreamEvent, TurnOutcome};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use tui_support::*;

fn send_text(s: &mut State, text: &str) -> Vec<Command> {
    type_text(s, text);
    update(s, key(KeyCode::Enter))
}

/// `n` finished turns: a question each, answered with `answer(i)`.
fn answered_turns(s: &mut State, n: u64, answer: impl Fn(u64) -> String) {
    for i in 0..n {
        send_text(s, &format!("question {i}"));
        update(
            s,
            agent(AgentEvent::Stream {
                turn: i + 1,
                event: StreamEvent::Content { text: answer(i) },
            }),
        );
        finish(s, i + 1);
    }
}

#[test]
fn enter_sends_and_the_turn_starts() {
    let mut s = state();
    let cmds = send_text(&mut s, "hello there");
    assert_eq!(
        cmds,
        vec![
            Command::SaveHistory("hello there".into()),
            Command::Agent(Op::UserTurn {
                turn: 1,
                text: "hello there".into(),
                images: vec![]
            })
        ]
    );
    assert!(s.composer.area.is_empty());
    assert!(s.is_running());
    assert!(
        matches!(&s.chat.entries[0].kind, EntryKind::User { text: t, .. } if t == "hello there")
    );
    assert!(
        matches!(&s.chat.entries[1].kind, EntryKind::Assistant(a) if a.status == ReplyStatus::Streaming)
    );
    // empty input sends nothing
    let mut s = state();
    assert!(update(&mut s, key(KeyCode::Enter)).is_empty());
    assert!(s.chat.entries.is_empty());
}

#[test]
fn shift_enter_alt_enter_and_ctrl_j_insert_newlines() {
    let mut s = state();
    type_text(&mut s, "a");
    for k in [
        KeyEvent::new(KeyCode::Enter, KeyModifiers::SHIFT),
        KeyEvent::new(KeyCode::Enter, KeyModifiers::ALT),
        KeyEvent::new(KeyCode::Char('j'), KeyModifiers::CONTROL),
    ] {
        assert!(update(&mut s, Msg::Key(k)).is_empty());
    }
    type_text(&mut s, "b");
    assert_eq!(s.composer_text(), "a\n\n\nb");
}

#[test]
fn pasted_block_is_inserted_as_is_and_never_sends() {
    let mut s = state();
    let cmds = update(
        &mut s,
        Msg::Paste("line one\r\nline two\n\nfn x() {}\n".into()),
    );
    assert!(cmds.is_empty());
    assert_eq!(s.composer_text(), "line one\nline two\n\nfn x() {}\n");
    assert!(!s.is_running());
}

#[test]
fn up_and_down_walk_the_history_at_the_edges() {
    let mut s = state();
    send_text(&mut s, "first");
    finish(&mut s, 1);
    send_text(&mut s, "second\nmessage");
    finish(&mut s, 2);
    type_text(&mut s, "dra");
    update(&mut s, key(KeyCode::Up));
    assert_eq!(s.composer_text(), "second\nmessage");
    // cursor is on the first line: Up goes further back
    update(&mut s, key(KeyCode::Up));
    assert_eq!(s.composer_text(), "first");
    update(&mut s, key(KeyCode::Down));
    assert_eq!(s.composer_text(), "second\nmessage");
    update(&mut s, key(KeyCode::Down));
    update(&mut s, key(KeyCode::Down));
    assert_eq!(
        s.composer_text(),
        "dra",
        "past the newest entry the draft comes back"
    );
}

#[test]
fn esc_and_ctrl_c_interrupt_a_running_turn() {
    let mut s = state();
    send_text(&mut s, "go");
    assert_eq!(
        update(&mut s, key(KeyCode::Esc)),
        vec![Command::Agent(Op::Interrupt)]
    );
    assert_eq!(
        update(&mut s, ctrl('c')),
        vec![Command::Agent(Op::Interrupt)]
    );
    assert_eq!(
        update(&mut s, ctrl('c')),
        vec![Command::Agent(Op::Interrupt)],
        "while running, Ctrl+C never quits"
    );
    update(
        &mut s,
        agent(AgentEvent::Stream {
            turn: 1,
            event: StreamEvent::Content {
                text: "partial".into(),
            },
        }),
    );
    update(
        &mut s,
        agent(AgentEvent::TurnDone {
            turn: 1,
            outcome: TurnOutcome {
                interrupted: true,
                ..TurnOutcome::default()
            },
        }),
    );
    assert!(!s.is_running());
    match &s.chat.entries[1].kind {
        EntryKind::Assistant(a) => {
            assert_eq!(a.content, "partial");
            assert_eq!(a.status, ReplyStatus::Interrupted);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn ctrl_c_twice_within_two_seconds_quits_an_idle_session() {
    let mut s = state();
    assert!(update(&mut s, ctrl('c')).is_empty());
    assert!(!s.should_quit);
    s.now += Duration::from_millis(2500);
    assert!(
        update(&mut s, ctrl('c')).is_empty(),
        "too late: this press only arms again"
    );
    s.now += Duration::from_millis(1500);
    assert_eq!(update(&mut s, ctrl('c')), vec![Command::Quit]);
    assert!(s.should_quit);
    // the first press clears a non-empty input
    let mut s = state();
    type_text(&mut s, "draft");
    update(&mut s, ctrl('c'));
    assert!(s.composer.area.is_empty());
}

#[test]
fn q_types_in_the_composer_and_quits_elsewhere() {
    let mut s = state();
    assert!(update(&mut s, key(KeyCode::Char('q'))).is_empty());
    assert_eq!(s.composer_text(), "q");
    assert!(!s.should_quit);
    update(&mut s, key(KeyCode::Tab)); // focus: chat
    assert_eq!(s.view.focus, Focus::Chat);
    assert_eq!(update(&mut s, key(KeyCode::Char('q'))), vec![Command::Quit]);
}

#[test]
fn tab_cycles_focus_and_help_opens_and_closes() {
    let mut s = state();
    let mut seen = vec![];
    for _ in 0..4 {
        update(&mut s, key(KeyCode::Tab));
        seen.push(s.view.focus);
    }
    assert_eq!(
        seen,
        [Focus::Chat, Focus::Diff, Focus::Approvals, Focus::Input]
    );
    update(&mut s, key(KeyCode::F(1)));
    assert!(s.overlay.is_help());
    update(&mut s, key(KeyCode::Char('x')));
    assert!(!s.overlay.is_help());
    assert!(
        s.composer.area.is_empty(),
        "the key that closes help does nothing else"
    );
    update(&mut s, key(KeyCode::Char('?')));
    assert!(s.overlay.is_help(), "? opens help when the input is empty");
    update(&mut s, key(KeyCode::Esc));
    type_text(&mut s, "why");
    update(&mut s, key(KeyCode::Char('?')));
    assert_eq!(s.composer_text(), "why?");
}

#[test]
fn scrolled_up_view_stays_put_and_marks_new_output() {
    let mut s = state();
    s.view.size = (80, 24);
    answered_turns(&mut s, 30, |_| "an answer\n\nwith two paragraphs".into());
    assert_eq!(s.view.scroll, Scroll::Follow);
    update(&mut s, key(KeyCode::PageUp));
    let anchored = s.view.scroll;
    assert!(matches!(anchored, Scroll::Anchored { .. }));
    send_text(&mut s, "more");
    // sending returns to the end...
    assert_eq!(s.view.scroll, Scroll::Follow);
    update(&mut s, key(KeyCode::PageUp));
    let held = s.view.scroll;
    update(
        &mut s,
        agent(AgentEvent::Stream {
            turn: 31,
            event: StreamEvent::Content {
                text: "streaming on".into(),
            },
        }),
    );
    assert_eq!(
        s.view.scroll, held,
        "new output does not move a scrolled-up view"
    );
    assert!(s.view.unseen_below);
    update(
        &mut s,
        Msg::Key(KeyEvent::new(KeyCode::End, KeyModifiers::CONTROL)),
    );
    assert_eq!(s.view.scroll, Scroll::Follow);
    assert!(!s.view.unseen_below);
    // paging down all the way returns to following
    update(
        &mut s,
        Msg::Key(KeyEvent::new(KeyCode::Home, KeyModifiers::CONTROL)),
    );
    assert_eq!(
        s.view.scroll,
        Scroll::Anchored {
            entry: s.chat.entries[0].id,
            line: 0
        }
    );
    for _ in 0..200 {
        update(&mut s, key(KeyCode::PageDown));
    }
    assert_eq!(s.view.scroll, Scroll::Follow);
}

#[test]
fn stream_events_build_the_reply_and_errors_become_cards() {
    let mut s = state();
    send_text(&mut s, "hi");
    for ev in [
        StreamEvent::Reasoning {
            text: "thinking".into(),
        },
        StreamEvent::Content {
            text: "Hello".into(),
        },
        StreamEvent::ToolCallStart {
            index: 0,
            id: "Ab3dE6gH9".into(),
            name: "read_file".into(),
        },
        StreamEvent::ToolCallArgs {
            index: 0,
            fragment: "{\"path\":".into(),
        },
        StreamEvent::ToolCallArgs {
            index: 0,
            fragment: "\"a\"}".into(),
        },
        StreamEvent::Notice {
            message: "endpoint a is down; trying b".into(),
        },
    ] {
        update(&mut s, agent(AgentEvent::Stream { turn: 1, event: ev }));
    }
    assert!(
        matches!(&s.chat.entries[1].kind, EntryKind::Notice(n) if n.contains("trying b")),
        "notices go before the reply"
    );
    let EntryKind::Assistant(a) = &s.chat.entries[2].kind else {
        panic!()
    };
    assert_eq!(a.reasoning, "thinking");
    assert_eq!(a.content, "Hello");
    assert_eq!(a.tools[0].arguments, "{\"path\":\"a\"}");
    update(
        &mut s,
        agent(AgentEvent::TurnDone {
            turn: 1,
            outcome: TurnOutcome {
                ttft_ms: Some(42.0),
                tokens_per_s: Some(99.0),
                context_tokens: Some(1234),
                ..TurnOutcome::default()
            },
        }),
    );
    assert_eq!(s.usage.last.ttft_ms, Some(42.0));
    assert_eq!(s.usage.context_used, Some(1234));
    send_text(&mut s, "again");
    update(
        &mut s,
        agent(AgentEvent::TurnFailed {
            turn: 2,
            error: "cannot reach the model server".into(),
            hint: "start it".into(),
        }),
    );
    assert!(!s.is_running());
    assert!(
        matches!(&s.chat.entries.last().unwrap().kind, EntryKind::Error { message, .. } if message.contains("cannot reach"))
    );
    assert!(
        !s.chat
            .entries
            .iter()
            .any(|e| matches!(&e.kind, EntryKind::Assistant(a) if a.content.is_empty())),
        "an empty reply is removed"
    );
    // events of an old turn are ignored
    update(
        &mut s,
        agent(AgentEvent::Stream {
            turn: 1,
            event: StreamEvent::Content {
                text: "late".into(),
            },
        }),
    );
    let EntryKind::Assistant(a) = &s.chat.entries[2].kind else {
        panic!()
    };
    assert_eq!(a.content, "Hello");
}

#[test]
fn copy_keys_produce_copy_commands() {
    let mut s = state();
    send_text(&mut s, "code please");
    update(
        &mut s,
        agent(AgentEvent::Stream {
            turn: 1,
            event: StreamEvent::Content {
                text: "Here:\n```rust\nfn main() {}\n```\n".into(),
            },
        }),
    );
    finish(&mut s, 1);
    assert_eq!(
        update(&mut s, ctrl('y')),
        vec![Command::Copy("Here:\n```rust\nfn main() {}\n```\n".into())]
    );
    assert_eq!(
        update(
            &mut s,
            Msg::Key(KeyEvent::new(KeyCode::Char('y'), KeyModifiers::ALT))
        ),
        vec![Command::Copy("fn main() {}".into())]
    );
    assert_eq!(
        update(&mut s, key(KeyCode::F(2))),
        vec![Command::SetMouseCapture(false)]
    );
}

#[test]
fn the_mouse_wheel_scrolls_and_a_resize_keeps_the_view_whole() {
    use crossterm::event::{MouseEvent, MouseEventKind};
    let wheel = |kind| {
        Msg::Mouse(MouseEvent {
            kind,
            column: 10,
            row: 5,
            modifiers: KeyModifiers::NONE,
        })
    };
    let mut s = state();
    s.view.size = (80, 24);
    for i in 0..20 {
        send_text(&mut s, &format!("question {i}"));
        finish(&mut s, i + 1);
    }
    update(&mut s, wheel(MouseEventKind::ScrollUp));
    assert!(
        matches!(s.view.scroll, Scroll::Anchored { .. }),
        "{:?}",
        s.view.scroll
    );
    for _ in 0..100 {
        update(&mut s, wheel(MouseEventKind::ScrollDown));
    }
    assert_eq!(
        s.view.scroll,
        Scroll::Follow,
        "wheeling down to the end follows again"
    );
    // a click or move is not a scroll and changes nothing
    assert!(update(&mut s, wheel(MouseEventKind::Moved)).is_empty());
    assert_eq!(s.view.scroll, Scroll::Follow);

    update(&mut s, Msg::Resize(40, 12));
    assert_eq!(s.view.size, (40, 12));
    let mut t = ratatui::Terminal::new(ratatui::backend::TestBackend::new(40, 12)).unwrap();
    t.draw(|f| cove::ui::render(f, &s)).unwrap();
    let buf = t.backend().buffer().clone();
    let text: String = (0..12)
        .flat_map(|y| (0..40).map(move |x| (x, y)))
        .map(|p| buf[p].symbol().to_owned())
        .collect();
    assert!(
        text.contains("question 19"),
        "the newest message is in view after the resize"
    );
}

#[test]
fn tab_completes_a_command_and_a_typo_gets_the_closest_match() {
    let mut s = state();
    type_text(&mut s, "/pe");
    update(&mut s, key(KeyCode::Tab));
    assert_eq!(s.composer_text(), "/permissions ");
    assert_eq!(
        s.view.focus,
        Focus::Input,
        "Tab completed instead of moving focus"
    );
    let mut s = state();
    type_text(&mut s, "/permisions");
    let cmds = update(&mut s, key(KeyCode::Enter));
    assert!(
        cmds.iter().all(|c| !matches!(c, Command::Agent(_))),
        "{cmds:?}"
    );
    assert!(
        s.flash
            .as_ref()
            .unwrap()
            .0
            .contains("did you mean /permissions"),
        "{:?}",
        s.flash
    );
    // plain text: Tab still moves focus
    let mut s = state();
    type_text(&mut s, "hello");
    update(&mut s, key(KeyCode::Tab));
    assert_ne!(s.view.focus, Focus::Input);
}

#[test]
fn a_streaming_write_is_recomputed_at_most_every_50_ms_and_a_huge_one_is_summarised() {
    use cove::domain::live_edit::LiveView;
    let mut s = state();
    send_text(&mut s, "write it");
    let turn = s.turn().unwrap().id;
    let start = s.now;
    let ev = |event| Msg::Agent(AgentEvent::Stream { turn, event });
    update(
        &mut s,
        ev(StreamEvent::ToolCallStart {
            index: 0,
            id: "w".into(),
            name: "write_file".into(),
        }),
    );
    update(
        &mut s,
        ev(StreamEvent::ToolCallArgs {
            index: 0,
            fragment: r#"{"path":"a.txt","content":""#.into(),
        }),
    );
    update(
        &mut s,
        Msg::Agent(AgentEvent::LiveBase {
            turn,
            index: 0,
            path: "a.txt".into(),
            text: Ok(None),
        }),
    );
    // fragments at the same instant: the first line shows at once only after the throttle
    update(
        &mut s,
        ev(StreamEvent::ToolCallArgs {
            index: 0,
            fragment: "one\\n".into(),
        }),
    );
    let shown = |s: &State| match &s.diff.live.as_ref().unwrap().view {
        LiveView::Hunks { hunks, .. } => hunks.iter().map(|h| h.added()).sum::<usize>(),
        _ => 0,
    };
    update(
        &mut s,
        ev(StreamEvent::ToolCallArgs {
            index: 0,
            fragment: "two\\n".into(),
        }),
    );
    let before_tick = shown(&s);
    s.now = start + Duration::from_millis(200);
    update(&mut s, Msg::Tick);
    assert_eq!(shown(&s), 2, "the tick brings the view up to date");
    assert!(before_tick <= 2);
    // past 512 KB: a running summary instead of a diff
    let big = "x".repeat(100) + "\\n";
    for i in 0..6_000 {
        s.now = start + Duration::from_millis(300 + i);
        update(
            &mut s,
            ev(StreamEvent::ToolCallArgs {
                index: 0,
                fragment: big.clone(),
            }),
        );
    }
    match &s.diff.live.as_ref().unwrap().view {
        LiveView::Summary { lines, bytes, .. } => {
            assert!(*bytes > 512 * 1024);
            assert!(*lines > 5_000);
        }
        other => panic!("not summarised: {other:?}"),
    }
}

#[test]
fn a_notice_inserted_above_the_reply_keeps_the_view_and_the_stream_in_place() {
    let mut s = state();
    s.view.size = (80, 24);
    answered_turns(&mut s, 20, |i| format!("answer {i}\n\nsecond paragraph"));
    send_text(&mut s, "one more");
    update(&mut s, key(KeyCode::PageUp));
    update(&mut s, key(KeyCode::PageUp));
    let held = s.view.scroll;
    let before = render_text(&s, 80, 24);
    // the agent attaches files: a notice goes above the reply that has not begun
    update(
        &mut s,
        agent(AgentEvent::Notice {
            text: "attached src/main.rs".into(),
        }),
    );
    assert_eq!(
        s.view.scroll, held,
        "the anchor names an entry, not a position"
    );
    let text = |screen: &str| screen.lines().take(19).collect::<Vec<_>>().join("\n");
    assert_eq!(
        text(&render_text(&s, 80, 24)),
        text(&before),
        "the view did not move"
    );
    assert!(
        s.view.unseen_below,
        "the notice is new output below the view"
    );
    update(
        &mut s,
        agent(AgentEvent::Stream {
            turn: 21,
            event: StreamEvent::Content {
                text: "the streamed reply".into(),
            },
        }),
    );
    let n = s.chat.entries.len();
    assert!(matches!(&s.chat.entries[n - 2].kind, EntryKind::Notice(t) if t.contains("attached")));
    assert!(
        matches!(&s.chat.entries[n - 1].kind, EntryKind::Assistant(a) if a.content == "the streamed reply"),
        "the reply streams into its own entry, below the notice"
    );
}
