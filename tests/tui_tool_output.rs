//! A command's card shows its output, end to end: the fake model server asks for a `shell`
//! call printing 50 lines, the user approves it with `y` on the screen's state, and the
//! chat shows the first and last lines of the output with how many are between; Ctrl+O
//! shows all of it.

mod agent_support;
mod common;
mod tui_support;

use agent_support::*;
use common::*;
use cove::app::msg::Command;
use cove::app::state::State;
use cove::app::{Msg, update};
use cove::protocol::AgentEvent;
use crossterm::event::KeyCode;
use serde_json::json;
use tui_support::*;

fn forward(h: &Harness, cmds: Vec<Command>) {
    for c in cmds {
        if let Command::Agent(op) = c {
            h.ops.send(op).unwrap();
        }
    }
}

/// The screen's rows, without the borders and blanks around them.
fn rows(s: &mut State, w: u16, h: u16) -> Vec<String> {
    s.view.size = (w, h);
    render_text(s, w, h)
        .lines()
        .map(|l| l.trim().trim_matches('│').trim().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_command_card_shows_the_head_and_tail_of_its_output() {
    let server = FakeServer::start(vec![
        tool_call_reply(&[("c1", "shell", json!({"command": "seq 1 50"}))]),
        answer("Counted."),
    ]);
    let mut h = start(&server.base_url(), "").await;
    let mut s = state();
    type_text(&mut s, "count to 50");
    let cmds = update(&mut s, key(KeyCode::Enter));
    forward(&h, cmds);
    loop {
        let ev = tokio::time::timeout(std::time::Duration::from_secs(30), h.next())
            .await
            .expect("the turn goes on");
        let done = matches!(ev, AgentEvent::TurnDone { .. });
        let asks = matches!(ev, AgentEvent::ApprovalNeeded { .. });
        let cmds = update(&mut s, Msg::Agent(ev));
        forward(&h, cmds);
        if asks {
            let cmds = update(&mut s, key(KeyCode::Char('y')));
            forward(&h, cmds);
        }
        if done {
            break;
        }
    }
    let screen = rows(&mut s, 100, 40);
    let text = screen.join("\n");
    let at = |row: &str| screen.iter().position(|l| l == row);
    let title = screen
        .iter()
        .position(|l| l.contains("$ seq 1 50") && l.contains("done"))
        .unwrap_or_else(|| panic!("the card's title:\n{text}"));
    // the head, the count, the tail (the last line is the exit code), in that order
    assert_eq!(at("1"), Some(title + 1), "{text}");
    assert_eq!(at("2"), Some(title + 2), "{text}");
    assert_eq!(at("3"), Some(title + 3), "{text}");
    assert_eq!(at("… 45 more lines (Ctrl+O)"), Some(title + 4), "{text}");
    assert_eq!(at("49"), Some(title + 5), "{text}");
    assert_eq!(at("50"), Some(title + 6), "{text}");
    assert_eq!(at("exit code 0"), Some(title + 7), "{text}");
    assert!(at("25").is_none(), "{text}");
    assert!(text.contains("Counted."), "{text}");

    // Ctrl+O: all of it (the chat follows its end)
    update(&mut s, ctrl('o'));
    let screen = rows(&mut s, 100, 80);
    let text = screen.join("\n");
    assert!(!text.contains("more lines"), "{text}");
    for n in [4, 25, 48] {
        assert!(screen.contains(&n.to_string()), "{n}:\n{text}");
    }
}
