//! A `cove exec` run is a session like any other: `cove --resume ID` opens it in the
//! full-screen interface (the real binary in tmux), with the task, the check's runs and the
//! replies on screen, and the conversation goes on from there.

mod agent_support;
mod cli_support;
mod common;
mod tmux_support;

use std::time::Duration;

use agent_support::tool_call_reply;
use cli_support::Sandbox;
use common::*;
use serde_json::json;
use tmux_support::Tmux;

const T: Duration = Duration::from_secs(20);

#[test]
fn an_exec_run_resumes_in_the_tui() {
    let server = FakeServer::start(vec![
        tool_call_reply(&[(
            "w1",
            "write_file",
            json!({"path": "flag.txt", "content": "on\n"}),
        )]),
        answer("Switched the flag on."),
        answer("You asked me to switch the flag on."),
    ]);
    let sb = Sandbox::new();
    let url = server.base_url();
    let run = sb.run(&[
        "exec",
        "--json",
        "--base-url",
        &url,
        "--model",
        "fake-model",
        "--auto-approve",
        "edits",
        "--verify",
        "grep -q on flag.txt",
        "Switch the flag on",
    ]);
    assert_eq!(run.code, 0, "{run:?}");
    let result: serde_json::Value =
        serde_json::from_str(run.stdout.lines().last().unwrap()).unwrap();
    let id = result["session_id"].as_str().unwrap().to_owned();

    let t = Tmux::start(110, 30);
    t.run_cove_args(
        sb.dir.path(),
        &sb.workspace(),
        &url,
        &[("COVE_MODEL", "fake-model")],
        &format!("--resume {id}"),
    );
    let screen = t.wait_for(
        |s| s.contains("Switched the flag on.") && s.contains("F1 help"),
        T,
    );
    assert!(screen.contains("Switch the flag on"), "{screen}");
    assert!(
        screen.contains("Check `grep -q on flag.txt` passed"),
        "{screen}"
    );
    t.send_literal("what did I ask?");
    t.keys(&["Enter"]);
    t.wait_for(|s| s.contains("You asked me to switch the flag on."), T);
    let posts = server.posts();
    let msgs = posts.last().unwrap().json()["messages"].to_string();
    assert!(msgs.contains("Switch the flag on"), "{msgs}");
    assert!(msgs.contains("Switched the flag on."), "{msgs}");
    t.keys(&["C-c"]);
    t.keys(&["C-c"]);
    t.wait_for(|s| s.contains("2 turns"), T);
}
