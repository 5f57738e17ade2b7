//! The terminal going away under the full-screen session (the window closed, the pty hung
//! up): cove ends at once and quietly, with status 129 (128 + SIGHUP), no panic and no
//! process left spinning on a dead input.

mod cli_support;
mod common;
mod tmux_support;

use std::time::{Duration, Instant};

use cli_support::Sandbox;
use common::*;
use tmux_support::Tmux;

const T: Duration = Duration::from_secs(20);

#[test]
fn closing_the_window_ends_cove_quietly_with_status_129() {
    let server = FakeServer::start(vec![answer("Hello from the fake model.")]);
    let sb = Sandbox::new();
    let status_file = sb.dir.path().join("status");
    let t = Tmux::start(100, 30);
    // a wrapper that outlives the hang-up and records cove's exit status. It replaces the
    // pane's shell, so it leads the session and traps SIGHUP: cove gets no SIGHUP at all
    // and has to notice the hang-up on the terminal itself (crossterm alone reads
    // end-of-file for ever, spinning).
    let home = sb.dir.path().display().to_string();
    let line = format!(
        "cd '{ws}' && exec sh -c 'trap : HUP; env HOME={home} XDG_CONFIG_HOME={home}/config \
         XDG_STATE_HOME={home}/state XDG_DATA_HOME={home}/data COVE_BASE_URL={url} \
         COVE_MODEL=fake-model {cove}; echo $? > {status}'",
        ws = sb.workspace().display(),
        url = server.base_url(),
        cove = env!("CARGO_BIN_EXE_cove"),
        status = status_file.display(),
    );
    t.send_literal(&line);
    t.keys(&["Enter"]);
    t.wait_for(|s| s.contains("F1 help"), T);
    // a turn first, so there is a session to keep
    t.send_literal("hello");
    t.keys(&["Enter"]);
    t.wait_for(|s| s.contains("Hello from the fake model."), T);

    t.close_window();
    let start = Instant::now();
    let status = loop {
        if let Ok(s) = std::fs::read_to_string(&status_file)
            && !s.trim().is_empty()
        {
            break s.trim().to_string();
        }
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "cove still runs 5 s after its terminal went away"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(
        status, "129",
        "exit status after the hang-up (101 is a panic)"
    );

    // the turn is in the journal
    let journals: Vec<_> = walk(sb.dir.path())
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "jsonl"))
        .collect();
    assert!(
        journals.iter().any(|p| std::fs::read_to_string(p)
            .unwrap_or_default()
            .contains("Hello from the fake model.")),
        "no journal holds the reply: {journals:?}"
    );
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}
