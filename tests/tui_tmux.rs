//! The full-screen interface end to end: the real binary in tmux against the fake
//! server. Type a prompt, watch the reply stream in, interrupt it, quit with Ctrl+C
//! twice, and find the shell back in cooked mode.

mod cli_support;
mod common;
mod tmux_support;

use std::time::{Duration, Instant};

use cli_support::Sandbox;
use common::*;
use tmux_support::Tmux;

fn slow_reply(words: usize, delay_ms: u64) -> Reply {
    let chunks: Vec<String> = (0..words)
        .map(|i| content_chunk(&format!("word{i} ")))
        .collect();
    let mut events = vec![ROLE_CHUNK];
    events.extend(chunks.iter().map(String::as_str));
    let fin = finish_chunk("stop");
    events.push(&fin);
    events.push("[DONE]");
    // one event per piece, each after a delay: a slow model
    let body: Vec<Vec<u8>> = events
        .iter()
        .map(|e| format!("data: {e}\n\n").into_bytes())
        .collect();
    let mut r = Reply::sse_raw(Vec::new()).delay(Duration::from_millis(delay_ms));
    r.pieces = body;
    r
}

#[test]
fn stream_interrupt_and_quit_in_a_real_terminal() {
    let server = FakeServer::start(vec![slow_reply(60, 100), slow_reply(3, 10)]);
    let sb = Sandbox::new();
    let t = Tmux::start(100, 30);
    t.run_cove_in(
        sb.dir.path(),
        &sb.workspace(),
        &server.base_url(),
        &[("COVE_MODEL", "fake-model")],
    );
    t.wait_for(
        |s| s.contains("message") && s.contains("fake-model"),
        Duration::from_secs(20),
    );

    t.send_literal("hello there");
    t.keys(&["Enter"]);
    let started = Instant::now();
    // the reply appears while the stream is still running (60 words at 100 ms each)
    let screen = t.wait_for(|s| s.contains("word3"), Duration::from_secs(15));
    assert!(
        !screen.contains("word59"),
        "the whole reply was there at once:\n{screen}"
    );
    assert!(started.elapsed() < Duration::from_secs(15));
    assert!(screen.contains("hello there"));

    // Esc interrupts: the partial reply stays, marked interrupted, and the stream stops
    t.keys(&["Escape"]);
    let screen = t.wait_for(|s| s.contains("interrupted"), Duration::from_secs(15));
    assert!(!screen.contains("word59"));
    std::thread::sleep(Duration::from_millis(400));
    let after = t.screen();
    assert!(
        !after.contains("word59"),
        "output continued after the interrupt:\n{after}"
    );

    // a second turn works after the interrupt
    t.send_literal("again");
    t.keys(&["Enter"]);
    // the second reply, below "again", finished (its header gains the first-token time;
    // a rate is not shown for a reply this short)
    let after_again = |s: &str| {
        s.split_once("again")
            .map(|(_, rest)| rest.to_owned())
            .unwrap_or_default()
    };
    let screen = t.wait_for(
        |s| {
            let rest = after_again(s);
            rest.contains("word2") && rest.contains("first token")
        },
        Duration::from_secs(15),
    );
    assert!(!after_again(&screen).contains("interrupted"), "{screen}");

    // Ctrl+C twice quits; the shell is back, in cooked mode
    t.keys(&["C-c"]);
    t.wait_for(|s| s.contains("Ctrl+C again"), Duration::from_secs(15));
    t.keys(&["C-c"]);
    let screen = t.wait_for(
        |s| s.contains("session") && s.contains("ended"),
        Duration::from_secs(5),
    );
    assert!(screen.contains("2 turns"), "{screen}");
    t.send_literal("stty -a | tr ' ' '\\n' | grep -x -- '-\\?icanon'; echo END-$((6*7))");
    t.keys(&["Enter"]);
    let screen = t.wait_for(|s| s.contains("END-42"), Duration::from_secs(15));
    let lines: Vec<&str> = screen.lines().map(str::trim).collect();
    assert!(
        lines.contains(&"icanon"),
        "terminal not back in cooked mode:\n{screen}"
    );
    assert!(!lines.contains(&"-icanon"), "terminal still raw:\n{screen}");
    // the request carried the conversation so far
    let posts = server.posts();
    assert_eq!(posts.len(), 2);
    let msgs = posts[1].json()["messages"].as_array().unwrap().clone();
    assert!(
        msgs.iter().any(|m| m["role"] == "assistant"
            && m["content"].as_str().unwrap_or("").starts_with("word0")),
        "{msgs:?}"
    );
}

#[test]
fn unreachable_server_shows_an_error_card_not_a_crash() {
    let sb = Sandbox::new();
    let url = format!("http://127.0.0.1:{}/v1", dead_port());
    let t = Tmux::start(80, 24);
    t.run_cove_in(
        sb.dir.path(),
        &sb.workspace(),
        &url,
        &[("COVE_MODEL", "fake-model")],
    );
    t.wait_for(|s| s.contains("message"), Duration::from_secs(20));
    t.send_literal("anyone there?");
    t.keys(&["Enter"]);
    let screen = t.wait_for(|s| s.contains("request failed"), Duration::from_secs(20));
    assert!(
        screen.contains("Connection refused") || screen.contains("cannot reach"),
        "{screen}"
    );
    t.keys(&["C-c", "C-c"]);
    t.wait_for(|s| s.contains("ended"), Duration::from_secs(15));
}

#[test]
fn sigterm_restores_the_terminal() {
    signal_restores_the_terminal("-TERM");
}

#[test]
fn sighup_restores_the_terminal() {
    signal_restores_the_terminal("-HUP");
}

fn signal_restores_the_terminal(signal: &str) {
    let sb = Sandbox::new();
    let server = FakeServer::start(vec![]);
    let t = Tmux::start(80, 24);
    t.run_cove_in(
        sb.dir.path(),
        &sb.workspace(),
        &server.base_url(),
        &[("COVE_MODEL", "fake-model")],
    );
    t.wait_for(|s| s.contains("message"), Duration::from_secs(20));
    // find the cove process by its working directory (the sandbox workspace)
    let ws = sb.workspace().canonicalize().unwrap();
    let pid = std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().to_str().and_then(|n| n.parse::<u32>().ok()))
        .find(|pid| {
            std::fs::read_link(format!("/proc/{pid}/cwd")).is_ok_and(|cwd| cwd == ws)
                && std::fs::read_to_string(format!("/proc/{pid}/comm"))
                    .is_ok_and(|c| c.trim() == "cove")
        })
        .expect("the cove process");
    assert!(
        std::process::Command::new("kill")
            .args([signal, &pid.to_string()])
            .status()
            .unwrap()
            .success()
    );
    // cove is gone (after SIGHUP it leaves quietly, without the exit line: the terminal
    // it would print to is normally gone too)
    let end = std::time::Instant::now() + Duration::from_secs(15);
    while std::path::Path::new(&format!("/proc/{pid}")).exists() && std::time::Instant::now() < end
    {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        !std::path::Path::new(&format!("/proc/{pid}")).exists(),
        "cove did not exit after {signal}"
    );
    if signal == "-TERM" {
        t.wait_for(|s| s.contains("ended"), Duration::from_secs(15));
    }
    t.send_literal("stty -a | tr ' ' '\\n' | grep -x -- '-\\?icanon'; echo END-$((6*7))");
    t.keys(&["Enter"]);
    let screen = t.wait_for(|s| s.contains("END-42"), Duration::from_secs(15));
    assert!(
        screen.lines().any(|l| l.trim() == "icanon"),
        "terminal not restored after {signal}:\n{screen}"
    );
}

fn calls_reply(calls: &[(&str, &str, serde_json::Value)]) -> Reply {
    let deltas: Vec<serde_json::Value> = calls
        .iter()
        .enumerate()
        .map(|(i, (id, name, args))| serde_json::json!({"index": i, "id": id, "type": "function", "function": {"name": name, "arguments": args.to_string()}}))
        .collect();
    let chunk = serde_json::json!({"choices":[{"index":0,"delta":{"role":"assistant","tool_calls":deltas}}]}).to_string();
    Reply::sse(&[&chunk, &finish_chunk("tool_calls"), "[DONE]"])
}

#[test]
fn approvals_with_single_keystrokes_in_a_real_terminal() {
    use serde_json::json;
    let server = FakeServer::start(vec![
        calls_reply(&[
            (
                "e1",
                "edit_file",
                json!({"path": "notes.txt", "old_string": "beta", "new_string": "gamma"}),
            ),
            ("s1", "shell", json!({"command": "touch shell-ran.txt"})),
        ]),
        answer("First round done."),
        calls_reply(&[(
            "e2",
            "edit_file",
            json!({"path": "notes.txt", "old_string": "alpha", "new_string": "ALPHA"}),
        )]),
        answer("Second round done."),
        calls_reply(&[(
            "e3",
            "edit_file",
            json!({"path": "notes.txt", "old_string": "gamma", "new_string": "GAMMA"}),
        )]),
        answer("Third round done."),
    ]);
    let sb = Sandbox::new();
    let notes = sb.workspace().join("notes.txt");
    std::fs::write(&notes, "alpha\nbeta\n").unwrap();
    let t = Tmux::start(120, 40);
    t.run_cove_in(
        sb.dir.path(),
        &sb.workspace(),
        &server.base_url(),
        &[("COVE_MODEL", "fake-model")],
    );
    t.wait_for(|s| s.contains("message"), Duration::from_secs(20));

    t.send_literal("rename beta and run a command");
    t.keys(&["Enter"]);
    let screen = t.wait_for(|s| s.contains("approvals · 2"), Duration::from_secs(15));
    assert!(screen.contains("notes.txt +1 -1"), "{screen}");
    assert!(
        screen.contains("+ gamma") && screen.contains("- beta"),
        "the proposed diff is shown:\n{screen}"
    );
    assert_eq!(
        std::fs::read_to_string(&notes).unwrap(),
        "alpha\nbeta\n",
        "nothing written before approval"
    );
    t.keys(&["y"]);
    t.wait_for(|s| s.contains("approvals · 1"), Duration::from_secs(15));
    // calls of one response run once all of them are decided
    t.keys(&["n"]);
    t.send_literal("not now");
    t.keys(&["Enter"]);
    t.wait_for(|s| s.contains("First round done."), Duration::from_secs(15));
    assert_eq!(
        std::fs::read_to_string(&notes).unwrap(),
        "alpha\ngamma\n",
        "y applied the edit exactly"
    );
    assert!(
        !sb.workspace().join("shell-ran.txt").exists(),
        "n left the command unrun"
    );
    let second = &server.posts()[1].json()["messages"];
    let results: Vec<String> = second
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["role"] == "tool")
        .map(|m| m["content"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        results[1].contains("declined") && results[1].contains("not now"),
        "{results:?}"
    );

    // `a` approves and stops asking for edit_file for the rest of the session
    t.send_literal("capitalise alpha");
    t.keys(&["Enter"]);
    t.wait_for(|s| s.contains("approvals · 1"), Duration::from_secs(15));
    t.keys(&["a"]);
    t.wait_for(
        |s| s.contains("Second round done."),
        Duration::from_secs(15),
    );
    t.send_literal("capitalise gamma");
    t.keys(&["Enter"]);
    t.wait_for(|s| s.contains("Third round done."), Duration::from_secs(15));
    assert_eq!(std::fs::read_to_string(&notes).unwrap(), "ALPHA\nGAMMA\n");
    t.keys(&["C-c", "C-c"]);
    let screen = t.wait_for(|s| s.contains("ended"), Duration::from_secs(15));
    assert!(screen.contains("1 file changed"), "{screen}");
}
