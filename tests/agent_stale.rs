//! An approved change is written only onto the file it was computed from: if the user (or
//! anything but cove) changed the file, or put a symlink where a new file was to be, after
//! the proposal, nothing is written and both the model and the user are told.

mod agent_support;
mod common;

use agent_support::*;
use common::*;
use cove::protocol::{AgentEvent, Decision, Op};
use serde_json::json;

fn asked(e: &AgentEvent) -> bool {
    matches!(
        e,
        AgentEvent::ApprovalNeeded { .. } | AgentEvent::TurnDone { .. }
    )
}

async fn approve(h: &mut Harness, id: &str) {
    let AgentEvent::ApprovalNeeded { request, .. } = h.until(asked).await else {
        panic!("no approval for {id}")
    };
    assert_eq!(request.call_id, id);
    h.ops
        .send(Op::Decide {
            call_id: id.into(),
            decision: Decision::Approve,
        })
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_changed_after_the_proposal_is_not_overwritten() {
    let server = FakeServer::start(vec![
        tool_call_reply(&[(
            "w1",
            "write_file",
            json!({"path": "notes.txt", "content": "model's version\n"}),
        )]),
        answer("ok"),
    ]);
    let mut h = start(&server.base_url(), "").await;
    h.say(1, "rewrite notes");
    let AgentEvent::ApprovalNeeded { .. } = h.until(asked).await else {
        panic!()
    };
    // the user edits the file while the proposal waits
    std::fs::write(
        h.root.join("notes.txt"),
        "alpha\nbeta\nthe user's new line\n",
    )
    .unwrap();
    h.ops
        .send(Op::Decide {
            call_id: "w1".into(),
            decision: Decision::Approve,
        })
        .unwrap();
    h.until(|e| matches!(e, AgentEvent::TurnDone { .. })).await;
    assert_eq!(
        std::fs::read_to_string(h.root.join("notes.txt")).unwrap(),
        "alpha\nbeta\nthe user's new line\n"
    );
    let r = tool_results(&server);
    assert!(
        r[0].contains("changed on disk after this change was proposed"),
        "{r:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_symlink_put_where_a_new_file_was_proposed_is_not_followed() {
    let server = FakeServer::start(vec![
        tool_call_reply(&[(
            "w1",
            "write_file",
            json!({"path": "new.txt", "content": "x\n"}),
        )]),
        answer("ok"),
    ]);
    let mut h = start(&server.base_url(), "").await;
    h.say(1, "create it");
    let AgentEvent::ApprovalNeeded { .. } = h.until(asked).await else {
        panic!()
    };
    std::os::unix::fs::symlink(h.root.join("notes.txt"), h.root.join("new.txt")).unwrap();
    h.ops
        .send(Op::Decide {
            call_id: "w1".into(),
            decision: Decision::Approve,
        })
        .unwrap();
    h.until(|e| matches!(e, AgentEvent::TurnDone { .. })).await;
    assert_eq!(
        std::fs::read_to_string(h.root.join("notes.txt")).unwrap(),
        "alpha\nbeta\n"
    );
    let r = tool_results(&server);
    assert!(r[0].contains("symlink"), "{r:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_changes_to_one_file_in_one_reply_both_apply() {
    let server = FakeServer::start(vec![
        tool_call_reply(&[
            (
                "e1",
                "edit_file",
                json!({"path": "notes.txt", "old_string": "alpha", "new_string": "ALPHA"}),
            ),
            (
                "e2",
                "edit_file",
                json!({"path": "notes.txt", "old_string": "beta", "new_string": "BETA"}),
            ),
        ]),
        answer("ok"),
    ]);
    let mut h = start(&server.base_url(), "").await;
    h.say(1, "shout");
    approve(&mut h, "e1").await;
    approve(&mut h, "e2").await;
    h.until(|e| matches!(e, AgentEvent::TurnDone { .. })).await;
    assert_eq!(
        std::fs::read_to_string(h.root.join("notes.txt")).unwrap(),
        "ALPHA\nBETA\n"
    );
}
