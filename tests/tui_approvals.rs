//! The approval queue at the `update` level: one keystroke decides, focus moves to the
//! queue and back, reasons and edits, approve/reject all, Esc stops the turn.

mod tui_support;

use cove::app::state::*;
use cove::app::{Command, update};
use cove::protocol::{
    AgentEvent, ApprovalKind, ApprovalRequest, Decision, Op, ProposedChange, ToolResultKind,
};
use crossterm::event::KeyCode;
use tui_support::*;

/// A request as the agent describes a built-in call: what it does, and the text `e` edits
/// (the command line of a command, else the arguments as indented JSON).
fn request(id: &str, tool: &str, args: &str, summary: &str) -> ApprovalRequest {
    let parsed: serde_json::Value = serde_json::from_str(args).unwrap();
    let field = |k: &str| parsed[k].as_str().unwrap_or_default().to_owned();
    let kind = match tool {
        "shell" => ApprovalKind::Command(field("command")),
        "edit_file" | "write_file" => ApprovalKind::Files { in_editor: true },
        "apply_patch" => ApprovalKind::Files { in_editor: false },
        "git_commit" => ApprovalKind::Commit(field("message")),
        _ => ApprovalKind::Other,
    };
    let edit_text = match &kind {
        ApprovalKind::Command(c) => c.clone(),
        _ => serde_json::to_string_pretty(&parsed).unwrap(),
    };
    ApprovalRequest {
        call_id: id.into(),
        tool: tool.into(),
        kind,
        arguments: args.into(),
        edit_text,
        summary: summary.into(),
        danger: None,
        changes: vec![ProposedChange {
            path: "a.txt".into(),
            old: Some("one\n".into()),
            new: Some("two\n".into()),
        }],
        session_prefix: (tool == "shell").then(|| "cargo test".into()),
    }
}

/// A running turn with `reqs` queued, and some text typed in the composer meanwhile.
fn queued(reqs: Vec<ApprovalRequest>) -> State {
    let mut s = state();
    type_text(&mut s, "fix it");
    update(&mut s, key(KeyCode::Enter));
    type_text(&mut s, "draft in progress");
    for r in reqs {
        update(
            &mut s,
            agent(AgentEvent::ApprovalNeeded {
                turn: 1,
                request: r,
            }),
        );
    }
    s
}

fn decide(id: &str, d: Decision) -> Command {
    Command::Agent(Op::Decide {
        call_id: id.into(),
        decision: d,
    })
}

#[test]
fn a_queued_call_takes_focus_and_y_approves_it() {
    let mut s = queued(vec![request("c1", "edit_file", "{}", "a.txt +1 -1")]);
    assert_eq!(s.view.focus, Focus::Approvals);
    assert_eq!(s.queue.items.len(), 1);
    assert_eq!(
        s.composer_text(),
        "draft in progress",
        "the composer keeps its text"
    );
    assert_eq!(
        update(&mut s, key(KeyCode::Char('y'))),
        vec![decide("c1", Decision::Approve)]
    );
    assert!(s.queue.items.is_empty());
    assert_eq!(
        s.view.focus,
        Focus::Input,
        "focus returns to the composer when the queue is empty"
    );
}

#[test]
fn n_asks_for_an_optional_reason() {
    let mut s = queued(vec![request("c1", "write_file", "{}", "a.txt")]);
    assert!(update(&mut s, key(KeyCode::Char('n'))).is_empty());
    assert!(s.queue.input.is_some());
    type_text(&mut s, "not that file");
    assert_eq!(
        update(&mut s, key(KeyCode::Enter)),
        vec![decide(
            "c1",
            Decision::Reject {
                reason: Some("not that file".into())
            }
        )]
    );
    // without a reason
    let mut s = queued(vec![request("c2", "write_file", "{}", "a.txt")]);
    update(&mut s, key(KeyCode::Char('n')));
    assert_eq!(
        update(&mut s, key(KeyCode::Enter)),
        vec![decide("c2", Decision::Reject { reason: None })]
    );
    // Esc backs out of the reason without deciding
    let mut s = queued(vec![request("c3", "write_file", "{}", "a.txt")]);
    update(&mut s, key(KeyCode::Char('n')));
    assert!(update(&mut s, key(KeyCode::Esc)).is_empty());
    assert!(s.queue.input.is_none());
    assert_eq!(s.queue.items.len(), 1);
}

#[test]
fn a_allows_for_the_session_and_e_edits_before_approving() {
    let mut s = queued(vec![request(
        "c1",
        "shell",
        r#"{"command":"cargo test"}"#,
        "cargo test",
    )]);
    // for shell, `a` shows the prefix it would allow; the user confirms or narrows it
    assert!(update(&mut s, key(KeyCode::Char('a'))).is_empty());
    let input = s.queue.input.as_ref().expect("prefix input");
    assert_eq!(input.mode, InputMode::Prefix);
    assert_eq!(input.text.lines().join("\n"), "cargo test");
    type_text(&mut s, " --lib");
    assert_eq!(
        update(&mut s, key(KeyCode::Enter)),
        vec![decide(
            "c1",
            Decision::AllowPrefix("cargo test --lib".into())
        )]
    );
    assert!(s.flash.as_ref().unwrap().0.contains("cargo test --lib"));

    // for other tools `a` allows the tool at once
    let mut s = queued(vec![request("w1", "write_file", "{}", "a.txt")]);
    assert_eq!(
        update(&mut s, key(KeyCode::Char('a'))),
        vec![decide("w1", Decision::ApproveForSession)]
    );
    assert!(s.flash.as_ref().unwrap().0.contains("write_file"));

    let mut s = queued(vec![request(
        "c2",
        "shell",
        r#"{"command":"cargo test"}"#,
        "cargo test",
    )]);
    update(&mut s, key(KeyCode::Char('e')));
    let input = s.queue.input.as_ref().expect("edit input");
    assert_eq!(
        input.text.lines().join("\n"),
        "cargo test",
        "shell edits the command itself"
    );
    type_text(&mut s, " --lib");
    assert_eq!(
        update(&mut s, key(KeyCode::Enter)),
        vec![decide(
            "c2",
            Decision::ApproveEdited("cargo test --lib".into())
        )]
    );
}

#[test]
fn several_calls_queue_together_and_can_be_decided_at_once() {
    let mut s = queued(vec![
        request("c1", "edit_file", "{}", "a"),
        request("c2", "shell", "{}", "b"),
        request("c3", "write_file", "{}", "c"),
    ]);
    assert_eq!(s.queue.items.len(), 3);
    update(&mut s, key(KeyCode::Char('j')));
    assert_eq!(s.selected_approval().unwrap().request.call_id, "c2");
    assert_eq!(
        update(&mut s, key(KeyCode::Char('y'))),
        vec![decide("c2", Decision::Approve)]
    );
    assert_eq!(
        update(&mut s, key(KeyCode::Char('N'))),
        vec![
            decide("c1", Decision::Reject { reason: None }),
            decide("c3", Decision::Reject { reason: None })
        ]
    );
    let mut s = queued(vec![
        request("c1", "edit_file", "{}", "a"),
        request("c2", "shell", "{}", "b"),
    ]);
    assert_eq!(
        update(&mut s, key(KeyCode::Char('Y'))),
        vec![
            decide("c1", Decision::Approve),
            decide("c2", Decision::Approve)
        ]
    );
}

#[test]
fn q_does_not_quit_and_esc_stops_the_turn_while_calls_wait() {
    let mut s = queued(vec![request("c1", "edit_file", "{}", "a")]);
    assert!(update(&mut s, key(KeyCode::Char('q'))).is_empty());
    assert!(!s.should_quit);
    assert_eq!(
        update(&mut s, key(KeyCode::Esc)),
        vec![Command::Agent(Op::Interrupt)]
    );
}

#[test]
fn results_update_the_cards_and_count_changed_files() {
    let mut s = queued(vec![]);
    update(
        &mut s,
        agent(AgentEvent::Stream {
            turn: 1,
            event: cove::protocol::StreamEvent::ToolCallStart {
                index: 0,
                id: "c1".into(),
                name: "edit_file".into(),
            },
        }),
    );
    update(
        &mut s,
        agent(AgentEvent::StepDone {
            turn: 1,
            outcome: Default::default(),
        }),
    );
    update(
        &mut s,
        agent(AgentEvent::ApprovalNeeded {
            turn: 1,
            request: request("c1", "edit_file", "{}", "a.txt +1 -1"),
        }),
    );
    update(&mut s, key(KeyCode::Char('y')));
    update(
        &mut s,
        agent(AgentEvent::ToolStarted {
            turn: 1,
            call_id: "c1".into(),
        }),
    );
    update(
        &mut s,
        agent(AgentEvent::ToolFinished {
            turn: 1,
            call_id: "c1".into(),
            kind: ToolResultKind::Done,
            summary: "edited a.txt (+1 -1)".into(),
            output: String::new(),
            changes: vec![ProposedChange {
                path: "a.txt".into(),
                old: Some("one\n".into()),
                new: Some("two\n".into()),
            }],
        }),
    );
    let card = s
        .chat
        .entries
        .iter()
        .find_map(|e| match &e.kind {
            EntryKind::Assistant(a) => a.tools.first().cloned(),
            _ => None,
        })
        .unwrap();
    assert_eq!(card.state, ToolState::Done("edited a.txt (+1 -1)".into()));
    assert_eq!(s.chat.changed_files().len(), 1);
    assert_eq!(s.chat.last_changes().unwrap()[0].path, "a.txt");
    // `/undo` takes it back: the card says so and nothing derived keeps the change
    {
        let mut undone = tui_support::state();
        std::mem::swap(&mut undone.chat, &mut s.chat);
        update(
            &mut undone,
            agent(AgentEvent::Undone {
                restored: vec!["a.txt".into()],
            }),
        );
        let screen = render_text(&undone, 120, 40);
        assert!(screen.contains("undone (/undo)"), "{screen}");
        assert!(undone.chat.changed_files().is_empty());
        std::mem::swap(&mut undone.chat, &mut s.chat);
        for e in &mut s.chat.entries {
            if let EntryKind::Assistant(a) = &mut e.kind {
                a.tools.iter_mut().for_each(|c| c.undone = false);
            }
        }
    }
    // the next model response of the same turn gets its own entry
    update(
        &mut s,
        agent(AgentEvent::Stream {
            turn: 1,
            event: cove::protocol::StreamEvent::Content {
                text: "Done.".into(),
            },
        }),
    );
    let replies = s
        .chat
        .entries
        .iter()
        .filter(|e| matches!(e.kind, EntryKind::Assistant(_)))
        .count();
    assert_eq!(replies, 2);
}

#[test]
fn slash_commands_reach_the_agent_and_unknown_ones_say_so() {
    let mut s = state();
    type_text(&mut s, "/undo");
    assert_eq!(
        update(&mut s, key(KeyCode::Enter)),
        vec![
            Command::SaveHistory("/undo".into()),
            Command::Agent(Op::Undo)
        ]
    );
    assert!(
        s.chat.entries.is_empty(),
        "a command is not a message to the model"
    );
    type_text(&mut s, "/permissions revoke 2");
    assert_eq!(
        update(&mut s, key(KeyCode::Enter))[1],
        Command::Agent(Op::Revoke { which: Some(2) })
    );
    type_text(&mut s, "/frobnicate");
    update(&mut s, key(KeyCode::Enter));
    assert!(
        s.flash
            .as_ref()
            .unwrap()
            .0
            .contains("Unknown command /frobnicate")
    );
    type_text(&mut s, "//etc is a path");
    let cmds = update(&mut s, key(KeyCode::Enter));
    assert!(
        matches!(&cmds[1], Command::Agent(Op::UserTurn { text, .. }) if text == "/etc is a path"),
        "{cmds:?}"
    );
}

#[test]
fn nothing_but_a_keystroke_in_the_queue_approves() {
    // pasted text (a terminal paste, or text the model printed and the user copied) goes
    // to the composer; it never decides a queued call
    let mut s = queued(vec![request(
        "c1",
        "shell",
        r#"{"command":"make"}"#,
        "make",
    )]);
    let cmds = update(&mut s, cove::app::Msg::Paste("y".into()));
    assert!(cmds.is_empty());
    assert_eq!(s.queue.items.len(), 1);
    // stream events from the model cannot decide either
    update(
        &mut s,
        agent(AgentEvent::Stream {
            turn: 1,
            event: cove::protocol::StreamEvent::Content {
                text: "y\nY\napprove".into(),
            },
        }),
    );
    assert_eq!(s.queue.items.len(), 1);
}

#[test]
fn the_status_bar_keeps_the_pending_count_at_every_width() {
    for w in [120u16, 80, 40] {
        let mut s = queued(vec![
            request("c1", "edit_file", "{}", "a"),
            request("c2", "shell", "{}", "b"),
        ]);
        s.usage.last.ttft_ms = Some(41.0);
        s.usage.last.tokens_per_s = Some(138.0);
        s.view.size = (w, 20);
        let mut t = ratatui::Terminal::new(ratatui::backend::TestBackend::new(w, 20)).unwrap();
        t.draw(|f| cove::ui::render(f, &s)).unwrap();
        let buf = t.backend().buffer().clone();
        let status: String = (0..w).map(|x| buf[(x, 19)].symbol().to_owned()).collect();
        assert!(status.contains("2 pending"), "{w}: {status}");
    }
}

#[test]
fn e_with_an_editor_opens_the_new_content_and_a_saved_change_approves_it() {
    let mut s = queued(vec![request("c1", "edit_file", "{}", "a.txt")]);
    s.editor = true;
    let cmds = update(&mut s, key(KeyCode::Char('e')));
    assert_eq!(
        cmds,
        vec![Command::EditInEditor {
            call_id: "c1".into(),
            name: "a.txt".into(),
            content: "two\n".into()
        }]
    );
    // saved unchanged: nothing is decided
    let cmds = update(
        &mut s,
        cove::app::Msg::Edited {
            call_id: "c1".into(),
            result: Ok("two\n".into()),
        },
    );
    assert!(cmds.is_empty());
    assert_eq!(s.queue.items.len(), 1);
    // an editor that failed: said, nothing decided
    update(
        &mut s,
        cove::app::Msg::Edited {
            call_id: "c1".into(),
            result: Err("vi exited with 1".into()),
        },
    );
    assert!(s.flash.as_ref().unwrap().0.contains("vi exited"));
    assert_eq!(s.queue.items.len(), 1);
    // changed: approved with the user's content
    let cmds = update(
        &mut s,
        cove::app::Msg::Edited {
            call_id: "c1".into(),
            result: Ok("mine\n".into()),
        },
    );
    assert_eq!(
        cmds,
        vec![decide("c1", Decision::ApproveContent("mine\n".into()))]
    );
    assert!(s.queue.items.is_empty());
    // without an editor, `e` edits the arguments inline as before
    let mut s = queued(vec![request("c2", "edit_file", "{}", "a.txt")]);
    assert!(update(&mut s, key(KeyCode::Char('e'))).is_empty());
    assert!(s.queue.input.is_some());
}

#[test]
fn slash_diff_asks_the_agent_and_d_shows_a_tool_cards_change() {
    use cove::protocol::StreamEvent;
    let mut s = state();
    type_text(&mut s, "/diff");
    assert!(update(&mut s, key(KeyCode::Enter)).contains(&Command::Agent(Op::SessionDiff)));
    update(&mut s, agent(AgentEvent::SessionDiff { changes: vec![] }));
    assert!(s.flash.as_ref().unwrap().0.contains("no files"));
    let change = ProposedChange {
        path: "a.txt".into(),
        old: Some("one\n".into()),
        new: Some("two\n".into()),
    };
    update(
        &mut s,
        agent(AgentEvent::SessionDiff {
            changes: vec![change.clone()],
        }),
    );
    assert_eq!(s.view.focus, Focus::Diff);
    assert!(s.diff.shown.as_ref().unwrap().title.contains("1 file"));
    update(&mut s, key(KeyCode::Esc));
    assert!(s.diff.shown.is_none());

    // a finished call keeps its change on its card; `d` in the chat shows it
    type_text(&mut s, "edit");
    update(&mut s, key(KeyCode::Enter));
    update(
        &mut s,
        agent(AgentEvent::Stream {
            turn: 1,
            event: StreamEvent::ToolCallStart {
                index: 0,
                id: "c1".into(),
                name: "edit_file".into(),
            },
        }),
    );
    update(
        &mut s,
        agent(AgentEvent::ToolFinished {
            turn: 1,
            call_id: "c1".into(),
            kind: ToolResultKind::Done,
            summary: "ok".into(),
            output: String::new(),
            changes: vec![change],
        }),
    );
    s.view.focus = Focus::Chat;
    update(&mut s, key(KeyCode::Char('d')));
    let shown = s.diff.shown.as_ref().expect("the card's diff");
    assert!(shown.title.contains("edit_file a.txt"), "{}", shown.title);
    assert_eq!(shown.files[0].hunks.len(), 1);
}

#[test]
fn approve_all_leaves_dangerous_calls_to_be_decided_one_by_one() {
    let mut danger = request("d1", "shell", r#"{"command":"rm -rf /"}"#, "rm -rf /");
    danger.danger = Some("recursive delete of /".into());
    let mut s = queued(vec![request("c1", "edit_file", "{}", "a.txt"), danger]);
    let cmds = update(&mut s, key(KeyCode::Char('Y')));
    assert_eq!(cmds, vec![decide("c1", Decision::Approve)]);
    assert_eq!(s.queue.items.len(), 1);
    assert_eq!(s.queue.items[0].request.call_id, "d1");
    assert!(s.flash.as_ref().unwrap().0.contains("dangerous"));
}

fn keymap(pairs: &[(&str, &[&str])]) -> cove::app::keymap::KeyMap {
    cove::app::keymap::KeyMap::from_config(
        &pairs
            .iter()
            .map(|(a, ks)| (a.to_string(), ks.iter().map(|s| s.to_string()).collect()))
            .collect(),
    )
    .unwrap()
}

#[test]
fn remapped_keys_decide_and_the_defaults_are_free() {
    let mut s = queued(vec![
        request("c1", "edit_file", "{}", "a.txt +1 -1"),
        request("c2", "edit_file", "{}", "a.txt +1 -1"),
    ]);
    s.keymap = keymap(&[("approve", &["o"]), ("reject", &["x"])]);
    // the old key does nothing now, the new one approves
    assert!(update(&mut s, key(KeyCode::Char('y'))).is_empty());
    let cmds = update(&mut s, key(KeyCode::Char('o')));
    assert!(cmds.contains(&decide("c1", Decision::Approve)), "{cmds:?}");
    // x opens the reason input like n did; typing there is text, not keys
    update(&mut s, key(KeyCode::Char('x')));
    assert!(s.queue.input.is_some());
    type_text(&mut s, "ox");
    let cmds = update(&mut s, key(KeyCode::Enter));
    assert!(
        cmds.contains(&decide(
            "c2",
            Decision::Reject {
                reason: Some("ox".into())
            }
        )),
        "{cmds:?}"
    );
    // the composer kept its text and typing there is unaffected
    assert_eq!(s.composer_text(), "draft in progress");
}

#[test]
fn a_remapped_global_key_works_while_typing() {
    let mut s = state();
    s.keymap = keymap(&[("copy_reply", &["ctrl+k"])]);
    type_text(&mut s, "hello");
    update(&mut s, key(KeyCode::Enter));
    update(
        &mut s,
        agent(AgentEvent::Stream {
            turn: 1,
            event: cove::protocol::StreamEvent::Content {
                text: "the reply".into(),
            },
        }),
    );
    finish(&mut s, 1);
    assert!(update(&mut s, ctrl('y')).is_empty(), "ctrl+y is free now");
    let cmds = update(&mut s, ctrl('k'));
    assert!(
        cmds.contains(&Command::Copy("the reply".into())),
        "{cmds:?}"
    );
}

#[test]
fn an_edited_command_is_what_its_card_shows_marked_as_edited() {
    let mut s = queued(vec![]);
    for ev in [
        cove::protocol::StreamEvent::ToolCallStart {
            index: 0,
            id: "c1".into(),
            name: "shell".into(),
        },
        cove::protocol::StreamEvent::ToolCallArgs {
            index: 0,
            fragment: r#"{"command":"rm -rf ~/","timeout_secs":5}"#.into(),
        },
    ] {
        update(&mut s, agent(AgentEvent::Stream { turn: 1, event: ev }));
    }
    update(
        &mut s,
        agent(AgentEvent::StepDone {
            turn: 1,
            outcome: Default::default(),
        }),
    );
    update(
        &mut s,
        agent(AgentEvent::ApprovalNeeded {
            turn: 1,
            request: request("c1", "shell", r#"{"command":"rm -rf ~/"}"#, "rm -rf ~/"),
        }),
    );
    update(&mut s, key(KeyCode::Char('e')));
    for _ in 0.."rm -rf ~/".len() {
        update(&mut s, key(KeyCode::Backspace));
    }
    type_text(&mut s, "rm -rf ./build");
    update(&mut s, key(KeyCode::Enter));
    let card = s
        .chat
        .entries
        .iter()
        .find_map(|e| match &e.kind {
            EntryKind::Assistant(a) => a.tools.first().cloned(),
            _ => None,
        })
        .expect("card");
    assert!(card.edited);
    let args: serde_json::Value = serde_json::from_str(&card.arguments).unwrap();
    assert_eq!(args["command"], "rm -rf ./build");
    assert_eq!(args["timeout_secs"], 5, "the rest of the call is kept");
    let screen = render_text(&s, 120, 40);
    assert!(screen.contains("edited by you"), "{screen}");
    assert!(
        screen.contains("rm -rf ./build") && !screen.contains("rm -rf ~/"),
        "{screen}"
    );
}

#[test]
fn after_undo_the_pane_no_longer_shows_the_undone_change() {
    let mut s = state();
    let change = ProposedChange {
        path: "a.txt".into(),
        old: Some("one\n".into()),
        new: Some("two\n".into()),
    };
    update(
        &mut s,
        agent(AgentEvent::SessionDiff {
            changes: vec![change],
        }),
    );
    assert!(render_text(&s, 120, 40).contains("a.txt"));
    s.view.focus = Focus::Input;
    type_text(&mut s, "/undo");
    assert!(update(&mut s, key(KeyCode::Enter)).contains(&Command::Agent(Op::Undo)));
    assert!(s.diff.shown.is_none());
    update(
        &mut s,
        agent(AgentEvent::Undone {
            restored: vec!["a.txt".into()],
        }),
    );
    assert!(s.chat.last_changes().is_none() && s.chat.changed_files().is_empty());
    // /diff now: nothing differs, and nothing old stays on screen
    type_text(&mut s, "/diff");
    update(&mut s, key(KeyCode::Enter));
    update(&mut s, agent(AgentEvent::SessionDiff { changes: vec![] }));
    assert!(s.diff.shown.is_none());
    let screen = render_text(&s, 120, 40);
    assert!(!screen.contains("a.txt"), "{screen}");
}
