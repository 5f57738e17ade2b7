//! `cove ask --tools` on a terminal: a tool call's name, id and arguments come from the
//! model and are shown escaped, never obeyed.

mod cli_support;
mod common;
mod tmux_support;

use std::time::Duration;

use cli_support::Sandbox;
use common::*;
use serde_json::json;
use tmux_support::Tmux;

#[test]
fn escape_sequences_in_a_tool_call_are_shown_not_obeyed() {
    let evil = "read_file\u{1b}]52;c;ZXZpbA==\u{7}\u{1b}[2J";
    let chunk = json!({"choices":[{"index":0,"delta":{"role":"assistant","tool_calls":[
        {"index":0,"id":"id\u{1b}[31mX","type":"function","function":{"name":evil,"arguments":"{\"path\":\"\\u001b[1Ka\"}"}}
    ]}}]})
    .to_string();
    let server = FakeServer::start(vec![Reply::sse(&[
        &chunk,
        &finish_chunk("tool_calls"),
        "[DONE]",
    ])]);
    let sb = Sandbox::new();
    let t = Tmux::start(120, 30);
    t.run_cove_args(
        sb.dir.path(),
        &sb.workspace(),
        &server.base_url(),
        &[("COVE_MODEL", "fake-model")],
        "ask --tools 'read it'",
    );
    let screen = t.wait_for(|s| s.contains("tool call"), Duration::from_secs(20));
    assert!(
        screen.contains("read_file^[]52;c;ZXZpbA==^G^[[2J"),
        "{screen}"
    );
    assert!(screen.contains("id^[[31mX"), "{screen}");
}
