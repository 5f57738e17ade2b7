//! A panic in a tool, a preview or the turn itself ends that turn with an error card and
//! an error result for the model; the session goes on and the journal keeps everything.
//! (Fault points exist in debug builds only; one test walks through them in order.)

mod agent_support;
mod common;

use agent_support::*;
use common::*;
use cove::protocol::AgentEvent;
use cove::tools::isolate::FAULT;
use serde_json::json;

/// The fault point is one for the whole test binary: its tests take turns.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn set_fault(point: Option<&str>) {
    *FAULT.lock().unwrap() = point.map(str::to_owned);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn panics_become_errors_and_the_session_goes_on() {
    let _serial = SERIAL.lock().await;
    let server = FakeServer::start(vec![
        // 1: a read whose tool panics
        tool_call_reply(&[("r1", "read_file", json!({"path": "notes.txt"}))]),
        answer("after the tool panic"),
        // 2: a write whose preview panics
        tool_call_reply(&[("w1", "write_file", json!({"path": "x.txt", "content": "x"}))]),
        answer("after the preview panic"),
        // 4: the session still works
        answer("still here"),
    ]);
    let mut h = start(&server.base_url(), "").await;

    set_fault(Some("tool"));
    h.say(1, "read it");
    h.until(|e| matches!(e, AgentEvent::TurnDone { .. })).await;
    let results = tool_results(&server);
    assert!(results[0].contains("internal error"), "{results:?}");
    assert!(results[0].contains("injected fault at tool"), "{results:?}");

    set_fault(Some("preview"));
    h.say(2, "write it");
    let ev = h
        .until(|e| {
            matches!(
                e,
                AgentEvent::TurnDone { .. } | AgentEvent::ApprovalNeeded { .. }
            )
        })
        .await;
    assert!(
        matches!(ev, AgentEvent::TurnDone { .. }),
        "asked anyway: {ev:?}"
    );
    let results = tool_results(&server);
    assert!(
        results.last().unwrap().contains("preparing this call"),
        "{results:?}"
    );
    assert!(!h.root.join("x.txt").exists());

    set_fault(Some("turn"));
    h.say(3, "this turn panics");
    let AgentEvent::TurnFailed { error, hint, .. } = h
        .until(|e| {
            matches!(
                e,
                AgentEvent::TurnFailed { .. } | AgentEvent::TurnDone { .. }
            )
        })
        .await
    else {
        panic!("no error card for a panicking turn")
    };
    assert!(error.contains("internal error"), "{error}");
    assert!(hint.contains("intact"), "{hint}");

    set_fault(None);
    h.say(4, "hello again");
    h.until(|e| matches!(e, AgentEvent::TurnDone { .. })).await;
    let posts = server.posts();
    let last = posts.last().unwrap().json();
    let msgs = last["messages"].as_array().unwrap();
    assert_eq!(msgs.last().unwrap()["content"], "hello again");
    // roles still alternate after the failed turn
    let roles: Vec<&str> = msgs.iter().map(|m| m["role"].as_str().unwrap()).collect();
    for w in roles.windows(2) {
        assert!(!(w[0] == "user" && w[1] == "user"), "{roles:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn esc_ends_a_turn_whose_read_hangs_at_once() {
    let _serial = SERIAL.lock().await;
    let server = FakeServer::start(vec![
        tool_call_reply(&[("r1", "read_file", json!({"path": "notes.txt"}))]),
        answer("unused"),
    ]);
    let mut h = start(&server.base_url(), "").await;
    set_fault(Some("slow:tool"));
    h.say(1, "read it");
    h.until(|e| matches!(e, AgentEvent::ToolStarted { .. }))
        .await;
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let sent = std::time::Instant::now();
    h.ops.send(cove::protocol::Op::Interrupt).unwrap();
    let AgentEvent::TurnDone { outcome, .. } =
        h.until(|e| matches!(e, AgentEvent::TurnDone { .. })).await
    else {
        unreachable!()
    };
    set_fault(None);
    assert!(outcome.interrupted);
    assert!(
        sent.elapsed() < std::time::Duration::from_millis(500),
        "{:?}",
        sent.elapsed()
    );
}
