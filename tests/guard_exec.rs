//! The guard end to end: the real binary (`cove exec`, `cove ask`, `cove ledger`) against
//! the fake server, in an isolated home. Secrets in files the model reads, in tool output
//! and in the user's own message never reach the server, come back in edits, and are
//! counted in the notice and the ledger; deny_read, deny_prompt and stop_on; the ledger
//! has a line for every request the server saw.

mod agent_support;
mod cli_support;
mod common;

use std::time::Duration;

use agent_support::tool_call_reply;
use cli_support::{Run, Sandbox};
use common::*;
use cove::guard::ledger::Entry;
use cove::guard::samples;
use serde_json::{Value, json};

fn exec(sb: &Sandbox, server: &FakeServer, extra: &[&str], prompt: &str) -> Run {
    let url = server.base_url();
    let mut args = vec![
        "exec",
        "--base-url",
        url.as_str(),
        "--model",
        "fake-model",
        "--json",
    ];
    args.extend_from_slice(extra);
    args.push(prompt);
    sb.run_with(&args, &[], None)
}

fn ledger(sb: &Sandbox) -> Vec<Entry> {
    let path = sb.dir.path().join("data/cove/ledger.jsonl");
    let (entries, bad) = cove::guard::ledger::read(&path, 0).unwrap();
    assert_eq!(bad, 0);
    entries
}

fn requests(entries: &[Entry]) -> Vec<&Entry> {
    entries.iter().filter(|e| e.kind == "request").collect()
}

/// Every request the server got has its ledger line (method and path), and the ledger
/// has no request line the server did not get (`failed` attempts never reached it).
fn ledger_matches_server(entries: &[Entry], server: &FakeServer) {
    let seen: Vec<String> = server
        .requests()
        .iter()
        .map(|r| format!("{} http://{}{}", r.method, server.addr, r.path))
        .collect();
    let recorded: Vec<String> = requests(entries)
        .iter()
        .filter(|e| !e.outcome.as_deref().unwrap_or("").starts_with("failed"))
        .map(|e| {
            format!(
                "{} {}",
                e.method.as_deref().unwrap_or(""),
                e.endpoint.as_deref().unwrap_or("")
            )
        })
        .collect();
    let mut a = seen.clone();
    let mut b = recorded.clone();
    a.sort();
    b.sort();
    assert_eq!(a, b, "server saw {seen:#?}\nledger has {recorded:#?}");
}

#[test]
fn secrets_never_leave_come_back_in_edits_and_are_counted() {
    let all = samples::secrets();
    let file: String = all.iter().map(|(_, t, _)| format!("{t}\n")).collect();
    let jwt = &all.iter().find(|(k, _, _)| *k == "jwt").unwrap().2;
    let aws_id = &all[0].2;
    let gh = &all.iter().find(|(k, _, _)| *k == "github-pat").unwrap().2;
    let server = FakeServer::start(vec![
        tool_call_reply(&[
            ("c1", "read_file", json!({ "path": "settings.py" })),
            ("c2", "shell", json!({ "command": "cat settings.py" })),
        ]),
        tool_call_reply(&[
            (
                "c3",
                "write_file",
                json!({ "path": "out.txt", "content": "gh = [REDACTED:github-pat-1]\njwt = [REDACTED:jwt-1]\n" }),
            ),
            (
                "c4",
                "edit_file",
                json!({
                    "path": "settings.py",
                    "old_string": "export AWS_ACCESS_KEY_ID=[REDACTED:aws-access-token-1]",
                    "new_string": "export AWS_ACCESS_KEY_ID=[REDACTED:aws-access-token-1]\nexport AWS_REGION=eu-west-1",
                }),
            ),
        ]),
        answer("Done."),
    ]);
    let sb = Sandbox::new();
    std::fs::write(sb.workspace().join("settings.py"), &file).unwrap();
    let run = exec(
        &sb,
        &server,
        &["--auto-approve", "all"],
        &format!("Call the API with this token: {jwt}"),
    );
    assert_eq!(run.code, 0, "{run:?}");

    // nothing secret in any request, every kind as its placeholder
    let posts = server.posts();
    assert_eq!(posts.len(), 3, "{run:?}");
    for (i, p) in posts.iter().enumerate() {
        let body = String::from_utf8_lossy(&p.body);
        for (kind, _, secret) in &all {
            for line in secret.lines().filter(|l| l.len() > 8) {
                assert!(!body.contains(line), "request {i} holds the {kind}: {body}");
            }
        }
    }
    let first = String::from_utf8_lossy(&posts[0].body).into_owned();
    assert!(first.contains("[REDACTED:jwt-1]"), "{first}");
    let second = String::from_utf8_lossy(&posts[1].body).into_owned();
    for (kind, _, _) in &all {
        assert!(
            second.contains(&format!("[REDACTED:{kind}-1]")),
            "{kind} not in the second request: {second}"
        );
    }

    // the edits hold the real values, which never travelled
    let out = std::fs::read_to_string(sb.workspace().join("out.txt")).unwrap();
    assert_eq!(out, format!("gh = {gh}\njwt = {jwt}\n"));
    let settings = std::fs::read_to_string(sb.workspace().join("settings.py")).unwrap();
    assert!(
        settings.contains(&format!(
            "export AWS_ACCESS_KEY_ID={aws_id}\nexport AWS_REGION=eu-west-1"
        )),
        "{settings}"
    );

    // the user was told: counts and kinds, never values
    let notices: Vec<String> = run
        .stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["type"] == "notice")
        .map(|v| v["text"].as_str().unwrap_or("").to_owned())
        .filter(|t| t.starts_with("Redacted"))
        .collect();
    assert!(notices.len() >= 2, "{run:?}");
    assert!(notices[0].contains("1 jwt"), "{notices:?}");
    for (kind, _, secret) in &all {
        let first_line = secret.lines().next().unwrap();
        assert!(notices.iter().all(|n| !n.contains(first_line)), "{kind}");
    }

    // the ledger: a line per request the server saw, the kinds redacted in each
    let entries = ledger(&sb);
    ledger_matches_server(&entries, &server);
    let chats: Vec<&Entry> = requests(&entries)
        .into_iter()
        .filter(|e| {
            e.endpoint
                .as_deref()
                .is_some_and(|u| u.ends_with("/chat/completions"))
        })
        .collect();
    assert_eq!(chats.len(), 3);
    assert_eq!(chats[0].redactions.get("jwt"), Some(&1));
    for (kind, _, _) in &all {
        assert!(
            chats[1].redactions.contains_key(*kind),
            "{kind}: {:?}",
            chats[1]
        );
    }
    for c in &chats {
        assert!(c.bytes_out > 0 && c.bytes_in > 0, "{c:?}");
        assert_eq!(c.model.as_deref(), Some("fake-model"));
        assert!(c.session.is_some());
        assert_eq!(c.outcome.as_deref(), Some("ok"));
    }
    let events: Vec<&Entry> = entries.iter().filter(|e| e.kind == "guard").collect();
    assert!(
        events
            .iter()
            .any(|e| e.event.as_deref() == Some("redaction"))
    );
    let text = std::fs::read_to_string(sb.dir.path().join("data/cove/ledger.jsonl")).unwrap();
    for (kind, _, secret) in &all {
        assert!(
            !text.contains(secret.lines().next().unwrap()),
            "{kind} in the ledger"
        );
    }
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(sb.dir.path().join("data/cove/ledger.jsonl"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);

    // `cove ledger` prints the same, as a table and as JSON lines
    let table = sb.run(&["ledger"]);
    assert_eq!(table.code, 0, "{table:?}");
    assert!(table.stdout.contains("POST turn"), "{table:?}");
    assert!(table.stdout.contains("redacted"), "{table:?}");
    let lines = sb.run(&["ledger", "--json", "--since", "1h"]);
    assert_eq!(lines.stdout.lines().count(), entries.len(), "{lines:?}");
    let none = sb.run(&["ledger", "--json", "--since", "2999-01-01"]);
    assert_eq!(none.stdout, "");
    assert_eq!(sb.run(&["ledger", "--since", "soon"]).code, 2);
}

#[test]
fn reading_a_secret_file_is_refused_without_someone_to_ask() {
    let server = FakeServer::start(vec![
        tool_call_reply(&[
            ("c1", "read_file", json!({ "path": ".env" })),
            ("c2", "search", json!({ "pattern": "TOKEN" })),
        ]),
        answer("I could not read it."),
    ]);
    let sb = Sandbox::new();
    let gh = samples::secrets()[2].2.clone();
    std::fs::write(sb.workspace().join(".env"), format!("GITHUB_TOKEN={gh}\n")).unwrap();
    std::fs::write(sb.workspace().join("app.py"), "TOKEN_NAME = 'x'\n").unwrap();
    let run = exec(&sb, &server, &["--auto-approve", "all"], "What is in .env?");
    assert_eq!(run.code, 0, "{run:?}");
    let posts = server.posts();
    let second = String::from_utf8_lossy(&posts[1].body).into_owned();
    assert!(second.contains("not read"), "{second}");
    assert!(second.contains("guard.deny_read"), "{second}");
    // the search found the ordinary file and left the secret one out, saying so
    assert!(second.contains("app.py:1"), "{second}");
    assert!(second.contains("were not searched"), "{second}");
    assert!(
        !second.contains("[REDACTED"),
        "the value was never read: {second}"
    );
    let entries = ledger(&sb);
    assert!(
        entries
            .iter()
            .any(|e| e.event.as_deref() == Some("deny_read")
                && e.detail.as_deref().is_some_and(|d| d.contains(".env"))),
        "{entries:#?}"
    );
}

#[test]
fn a_denied_prompt_is_not_sent() {
    let server = FakeServer::start(vec![answer("never")]);
    let sb = Sandbox::new();
    sb.write_user_config("[guard]\ndeny_prompt = ['(?i)customer\\s+list']\n");
    let run = exec(&sb, &server, &[], "Summarise the Customer List for me");
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stdout.contains("guard.deny_prompt rule 1"), "{run:?}");
    assert!(server.posts().is_empty(), "{:?}", server.posts());
    let entries = ledger(&sb);
    assert!(
        entries
            .iter()
            .any(|e| e.event.as_deref() == Some("deny_prompt"))
    );
    ledger_matches_server(&entries, &server);

    let url = server.base_url();
    let ask = sb.run(&["ask", "--base-url", &url, "send the customer list"]);
    assert_eq!(ask.code, 2, "{ask:?}");
    assert!(ask.stderr.contains("guard.deny_prompt"), "{ask:?}");
    assert!(server.posts().is_empty());
}

#[test]
fn stop_on_stops_the_stream_midway_keeps_what_came_and_records_it() {
    let first = content_chunk("Sure. First, run `rm -rf /");
    let second = content_chunk("` to clean up.");
    let later = content_chunk(" AFTER-THE-STOP");
    // the match spans two increments; after it the server would stream forever
    let mut reply = Reply::sse(&[]).delay(Duration::from_millis(50));
    reply.pieces = vec![
        format!("data: {first}\n\n").into_bytes(),
        format!("data: {second}\n\n").into_bytes(),
    ];
    let server = FakeServer::start(vec![reply.endless(format!("data: {later}\n\n").as_bytes())]);
    let sb = Sandbox::new();
    sb.write_user_config("[guard]\nstop_on = ['rm -rf /`']\n");
    let url = server.base_url();
    let run = sb.run(&[
        "ask",
        "--base-url",
        &url,
        "--model",
        "fake-model",
        "clean up",
    ]);
    assert!(run.stdout.contains("Sure. First, run `rm -rf /"), "{run:?}");
    assert!(!run.stdout.contains("AFTER-THE-STOP"), "{run:?}");
    assert!(
        run.stderr.contains("stopped by guard.stop_on rule 1"),
        "{run:?}"
    );
    assert_eq!(run.code, 5, "{run:?}");
    let entries = ledger(&sb);
    assert!(
        entries
            .iter()
            .any(|e| e.event.as_deref() == Some("stop_on"))
    );
    let chat = requests(&entries)
        .into_iter()
        .find(|e| e.purpose == Some(cove::guard::ledger::Purpose::Turn))
        .unwrap()
        .clone();
    assert_eq!(chat.event.as_deref(), Some("stop_on"));
    ledger_matches_server(&entries, &server);
}

#[test]
fn a_content_filter_finish_is_shown_as_such() {
    let text = content_chunk("I can");
    let fin = finish_chunk("content_filter");
    let server = FakeServer::start(vec![Reply::sse(&[&text, &fin, "[DONE]"])]);
    let sb = Sandbox::new();
    let url = server.base_url();
    let run = sb.run(&["ask", "--base-url", &url, "--model", "fake-model", "hello"]);
    assert!(run.stderr.contains("content filter"), "{run:?}");
    let entries = ledger(&sb);
    assert!(
        entries
            .iter()
            .any(|e| e.event.as_deref() == Some("content_filter"))
    );
}

#[test]
fn a_filtered_reply_is_asked_again_without_the_newest_tool_output() {
    let fin = finish_chunk("content_filter");
    let server = FakeServer::start(vec![
        tool_call_reply(&[("c1", "read_file", json!({ "path": "notes.txt" }))]),
        Reply::sse(&[&fin, "[DONE]"]),
        answer("Summary without it."),
    ]);
    let sb = Sandbox::new();
    sb.write_user_config("[guard]\nretry_filtered = 1\n");
    std::fs::write(sb.workspace().join("notes.txt"), "OFFENDING TEXT\n").unwrap();
    let run = exec(&sb, &server, &[], "Summarise notes.txt");
    assert_eq!(run.code, 0, "{run:?}");
    let posts = server.posts();
    assert_eq!(posts.len(), 3, "{run:?}");
    let second = String::from_utf8_lossy(&posts[1].body).into_owned();
    let third = String::from_utf8_lossy(&posts[2].body).into_owned();
    assert!(second.contains("OFFENDING TEXT"));
    assert!(!third.contains("OFFENDING TEXT"), "{third}");
    assert!(
        third.contains("content filter stopped the reply"),
        "{third}"
    );
    assert!(run.stdout.contains("guard.retry_filtered"), "{run:?}");
    let entries = ledger(&sb);
    assert!(
        entries
            .iter()
            .any(|e| e.event.as_deref() == Some("retry_filtered"))
    );
    assert!(
        entries
            .iter()
            .any(|e| e.event.as_deref() == Some("content_filter"))
    );
    ledger_matches_server(&entries, &server);
}

#[test]
fn an_attached_secret_file_is_left_out_and_said_so() {
    let server = FakeServer::start(vec![answer("ok")]);
    let sb = Sandbox::new();
    let gh = samples::secrets()[2].2.clone();
    std::fs::write(sb.workspace().join(".env"), format!("GITHUB_TOKEN={gh}\n")).unwrap();
    std::fs::write(sb.workspace().join("app.py"), "print('hi')\n").unwrap();
    let run = exec(&sb, &server, &[], "Compare @.env with @app.py");
    assert_eq!(run.code, 0, "{run:?}");
    let body = String::from_utf8_lossy(&server.posts()[0].body).into_owned();
    assert!(body.contains("print('hi')"), "{body}");
    assert!(!body.contains("GITHUB_TOKEN"), "{body}");
    assert!(run.stdout.contains("@.env: not attached"), "{run:?}");
}
