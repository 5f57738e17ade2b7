//! The composer and the moments around it at the `update` level: shell keys, a message
//! typed while a reply streams (queued, sent after it, put back by Esc), `q` while work
//! runs, the newline hint this terminal supports, and which layer has the keys.

mod tui_support;

use cove::app::state::*;
use cove::app::{Command, Msg, update};
use cove::protocol::{AgentEvent, Op, TurnOutcome};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use tui_support::*;

fn sends(cmds: &[Command]) -> Vec<String> {
    cmds.iter()
        .filter_map(|c| match c {
            Command::Agent(Op::UserTurn { text, .. }) => Some(text.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn shell_editing_keys_work_in_the_composer() {
    let mut s = state();
    type_text(&mut s, "git commit -m wip");
    update(&mut s, ctrl('w'));
    assert_eq!(s.composer_text(), "git commit -m ");
    update(&mut s, ctrl('a'));
    type_text(&mut s, "$ ");
    assert_eq!(s.composer_text(), "$ git commit -m ");
    update(&mut s, ctrl('k'));
    assert_eq!(s.composer_text(), "$ ");
    update(&mut s, ctrl('e'));
    type_text(&mut s, "ls");
    update(&mut s, ctrl('u'));
    assert_eq!(s.composer_text(), "");
    // a line of several: Ctrl+U takes only the cursor's line up to the cursor
    type_text(&mut s, "keep\ndrop this");
    update(&mut s, ctrl('u'));
    assert_eq!(s.composer_text(), "keep\n");
}

#[test]
fn a_message_typed_while_a_reply_streams_is_queued_and_sent_after_it() {
    let mut s = state();
    let cmds = {
        type_text(&mut s, "first");
        update(&mut s, key(KeyCode::Enter))
    };
    assert_eq!(sends(&cmds), ["first"]);
    type_text(&mut s, "and then this");
    let cmds = update(&mut s, key(KeyCode::Enter));
    assert!(sends(&cmds).is_empty(), "not sent into the running turn");
    assert_eq!(s.composer.queued.as_deref(), Some("and then this"));
    assert_eq!(s.composer_text(), "", "the composer is free again");
    assert!(render_text(&s, 100, 24).contains("message queued"));
    let cmds = update(
        &mut s,
        agent(AgentEvent::TurnDone {
            turn: 1,
            outcome: TurnOutcome::default(),
        }),
    );
    assert_eq!(sends(&cmds), ["and then this"]);
    assert!(s.composer.queued.is_none() && s.turn().is_some());

    // Esc stops the turn and gives the queued words back to the input, unsent
    type_text(&mut s, "never mind");
    update(&mut s, key(KeyCode::Enter));
    let cmds = update(&mut s, key(KeyCode::Esc));
    assert!(cmds.contains(&Command::Agent(Op::Interrupt)));
    assert_eq!(s.composer_text(), "never mind");
    let cmds = update(
        &mut s,
        agent(AgentEvent::TurnDone {
            turn: 2,
            outcome: TurnOutcome {
                interrupted: true,
                ..Default::default()
            },
        }),
    );
    assert!(sends(&cmds).is_empty());
}

#[test]
fn q_does_not_quit_mid_turn_without_a_second_q() {
    let mut s = state();
    type_text(&mut s, "work");
    update(&mut s, key(KeyCode::Enter));
    s.view.focus = Focus::Chat;
    let cmds = update(&mut s, key(KeyCode::Char('q')));
    assert!(!s.should_quit && cmds.is_empty(), "{cmds:?}");
    assert!(s.flash.as_ref().unwrap().0.contains("q again"));
    let cmds = update(&mut s, key(KeyCode::Char('q')));
    assert!(s.should_quit);
    assert!(cmds.contains(&Command::Agent(Op::Interrupt)));
    // idle: one q quits, as before
    let mut s = state();
    s.view.focus = Focus::Chat;
    update(&mut s, key(KeyCode::Char('q')));
    assert!(s.should_quit);
}

#[test]
fn the_newline_hint_names_what_this_terminal_sends() {
    let mut s = state();
    s.composer.shift_enter = true;
    assert!(render_text(&s, 100, 24).contains("Shift+Enter newline"));
    // without the keyboard enhancement protocol Shift+Enter arrives as Enter
    s.composer.shift_enter = false;
    let screen = render_text(&s, 100, 24);
    assert!(
        screen.contains("Ctrl+J newline") && !screen.contains("Shift+Enter"),
        "{screen}"
    );
    // and Ctrl+J inserts a newline there
    type_text(&mut s, "a");
    update(
        &mut s,
        Msg::Key(KeyEvent::new(KeyCode::Char('j'), KeyModifiers::CONTROL)),
    );
    type_text(&mut s, "b");
    assert_eq!(s.composer_text(), "a\nb");
}

#[test]
fn one_layer_has_the_keys_and_is_the_one_drawn() {
    let mut s = state();
    assert_eq!(s.layer(), Layer::Main);
    type_text(&mut s, "/se");
    assert_eq!(s.layer(), Layer::Popup);
    update(&mut s, key(KeyCode::Esc));
    assert_eq!(s.layer(), Layer::Main, "Esc closed the command list");
    s.overlay = cove::app::state::Overlay::Sessions(SessionPicker::loading());
    assert_eq!(s.layer(), Layer::Sessions);
    update(&mut s, key(KeyCode::F(1)));
    // F1 in the picker: the picker has the keys, help does not open under it
    assert_eq!(s.layer(), Layer::Sessions);
    s.overlay = cove::app::state::Overlay::help();
    assert_eq!(s.layer(), Layer::Help);
    let screen = render_text(&s, 100, 30);
    assert!(screen.contains(" help"), "{screen}");
    assert!(
        !screen.contains("Enter resume"),
        "only the top layer is drawn: {screen}"
    );
    // one overlay at a time: help replaced the picker, and a key closes it
    update(&mut s, key(KeyCode::Char('x')));
    assert_eq!(s.layer(), Layer::Main);
}
