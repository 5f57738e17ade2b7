//! Building UI state and messages for tests.
#![allow(dead_code)]

use std::path::PathBuf;

use cove::app::history::InputHistory;
use cove::app::state::State;
use cove::app::{Msg, update};
use cove::config::theme::Theme;
use cove::protocol::{AgentEvent, ServerStatus, TurnOutcome};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

pub fn state() -> State {
    state_with(Theme::builtin("dark").expect("built-in dark theme"))
}

pub fn state_with(theme: Theme) -> State {
    let mut s = State::new(
        PathBuf::from("/work/project"),
        "20261121-140000-abcd".into(),
        theme,
        InputHistory::default(),
        cove::ui::measurer(),
    );
    s.server = ServerStatus {
        reachable: true,
        endpoint: "http://127.0.0.1:8080/v1".into(),
        model: "devstral-small".into(),
        context_window: Some(32768),
        detail: None,
    };
    s.probing = false;
    s
}

pub fn key(code: KeyCode) -> Msg {
    Msg::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

pub fn ctrl(c: char) -> Msg {
    Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL))
}

pub fn agent(ev: AgentEvent) -> Msg {
    Msg::Agent(ev)
}

pub fn type_text(s: &mut State, text: &str) {
    for c in text.chars() {
        let msg = if c == '\n' {
            Msg::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::SHIFT))
        } else {
            key(KeyCode::Char(c))
        };
        update(s, msg);
    }
}

pub fn finish(s: &mut State, turn: u64) {
    update(
        s,
        Msg::Agent(AgentEvent::TurnDone {
            turn,
            outcome: TurnOutcome::default(),
        }),
    );
}

/// The frame `ui::render` draws for `s` at `w`x`h`, as text (one line per row).
pub fn render_text(s: &State, w: u16, h: u16) -> String {
    let mut t = ratatui::Terminal::new(ratatui::backend::TestBackend::new(w, h)).expect("terminal");
    t.draw(|f| cove::ui::render(f, s)).expect("draw");
    let buf = t.backend().buffer().clone();
    (0..h)
        .map(|y| {
            (0..w)
                .map(|x| buf[(x, y)].symbol().to_owned())
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("\n")
}
