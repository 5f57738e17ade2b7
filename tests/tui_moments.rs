//! Whole frames at 120x40, 80x24 and 40x20 for the moments the screen must serve: a queue
//! of five mixed calls waiting for the user (cards in words, the queue, the selected
//! call's diff), the same calls decided and run, and an image that could not be attached
//! (an error card with what to do). `INSTA_UPDATE=always` and review to accept changes.

mod tui_support;

use cove::app::state::State;
use cove::app::{Msg, update};
use cove::config::theme::Theme;
use cove::protocol::{
    AgentEvent, ApprovalKind, ApprovalRequest, ProposedChange, StreamEvent, ToolCallInfo,
    ToolResultKind, TurnOutcome,
};
use crossterm::event::KeyCode;
use serde_json::json;
use tui_support::*;

const SIZES: [(u16, u16); 3] = [(120, 40), (80, 24), (40, 20)];

fn frame(s: &mut State, w: u16, h: u16) -> String {
    s.view.size = (w, h);
    render_text(s, w, h)
        .lines()
        .map(|l| format!("{}\n", l.trim_end()))
        .collect()
}

fn snap_all(name: &str, build: impl Fn() -> State) {
    for (w, h) in SIZES {
        let mut s = build();
        let text = frame(&mut s, w, h);
        insta::assert_snapshot!(format!("{name}_{w}x{h}"), text);
    }
}

/// Five calls of one reply: an edit, a command, a patch of two files, a new file, a commit.
fn calls() -> Vec<(&'static str, &'static str, serde_json::Value)> {
    vec![
        (
            "c1",
            "edit_file",
            json!({"path": "src/main.rs", "old_string": "    println!(\"hi\");\n", "new_string": "    let name = args().nth(1);\n    println!(\"hi {name:?}\");\n"}),
        ),
        ("c2", "shell", json!({"command": "cargo test --lib"})),
        (
            "c3",
            "apply_patch",
            json!({"patch": "--- a/src/a.rs\n+++ b/src/a.rs\n@@ -1 +1 @@\n-a\n+b\n--- a/src/b.rs\n+++ b/src/b.rs\n@@ -1 +1,2 @@\n b\n+c\n"}),
        ),
        (
            "c4",
            "write_file",
            json!({"path": "NOTES.md", "content": "# Notes\n\nFirst line.\n"}),
        ),
        (
            "c5",
            "git_commit",
            json!({"message": "Greet by name\n\nReads the first argument."}),
        ),
    ]
}

fn request(id: &str, tool: &str, args: &serde_json::Value) -> ApprovalRequest {
    let field = |k: &str| args[k].as_str().unwrap_or_default().to_owned();
    let (kind, changes, summary) = match tool {
        "shell" => (
            ApprovalKind::Command(field("command")),
            vec![],
            field("command"),
        ),
        "git_commit" => (
            ApprovalKind::Commit(field("message")),
            vec![],
            format!("commit: {}", field("message").lines().next().unwrap_or("")),
        ),
        "edit_file" => (
            ApprovalKind::Files { in_editor: true },
            vec![ProposedChange {
                path: "src/main.rs".into(),
                old: Some("fn main() {\n    println!(\"hi\");\n}\n".into()),
                new: Some(
                    "fn main() {\n    let name = args().nth(1);\n    println!(\"hi {name:?}\");\n}\n"
                        .into(),
                ),
            }],
            "src/main.rs +2 -1".into(),
        ),
        "write_file" => (
            ApprovalKind::Files { in_editor: true },
            vec![ProposedChange {
                path: "NOTES.md".into(),
                old: None,
                new: Some("# Notes\n\nFirst line.\n".into()),
            }],
            "NOTES.md (new, 3 lines)".into(),
        ),
        _ => (
            ApprovalKind::Files { in_editor: false },
            vec![
                ProposedChange {
                    path: "src/a.rs".into(),
                    old: Some("a\n".into()),
                    new: Some("b\n".into()),
                },
                ProposedChange {
                    path: "src/b.rs".into(),
                    old: Some("b\n".into()),
                    new: Some("b\nc\n".into()),
                },
            ],
            "src/a.rs +1 -1, src/b.rs +1".into(),
        ),
    };
    ApprovalRequest {
        call_id: id.into(),
        tool: tool.into(),
        kind,
        arguments: args.to_string(),
        edit_text: field("command"),
        summary,
        danger: None,
        changes,
        session_prefix: None,
    }
}

fn five_waiting() -> State {
    let mut s = state_with(Theme::monochrome());
    type_text(&mut s, "greet the user by name, note it and commit");
    update(&mut s, key(KeyCode::Enter));
    s.now = s.turn().unwrap().started;
    update(
        &mut s,
        agent(AgentEvent::Stream {
            turn: 1,
            event: StreamEvent::Content {
                text: "I'll read the name from the arguments.\nThen test and commit.".into(),
            },
        }),
    );
    let calls = calls();
    update(
        &mut s,
        agent(AgentEvent::StepDone {
            turn: 1,
            outcome: TurnOutcome {
                finish_reason: Some("tool_calls".into()),
                tool_calls: calls
                    .iter()
                    .map(|(id, name, args)| ToolCallInfo {
                        id: (*id).into(),
                        name: (*name).into(),
                        arguments: args.to_string(),
                        mended: None,
                    })
                    .collect(),
                ..Default::default()
            },
        }),
    );
    for (id, name, args) in &calls {
        update(
            &mut s,
            agent(AgentEvent::ApprovalNeeded {
                turn: 1,
                request: request(id, name, args),
            }),
        );
    }
    s
}

#[test]
fn a_queue_of_five_mixed_calls() {
    snap_all("queue_of_five", five_waiting);
}

#[test]
fn five_calls_decided_and_run() {
    snap_all("five_decided", || {
        let mut s = five_waiting();
        // approve the edit, the command, the patch; decline the note and the commit
        for k in ['y', 'y', 'y', 'n'] {
            update(&mut s, key(KeyCode::Char(k)));
        }
        update(&mut s, key(KeyCode::Enter)); // no reason
        update(&mut s, key(KeyCode::Char('n')));
        update(&mut s, key(KeyCode::Enter));
        for (id, summary) in [
            ("c1", "edited src/main.rs (+2 -1)"),
            ("c2", "test result: ok. 12 passed; 0 failed"),
            ("c3", "patched src/a.rs, src/b.rs"),
        ] {
            update(
                &mut s,
                agent(AgentEvent::ToolFinished {
                    turn: 1,
                    call_id: id.into(),
                    kind: ToolResultKind::Done,
                    summary: summary.into(),
                    output: String::new(),
                    changes: vec![],
                }),
            );
        }
        s
    });
}

#[test]
fn an_image_that_could_not_be_attached() {
    snap_all("image_error_card", || {
        let mut s = state_with(Theme::monochrome());
        update(
            &mut s,
            Msg::Attached(Err(
                "shot.png: not an image: the file starts like a PDF document".into(),
            )),
        );
        s
    });
}

#[test]
fn below_100_columns_the_approvals_tab_shows_what_y_decides() {
    let mut s = five_waiting();
    s.view.main_tab = cove::app::state::Focus::Approvals;
    // the edit: its diff under the list
    let screen = frame(&mut s, 80, 24);
    assert!(screen.contains("approvals · 5"), "{screen}");
    assert!(screen.contains("let name = args().nth(1);"), "{screen}");
    // the command: its command line under the list, and y approves that command
    update(&mut s, key(KeyCode::Char('j')));
    let screen = frame(&mut s, 80, 24);
    assert!(screen.contains("call · shell"), "{screen}");
    assert!(!screen.contains("let name = args().nth(1);"), "{screen}");
    let cmds = update(&mut s, key(KeyCode::Char('y')));
    assert!(format!("{cmds:?}").contains("call_id: \"c2\""), "{cmds:?}");
}

#[test]
fn a_zoomed_diff() {
    snap_all("zoomed_diff", || {
        let mut s = five_waiting();
        update(&mut s, key(KeyCode::Char('z')));
        assert!(s.diff.zoomed);
        s
    });
    // z or Esc returns; the queue still has the calls
    let mut s = five_waiting();
    update(&mut s, key(KeyCode::Char('z')));
    let screen = frame(&mut s, 120, 40);
    assert!(
        !screen.contains("approvals · 5") && !screen.contains("▍you"),
        "{screen}"
    );
    update(&mut s, key(KeyCode::Esc));
    assert!(!s.diff.zoomed && s.queue.items.len() == 5);
    assert!(frame(&mut s, 120, 40).contains("approvals · 5"));
}

#[test]
fn the_focused_pane_shows_without_colour() {
    // NO_COLOR: no colours at all, so focus must show in the border's shape
    let mut s = state_with(Theme::monochrome());
    s.view.size = (120, 40);
    let top_left = |screen: &str, title: &str| {
        screen
            .lines()
            .find_map(|l| {
                l.find(title)
                    .and_then(|i| l[..i].chars().last())
                    .filter(|c| matches!(c, '┏' | '┌'))
            })
            .unwrap_or_else(|| panic!("no {title:?} pane:\n{screen}"))
    };
    let screen = render_text(&s, 120, 40);
    assert_eq!(top_left(&screen, " chat "), '┌');
    assert_eq!(top_left(&screen, " message "), '┏', "the input has focus");
    update(&mut s, key(KeyCode::Tab));
    let screen = render_text(&s, 120, 40);
    assert_eq!(top_left(&screen, " chat "), '┏', "Tab: the chat has focus");
    assert_eq!(top_left(&screen, " message "), '┌');
}
