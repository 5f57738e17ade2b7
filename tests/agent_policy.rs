//! What runs without asking, what asks and what is refused: shell allow/deny patterns
//! (including commands chained behind an allowed one), `never` tools, `auto_approve`, and
//! the `max_iterations` limit.

mod agent_support;
mod common;

use agent_support::*;
use common::*;
use cove::protocol::{AgentEvent, Decision, Op};
use serde_json::json;

fn asked_or_done(e: &AgentEvent) -> bool {
    matches!(
        e,
        AgentEvent::ApprovalNeeded { .. }
            | AgentEvent::TurnDone { .. }
            | AgentEvent::TurnFailed { .. }
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn allow_patterns_cover_every_command_of_a_line() {
    let server = FakeServer::start(vec![
        tool_call_reply(&[("a1", "shell", json!({"command":"echo plain"}))]),
        tool_call_reply(&[("a2", "shell", json!({"command":"echo hi && touch pwned"}))]),
        answer("done"),
    ]);
    let mut h = start(&server.base_url(), "[tools]\nshell_allow = [\"echo*\"]\n").await;
    h.say(1, "go");
    // `echo plain` is allowed; the chained `touch` is not, so the second call asks
    let AgentEvent::ApprovalNeeded { request, .. } = h.until(asked_or_done).await else {
        panic!("the chained command ran without asking")
    };
    assert_eq!(request.call_id, "a2");
    assert!(!h.root.join("pwned").exists());
    h.ops
        .send(Op::Decide {
            call_id: "a2".into(),
            decision: Decision::Reject { reason: None },
        })
        .unwrap();
    h.until(|e| matches!(e, AgentEvent::TurnDone { .. })).await;
    assert!(!h.root.join("pwned").exists());
    let results = tool_results(&server);
    assert!(results[0].contains("plain"), "{results:?}");

    // command substitution hides a command from the patterns: it asks too
    let server = FakeServer::start(vec![
        tool_call_reply(&[("b1", "shell", json!({"command":"echo $(touch pwned2)"}))]),
        answer("done"),
    ]);
    let mut h = start(&server.base_url(), "[tools]\nshell_allow = [\"echo*\"]\n").await;
    h.say(1, "go");
    assert!(matches!(
        h.until(asked_or_done).await,
        AgentEvent::ApprovalNeeded { .. }
    ));
    assert!(!h.root.join("pwned2").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deny_patterns_catch_a_command_anywhere_in_the_line() {
    let server = FakeServer::start(vec![
        tool_call_reply(&[
            ("d1", "shell", json!({"command":"cd . && git push --force"})),
            (
                "d2",
                "shell",
                json!({"command":"true && (git push origin main)"}),
            ),
        ]),
        answer("done"),
    ]);
    let mut h = start(
        &server.base_url(),
        "[tools]\nshell = \"always\"\nshell_deny = [\"git push*\"]\n",
    )
    .await;
    h.say(1, "go");
    let ev = h.until(asked_or_done).await;
    assert!(matches!(ev, AgentEvent::TurnDone { .. }), "{ev:?}");
    let results = tool_results(&server);
    assert!(
        results[0].contains("denied") && results[0].contains("git push*"),
        "{results:?}"
    );
    assert!(
        results[1].contains("denied"),
        "inside a subshell too: {results:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn never_tools_are_not_offered_and_refused_and_auto_approve_runs() {
    let server = FakeServer::start(vec![
        tool_call_reply(&[
            ("n1", "write_file", json!({"path":"new.txt","content":"x"})),
            (
                "n2",
                "edit_file",
                json!({"path":"notes.txt","old_string":"alpha","new_string":"ALPHA"}),
            ),
        ]),
        answer("done"),
    ]);
    let mut h = start(
        &server.base_url(),
        "[tools]\nwrite_file = \"never\"\nauto_approve = [\"edit_file\"]\n",
    )
    .await;
    h.say(1, "go");
    let ev = h.until(asked_or_done).await;
    assert!(
        matches!(ev, AgentEvent::TurnDone { .. }),
        "nothing asks: {ev:?}"
    );
    let offered: Vec<String> = server.posts()[0].json()["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["function"]["name"].as_str().unwrap().to_owned())
        .collect();
    assert!(!offered.contains(&"write_file".to_owned()), "{offered:?}");
    assert!(offered.contains(&"edit_file".to_owned()));
    assert!(!h.root.join("new.txt").exists(), "a never tool wrote");
    assert_eq!(
        std::fs::read_to_string(h.root.join("notes.txt")).unwrap(),
        "ALPHA\nbeta\n",
        "auto_approve ran the edit"
    );
    let results = tool_results(&server);
    assert!(results[0].contains("write_file"), "{results:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_iterations_stops_a_model_that_never_finishes() {
    let server = FakeServer::start(vec![
        tool_call_reply(&[("m1", "read_file", json!({"path":"notes.txt"}))]),
        tool_call_reply(&[("m2", "read_file", json!({"path":"notes.txt"}))]),
        tool_call_reply(&[("m3", "read_file", json!({"path":"notes.txt"}))]),
        answer("never reached"),
    ]);
    let mut h = start(&server.base_url(), "[tools]\nmax_iterations = 2\n").await;
    h.say(1, "go");
    let ev = h
        .until(|e| {
            matches!(
                e,
                AgentEvent::TurnFailed { .. } | AgentEvent::TurnDone { .. }
            )
        })
        .await;
    let AgentEvent::TurnFailed { error, hint, .. } = ev else {
        panic!("{ev:?}")
    };
    assert!(error.contains("stopped after 2"), "{error}");
    assert!(hint.contains("max_iterations"), "{hint}");
    assert_eq!(server.posts().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_confirmed_prefix_stops_asking_for_matching_commands_only() {
    let server = FakeServer::start(vec![
        tool_call_reply(&[("p1", "shell", json!({"command":"echo one"}))]),
        tool_call_reply(&[("p2", "shell", json!({"command":"echo two && echo three"}))]),
        tool_call_reply(&[("p3", "shell", json!({"command":"ls"}))]),
        answer("done"),
    ]);
    let mut h = start(&server.base_url(), "").await;
    h.say(1, "go");
    let AgentEvent::ApprovalNeeded { request, .. } = h.until(asked_or_done).await else {
        panic!()
    };
    assert_eq!(request.call_id, "p1");
    h.ops
        .send(Op::Decide {
            call_id: "p1".into(),
            decision: Decision::AllowPrefix("echo".into()),
        })
        .unwrap();
    // every command of `echo two && echo three` has the prefix: no question; `ls` asks
    let AgentEvent::ApprovalNeeded { request, .. } = h.until(asked_or_done).await else {
        panic!()
    };
    assert_eq!(request.call_id, "p3");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deny_patterns_see_through_spacing_quoting_and_wrappers() {
    let server = FakeServer::start(vec![
        tool_call_reply(&[
            ("s1", "shell", json!({"command":"git  push origin"})),
            ("s2", "shell", json!({"command":"\\git -C . push"})),
            ("s3", "shell", json!({"command":"sh -c 'g\"i\"t push'"})),
            ("s4", "shell", json!({"command":"echo kept"})),
        ]),
        answer("done"),
    ]);
    let mut h = start(
        &server.base_url(),
        "[tools]\nshell = \"always\"\nshell_deny = [\"git push*\"]\n",
    )
    .await;
    h.say(1, "go");
    let ev = h.until(asked_or_done).await;
    assert!(matches!(ev, AgentEvent::TurnDone { .. }), "{ev:?}");
    let results = tool_results(&server);
    assert_eq!(results.len(), 4, "{results:?}");
    for r in &results[..3] {
        assert!(
            r.contains("denied") && r.contains("git push*"),
            "{results:?}"
        );
    }
    assert!(results[3].contains("kept"), "{results:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn risky_forms_of_an_allowed_command_ask() {
    let server = FakeServer::start(vec![
        tool_call_reply(&[("v1", "shell", json!({"command":"ls=1 touch pwned"}))]),
        tool_call_reply(&[(
            "v2",
            "shell",
            json!({"command":"git -c core.pager='touch pwned2' log"}),
        )]),
        answer("done"),
    ]);
    let mut h = start(
        &server.base_url(),
        "[tools]\nshell_allow = [\"ls*\", \"git log*\"]\n",
    )
    .await;
    h.say(1, "go");
    for id in ["v1", "v2"] {
        let AgentEvent::ApprovalNeeded { request, .. } = h.until(asked_or_done).await else {
            panic!("{id} ran without asking")
        };
        assert_eq!(request.call_id, id);
        h.ops
            .send(Op::Decide {
                call_id: id.into(),
                decision: Decision::Reject { reason: None },
            })
            .unwrap();
    }
    h.until(|e| matches!(e, AgentEvent::TurnDone { .. })).await;
    assert!(!h.root.join("pwned").exists());
    assert!(!h.root.join("pwned2").exists());
}
