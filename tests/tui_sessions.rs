//! Sessions and the composer's popups at the `update` level: the command popup, `!`,
//! `@` picker, the session picker, a loaded transcript, and how they look.

mod tui_support;

use cove::app::msg::Command;
use cove::app::state::{EntryKind, SessionPicker, ToolState};
use cove::app::{Msg, update};
use cove::protocol::{AgentEvent, Op, PastTool, SessionSummary, ToolResultKind, TranscriptItem};
use crossterm::event::KeyCode;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use tui_support::*;

fn screen(s: &cove::app::state::State, w: u16, h: u16) -> String {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| cove::ui::render(f, s)).unwrap();
    let buf = t.backend().buffer().clone();
    (0..h)
        .map(|y| {
            (0..w)
                .map(|x| buf[(x, y)].symbol().to_string())
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn the_command_popup_narrows_chooses_and_runs() {
    let mut s = state();
    type_text(&mut s, "/");
    let all = screen(&s, 120, 40);
    for c in [
        "/clear",
        "/model",
        "/compact",
        "/sessions",
        "/export",
        "/quit",
    ] {
        assert!(all.contains(c), "{c} missing:\n{all}");
    }
    type_text(&mut s, "c");
    let sc = screen(&s, 120, 40);
    assert!(sc.contains("/clear") && sc.contains("/compact") && sc.contains("/commit"));
    assert!(!sc.contains("/model"), "{sc}");
    // Down twice selects /commit; Tab completes it with a space (popup closes)
    update(&mut s, key(KeyCode::Down));
    update(&mut s, key(KeyCode::Down));
    update(&mut s, key(KeyCode::Tab));
    assert_eq!(s.composer_text(), "/commit ");
    assert!(!screen(&s, 120, 40).contains("/compact"));
    // Enter on a partial command runs the selected one
    let mut s = state();
    type_text(&mut s, "/comp");
    let cmds = update(&mut s, key(KeyCode::Enter));
    assert!(cmds.contains(&Command::Agent(Op::Compact)), "{cmds:?}");
    // Esc closes the popup and keeps the text
    let mut s = state();
    type_text(&mut s, "/ex");
    update(&mut s, key(KeyCode::Esc));
    assert_eq!(s.composer_text(), "/ex");
    assert!(!screen(&s, 120, 40).contains("/export"));
}

#[test]
fn commands_send_their_ops_and_unknown_ones_name_the_closest() {
    let cases: &[(&str, Op)] = &[
        ("/clear", Op::NewSession),
        ("/sessions", Op::ListSessions),
        ("/export", Op::Export { path: None }),
        (
            "/export out.md",
            Op::Export {
                path: Some("out.md".into()),
            },
        ),
        ("/model", Op::SwitchModel { name: None }),
        (
            "/model big",
            Op::SwitchModel {
                name: Some("big".into()),
            },
        ),
        (
            "/commit fix the parser",
            Op::Commit {
                message: "fix the parser".into(),
            },
        ),
    ];
    for (text, op) in cases {
        let mut s = state();
        type_text(&mut s, text);
        update(&mut s, key(KeyCode::Esc)); // close the popup: Enter sends the text as typed
        let cmds = update(&mut s, key(KeyCode::Enter));
        assert!(
            cmds.contains(&Command::Agent(op.clone())),
            "{text}: {cmds:?}"
        );
    }
    let mut s = state();
    type_text(&mut s, "/sesions");
    update(&mut s, key(KeyCode::Enter));
    let flash = s.flash.clone().unwrap().0;
    assert!(flash.contains("did you mean /sessions"), "{flash}");
    // /commit alone: the agent commits the session's changes with a message the model
    // writes (not a turn whose git_commit would see only that turn's files); Esc stops it
    let mut s = state();
    type_text(&mut s, "/commit");
    let cmds = update(&mut s, key(KeyCode::Enter));
    assert!(
        cmds.contains(&Command::Agent(Op::Commit {
            message: String::new()
        })),
        "{cmds:?}"
    );
    assert!(s.is_running() && s.can_interrupt());
    let cmds = update(&mut s, key(KeyCode::Esc));
    assert!(cmds.contains(&Command::Agent(Op::Interrupt)), "{cmds:?}");
    update(&mut s, agent(AgentEvent::Ready));
    assert!(!s.is_running());
}

#[test]
fn bang_runs_a_command_and_its_output_is_shown() {
    let mut s = state();
    type_text(&mut s, "!cargo test -q");
    let cmds = update(&mut s, key(KeyCode::Enter));
    let turn = match cmds.iter().find_map(|c| match c {
        Command::Agent(Op::UserShell { turn, command }) => Some((*turn, command.clone())),
        _ => None,
    }) {
        Some((t, c)) => {
            assert_eq!(c, "cargo test -q");
            t
        }
        None => panic!("{cmds:?}"),
    };
    assert!(s.is_running());
    update(
        &mut s,
        agent(AgentEvent::ShellDone {
            turn,
            command: "cargo test -q".into(),
            output: "test result: ok. 3 passed".into(),
            ok: true,
        }),
    );
    assert!(!s.is_running());
    let sc = screen(&s, 100, 30);
    assert!(sc.contains("$ cargo test -q"), "{sc}");
    assert!(sc.contains("3 passed"), "{sc}");
}

#[test]
fn the_file_picker_opens_on_at_and_inserts_the_choice() {
    let mut s = state();
    type_text(&mut s, "see @");
    let cmds = update(&mut s, key(KeyCode::Char('m')));
    assert!(s.composer.file_picker.is_some());
    // the index is asked for once
    assert!(s.composer.indexing);
    let _ = cmds;
    update(
        &mut s,
        Msg::FileIndex(vec![
            "README.md".into(),
            "src/main.rs".into(),
            "src/app/mod.rs".into(),
        ]),
    );
    type_text(&mut s, "ain");
    let sc = screen(&s, 100, 30);
    assert!(sc.contains("src/main.rs"), "{sc}");
    assert!(!sc.contains("README.md"), "{sc}");
    update(&mut s, key(KeyCode::Enter));
    assert_eq!(s.composer_text(), "see @src/main.rs ");
    assert!(s.composer.file_picker.is_none());
    // a space ends the word: no picker
    type_text(&mut s, "and");
    assert!(s.composer.file_picker.is_none());
    // Esc closes it and the text stays
    type_text(&mut s, " @R");
    assert!(s.composer.file_picker.is_some());
    update(&mut s, key(KeyCode::Esc));
    assert!(s.composer.file_picker.is_none());
    assert_eq!(s.composer_text(), "see @src/main.rs and @R");
}

#[test]
fn the_session_picker_lists_and_resumes() {
    let mut s = state();
    s.overlay = cove::app::state::Overlay::Sessions(SessionPicker::loading());
    assert!(screen(&s, 100, 30).contains("listing"));
    let sessions = vec![
        SessionSummary {
            id: "20261130-101500-aaaa".into(),
            path: "/d/a.jsonl".into(),
            started: "2026-11-30 10:15".into(),
            first_prompt: "fix the flaky test".into(),
            turns: 3,
            files_changed: 2,
        },
        SessionSummary {
            id: "20261129-090000-bbbb".into(),
            path: "/d/b.jsonl".into(),
            started: "2026-11-29 09:00".into(),
            first_prompt: "add a --json flag".into(),
            turns: 1,
            files_changed: 0,
        },
    ];
    update(
        &mut s,
        agent(AgentEvent::Sessions {
            sessions,
            current: "20261130-101500-aaaa".into(),
        }),
    );
    let sc = screen(&s, 100, 30);
    assert!(
        sc.contains("fix the flaky test") && sc.contains("add a --json flag"),
        "{sc}"
    );
    assert!(sc.contains("3 turns"), "{sc}");
    update(&mut s, key(KeyCode::Down));
    let cmds = update(&mut s, key(KeyCode::Enter));
    assert!(
        cmds.contains(&Command::Agent(Op::Resume {
            path: "/d/b.jsonl".into()
        })),
        "{cmds:?}"
    );
    assert!(s.overlay.sessions().is_none());
}

#[test]
fn a_loaded_session_replaces_the_transcript() {
    let mut s = state();
    type_text(&mut s, "old message");
    update(&mut s, key(KeyCode::Enter));
    finish(&mut s, 1);
    update(
        &mut s,
        agent(AgentEvent::SessionLoaded {
            id: "20261129-090000-bbbb".into(),
            transcript: vec![
                TranscriptItem::User {
                    text: "add a --json flag".into(),
                    images: vec![],
                    previews: vec![],
                },
                TranscriptItem::Assistant {
                    model: "devstral".into(),
                    content: "Added it.".into(),
                    reasoning: String::new(),
                    tools: vec![PastTool {
                        id: "c1".into(),
                        name: "edit_file".into(),
                        arguments: "{\"path\":\"src/cli.rs\"}".into(),
                        mended: None,
                        result: Some((ToolResultKind::Done, "edited src/cli.rs (+3 -0)".into())),
                        changes: vec![cove::protocol::ProposedChange {
                            path: "src/cli.rs".into(),
                            old: Some("fn main() {}\n".into()),
                            new: Some("fn main() {\n    json();\n}\n".into()),
                        }],
                        ..PastTool::default()
                    }],
                },
                TranscriptItem::Notice("Compacted the conversation: …".into()),
            ],
            turns: 7,
        }),
    );
    assert_eq!(s.session_id, "20261129-090000-bbbb");
    assert_eq!(s.chat.entries.len(), 3);
    assert!(
        matches!(&s.chat.entries[1].kind, EntryKind::Assistant(a) if matches!(&a.tools[0].state, ToolState::Done(x) if x.contains("+3")))
    );
    assert_eq!(s.next_turn, 8);
    let sc = screen(&s, 120, 40);
    assert!(
        sc.contains("add a --json flag") && sc.contains("Added it."),
        "{sc}"
    );
    assert!(!sc.contains("old message"));
    // what cove changed is derived from the loaded transcript: the file count, the diff
    // pane's last change and `d` all know the resumed session's changes
    assert_eq!(
        s.chat.changed_files().into_iter().collect::<Vec<_>>(),
        vec!["src/cli.rs"]
    );
    s.view.focus = cove::app::state::Focus::Chat;
    update(&mut s, key(KeyCode::Char('d')));
    let sc = screen(&s, 120, 40);
    assert!(sc.contains("json();"), "{sc}");
    // loading another session forgets them
    update(
        &mut s,
        agent(AgentEvent::SessionLoaded {
            id: "20261129-100000-cccc".into(),
            transcript: vec![],
            turns: 0,
        }),
    );
    assert!(s.chat.changed_files().is_empty() && s.diff.shown.is_none());
}

#[test]
fn the_status_bar_shows_the_estimate_against_the_window() {
    let mut s = state();
    update(
        &mut s,
        agent(AgentEvent::ContextUsage {
            tokens: 24_576,
            window: Some(32_768),
        }),
    );
    let sc = screen(&s, 120, 40);
    assert!(
        sc.contains("ctx 25k/33k (75%)") || sc.contains("ctx 24.6k/32.8k (75%)"),
        "{}",
        sc.lines().last().unwrap()
    );
}

#[test]
fn a_notice_before_the_reply_begins_goes_above_it() {
    let mut s = state();
    type_text(&mut s, "explain @main.rs");
    update(&mut s, key(KeyCode::Enter));
    update(
        &mut s,
        agent(AgentEvent::Notice {
            text: "Attached main.rs.".into(),
        }),
    );
    update(
        &mut s,
        agent(AgentEvent::Stream {
            turn: 1,
            event: cove::protocol::StreamEvent::Content {
                text: "It prints hi.".into(),
            },
        }),
    );
    let kinds: Vec<String> = s
        .chat
        .entries
        .iter()
        .map(|e| match &e.kind {
            EntryKind::User { text, .. } => format!("user {text}"),
            EntryKind::Notice(t) => format!("notice {t}"),
            EntryKind::Assistant(a) => format!("reply {}", a.content),
            _ => "other".into(),
        })
        .collect();
    assert_eq!(
        kinds,
        vec![
            "user explain @main.rs",
            "notice Attached main.rs.",
            "reply It prints hi."
        ]
    );
}

#[test]
fn a_command_recalled_from_history_leaves_up_and_down_to_the_history() {
    let mut s = state();
    for text in ["/diff", "hello"] {
        type_text(&mut s, text);
        update(&mut s, key(KeyCode::Esc));
        update(&mut s, key(KeyCode::Enter));
        let t = s.next_turn - 1;
        finish(&mut s, t);
    }
    update(&mut s, key(KeyCode::Up));
    assert_eq!(s.composer_text(), "hello");
    update(&mut s, key(KeyCode::Up));
    assert_eq!(s.composer_text(), "/diff");
    update(&mut s, key(KeyCode::Down));
    assert_eq!(
        s.composer_text(),
        "hello",
        "Down went back in the history, not into a popup"
    );
}

#[test]
fn nothing_is_sent_while_the_agent_compacts_or_switches_sessions() {
    for command in ["/compact", "/clear"] {
        let mut s = state();
        type_text(&mut s, command);
        update(&mut s, key(KeyCode::Esc));
        update(&mut s, key(KeyCode::Enter));
        assert!(s.is_running(), "{command}");
        type_text(&mut s, "next question");
        let cmds = update(&mut s, key(KeyCode::Enter));
        assert!(
            !cmds
                .iter()
                .any(|c| matches!(c, Command::Agent(Op::UserTurn { .. }))),
            "{command}: {cmds:?}"
        );
        assert_eq!(s.composer_text(), "next question", "the text waits");
        update(&mut s, agent(AgentEvent::Ready));
        let cmds = update(&mut s, key(KeyCode::Enter));
        assert!(
            cmds.iter()
                .any(|c| matches!(c, Command::Agent(Op::UserTurn { .. })))
        );
    }
}

#[test]
fn a_session_list_that_comes_after_the_picker_closed_does_not_reopen_it() {
    let mut s = state();
    s.overlay = cove::app::state::Overlay::Sessions(SessionPicker::loading());
    update(&mut s, key(KeyCode::Esc));
    update(
        &mut s,
        agent(AgentEvent::Sessions {
            sessions: vec![],
            current: "x".into(),
        }),
    );
    assert!(s.overlay.sessions().is_none());
}

#[test]
fn without_colour_the_selected_command_is_reversed() {
    let mut s = state_with(cove::config::theme::Theme::monochrome());
    type_text(&mut s, "/cl");
    let mut t = Terminal::new(TestBackend::new(100, 30)).unwrap();
    t.draw(|f| cove::ui::render(f, &s)).unwrap();
    let buf = t.backend().buffer().clone();
    let row = (0..30)
        .find(|&y| {
            (0..100)
                .map(|x| buf[(x, y)].symbol())
                .collect::<String>()
                .contains("/clear")
        })
        .unwrap();
    let x = (0..100).find(|&x| buf[(x, row)].symbol() == "/").unwrap();
    assert!(
        buf[(x, row)]
            .modifier
            .contains(ratatui::style::Modifier::REVERSED),
        "{:?}",
        buf[(x, row)]
    );
}
