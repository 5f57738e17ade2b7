//! The agent loop against the fake server with scripted turns: tool call -> approval ->
//! result -> final answer, checking what reaches the model.

mod agent_support;
mod common;

use agent_support::*;
use common::*;
use cove::protocol::{AgentEvent, Decision, Op, ToolResultKind};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approved_edit_runs_and_the_result_answers_the_call_id() {
    let server = FakeServer::start(vec![
        tool_call_reply(&[(
            "Ab3dE6gH9",
            "edit_file",
            json!({"path":"notes.txt","old_string":"beta","new_string":"gamma"}),
        )]),
        answer("Done: beta is now gamma."),
    ]);
    let mut h = start(&server.base_url(), "").await;
    h.say(1, "rename beta");
    let AgentEvent::ApprovalNeeded { request, .. } = h
        .until(|e| matches!(e, AgentEvent::ApprovalNeeded { .. }))
        .await
    else {
        unreachable!()
    };
    assert_eq!(request.call_id, "Ab3dE6gH9");
    assert!(
        request.summary.contains("notes.txt") && request.summary.contains("+1 -1"),
        "{}",
        request.summary
    );
    assert_eq!(request.changes[0].new.as_deref(), Some("alpha\ngamma\n"));
    assert_eq!(
        std::fs::read_to_string(h.root.join("notes.txt")).unwrap(),
        "alpha\nbeta\n",
        "nothing written before approval"
    );
    h.ops
        .send(Op::Decide {
            call_id: "Ab3dE6gH9".into(),
            decision: Decision::Approve,
        })
        .unwrap();
    let AgentEvent::ToolFinished { kind, changes, .. } = h
        .until(|e| matches!(e, AgentEvent::ToolFinished { .. }))
        .await
    else {
        unreachable!()
    };
    assert_eq!(kind, ToolResultKind::Done);
    assert_eq!(changes[0].path, "notes.txt");
    h.until(|e| matches!(e, AgentEvent::TurnDone { .. })).await;
    assert_eq!(
        std::fs::read_to_string(h.root.join("notes.txt")).unwrap(),
        "alpha\ngamma\n"
    );
    let posts = server.posts();
    assert_eq!(posts.len(), 2);
    let msgs = posts[1].json()["messages"].as_array().unwrap().clone();
    let n = msgs.len();
    assert_eq!(msgs[n - 2]["role"], "assistant");
    assert_eq!(msgs[n - 2]["tool_calls"][0]["id"], "Ab3dE6gH9");
    assert_eq!(msgs[n - 1]["role"], "tool");
    assert_eq!(msgs[n - 1]["tool_call_id"], "Ab3dE6gH9");
    assert_eq!(posts[0].json()["tools"].as_array().unwrap().len(), 10);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rejected_calls_write_nothing_and_the_model_hears_the_reason() {
    let server = FakeServer::start(vec![
        tool_call_reply(&[
            (
                "call_1",
                "write_file",
                json!({"path":"notes.txt","content":"overwritten"}),
            ),
            ("call_2", "read_file", json!({"path":"notes.txt"})),
        ]),
        answer("Understood."),
    ]);
    let mut h = start(&server.base_url(), "").await;
    h.say(1, "go");
    h.until(|e| matches!(e, AgentEvent::ApprovalNeeded { .. }))
        .await;
    h.ops
        .send(Op::Decide {
            call_id: "call_1".into(),
            decision: Decision::Reject {
                reason: Some("keep my notes".into()),
            },
        })
        .unwrap();
    h.until(|e| matches!(e, AgentEvent::TurnDone { .. })).await;
    assert_eq!(
        std::fs::read_to_string(h.root.join("notes.txt")).unwrap(),
        "alpha\nbeta\n"
    );
    let msgs = server.posts()[1].json()["messages"]
        .as_array()
        .unwrap()
        .clone();
    let tool_msgs: Vec<&serde_json::Value> = msgs.iter().filter(|m| m["role"] == "tool").collect();
    assert_eq!(tool_msgs.len(), 2, "every call gets a result, in order");
    assert_eq!(tool_msgs[0]["tool_call_id"], "call_1");
    assert!(
        tool_msgs[0]["content"]
            .as_str()
            .unwrap()
            .contains("keep my notes")
    );
    assert_eq!(tool_msgs[1]["tool_call_id"], "call_2");
    assert!(
        tool_msgs[1]["content"].as_str().unwrap().contains("beta"),
        "read-only tools run without asking"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_arguments_unknown_tools_and_escapes_become_error_results() {
    let server = FakeServer::start(vec![
        Reply::sse(&[
            r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"c1","function":{"name":"read_file","arguments":"{\"path\": \"no"}}]}}]}"#,
            r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"id":"c2","function":{"name":"launch_rockets","arguments":"{}"}}]}}]}"#,
            r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":2,"id":"c3","function":{"name":"read_file","arguments":"{\"path\": \"../../etc/passwd\"}"}}]},"finish_reason":"tool_calls"}]}"#,
            "[DONE]",
        ]),
        answer("ok"),
    ]);
    let mut h = start(&server.base_url(), "").await;
    h.say(1, "go");
    h.until(|e| matches!(e, AgentEvent::TurnDone { .. })).await;
    let msgs = server.posts()[1].json()["messages"]
        .as_array()
        .unwrap()
        .clone();
    let results: Vec<String> = msgs
        .iter()
        .filter(|m| m["role"] == "tool")
        .map(|m| m["content"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(results.len(), 3);
    assert!(results[0].contains("cut off"), "{results:?}");
    assert!(
        results[1].contains("no tool named `launch_rockets`"),
        "{results:?}"
    );
    assert!(results[2].contains("outside"), "{results:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn allow_for_session_stops_asking_and_dangerous_commands_always_ask() {
    let server = FakeServer::start(vec![
        tool_call_reply(&[("s1", "shell", json!({"command":"echo one"}))]),
        tool_call_reply(&[("s2", "shell", json!({"command":"echo two"}))]),
        tool_call_reply(&[("s3", "shell", json!({"command":"rm -rf /"}))]),
        answer("finished"),
    ]);
    let mut h = start(&server.base_url(), "[tools]\nshell = \"always\"\n").await;
    h.say(1, "go");
    // shell = always: echo one runs without asking... and so does echo two
    let AgentEvent::ApprovalNeeded { request, .. } = h
        .until(|e| {
            matches!(
                e,
                AgentEvent::ApprovalNeeded { .. } | AgentEvent::TurnDone { .. }
            )
        })
        .await
    else {
        panic!("the dangerous command ran without asking")
    };
    assert_eq!(request.call_id, "s3");
    assert!(request.danger.is_some());
    h.ops
        .send(Op::Decide {
            call_id: "s3".into(),
            decision: Decision::Reject { reason: None },
        })
        .unwrap();
    h.until(|e| matches!(e, AgentEvent::TurnDone { .. })).await;
    let msgs = server.posts()[3].json()["messages"]
        .as_array()
        .unwrap()
        .clone();
    let results: Vec<String> = msgs
        .iter()
        .filter(|m| m["role"] == "tool")
        .map(|m| m["content"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        results[0].contains("one") && results[1].contains("two"),
        "{results:?}"
    );
    assert!(results[2].contains("declined"), "{results:?}");

    // with shell = ask, `a` allows the command prefix for the rest of the session
    let server = FakeServer::start(vec![
        tool_call_reply(&[("t1", "shell", json!({"command":"echo first"}))]),
        tool_call_reply(&[("t2", "shell", json!({"command":"echo second"}))]),
        answer("finished"),
    ]);
    let mut h = start(&server.base_url(), "").await;
    h.say(1, "go");
    let AgentEvent::ApprovalNeeded { request, .. } = h
        .until(|e| matches!(e, AgentEvent::ApprovalNeeded { .. }))
        .await
    else {
        unreachable!()
    };
    assert_eq!(request.session_prefix.as_deref(), Some("echo"));
    h.ops
        .send(Op::Decide {
            call_id: "t1".into(),
            decision: Decision::ApproveForSession,
        })
        .unwrap();
    let ev = h
        .until(|e| {
            matches!(
                e,
                AgentEvent::ApprovalNeeded { .. } | AgentEvent::TurnDone { .. }
            )
        })
        .await;
    assert!(
        matches!(ev, AgentEvent::TurnDone { .. }),
        "asked again after `a`: {ev:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn interrupt_while_waiting_rejects_the_queue_and_ends_the_turn() {
    let server = FakeServer::start(vec![tool_call_reply(&[(
        "w1",
        "write_file",
        json!({"path":"x.txt","content":"x"}),
    )])]);
    let mut h = start(&server.base_url(), "").await;
    h.say(1, "go");
    h.until(|e| matches!(e, AgentEvent::ApprovalNeeded { .. }))
        .await;
    h.ops.send(Op::Interrupt).unwrap();
    let AgentEvent::ToolFinished { kind, .. } = h
        .until(|e| matches!(e, AgentEvent::ToolFinished { .. }))
        .await
    else {
        unreachable!()
    };
    assert_eq!(kind, ToolResultKind::Rejected);
    let AgentEvent::TurnDone { outcome, .. } =
        h.until(|e| matches!(e, AgentEvent::TurnDone { .. })).await
    else {
        unreachable!()
    };
    assert!(outcome.interrupted);
    assert!(!h.root.join("x.txt").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn undo_reverts_a_turn_exactly_and_refuses_files_changed_since() {
    let server = FakeServer::start(vec![
        tool_call_reply(&[
            (
                "u1",
                "edit_file",
                json!({"path":"notes.txt","old_string":"beta","new_string":"gamma"}),
            ),
            (
                "u2",
                "write_file",
                json!({"path":"new/created.txt","content":"fresh\n"}),
            ),
        ]),
        answer("changed two files"),
        tool_call_reply(&[(
            "u3",
            "write_file",
            json!({"path":"other.txt","content":"v2\n"}),
        )]),
        answer("changed other"),
        answer("noted"),
    ]);
    let mut h = start(
        &server.base_url(),
        "[tools]\nwrite_file = \"always\"\nedit_file = \"always\"\n",
    )
    .await;
    std::fs::write(h.root.join("other.txt"), "v1\n").unwrap();
    h.say(1, "one");
    h.until(|e| matches!(e, AgentEvent::TurnDone { .. })).await;
    h.say(2, "two");
    h.until(|e| matches!(e, AgentEvent::TurnDone { .. })).await;
    assert_eq!(
        std::fs::read_to_string(h.root.join("other.txt")).unwrap(),
        "v2\n"
    );

    // the second turn's change was edited by hand since: undo leaves it alone
    std::fs::write(h.root.join("other.txt"), "hand edit\n").unwrap();
    h.ops.send(Op::Undo).unwrap();
    let AgentEvent::Notice { text } = h.until(|e| matches!(e, AgentEvent::Notice { .. })).await
    else {
        unreachable!()
    };
    assert!(text.contains("Left alone: other.txt"), "{text}");
    assert_eq!(
        std::fs::read_to_string(h.root.join("other.txt")).unwrap(),
        "hand edit\n"
    );

    // the first turn: the edit reverted, the created file (and only it) removed
    h.ops.send(Op::Undo).unwrap();
    let AgentEvent::Notice { text } = h.until(|e| matches!(e, AgentEvent::Notice { .. })).await
    else {
        unreachable!()
    };
    assert!(
        text.contains("notes.txt") && text.contains("new/created.txt"),
        "{text}"
    );
    assert_eq!(
        std::fs::read_to_string(h.root.join("notes.txt")).unwrap(),
        "alpha\nbeta\n"
    );
    assert!(!h.root.join("new/created.txt").exists());
    h.ops.send(Op::Undo).unwrap();
    let AgentEvent::Notice { text } = h.until(|e| matches!(e, AgentEvent::Notice { .. })).await
    else {
        unreachable!()
    };
    assert!(text.contains("Nothing to undo"), "{text}");

    // the model hears about it with the next message
    h.say(3, "three");
    h.until(|e| matches!(e, AgentEvent::TurnDone { .. })).await;
    let msgs = server.posts().last().unwrap().json()["messages"]
        .as_array()
        .unwrap()
        .clone();
    let last = msgs.last().unwrap()["content"].as_str().unwrap().to_owned();
    assert!(last.contains("undid") && last.ends_with("three"), "{last}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn permissions_can_be_listed_and_revoked() {
    let server = FakeServer::start(vec![
        tool_call_reply(&[("p1", "shell", json!({"command":"cargo test --lib"}))]),
        answer("ok"),
        tool_call_reply(&[("p2", "shell", json!({"command":"cargo test --doc"}))]),
        answer("ok"),
    ]);
    let mut h = start(&server.base_url(), "").await;
    h.say(1, "test");
    h.until(|e| matches!(e, AgentEvent::ApprovalNeeded { .. }))
        .await;
    h.ops
        .send(Op::Decide {
            call_id: "p1".into(),
            decision: Decision::ApproveForSession,
        })
        .unwrap();
    h.until(|e| matches!(e, AgentEvent::TurnDone { .. })).await;
    h.ops.send(Op::Permissions).unwrap();
    let AgentEvent::Notice { text } = h.until(|e| matches!(e, AgentEvent::Notice { .. })).await
    else {
        unreachable!()
    };
    assert!(
        text.contains("1. shell commands starting `cargo test`"),
        "{text}"
    );
    // and what confines the commands
    assert!(
        text.contains("Sandbox: workspace-write, no network"),
        "{text}"
    );
    h.ops.send(Op::Revoke { which: Some(1) }).unwrap();
    h.until(|e| matches!(e, AgentEvent::Notice { .. })).await;
    h.say(2, "again");
    let ev = h
        .until(|e| {
            matches!(
                e,
                AgentEvent::ApprovalNeeded { .. } | AgentEvent::TurnDone { .. }
            )
        })
        .await;
    assert!(
        matches!(ev, AgentEvent::ApprovalNeeded { .. }),
        "revoked, so it asks again: {ev:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_prompt_prefix_is_byte_identical_across_requests_and_one_request_per_step() {
    let server = FakeServer::start(vec![
        tool_call_reply(&[("r1", "read_file", json!({"path":"notes.txt"}))]),
        answer("it says alpha beta"),
        answer("second turn"),
    ]);
    let mut h = start(&server.base_url(), "").await;
    h.say(1, "read notes");
    h.until(|e| matches!(e, AgentEvent::TurnDone { .. })).await;
    h.say(2, "again");
    h.until(|e| matches!(e, AgentEvent::TurnDone { .. })).await;
    let posts = server.posts();
    assert_eq!(
        posts.len(),
        3,
        "one request per model response, no side requests"
    );
    let prefix = |i: usize| {
        let b = posts[i].json();
        (
            b["messages"][0].to_string(),
            b["tools"].to_string(),
            b["messages"][1].to_string(),
        )
    };
    assert_eq!(prefix(0), prefix(1));
    assert_eq!(prefix(0), prefix(2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auto_commit_commits_what_the_turn_changed() {
    let server = FakeServer::start(vec![
        tool_call_reply(&[(
            "g1",
            "write_file",
            json!({"path":"src.txt","content":"v1\n"}),
        )]),
        answer("Add src.txt with its first version"),
    ]);
    let mut h = start(
        &server.base_url(),
        "[tools]\nwrite_file = \"always\"\n[git]\nauto_commit = true\n",
    )
    .await;
    let repo = git2::Repository::init(&h.root).unwrap();
    let mut cfg = repo.config().unwrap();
    cfg.set_str("user.name", "T").unwrap();
    cfg.set_str("user.email", "t@example.invalid").unwrap();
    h.say(1, "add it");
    h.until(|e| matches!(e, AgentEvent::TurnDone { .. })).await;
    let AgentEvent::Notice { text } = h.until(|e| matches!(e, AgentEvent::Notice { .. })).await
    else {
        unreachable!()
    };
    assert!(text.starts_with("committed"), "{text}");
    let head = repo.head().unwrap().peel_to_commit().unwrap();
    assert_eq!(
        head.message().unwrap(),
        "Add src.txt with its first version"
    );
    let tree = head.tree().unwrap();
    assert!(tree.get_name("src.txt").is_some());
    assert!(
        tree.get_name("notes.txt").is_none(),
        "only what cove changed is committed"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_of_a_cut_reply_do_not_run_and_leave_no_unanswered_call() {
    let chunk = json!({"choices":[{"index":0,"delta":{"role":"assistant","content":"Let me edit.","tool_calls":[{"index":0,"id":"c1","type":"function","function":{"name":"write_file","arguments":"{\"path\":\"x.txt\",\"content\":\"hi\"}"}}]}}]}).to_string();
    let server = FakeServer::start(vec![Reply::sse(&[&chunk]).cut(), answer("ok")]);
    let mut h = start(&server.base_url(), "").await;
    h.say(1, "go");
    let ev = h
        .until(|e| {
            matches!(
                e,
                AgentEvent::TurnDone { .. } | AgentEvent::ApprovalNeeded { .. }
            )
        })
        .await;
    let AgentEvent::TurnDone { outcome, .. } = ev else {
        panic!("a cut call was queued: {ev:?}")
    };
    assert!(outcome.cut_short.is_some());
    assert!(!h.root.join("x.txt").exists());
    h.say(2, "again");
    h.until(|e| matches!(e, AgentEvent::TurnDone { .. })).await;
    let msgs = server.posts()[1].json()["messages"]
        .as_array()
        .unwrap()
        .clone();
    assert!(
        msgs.iter().all(|m| m
            .get("tool_calls")
            .is_none_or(|c| c.as_array().is_none_or(|a| a.is_empty()))),
        "{msgs:?}"
    );
    assert!(
        msgs.iter()
            .any(|m| m["role"] == "assistant" && m["content"] == "Let me edit.")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_only_calls_of_one_reply_run_together_and_answer_in_order() {
    let server = FakeServer::start(vec![
        tool_call_reply(&[
            ("r1", "read_file", json!({"path":"notes.txt"})),
            ("r2", "list_files", json!({})),
            ("r3", "search", json!({"pattern":"beta"})),
        ]),
        answer("done"),
    ]);
    let mut h = start(&server.base_url(), "").await;
    h.say(1, "look");
    let mut order = Vec::new();
    loop {
        match h.next().await {
            AgentEvent::ToolStarted { call_id, .. } => order.push(format!("start {call_id}")),
            AgentEvent::ToolFinished { call_id, .. } => order.push(format!("end {call_id}")),
            AgentEvent::TurnDone { .. } => break,
            _ => {}
        }
    }
    assert_eq!(
        order,
        [
            "start r1", "start r2", "start r3", "end r1", "end r2", "end r3"
        ],
        "all three start before any result is in"
    );
    let msgs = server.posts()[1].json()["messages"]
        .as_array()
        .unwrap()
        .clone();
    let results: Vec<(String, String)> = msgs
        .iter()
        .filter(|m| m["role"] == "tool")
        .map(|m| {
            (
                m["tool_call_id"].as_str().unwrap().to_owned(),
                m["content"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        results.iter().map(|r| r.0.as_str()).collect::<Vec<_>>(),
        ["r1", "r2", "r3"]
    );
    assert!(
        results[0].1.contains("alpha")
            && results[1].1.contains("notes.txt")
            && results[2].1.contains("beta")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn esc_stops_a_running_command_and_what_is_left_does_not_run() {
    let server = FakeServer::start(vec![
        tool_call_reply(&[
            ("s1", "shell", json!({"command":"sleep 30; touch late"})),
            ("s2", "shell", json!({"command":"touch second"})),
        ]),
        answer("unused"),
    ]);
    let mut h = start(&server.base_url(), "[tools]\nshell = \"always\"\n").await;
    h.say(1, "go");
    h.until(|e| matches!(e, AgentEvent::ToolStarted { call_id, .. } if call_id == "s1"))
        .await;
    let asked = std::time::Instant::now();
    h.ops.send(Op::Interrupt).unwrap();
    let ev = h
        .until(|e| {
            matches!(
                e,
                AgentEvent::TurnDone { .. } | AgentEvent::TurnFailed { .. }
            )
        })
        .await;
    assert!(
        matches!(&ev, AgentEvent::TurnDone { outcome, .. } if outcome.interrupted),
        "{ev:?}"
    );
    assert!(
        asked.elapsed() < std::time::Duration::from_secs(5),
        "the command was waited for"
    );
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert!(
        !h.root.join("second").exists(),
        "a call after the interrupt ran"
    );
    assert!(!h.root.join("late").exists());
    assert_eq!(server.posts().len(), 1, "no request after the interrupt");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_status_names_the_endpoint_that_answered() {
    let server = FakeServer::start(vec![answer("from the backup")]);
    let dead = format!("http://127.0.0.1:{}/v1", dead_port());
    let extra = format!("api_base = [\"{dead}\", \"{}\"]\n", server.base_url());
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join(".cove")).unwrap();
    std::fs::write(
        dir.path().join(".cove/config.toml"),
        format!("[model]\nname = \"fake-model\"\n{extra}"),
    )
    .unwrap();
    let config = cove::config::load(&cove::config::LoadInput {
        user_file: None,
        workspace: dir.path().to_owned(),
        env: Default::default(),
        flags: cove::config::Overrides::default(),
        // the test's own config: applied whole
        trust: cove::config::trust::TrustCheck::Trusted,
    })
    .unwrap()
    .config;
    let root = dir.path().canonicalize().unwrap();
    let settings = cove::agent::AgentSettings::from_config(&config, "system".into(), root).unwrap();
    let (ops, mut events) = cove::agent::spawn(settings);
    ops.send(Op::UserTurn {
        turn: 1,
        text: "hi".into(),
        images: vec![],
    })
    .unwrap();
    let mut last_status = None;
    loop {
        let ev = tokio::time::timeout(std::time::Duration::from_secs(20), events.recv())
            .await
            .unwrap()
            .unwrap();
        match ev {
            AgentEvent::Server(st) => last_status = Some(st),
            AgentEvent::TurnDone { .. } => break,
            AgentEvent::TurnFailed { error, .. } => panic!("{error}"),
            _ => {}
        }
    }
    let st = last_status.expect("a status");
    assert!(st.reachable, "{st:?}");
    assert_eq!(st.endpoint, server.base_url(), "{st:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edited_command_runs_and_the_model_is_told_exactly_what_ran() {
    let server = FakeServer::start(vec![
        tool_call_reply(&[("e1", "shell", json!({"command":"echo proposed"}))]),
        answer("ok"),
    ]);
    let mut h = start(&server.base_url(), "").await;
    h.say(1, "go");
    h.until(|e| matches!(e, AgentEvent::ApprovalNeeded { .. }))
        .await;
    h.ops
        .send(Op::Decide {
            call_id: "e1".into(),
            decision: Decision::ApproveEdited("echo edited-by-user".into()),
        })
        .unwrap();
    // the card hears what ran: the command's output, without cove's note to the model
    let AgentEvent::ToolFinished { output, .. } = h
        .until(|e| matches!(e, AgentEvent::ToolFinished { .. }))
        .await
    else {
        unreachable!()
    };
    assert!(output.starts_with("edited-by-user"), "{output}");
    assert!(!output.contains("The user edited"), "{output}");
    h.until(|e| matches!(e, AgentEvent::TurnDone { .. })).await;
    // the model's own message in the history holds the command that ran, not its proposal
    let body = server.posts().last().unwrap().json();
    let calls: Vec<&serde_json::Value> = body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["role"] == "assistant")
        .flat_map(|m| m["tool_calls"].as_array().into_iter().flatten())
        .collect();
    assert_eq!(calls.len(), 1, "{body}");
    assert_eq!(calls[0]["id"], "e1");
    let args: serde_json::Value =
        serde_json::from_str(calls[0]["function"]["arguments"].as_str().unwrap()).unwrap();
    assert_eq!(args, json!({"command": "echo edited-by-user"}));
    assert!(
        !body["messages"].to_string().contains("echo proposed"),
        "{body}"
    );
    let results = tool_results(&server);
    assert_eq!(results.len(), 1, "{results:?}");
    assert!(
        results[0].contains("this ran instead of what you proposed: echo edited-by-user"),
        "{results:?}"
    );
    // and it is what ran: the output follows the note
    let after_note = results[0]
        .split_once("echo edited-by-user)")
        .map(|(_, r)| r);
    assert!(
        after_note.is_some_and(|r| r.contains("edited-by-user")),
        "{results:?}"
    );
    assert!(!results[0].contains("echo proposed"), "{results:?}");
}
