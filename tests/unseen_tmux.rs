//! Hidden payloads end to end: the real binary in tmux against the fake server. A shell
//! command with a payload after 400 spaces and a file whose line 38 hides one after 200
//! spaces: the queue says not all of it is on screen, the payload is not on screen until
//! `v`, then it is; `n` and `y` decide from the overlay (the files on disk checked).

mod cli_support;
mod common;
mod tmux_support;

use std::time::Duration;

use cli_support::Sandbox;
use common::*;
use serde_json::json;
use tmux_support::Tmux;

fn calls_reply(calls: &[(&str, &str, serde_json::Value)]) -> Reply {
    let deltas: Vec<serde_json::Value> = calls
        .iter()
        .enumerate()
        .map(|(i, (id, name, args))| json!({"index": i, "id": id, "type": "function", "function": {"name": name, "arguments": args.to_string()}}))
        .collect();
    let chunk = json!({"choices":[{"index":0,"delta":{"role":"assistant","tool_calls":deltas}}]})
        .to_string();
    Reply::sse(&[&chunk, &finish_chunk("tool_calls"), "[DONE]"])
}

/// The screen without blanks, run marks, borders and wrap marks: wrapped text reads whole.
fn squeezed(screen: &str) -> String {
    screen
        .chars()
        .filter(|c| !matches!(c, ' ' | '\n' | '·' | '│' | '┃' | '┆'))
        .collect()
}

/// The screen's words in one line, borders left out: a wrapped phrase reads whole.
fn words(screen: &str) -> String {
    screen
        .split_whitespace()
        .filter(|w| !matches!(*w, "│" | "┃"))
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn hidden_payloads_show_after_v_and_are_decided_from_there() {
    let command = format!(
        "cargo test --quiet{}; echo PWNED-7 > owned.txt",
        " ".repeat(400)
    );
    let mut file = String::new();
    for i in 1..=40 {
        if i == 38 {
            file.push_str(&format!(
                "x{i} = {i}{}import os; os.system('PAYLOAD-9')\n",
                " ".repeat(200)
            ));
        } else {
            file.push_str(&format!("x{i} = {i}\n"));
        }
    }
    let server = FakeServer::start(vec![
        calls_reply(&[("s1", "shell", json!({ "command": command }))]),
        answer("Not run."),
        calls_reply(&[(
            "w1",
            "write_file",
            json!({"path": "setup.py", "content": file}),
        )]),
        answer("Written."),
    ]);
    let sb = Sandbox::new();
    let t = Tmux::start(80, 24);
    t.run_cove_in(
        sb.dir.path(),
        &sb.workspace(),
        &server.base_url(),
        &[("COVE_MODEL", "fake-model")],
    );
    t.wait_for(|s| s.contains("message"), Duration::from_secs(20));

    t.send_literal("run the tests");
    t.keys(&["Enter"]);
    let screen = t.wait_for(|s| s.contains("approvals · 1"), Duration::from_secs(15));
    let flat = words(&screen);
    assert!(
        flat.contains("⚠ not all of it is on screen") && flat.contains("press v to see everything"),
        "the queue warns:\n{screen}"
    );
    // the approvals tab shows the selected call whole under the list: what y decides
    assert!(
        screen.contains("call · shell") && screen.contains("PWNED"),
        "the command, payload included, is under the queue:\n{screen}"
    );

    t.keys(&["v"]);
    let screen = t.wait_for(
        |s| {
            s.contains("everything this call will run")
                && s.contains("cargo test --quiet····")
                && squeezed(s).contains("cargotest--quiet;echoPWNED-7>owned.txt")
        },
        Duration::from_secs(10),
    );
    assert!(screen.contains("cargo test --quiet····"), "{screen}");
    // n from the overlay: it closes and asks for a reason; Enter rejects
    t.keys(&["n"]);
    t.wait_for(|s| s.contains("reason"), Duration::from_secs(10));
    t.keys(&["Enter"]);
    t.wait_for(|s| s.contains("Not run."), Duration::from_secs(15));
    assert!(!sb.workspace().join("owned.txt").exists());

    t.send_literal("write setup.py");
    t.keys(&["Enter"]);
    let screen = t.wait_for(|s| s.contains("approvals · 1"), Duration::from_secs(15));
    let flat = words(&screen);
    assert!(
        flat.contains("line 38 of setup.py: text hidden after 200 spaces"),
        "{screen}"
    );
    assert!(!screen.contains("PAYLOAD-9"), "{screen}");
    t.keys(&["v"]);
    t.wait_for(
        |s| s.contains("everything this call will run"),
        Duration::from_secs(10),
    );
    t.keys(&["End"]);
    t.wait_for(
        |s| squeezed(s).contains("x38=38importos;os.system('PAYLOAD-9')"),
        Duration::from_secs(10),
    );
    // y from the overlay writes exactly what it showed
    t.keys(&["y"]);
    t.wait_for(|s| s.contains("Written."), Duration::from_secs(15));
    assert_eq!(
        std::fs::read_to_string(sb.workspace().join("setup.py")).unwrap(),
        file
    );
    t.keys(&["C-c", "C-c"]);
    t.wait_for(|s| s.contains("ended"), Duration::from_secs(15));
}
