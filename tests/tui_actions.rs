//! `update` per action and per overlay: each action does its one thing from where it is
//! resolved, and each overlay takes the keys while it is open and gives them back.

mod tui_support;

use cove::app::state::*;
use cove::app::{Command, Msg, update};
use cove::protocol::{AgentEvent, ApprovalKind, ApprovalRequest, Decision, Op, ProposedChange};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use tui_support::*;

fn with(code: KeyCode, m: KeyModifiers) -> Msg {
    Msg::Key(KeyEvent::new(code, m))
}

fn request(id: &str, path: &str) -> ApprovalRequest {
    ApprovalRequest {
        call_id: id.into(),
        tool: "edit_file".into(),
        kind: ApprovalKind::Files { in_editor: true },
        arguments: format!(r#"{{"path":"{path}"}}"#),
        edit_text: "{}".into(),
        summary: format!("{path} +1 -1"),
        danger: None,
        changes: vec![ProposedChange {
            path: path.into(),
            old: Some("one\ntwo\nthree\n\n\n\n\n\n\n\n\nfour\n".into()),
            new: Some("one\n2\nthree\n\n\n\n\n\n\n\n\n4\n".into()),
        }],
        session_prefix: None,
    }
}

/// A turn with two edits waiting.
fn waiting() -> State {
    let mut s = state();
    type_text(&mut s, "fix it");
    update(&mut s, key(KeyCode::Enter));
    for (id, path) in [("c1", "a.txt"), ("c2", "b.txt")] {
        update(
            &mut s,
            agent(AgentEvent::ApprovalNeeded {
                turn: 1,
                request: request(id, path),
            }),
        );
    }
    s
}

fn decided(cmds: &[Command]) -> Vec<(String, Decision)> {
    cmds.iter()
        .filter_map(|c| match c {
            Command::Agent(Op::Decide { call_id, decision }) => {
                Some((call_id.clone(), decision.clone()))
            }
            _ => None,
        })
        .collect()
}

#[test]
fn focus_and_scrolling_actions() {
    let mut s = state();
    assert_eq!(s.view.focus, Focus::Input);
    update(&mut s, key(KeyCode::Tab));
    assert_eq!((s.view.focus, s.view.main_tab), (Focus::Chat, Focus::Chat));
    update(&mut s, with(KeyCode::BackTab, KeyModifiers::SHIFT));
    assert_eq!(s.view.focus, Focus::Input);
    // on a pane, `i` and Enter go back to the input; a character starts typing
    update(&mut s, key(KeyCode::Tab));
    update(&mut s, key(KeyCode::Char('i')));
    assert_eq!(s.view.focus, Focus::Input);
    update(&mut s, key(KeyCode::Tab));
    update(&mut s, key(KeyCode::Char('w')));
    assert_eq!(s.view.focus, Focus::Input);
    assert_eq!(s.composer_text(), "w");
    // while typing, `k`, `j`, `d`, `q` and Home are text, not actions
    type_text(&mut s, "kjdq");
    update(&mut s, key(KeyCode::Home));
    assert_eq!(s.composer_text(), "wkjdq");
    assert!(!s.should_quit);
    // reasoning and details toggle from anywhere
    update(&mut s, ctrl('t'));
    update(&mut s, ctrl('o'));
    assert!(s.view.reasoning_expanded && s.view.details_expanded);
}

#[test]
fn decision_actions_on_the_queue() {
    let mut s = waiting();
    s.view.focus = Focus::Approvals;
    // Down / j moves the selection, the diff cursor starts over
    s.diff.cursor = 1;
    update(&mut s, key(KeyCode::Char('j')));
    assert_eq!((s.queue.selected, s.diff.cursor), (1, 0));
    update(&mut s, key(KeyCode::Up));
    assert_eq!(s.queue.selected, 0);
    // `n` asks for a reason first; Esc cancels it
    update(&mut s, key(KeyCode::Char('n')));
    assert_eq!(s.layer(), Layer::ApprovalInput);
    update(&mut s, key(KeyCode::Esc));
    assert_eq!(s.layer(), Layer::Main);
    // `q` does not quit while calls wait
    update(&mut s, key(KeyCode::Char('q')));
    assert!(!s.should_quit);
    // `y` decides the selected call, the one on screen
    let cmds = update(&mut s, key(KeyCode::Char('y')));
    assert_eq!(decided(&cmds), vec![("c1".into(), Decision::Approve)]);
    // `N` rejects what is left
    let cmds = update(&mut s, key(KeyCode::Char('N')));
    assert_eq!(
        decided(&cmds),
        vec![("c2".into(), Decision::Reject { reason: None })]
    );
}

#[test]
fn diff_actions_on_the_diff_pane() {
    let mut s = waiting();
    s.view.focus = Focus::Diff;
    update(&mut s, key(KeyCode::Enter));
    assert!(s.diff.expanded, "Enter on the diff pane shows more context");
    assert_eq!(s.view.focus, Focus::Diff, "and does not leave the pane");
    update(&mut s, key(KeyCode::Char('s')));
    assert!(s.diff.side_by_side);
    update(&mut s, key(KeyCode::Char('z')));
    assert!(s.diff.zoomed);
    update(&mut s, key(KeyCode::Esc));
    assert!(!s.diff.zoomed, "Esc leaves the zoom before anything else");
    assert!(s.is_running(), "and does not interrupt the turn");
    // two hunks: `]` moves, Space leaves the second out, `y` applies the first only
    update(&mut s, key(KeyCode::Char(']')));
    assert_eq!(s.diff.cursor, 1);
    update(&mut s, key(KeyCode::Char(' ')));
    let cmds = update(&mut s, key(KeyCode::Char('y')));
    assert_eq!(
        decided(&cmds),
        vec![(
            "c1".into(),
            Decision::ApproveHunks {
                declined: vec![(0, 1)]
            }
        )]
    );
    // `n` on the diff pane rejects at once
    let cmds = update(&mut s, key(KeyCode::Char('n')));
    assert_eq!(
        decided(&cmds),
        vec![("c2".into(), Decision::Reject { reason: None })]
    );
}

#[test]
fn each_overlay_takes_the_keys_and_gives_them_back() {
    // help: scrolls with j, any other key closes it
    let mut s = state();
    update(&mut s, key(KeyCode::F(1)));
    assert_eq!(s.layer(), Layer::Help);
    update(&mut s, key(KeyCode::Char('j')));
    assert!(matches!(s.overlay, Overlay::Help { scroll: 1 }));
    assert_eq!(s.composer_text(), "", "keys in help are not typed");
    update(&mut s, key(KeyCode::Char('x')));
    assert_eq!(s.layer(), Layer::Main);
    // `?` on an empty input is help; with text it is typed
    update(&mut s, key(KeyCode::Char('?')));
    assert_eq!(s.layer(), Layer::Help);
    update(&mut s, key(KeyCode::Esc));
    type_text(&mut s, "why?");
    assert_eq!(s.composer_text(), "why?");

    // the session picker: Esc closes it
    let mut s = state();
    s.overlay = Overlay::Sessions(SessionPicker::loading());
    update(&mut s, key(KeyCode::Char('y')));
    assert_eq!(s.layer(), Layer::Sessions);
    update(&mut s, key(KeyCode::Esc));
    assert_eq!(s.layer(), Layer::Main);

    // the "everything" view: scrolls, decides the call it shows, Esc closes
    let mut s = waiting();
    s.view.focus = Focus::Approvals;
    update(&mut s, key(KeyCode::Char('j')));
    update(&mut s, key(KeyCode::Char('v')));
    assert_eq!(s.layer(), Layer::ViewAll);
    assert_eq!(s.overlay.view_all().unwrap().call_id, "c2");
    update(&mut s, key(KeyCode::Esc));
    assert_eq!(s.layer(), Layer::Main);
    update(&mut s, key(KeyCode::Char('v')));
    let cmds = update(&mut s, key(KeyCode::Char('y')));
    assert_eq!(decided(&cmds), vec![("c2".into(), Decision::Approve)]);
    assert_eq!(s.layer(), Layer::Main, "the decided call's view closes");

    // the command list: Esc closes it, the text stays
    let mut s = state();
    type_text(&mut s, "/mo");
    assert_eq!(s.layer(), Layer::Popup);
    update(&mut s, key(KeyCode::Esc));
    assert_eq!(s.layer(), Layer::Main);
    assert_eq!(s.composer_text(), "/mo");

    // Ctrl+C reaches through an overlay: it closes it and does what it does
    let mut s = waiting();
    s.view.focus = Focus::Approvals;
    update(&mut s, key(KeyCode::Char('v')));
    let cmds = update(&mut s, ctrl('c'));
    assert!(cmds.contains(&Command::Agent(Op::Interrupt)), "{cmds:?}");
    assert_eq!(s.layer(), Layer::Main);
}
