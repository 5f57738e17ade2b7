//! `cove exec` end to end: the real binary against the fake server, in an isolated home
//! and workspace. Checks run through the real sandbox.

mod agent_support;
mod cli_support;
mod common;

use std::io::BufRead;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use agent_support::tool_call_reply;
use cli_support::{Run, Sandbox};
use common::*;
use serde_json::{Value, json};

fn exec(sb: &Sandbox, server: &FakeServer, extra: &[&str], stdin: Option<&str>) -> Run {
    let url = server.base_url();
    let mut args = vec!["exec", "--base-url", url.as_str(), "--model", "fake-model"];
    args.extend_from_slice(extra);
    sb.run_with(&args, &[], stdin)
}

/// The text of the last user message of a request the server got.
fn last_user_text(request: &Captured) -> String {
    let body = request.json();
    body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .find(|m| m["role"] == "user")
        .map(|m| m["content"].as_str().unwrap_or("").to_owned())
        .unwrap_or_default()
}

/// Every stdout line as a JSON object, checked against the event schema; the last is
/// the `result`.
fn ndjson(run: &Run) -> Vec<Value> {
    let events: Vec<Value> = run
        .stdout
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l)
                .unwrap_or_else(|e| panic!("not a JSON line ({e}): {l:?}\n{run:?}"))
        })
        .collect();
    assert!(!events.is_empty(), "{run:?}");
    for (i, ev) in events.iter().enumerate() {
        check_event(ev);
        let last = i == events.len() - 1;
        assert_eq!(
            ev["type"] == "result",
            last,
            "only the last line is the result: {ev}"
        );
    }
    assert_eq!(events[0]["type"], "session", "{run:?}");
    events
}

fn check_event(ev: &Value) {
    let obj = ev.as_object().expect("an object per line");
    let has = |k: &str| obj.contains_key(k);
    let str_ = |k: &str| obj.get(k).is_some_and(Value::is_string);
    let num = |k: &str| obj.get(k).is_some_and(Value::is_u64);
    let ok = match obj.get("type").and_then(Value::as_str) {
        Some("session") => {
            str_("session_id")
                && str_("model")
                && str_("endpoint")
                && str_("auto_approve")
                && num("max_turns")
        }
        Some("message_delta") | Some("reasoning_delta") => num("turn") && str_("text"),
        Some("tool_call") => num("turn") && str_("id") && str_("name") && has("arguments"),
        Some("approval") => {
            num("turn")
                && str_("id")
                && str_("tool")
                && matches!(obj["decision"].as_str(), Some("approved" | "refused"))
        }
        Some("tool_result") => {
            num("turn")
                && str_("id")
                && str_("name")
                && matches!(obj["status"].as_str(), Some("done" | "failed" | "rejected"))
                && str_("summary")
                && obj["files"].is_array()
        }
        Some("verify") => {
            num("turn")
                && str_("command")
                && obj["passed"].is_boolean()
                && str_("status")
                && num("duration_ms")
                && str_("output_tail")
        }
        Some("notice") => str_("text"),
        Some("turn_end") => num("turn") && obj["interrupted"].is_boolean(),
        Some("error") => str_("message"),
        Some("result") => {
            matches!(
                obj["status"].as_str(),
                Some(
                    "done"
                        | "check_failed"
                        | "max_iterations"
                        | "repeating"
                        | "error"
                        | "interrupted"
                )
            ) && num("turns")
                && obj["files_changed"].is_array()
                && has("commit")
                && has("verify")
                && obj["usage"].is_object()
                && num("exit_code")
        }
        _ => false,
    };
    assert!(ok, "an event that does not fit the schema: {ev}");
}

fn of_type<'a>(events: &'a [Value], t: &str) -> Vec<&'a Value> {
    events.iter().filter(|e| e["type"] == t).collect()
}

#[test]
fn a_failing_check_is_healed_in_two_turns_and_its_output_reaches_the_model() {
    let server = FakeServer::start(vec![
        // turn 1: a fix that is not one
        tool_call_reply(&[(
            "w1",
            "write_file",
            json!({"path": "status.txt", "content": "half-done\n"}),
        )]),
        answer("I changed status.txt."),
        // turn 2, after the check's output
        tool_call_reply(&[(
            "w2",
            "write_file",
            json!({"path": "status.txt", "content": "fixed\n"}),
        )]),
        answer("Now it says fixed."),
    ]);
    let sb = Sandbox::new();
    std::fs::write(sb.workspace().join("status.txt"), "broken\n").unwrap();
    let check = "echo \"status is: $(cat status.txt)\"; grep -qx fixed status.txt";
    let run = exec(
        &sb,
        &server,
        &[
            "--auto-approve",
            "edits",
            "--verify",
            check,
            "Make the check pass",
        ],
        None,
    );
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        std::fs::read_to_string(sb.workspace().join("status.txt")).unwrap(),
        "fixed\n"
    );
    let posts = server.posts();
    assert_eq!(posts.len(), 4, "{run:?}");
    // the check's output is the second turn's message
    let second = last_user_text(&posts[2]);
    assert!(second.contains("status is: half-done"), "{second}");
    assert!(
        second.contains(check) && second.contains("exit code 1"),
        "{second}"
    );
    // the reply on stdout, what happened on stderr, a summary last
    assert!(
        run.stdout.contains("I changed status.txt.") && run.stdout.contains("Now it says fixed."),
        "{run:?}"
    );
    assert!(run.stderr.contains("failed (exit code 1"), "{run:?}");
    assert!(run.stderr.contains("passed (exit code 0"), "{run:?}");
    let summary = run.stderr.lines().last().unwrap();
    assert!(
        summary.contains("done · 2 turns · 1 file changed · check passed"),
        "{summary}"
    );
}

#[test]
fn a_check_that_never_passes_exits_6_after_max_turns() {
    let server = FakeServer::start(vec![answer("Tried."), answer("Tried again.")]);
    let sb = Sandbox::new();
    let run = exec(
        &sb,
        &server,
        &[
            "--json",
            "--verify",
            "echo still failing; exit 3",
            "--max-turns",
            "2",
            "Fix it",
        ],
        None,
    );
    assert_eq!(run.code, 6, "{run:?}");
    let events = ndjson(&run);
    let checks = of_type(&events, "verify");
    assert_eq!(checks.len(), 2);
    assert_eq!(checks[1]["exit_code"], 3);
    assert_eq!(checks[1]["output_tail"], "still failing");
    let result = events.last().unwrap();
    assert_eq!(result["status"], "check_failed");
    assert_eq!(result["turns"], 2);
    assert_eq!(result["exit_code"], 6);
    assert_eq!(result["verify"]["passed"], false);
    assert_eq!(server.posts().len(), 2);
}

#[test]
fn the_default_policy_refuses_writes_and_tells_the_model_why() {
    let server = FakeServer::start(vec![
        tool_call_reply(&[
            ("r1", "read_file", json!({"path": "notes.txt"})),
            (
                "w1",
                "write_file",
                json!({"path": "notes.txt", "content": "overwritten\n"}),
            ),
            ("s1", "shell", json!({"command": "touch made-by-shell"})),
        ]),
        answer("I could only read."),
    ]);
    let sb = Sandbox::new();
    std::fs::write(sb.workspace().join("notes.txt"), "original\n").unwrap();
    // the prompt from stdin
    let run = exec(&sb, &server, &["--json", "-"], Some("Rewrite notes.txt\n"));
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        std::fs::read_to_string(sb.workspace().join("notes.txt")).unwrap(),
        "original\n"
    );
    assert!(!sb.workspace().join("made-by-shell").exists());
    let posts = server.posts();
    assert!(last_user_text(&posts[0]).contains("Rewrite notes.txt"));
    let results = tool_results(&posts[1]);
    assert!(results[0].contains("original"), "{results:?}");
    for refused in &results[1..] {
        assert!(
            refused.contains("unattended run (cove exec --auto-approve read-only)"),
            "{refused}"
        );
    }
    assert!(
        results[1].contains("needs --auto-approve edits"),
        "{results:?}"
    );
    assert!(
        results[2].contains("needs --auto-approve all"),
        "{results:?}"
    );
    let events = ndjson(&run);
    let statuses: Vec<&str> = of_type(&events, "tool_result")
        .iter()
        .map(|e| e["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["done", "failed", "failed"]);
    assert_eq!(events.last().unwrap()["files_changed"], json!([]));
}

fn tool_results(request: &Captured) -> Vec<String> {
    request.json()["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["role"] == "tool")
        .map(|m| m["content"].as_str().unwrap_or("").to_owned())
        .collect()
}

#[test]
fn dangerous_commands_and_protected_files_are_refused_even_with_all() {
    let server = FakeServer::start(vec![
        tool_call_reply(&[
            (
                "d1",
                "shell",
                json!({"command": "git push --force origin main"}),
            ),
            (
                "p1",
                "write_file",
                json!({"path": ".env", "content": "KEY=x\n"}),
            ),
            ("s1", "shell", json!({"command": "echo ran > ran.txt"})),
        ]),
        answer("Done."),
    ]);
    let sb = Sandbox::new();
    let run = exec(
        &sb,
        &server,
        &["--json", "--auto-approve", "all", "go"],
        None,
    );
    assert_eq!(run.code, 0, "{run:?}");
    assert!(!sb.workspace().join(".env").exists());
    assert_eq!(
        std::fs::read_to_string(sb.workspace().join("ran.txt")).unwrap(),
        "ran\n"
    );
    let events = ndjson(&run);
    let approvals: Vec<(String, String)> = of_type(&events, "approval")
        .iter()
        .map(|e| {
            (
                e["id"].as_str().unwrap().to_owned(),
                e["decision"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert!(
        approvals.contains(&("d1".into(), "refused".into())),
        "{approvals:?}"
    );
    assert!(
        approvals.contains(&("p1".into(), "refused".into())),
        "{approvals:?}"
    );
    let results = tool_results(&server.posts()[1]);
    assert!(
        results[0].contains("never runs this without a person"),
        "{results:?}"
    );
    assert!(results[0].contains("force-push"), "{results:?}");
    assert!(
        results[1].contains("never runs this without a person"),
        "{results:?}"
    );
}

fn git(dir: &std::path::Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .expect("git");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn commit_takes_exactly_the_files_cove_changed_and_leaves_the_users_staged_work() {
    let server = FakeServer::start(vec![
        tool_call_reply(&[
            (
                "w1",
                "write_file",
                json!({"path": "a.txt", "content": "a, changed\n"}),
            ),
            (
                "w2",
                "write_file",
                json!({"path": "src/new.txt", "content": "new\n"}),
            ),
        ]),
        answer("Changed a.txt and added src/new.txt."),
        // the commit message request
        answer("Update a.txt and add src/new.txt"),
    ]);
    let sb = Sandbox::new();
    let ws = sb.workspace();
    git(&ws, &["init", "-q", "-b", "main"]);
    git(&ws, &["config", "user.name", "Test"]);
    git(&ws, &["config", "user.email", "test@example.invalid"]);
    for f in ["a.txt", "b.txt", "c.txt"] {
        std::fs::write(ws.join(f), format!("{f}\n")).unwrap();
    }
    git(&ws, &["add", "."]);
    git(&ws, &["commit", "-q", "-m", "start"]);
    // the user's own work: b staged, c changed but not staged
    std::fs::write(ws.join("b.txt"), "b, staged by the user\n").unwrap();
    git(&ws, &["add", "b.txt"]);
    std::fs::write(ws.join("c.txt"), "c, the user's edit\n").unwrap();
    let run = exec(
        &sb,
        &server,
        &[
            "--auto-approve",
            "edits",
            "--commit",
            "--json",
            "Change a and add new",
        ],
        None,
    );
    assert_eq!(run.code, 0, "{run:?}");
    let files = git(&ws, &["show", "--name-only", "--format=%s", "HEAD"]);
    let mut lines: Vec<&str> = files.lines().filter(|l| !l.is_empty()).collect();
    assert_eq!(lines.remove(0), "Update a.txt and add src/new.txt");
    lines.sort();
    assert_eq!(lines, ["a.txt", "src/new.txt"]);
    assert_eq!(git(&ws, &["show", "HEAD:a.txt"]), "a, changed\n");
    // what the user staged is still staged (and not committed); their other edit is as it was
    assert_eq!(
        git(&ws, &["diff", "--cached", "--name-only"]).trim(),
        "b.txt"
    );
    assert_eq!(git(&ws, &["show", "HEAD:b.txt"]), "b.txt\n");
    assert_eq!(git(&ws, &["diff", "--name-only"]).trim(), "c.txt");
    // the commit-message request saw the diff and offered no tools
    let posts = server.posts();
    assert_eq!(posts.len(), 3);
    let body = posts[2].json();
    assert!(
        body.get("tools")
            .is_none_or(|t| t.as_array().is_none_or(|a| a.is_empty())),
        "{body}"
    );
    let asked = last_user_text(&posts[2]);
    assert!(
        asked.contains("+a, changed") && asked.contains("+++ b/src/new.txt"),
        "{asked}"
    );
    let events = ndjson(&run);
    let result = events.last().unwrap();
    assert_eq!(
        result["commit"]["message"],
        "Update a.txt and add src/new.txt"
    );
    assert_eq!(result["files_changed"], json!(["a.txt", "src/new.txt"]));
    let id = result["commit"]["id"].as_str().unwrap();
    assert!(git(&ws, &["rev-parse", "HEAD"]).starts_with(id));
}

#[test]
fn max_iterations_is_not_done() {
    let server = FakeServer::start(vec![
        tool_call_reply(&[("r1", "read_file", json!({"path": "a.txt"}))]),
        tool_call_reply(&[("r2", "list_files", json!({}))]),
    ]);
    let sb = Sandbox::new();
    sb.write_user_config("[tools]\nmax_iterations = 2\n");
    std::fs::write(sb.workspace().join("a.txt"), "a\n").unwrap();
    let run = exec(&sb, &server, &["--json", "look around"], None);
    assert_eq!(run.code, 6, "{run:?}");
    let events = ndjson(&run);
    assert_eq!(events.last().unwrap()["status"], "max_iterations");
    assert_eq!(of_type(&events, "error").len(), 1);
}

#[test]
fn ndjson_carries_every_step_in_order() {
    let server = FakeServer::start(vec![
        tool_call_reply(&[(
            "w1",
            "edit_file",
            json!({"path": "n.txt", "old_string": "one", "new_string": "two"}),
        )]),
        answer("Edited n.txt."),
    ]);
    let sb = Sandbox::new();
    std::fs::write(sb.workspace().join("n.txt"), "one\n").unwrap();
    let run = exec(
        &sb,
        &server,
        &[
            "--json",
            "--auto-approve",
            "edits",
            "--verify",
            "grep -q two n.txt",
            "edit",
        ],
        None,
    );
    assert_eq!(run.code, 0, "{run:?}");
    let events = ndjson(&run);
    let types: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    let pos = |t: &str| {
        types
            .iter()
            .position(|x| *x == t)
            .unwrap_or_else(|| panic!("no {t}: {types:?}"))
    };
    assert!(pos("session") < pos("tool_call"));
    assert!(pos("tool_call") < pos("approval"));
    assert!(pos("approval") < pos("tool_result"));
    assert!(pos("tool_result") < pos("message_delta"));
    assert!(pos("message_delta") < pos("turn_end"));
    assert!(pos("turn_end") < pos("verify"));
    let text: String = of_type(&events, "message_delta")
        .iter()
        .map(|e| e["text"].as_str().unwrap())
        .collect();
    assert_eq!(text, "Edited n.txt.");
    let result = events.last().unwrap();
    assert_eq!(result["status"], "done");
    assert_eq!(result["files_changed"], json!(["n.txt"]));
    assert_eq!(result["usage"]["total_tokens"], 15);
    assert!(result["session_id"].as_str().is_some_and(|s| !s.is_empty()));
    // nothing but JSON on stdout; stderr stays quiet
    assert!(run.stderr.trim().is_empty(), "{run:?}");
}

#[test]
fn sigint_exits_130_with_the_journal_intact() {
    let pieces: Vec<String> = (0..60).map(|i| content_chunk(&format!("w{i} "))).collect();
    let mut events: Vec<&str> = vec![ROLE_CHUNK];
    events.extend(pieces.iter().map(String::as_str));
    let server = FakeServer::start(vec![
        Reply::sse(&events)
            .pieces_of(64)
            .delay(Duration::from_millis(100)),
    ]);
    let sb = Sandbox::new();
    let url = server.base_url();
    let mut child = sb
        .command(
            &[
                "exec",
                "--json",
                "--base-url",
                &url,
                "--model",
                "m",
                "write slowly",
            ],
            &[],
        )
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut lines = Vec::new();
    // interrupt once the reply streams
    loop {
        let mut line = String::new();
        assert!(stdout.read_line(&mut line).unwrap() > 0, "{lines:?}");
        let delta = line.contains("\"message_delta\"");
        lines.push(line);
        if delta {
            break;
        }
    }
    let sent = Instant::now();
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stdout, &mut rest).unwrap();
    let code = child.wait().unwrap().code();
    assert_eq!(code, Some(130), "{lines:?}{rest}");
    assert!(sent.elapsed() < Duration::from_secs(5));
    let last: Value = serde_json::from_str(rest.lines().last().unwrap()).unwrap();
    assert_eq!(last["type"], "result");
    assert_eq!(last["status"], "interrupted");
    let id = last["session_id"].as_str().unwrap().to_owned();
    // the journal: every line whole, the message, what streamed, the turn's end
    let list = sb.run(&["sessions", "--json"]);
    let session: Value = serde_json::from_str(list.stdout.lines().next().unwrap()).unwrap();
    assert_eq!(session["id"], id.as_str());
    assert_eq!(session["first_prompt"], "write slowly");
    let journal = std::fs::read_to_string(session["path"].as_str().unwrap()).unwrap();
    let records: Vec<Value> = journal
        .lines()
        .map(|l| serde_json::from_str(l).expect("a whole record per line"))
        .collect();
    assert!(journal.ends_with('\n'));
    let replies: Vec<&Value> = records
        .iter()
        .filter(|r| r["message"]["role"] == "assistant")
        .collect();
    assert!(
        replies.iter().any(|r| r["message"]["content"]["text"]
            .as_str()
            .is_some_and(|c| c.starts_with("w0 "))),
        "{journal}"
    );
    assert!(records.iter().any(|r| r["type"] == "turn_end"), "{journal}");
}

#[test]
fn usage_errors_and_an_unreachable_server() {
    let sb = Sandbox::new();
    let server = FakeServer::start(vec![]);
    let run = exec(&sb, &server, &["--max-turns", "0", "x"], None);
    assert_eq!(run.code, 2, "{run:?}");
    let run = exec(&sb, &server, &["--auto-approve", "everything", "x"], None);
    assert_eq!(run.code, 2, "{run:?}");
    let run = exec(&sb, &server, &["  "], None);
    assert_eq!(run.code, 2, "{run:?}");
    // --commit outside a repository
    let run = exec(&sb, &server, &["--commit", "x"], None);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("git repository"), "{run:?}");
    let port = dead_port();
    let url = format!("http://127.0.0.1:{port}/v1");
    let run = sb.run(&[
        "exec",
        "--json",
        "--base-url",
        &url,
        "--model",
        "m",
        "hello",
    ]);
    assert_eq!(run.code, 3, "{run:?}");
    let events = ndjson(&run);
    assert_eq!(events.last().unwrap()["status"], "error");
    assert!(events.last().unwrap()["error"].as_str().is_some());
}

#[test]
fn a_check_the_sandbox_cannot_run_fails_the_run_instead_of_going_to_the_model() {
    let server = FakeServer::start(vec![answer("Done.")]);
    let sb = Sandbox::new();
    let url = server.base_url();
    let run = sb.run_with(
        &[
            "exec",
            "--json",
            "--base-url",
            &url,
            "--model",
            "m",
            "--verify",
            "true",
            "go",
        ],
        &[("COVE_SANDBOX_SIMULATE_MISSING", "landlock")],
        None,
    );
    assert_eq!(run.code, 2, "{run:?}");
    let events = ndjson(&run);
    let result = events.last().unwrap();
    assert_eq!(result["status"], "error");
    assert!(
        result["error"]
            .as_str()
            .is_some_and(|e| e.contains("the check cannot run") && e.contains("sandbox")),
        "{result}"
    );
    assert!(of_type(&events, "verify").is_empty());
    // one request: the failure did not go back to the model
    assert_eq!(server.posts().len(), 1);
}

#[test]
fn what_the_model_committed_itself_is_not_committed_twice() {
    let server = FakeServer::start(vec![
        tool_call_reply(&[(
            "w1",
            "write_file",
            json!({"path": "a.txt", "content": "a, changed\n"}),
        )]),
        tool_call_reply(&[(
            "c1",
            "git_commit",
            json!({"message": "The model's own commit"}),
        )]),
        answer("Committed."),
    ]);
    let sb = Sandbox::new();
    let ws = sb.workspace();
    git(&ws, &["init", "-q", "-b", "main"]);
    git(&ws, &["config", "user.name", "Test"]);
    git(&ws, &["config", "user.email", "test@example.invalid"]);
    std::fs::write(ws.join("a.txt"), "a\n").unwrap();
    git(&ws, &["add", "."]);
    git(&ws, &["commit", "-q", "-m", "start"]);
    let run = exec(
        &sb,
        &server,
        &[
            "--json",
            "--auto-approve",
            "all",
            "--commit",
            "change a and commit",
        ],
        None,
    );
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(git(&ws, &["rev-list", "--count", "HEAD"]).trim(), "2");
    assert_eq!(
        git(&ws, &["log", "-1", "--format=%s"]).trim(),
        "The model's own commit"
    );
    // no commit-message request
    assert_eq!(server.posts().len(), 3);
    let events = ndjson(&run);
    let result = events.last().unwrap();
    assert_eq!(result["commit"], Value::Null);
    assert_eq!(result["files_changed"], json!(["a.txt"]));
    assert!(
        of_type(&events, "notice")
            .iter()
            .any(|n| n["text"].as_str().unwrap().contains("Nothing to commit")),
        "{run:?}"
    );
}

#[test]
fn another_workspace_with_c_and_an_image_with_the_first_message() {
    let server = FakeServer::start(vec![answer("A checkerboard.")]);
    let sb = Sandbox::new();
    let other = sb.dir.path().join("elsewhere");
    std::fs::create_dir_all(&other).unwrap();
    std::fs::write(other.join("marker.txt"), "here\n").unwrap();
    let img = image::RgbImage::from_fn(64, 64, |x, y| {
        if (x / 8 + y / 8) % 2 == 0 {
            image::Rgb([20, 20, 20])
        } else {
            image::Rgb([230, 230, 230])
        }
    });
    let png = sb.dir.path().join("board.png");
    img.save(&png).unwrap();
    let url = server.base_url();
    let run = sb.run(&[
        "-C",
        other.to_str().unwrap(),
        "exec",
        "--json",
        "--base-url",
        &url,
        "--model",
        "m",
        "--image",
        png.to_str().unwrap(),
        "What is in the picture?",
    ]);
    assert_eq!(run.code, 0, "{run:?}");
    let body = server.posts()[0].json();
    let messages = body["messages"].as_array().unwrap();
    // the project context is the other directory's
    assert!(
        messages[0]["content"]
            .as_str()
            .unwrap()
            .contains("marker.txt"),
        "{body}"
    );
    let user = messages.last().unwrap();
    let parts = user["content"].as_array().expect("text and image parts");
    assert!(parts.iter().any(|p| {
        p["type"] == "image_url"
            && p["image_url"]["url"]
                .as_str()
                .is_some_and(|u| u.starts_with("data:image/"))
    }));
    let events = ndjson(&run);
    assert_eq!(
        events[0]["workspace"].as_str().unwrap(),
        other.canonicalize().unwrap().to_str().unwrap()
    );
}

#[test]
fn a_turn_stopped_for_repeating_itself_still_passes_if_the_check_does() {
    // the model fixes the file, then writes the same fix again and again: cove stops the
    // turn, and the check, not the stop, decides the run
    let fix = || {
        tool_call_reply(&[(
            "w",
            "write_file",
            json!({"path": "ok.txt", "content": "fixed\n"}),
        )])
    };
    let server = FakeServer::start(vec![fix(), fix(), fix()]);
    let sb = Sandbox::new();
    let run = exec(
        &sb,
        &server,
        &[
            "--json",
            "--auto-approve",
            "edits",
            "--verify",
            "grep -q fixed ok.txt",
            "Fix it",
        ],
        None,
    );
    assert_eq!(run.code, 0, "{run:?}");
    let events = ndjson(&run);
    assert_eq!(events.last().unwrap()["status"], "done");
    assert_eq!(of_type(&events, "verify")[0]["passed"], true);
    assert_eq!(
        server.posts().len(),
        3,
        "stopped at the third identical call"
    );

    // without a check, the stop is the outcome
    let server = FakeServer::start(vec![fix(), fix(), fix()]);
    let sb = Sandbox::new();
    let run = exec(
        &sb,
        &server,
        &["--json", "--auto-approve", "edits", "Fix it"],
        None,
    );
    assert_eq!(run.code, 6, "{run:?}");
    assert_eq!(ndjson(&run).last().unwrap()["status"], "repeating");
}
