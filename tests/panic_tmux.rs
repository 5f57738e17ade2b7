//! A panic inside a tool while the full-screen session runs: the screen stays (no terminal
//! restored under it, no report printed over it), the error shows as the tool's result,
//! and the session goes on. Debug builds only have the fault point (`COVE_FAULT`).

mod cli_support;
mod common;
mod tmux_support;

use std::time::Duration;

use cli_support::Sandbox;
use common::*;
use serde_json::json;
use tmux_support::Tmux;

const T: Duration = Duration::from_secs(20);

fn read_call() -> Reply {
    let chunk = json!({"choices":[{"index":0,"delta":{"role":"assistant","tool_calls":[
        {"index":0,"id":"r1","type":"function","function":{"name":"read_file","arguments":"{\"path\":\"a.txt\"}"}}
    ]}}]})
    .to_string();
    Reply::sse(&[&chunk, &finish_chunk("tool_calls"), "[DONE]"])
}

#[test]
fn a_tool_panic_keeps_the_screen_and_the_session() {
    let server = FakeServer::start(vec![
        read_call(),
        answer("The tool broke; moving on."),
        answer("Still here."),
    ]);
    let sb = Sandbox::new();
    std::fs::write(sb.workspace().join("a.txt"), "alpha\n").unwrap();
    let t = Tmux::start(100, 30);
    t.run_cove_in(
        sb.dir.path(),
        &sb.workspace(),
        &server.base_url(),
        &[("COVE_MODEL", "fake-model"), ("COVE_FAULT", "tool")],
    );
    t.wait_for(|s| s.contains("message") && s.contains("F1 help"), T);
    t.send_literal("read a.txt");
    t.keys(&["Enter"]);
    let screen = t.wait_for(|s| s.contains("moving on"), T);
    assert!(!screen.contains("panicked at"), "{screen}");
    assert!(screen.contains("F1 help"), "the TUI is gone:\n{screen}");
    t.send_literal("again");
    t.keys(&["Enter"]);
    t.wait_for(|s| s.contains("Still here."), T);
    let posts = server.posts();
    let results = posts[1].json().to_string();
    assert!(results.contains("internal error"), "{results}");
}
