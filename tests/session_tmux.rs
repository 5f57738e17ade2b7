//! Sessions end to end: the real binary in tmux against the fake server. Have a turn,
//! quit, `cove --continue`: the transcript is on screen and the next request carries the
//! earlier messages; `cove sessions` lists it; the command popup and the `@` picker.

mod cli_support;
mod common;
mod tmux_support;

use std::time::Duration;

use cli_support::Sandbox;
use common::*;
use tmux_support::Tmux;

const T: Duration = Duration::from_secs(20);

#[test]
fn quit_and_continue_brings_the_session_back() {
    let server = FakeServer::start(vec![
        answer("The capital of Atlantis is Poseidonia."),
        answer("You asked about Atlantis."),
    ]);
    let sb = Sandbox::new();
    let t = Tmux::start(100, 30);
    let env = [("COVE_MODEL", "fake-model")];
    t.run_cove_in(sb.dir.path(), &sb.workspace(), &server.base_url(), &env);
    t.wait_for(|s| s.contains("message") && s.contains("F1 help"), T);
    t.send_literal("what is the capital of atlantis?");
    t.keys(&["Enter"]);
    t.wait_for(|s| s.contains("Poseidonia"), T);
    t.keys(&["C-c"]);
    t.keys(&["C-c"]);
    let screen = t.wait_for(|s| s.contains("--continue` resumes it"), T);
    assert!(screen.contains("1 turn"), "{screen}");

    // `cove sessions` lists it
    let run = sb.run(&["sessions"]);
    assert!(
        run.stdout.contains("what is the capital of atlantis?"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("    1  "), "one turn: {}", run.stdout);

    t.send_literal("clear");
    t.keys(&["Enter"]);
    t.run_cove_args(
        sb.dir.path(),
        &sb.workspace(),
        &server.base_url(),
        &env,
        "--continue",
    );
    let screen = t.wait_for(|s| s.contains("Poseidonia") && s.contains("F1 help"), T);
    assert!(
        screen.contains("what is the capital of atlantis?"),
        "{screen}"
    );
    t.send_literal("what did I ask?");
    t.keys(&["Enter"]);
    t.wait_for(|s| s.contains("You asked about Atlantis."), T);
    let posts = server.posts();
    let last = posts.last().unwrap().json();
    let msgs = last["messages"].to_string();
    assert!(msgs.contains("what is the capital of atlantis?"), "{msgs}");
    assert!(msgs.contains("Poseidonia"), "{msgs}");
    assert!(msgs.contains("what did I ask?"), "{msgs}");
    t.keys(&["C-c"]);
    t.keys(&["C-c"]);
    t.wait_for(|s| s.contains("2 turns"), T);

    // `cove --resume` without an id: the picker, Enter resumes
    t.send_literal("clear");
    t.keys(&["Enter"]);
    t.run_cove_args(
        sb.dir.path(),
        &sb.workspace(),
        &server.base_url(),
        &env,
        "--resume",
    );
    let screen = t.wait_for(|s| s.contains("Enter resume") && s.contains("2 turns"), T);
    assert!(
        screen.contains("what is the capital of atlantis?"),
        "{screen}"
    );
    t.keys(&["Enter"]);
    t.wait_for(
        |s| s.contains("You asked about Atlantis.") && !s.contains("Enter resume"),
        T,
    );
    t.keys(&["C-c"]);
    t.keys(&["C-c"]);
}

#[test]
fn resume_without_sessions_says_so() {
    let server = FakeServer::start(vec![]);
    let sb = Sandbox::new();
    let t = Tmux::start(100, 30);
    let env = [("COVE_MODEL", "fake-model")];
    t.run_cove_args(
        sb.dir.path(),
        &sb.workspace(),
        &server.base_url(),
        &env,
        "--resume",
    );
    // not an empty picker: a sentence, and the shell back
    let screen = t.wait_for(|s| s.contains("no session to resume in"), T);
    assert!(screen.contains("start one with `cove`"), "{screen}");
    assert!(!screen.contains("Enter resume"), "{screen}");
}

#[test]
fn command_popup_and_file_picker_on_screen() {
    let server = FakeServer::start(vec![answer("Read it.")]);
    let sb = Sandbox::new();
    let ws = sb.workspace();
    std::fs::create_dir_all(ws.join("src/deep")).unwrap();
    std::fs::write(ws.join("src/deep/widget_factory.rs"), "fn build() {}\n").unwrap();
    std::fs::write(ws.join("README.md"), "# hi\n").unwrap();
    let t = Tmux::start(100, 30);
    t.run_cove_in(
        sb.dir.path(),
        &ws,
        &server.base_url(),
        &[("COVE_MODEL", "fake-model")],
    );
    t.wait_for(|s| s.contains("message") && s.contains("F1 help"), T);

    t.send_literal("/co");
    // only the commands that fit `/co`
    t.wait_for(
        |s| s.contains("/compact") && s.contains("/commit") && !s.contains("/sessions"),
        T,
    );
    t.keys(&["Escape"]);
    t.keys(&["C-u"]);
    // a fresh input: the popup is gone once the text is not a command
    t.keys(&["BSpace", "BSpace", "BSpace"]);

    t.send_literal("explain @wfac");
    let screen = t.wait_for(
        |s| {
            s.contains("explain @wfac") && s.contains("widget_factory.rs") && s.contains(" 1 of 2 ")
        },
        T,
    );
    assert!(!screen.contains("README.md"), "{screen}");
    t.keys(&["Tab"]);
    t.wait_for(|s| s.contains("explain @src/deep/widget_factory.rs"), T);
    t.keys(&["Enter"]);
    t.wait_for(|s| s.contains("Read it."), T);
    let body = server.posts()[0].json();
    let user = body["messages"].as_array().unwrap().last().unwrap()["content"].to_string();
    assert!(
        user.contains("fn build() {}"),
        "the file went with the message: {user}"
    );
    t.keys(&["C-c"]);
    t.keys(&["C-c"]);
}
