//! Hunk-level approval in the agent: of an edit with two hunks, the user keeps one; the file
//! holds exactly that hunk and the model is told which were applied and declined.

mod agent_support;
mod common;

use agent_support::*;
use common::*;
use cove::domain::patch::diff_hunks;
use cove::protocol::{AgentEvent, Decision, Op};
use serde_json::json;

fn twenty() -> String {
    (1..=20).map(|i| format!("line {i}\n")).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_kept_hunk_is_written_and_the_model_hears_which() {
    let old_string: String = (2..=19).map(|i| format!("line {i}\n")).collect();
    let new_string = old_string
        .replace("line 2\n", "LINE TWO\n")
        .replace("line 19\n", "LINE NINETEEN\n");
    let server = FakeServer::start(vec![
        tool_call_reply(&[(
            "e1",
            "edit_file",
            json!({"path":"f.txt","old_string":old_string,"new_string":new_string}),
        )]),
        answer("done"),
    ]);
    let mut h = start(&server.base_url(), "").await;
    std::fs::write(h.root.join("f.txt"), twenty()).unwrap();
    h.ops
        .send(Op::UserTurn {
            turn: 1,
            text: "edit".into(),
            images: vec![],
        })
        .unwrap();
    let AgentEvent::ApprovalNeeded { request, .. } = h
        .until(|e| matches!(e, AgentEvent::ApprovalNeeded { .. }))
        .await
    else {
        unreachable!()
    };
    // the UI numbers hunks from the proposed change exactly like this
    let ch = &request.changes[0];
    let hunks = diff_hunks(ch.old.as_deref().unwrap(), ch.new.as_deref().unwrap(), 3);
    assert_eq!(hunks.len(), 2);
    h.ops
        .send(Op::Decide {
            call_id: "e1".into(),
            decision: Decision::ApproveHunks {
                declined: vec![(0, 0)],
            },
        })
        .unwrap();
    h.until(|e| matches!(e, AgentEvent::TurnDone { .. })).await;
    let want = twenty().replace("line 19\n", "LINE NINETEEN\n");
    assert_eq!(std::fs::read_to_string(h.root.join("f.txt")).unwrap(), want);
    let msgs = server.posts()[1].json()["messages"]
        .as_array()
        .unwrap()
        .clone();
    let result = msgs.iter().find(|m| m["role"] == "tool").unwrap()["content"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        result.contains("applied hunks 2") && result.contains("declined hunks 1"),
        "{result}"
    );
}
