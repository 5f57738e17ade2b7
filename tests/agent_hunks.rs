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
    h.say(1, "edit");
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_diff_shows_every_changed_file_against_how_it_was_before() {
    let server = FakeServer::start(vec![
        tool_call_reply(&[(
            "w1",
            "edit_file",
            json!({"path":"notes.txt","old_string":"alpha","new_string":"ALPHA"}),
        )]),
        tool_call_reply(&[(
            "w2",
            "edit_file",
            json!({"path":"notes.txt","old_string":"beta","new_string":"BETA"}),
        )]),
        tool_call_reply(&[(
            "w3",
            "write_file",
            json!({"path":"new.txt","content":"fresh\n"}),
        )]),
        answer("done"),
    ]);
    let mut h = start(
        &server.base_url(),
        "[tools]\nedit_file = \"always\"\nwrite_file = \"always\"\n",
    )
    .await;
    h.say(1, "edit");
    h.until(|e| matches!(e, AgentEvent::TurnDone { .. })).await;
    h.ops.send(Op::SessionDiff).unwrap();
    let AgentEvent::SessionDiff { changes } = h
        .until(|e| matches!(e, AgentEvent::SessionDiff { .. }))
        .await
    else {
        unreachable!()
    };
    assert_eq!(changes.len(), 2, "{changes:?}");
    assert_eq!(changes[0].path, "notes.txt");
    assert_eq!(
        changes[0].old.as_deref(),
        Some("alpha\nbeta\n"),
        "before the first change"
    );
    assert_eq!(changes[0].new.as_deref(), Some("ALPHA\nBETA\n"));
    assert_eq!(changes[1].path, "new.txt");
    assert_eq!(changes[1].old, None);
    // a file put back as it was drops out
    std::fs::write(h.root.join("notes.txt"), "alpha\nbeta\n").unwrap();
    h.ops.send(Op::SessionDiff).unwrap();
    let AgentEvent::SessionDiff { changes } = h
        .until(|e| matches!(e, AgentEvent::SessionDiff { .. }))
        .await
    else {
        unreachable!()
    };
    assert_eq!(changes.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hunk_choices_refer_to_the_change_as_proposed_even_after_an_earlier_call_ran() {
    let sixty: String = (1..=60).map(|i| format!("line {i}\n")).collect();
    let b_content = sixty
        .replace("line 10\n", "B10\n")
        .replace("line 50\n", "B50\n");
    let server = FakeServer::start(vec![
        tool_call_reply(&[
            (
                "a",
                "edit_file",
                json!({"path":"f.txt","old_string":"line 10\n","new_string":"B10\n"}),
            ),
            (
                "b",
                "write_file",
                json!({"path":"f.txt","content":b_content}),
            ),
        ]),
        answer("done"),
    ]);
    let mut h = start(&server.base_url(), "").await;
    std::fs::write(h.root.join("f.txt"), &sixty).unwrap();
    h.say(1, "edit");
    let mut b_hunks = 0;
    for _ in 0..2 {
        let AgentEvent::ApprovalNeeded { request, .. } = h
            .until(|e| matches!(e, AgentEvent::ApprovalNeeded { .. }))
            .await
        else {
            unreachable!()
        };
        if request.call_id == "b" {
            let ch = &request.changes[0];
            b_hunks = diff_hunks(ch.old.as_deref().unwrap(), ch.new.as_deref().unwrap(), 3).len();
        }
    }
    assert_eq!(b_hunks, 2, "as proposed, b changes lines 10 and 50");
    h.ops
        .send(Op::Decide {
            call_id: "a".into(),
            decision: Decision::Approve,
        })
        .unwrap();
    // leave out b's hunk 1 (line 10), keep hunk 2 (line 50)
    h.ops
        .send(Op::Decide {
            call_id: "b".into(),
            decision: Decision::ApproveHunks {
                declined: vec![(0, 0)],
            },
        })
        .unwrap();
    h.until(|e| matches!(e, AgentEvent::TurnDone { .. })).await;
    assert_eq!(
        std::fs::read_to_string(h.root.join("f.txt")).unwrap(),
        b_content
    );
}
