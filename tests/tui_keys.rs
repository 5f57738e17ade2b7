//! Keys are actions: every hint on screen, the help overlay and the queue's, the diff
//! pane's and the "everything" view's lines name the key the user bound (`[keys]`), never
//! the default one.

mod tui_support;

use std::collections::BTreeMap;

use cove::app::keymap::{Action, KeyMap};
use cove::app::state::*;
use cove::app::{Command, update};
use cove::protocol::{AgentEvent, ApprovalKind, ApprovalRequest, Decision, Op, ProposedChange};
use crossterm::event::KeyCode;
use tui_support::*;

fn rebound() -> KeyMap {
    let pairs: &[(&str, &str)] = &[
        ("approve", "o"),
        ("reject", "x"),
        ("allow_session", "A"),
        ("edit", "E"),
        ("approve_all", "O"),
        ("reject_all", "X"),
        ("view_all", "w"),
        ("toggle_hunk", "t"),
        ("next_hunk", ">"),
        ("prev_hunk", "<"),
        ("side_by_side", "S"),
        ("copy_reply", "ctrl+k"),
        ("next_change", "D"),
        ("focus_next", "f6"),
        ("quit_pane", "ctrl+q"),
    ];
    let keys: BTreeMap<String, Vec<String>> = pairs
        .iter()
        .map(|(a, k)| (a.to_string(), vec![k.to_string()]))
        .collect();
    KeyMap::from_config(&keys).unwrap()
}

fn edit_request(id: &str) -> ApprovalRequest {
    ApprovalRequest {
        call_id: id.into(),
        tool: "edit_file".into(),
        kind: ApprovalKind::Files { in_editor: true },
        arguments: r#"{"path":"a.txt"}"#.into(),
        edit_text: "{}".into(),
        summary: "a.txt +1 -1".into(),
        danger: None,
        changes: vec![ProposedChange {
            path: "a.txt".into(),
            old: Some("one\ntwo\nthree\n".into()),
            new: Some("one\n2\nthree\n".into()),
        }],
        session_prefix: None,
    }
}

fn waiting(keymap: KeyMap) -> State {
    let mut s = state();
    s.keymap = keymap;
    type_text(&mut s, "fix it");
    update(&mut s, key(KeyCode::Enter));
    update(
        &mut s,
        agent(AgentEvent::ApprovalNeeded {
            turn: 1,
            request: edit_request("c1"),
        }),
    );
    s
}

/// The screens where decision keys are named: the queue (wide and in the narrow layout's
/// tab), the diff pane, the "everything" view, the help overlay.
fn screens(s: &mut State) -> Vec<String> {
    let mut out = vec![render_text(s, 120, 40)];
    s.view.focus = Focus::Approvals;
    s.view.main_tab = Focus::Approvals;
    out.push(render_text(s, 80, 24));
    s.view.focus = Focus::Diff;
    s.view.main_tab = Focus::Diff;
    out.push(render_text(s, 120, 40));
    out.push(render_text(s, 80, 24));
    s.view.focus = Focus::Approvals;
    let w = s.keymap.keys(Action::ViewAll);
    let c = w.chars().next().unwrap();
    update(s, key(KeyCode::Char(c)));
    assert!(s.overlay.view_all().is_some(), "{w} opens the view");
    out.push(render_text(s, 120, 40));
    update(s, key(KeyCode::Esc));
    s.overlay = cove::app::state::Overlay::help();
    for _ in 0..4 {
        out.push(render_text(s, 120, 40));
        if let cove::app::state::Overlay::Help { scroll } = &mut s.overlay {
            *scroll += 30;
        }
    }
    s.overlay = cove::app::state::Overlay::None;
    out
}

#[test]
fn every_hint_follows_a_rebinding() {
    // the defaults, as a baseline: the test can see the hints it checks
    let mut s = waiting(KeyMap::default());
    let all = screens(&mut s).join("\n");
    for hint in [
        "y approve",
        "n reject",
        "y apply taken",
        "Space take/leave",
        "v view all",
    ] {
        assert!(all.contains(hint), "default hint {hint:?} missing:\n{all}");
    }

    let mut s = waiting(rebound());
    let shown = screens(&mut s);
    let all = shown.join("\n");
    for hint in [
        "o approve",
        "x reject",
        "A allow for session",
        "E edit",
        "w view all",
        "O/X all",
        "o apply taken",
        "t take/leave",
        ">/< hunk",
        "S side by side",
        "Esc or w closes",
    ] {
        assert!(all.contains(hint), "{hint:?} missing:\n{all}");
    }
    for stale in [
        "y approve",
        "n reject",
        "y apply",
        "Space take",
        "v view all",
        "Y/N",
        "]/[",
        "or v closes",
    ] {
        assert!(!all.contains(stale), "{stale:?} still shown:\n{all}");
    }
    // the help overlay's rows name the bound keys
    let help = shown[shown.len() - 4..].join("\n");
    for (key, what) in [
        ("o", "approve the selected call"),
        ("x", "reject it"),
        ("Ctrl+K", "copy the last reply"),
        ("t", "take / leave the hunk"),
        ("F6 / Shift+Tab", "cycle focus"),
        ("D (chat)", "the change of a tool call"),
        ("Ctrl+Q", "quit (when the input is not focused)"),
    ] {
        assert!(
            // the key column starts right after the overlay's border
            help.lines()
                .any(|l| l.contains(&format!("│{key} ")) && l.contains(what)),
            "help row {key} {what}:\n{help}"
        );
    }
    // and the keys do what the hints say
    s.view.focus = Focus::Approvals;
    let cmds = update(&mut s, key(KeyCode::Char('o')));
    assert_eq!(
        cmds,
        vec![Command::Agent(Op::Decide {
            call_id: "c1".into(),
            decision: Decision::Approve
        })]
    );
    // navigation is in the table too: the rebound key acts, the default does nothing
    let before = s.view.focus;
    update(&mut s, key(KeyCode::Tab));
    assert_eq!(s.view.focus, before, "Tab was moved to F6");
    update(&mut s, key(KeyCode::F(6)));
    assert_ne!(s.view.focus, before, "F6 cycles focus");
    s.view.focus = Focus::Chat;
    update(&mut s, key(KeyCode::Char('q')));
    assert!(!s.should_quit, "q was moved to Ctrl+Q");
}
