//! The live diff end to end: the fake server streams an `edit_file` call slowly; the change
//! is on screen, highlighted as a diff, while the stream still runs; then `Space` leaves out
//! one of its two hunks and `y` writes only the other.

mod cli_support;
mod common;
mod tmux_support;

use std::time::Duration;

use cli_support::Sandbox;
use common::*;
use serde_json::json;
use tmux_support::Tmux;

fn twenty() -> String {
    (1..=20).map(|i| format!("line {i}\n")).collect()
}

/// An `edit_file` call whose arguments arrive 8 characters at a time, `delay` apart.
fn slow_edit(text: &str, delay: Duration) -> Reply {
    let start = json!({"choices":[{"index":0,"delta":{"role":"assistant","tool_calls":[{"index":0,"id":"e1","type":"function","function":{"name":"edit_file","arguments":""}}]}}]}).to_string();
    let mut events = vec![start];
    let chars: Vec<char> = text.chars().collect();
    for piece in chars.chunks(8) {
        let frag: String = piece.iter().collect();
        events.push(json!({"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":frag}}]}}]}).to_string());
    }
    events.push(finish_chunk("tool_calls"));
    events.push("[DONE]".into());
    let mut r = Reply::sse_raw(Vec::new()).delay(delay);
    r.pieces = events
        .iter()
        .map(|e| format!("data: {e}\n\n").into_bytes())
        .collect();
    r
}

#[test]
fn the_diff_streams_in_and_one_hunk_of_two_is_taken() {
    let old_string: String = (2..=19).map(|i| format!("line {i}\n")).collect();
    let new_string = old_string
        .replace("line 2\n", "LINE TWO\n")
        .replace("line 19\n", "LINE NINETEEN\n");
    // path first, as models write it (serde_json would sort the keys)
    let args = format!(
        r#"{{"path":"notes.txt","old_string":{},"new_string":{}}}"#,
        json!(old_string),
        json!(new_string)
    );
    let server = FakeServer::start(vec![
        slow_edit(&args, Duration::from_millis(40)),
        answer("Edited."),
    ]);
    let sb = Sandbox::new();
    let notes = sb.workspace().join("notes.txt");
    std::fs::write(&notes, twenty()).unwrap();
    let url = server.base_url();
    let t = Tmux::start(120, 40);
    t.run_cove_in(
        sb.dir.path(),
        &sb.workspace(),
        &url,
        &[("COVE_MODEL", "fake-model")],
    );
    t.wait_for(|s| s.contains("message"), Duration::from_secs(20));
    t.send_literal("shout two lines");
    t.keys(&["Enter"]);
    // while the arguments stream in, the diff pane shows the change being written
    let screen = t.wait_for(
        |s| s.contains("writing: edit_file notes.txt") && s.contains("+ LINE TWO"),
        Duration::from_secs(30),
    );
    assert!(
        !screen.contains("approvals · 1"),
        "the diff must show before the call is complete:\n{screen}"
    );
    // complete: the call waits in the queue, with its two hunks
    let screen = t.wait_for(|s| s.contains("approvals · 1"), Duration::from_secs(30));
    assert!(screen.contains("hunk 1/2"), "{screen}");
    assert!(screen.contains("+ LINE NINETEEN"), "{screen}");
    // leave out the first hunk, take the second
    t.keys(&["Space"]);
    t.wait_for(
        |s| s.contains("1 taken") && s.contains("[ ] hunk 1") && s.contains("[x] hunk 2"),
        Duration::from_secs(10),
    );
    t.keys(&["y"]);
    t.wait_for(|s| s.contains("Edited."), Duration::from_secs(20));
    assert_eq!(
        std::fs::read_to_string(&notes).unwrap(),
        twenty().replace("line 19\n", "LINE NINETEEN\n")
    );
    let result = &server.posts()[1].json()["messages"];
    assert!(result.to_string().contains("declined hunks 1"), "{result}");
    t.keys(&["C-c", "C-c"]);
}

#[test]
fn e_opens_the_proposed_file_in_the_editor_and_what_is_saved_is_written() {
    let args = r#"{"path":"notes.txt","old_string":"beta","new_string":"gamma"}"#;
    let server = FakeServer::start(vec![
        slow_edit(args, Duration::from_millis(1)),
        answer("Noted."),
    ]);
    let sb = Sandbox::new();
    let notes = sb.workspace().join("notes.txt");
    std::fs::write(&notes, "alpha\nbeta\n").unwrap();
    let url = server.base_url();
    let t = Tmux::start(120, 40);
    // the "editor" changes the proposed content the way a person would
    t.run_cove_in(
        sb.dir.path(),
        &sb.workspace(),
        &url,
        &[
            ("COVE_MODEL", "fake-model"),
            ("EDITOR", "sed -i s/gamma/DELTA/"),
        ],
    );
    t.wait_for(|s| s.contains("message"), Duration::from_secs(20));
    t.send_literal("rename beta");
    t.keys(&["Enter"]);
    t.wait_for(|s| s.contains("approvals · 1"), Duration::from_secs(20));
    t.keys(&["e"]);
    // back in cove, redrawn, with the user's version written
    t.wait_for(|s| s.contains("Noted."), Duration::from_secs(20));
    assert_eq!(std::fs::read_to_string(&notes).unwrap(), "alpha\nDELTA\n");
    let result = server.posts()[1].json()["messages"].to_string();
    assert!(result.contains("edited your proposed change"), "{result}");
    t.keys(&["C-c", "C-c"]);
    t.wait_for(|s| s.contains("ended"), Duration::from_secs(15));
}
