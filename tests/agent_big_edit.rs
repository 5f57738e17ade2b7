//! An approved edit is written from its checked preview: a big file's one-line edit is
//! journaled as a few bytes beside the old text and undone exactly after a resume; a file
//! that is not UTF-8 is compared byte for byte, so a change the lossy text would hide still
//! stops the write.

mod agent_support;
mod common;

use agent_support::*;
use common::*;
use cove::protocol::{AgentEvent, Decision, Op};
use serde_json::json;

async fn approve(h: &mut Harness, id: &str) {
    let AgentEvent::ApprovalNeeded { request, .. } = h
        .until(|e| matches!(e, AgentEvent::ApprovalNeeded { .. }))
        .await
    else {
        unreachable!()
    };
    assert_eq!(request.call_id, id);
    h.ops
        .send(Op::Decide {
            call_id: id.into(),
            decision: Decision::Approve,
        })
        .unwrap();
}

async fn turn_done(events: &mut cove::protocol::EventRx) {
    loop {
        let ev = tokio::time::timeout(std::time::Duration::from_secs(10), events.recv())
            .await
            .expect("in time")
            .expect("agent alive");
        if let AgentEvent::TurnDone { .. } = ev {
            return;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_big_edit_is_journaled_small_and_undone_exactly_after_a_resume() {
    let big: String = (0..20_000).map(|i| format!("line {i}\n")).collect();
    let server = FakeServer::start(vec![
        tool_call_reply(&[(
            "e1",
            "edit_file",
            json!({"path": "big.txt", "old_string": "line 12345\n", "new_string": "changed\n"}),
        )]),
        answer("done"),
    ]);
    let sessions = tempfile::tempdir().unwrap();
    let sdir = sessions.path().to_owned();
    let original = big.clone();
    let mut h = start_with(&server.base_url(), "", |s, root| {
        std::fs::write(root.join("big.txt"), &original).unwrap();
        s.sessions_dir = Some(sdir.clone());
    })
    .await;
    let root = h.root.clone();
    h.say(1, "change a line");
    approve(&mut h, "e1").await;
    turn_done(&mut h.events).await;
    let edited = std::fs::read_to_string(root.join("big.txt")).unwrap();
    assert_eq!(edited, big.replace("line 12345\n", "changed\n"));
    h.ops.send(Op::Shutdown).unwrap();

    // the old text whole (each newline escaped), the new one as a splice of it
    let list = cove::session::store::list(&sdir);
    let journal = std::fs::read_to_string(&list[0].path).unwrap();
    assert!(journal.contains(r#""splice":[{"at":"#), "no splice");
    assert!(
        journal.len() < big.len() * 3 / 2,
        "{} bytes journaled for a {} byte file",
        journal.len(),
        big.len()
    );

    let mut settings = cove::agent::AgentSettings::from_config(
        &config(&server.base_url(), ""),
        "system".into(),
        root.clone(),
    )
    .unwrap();
    settings.sessions_dir = Some(sdir.clone());
    settings.resume = Some(list[0].path.clone());
    let (ops, mut events) = cove::agent::spawn(settings);
    loop {
        if let AgentEvent::SessionLoaded { .. } = events.recv().await.unwrap() {
            break;
        }
    }
    ops.send(Op::Undo).unwrap();
    loop {
        if let AgentEvent::Notice { text } = events.recv().await.unwrap() {
            assert!(text.contains("Undone: big.txt"), "{text}");
            break;
        }
    }
    assert_eq!(std::fs::read_to_string(root.join("big.txt")).unwrap(), big);
    ops.send(Op::Shutdown).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_that_is_not_utf8_is_compared_byte_for_byte() {
    let server = FakeServer::start(vec![
        tool_call_reply(&[(
            "e1",
            "edit_file",
            json!({"path": "latin1.txt", "old_string": "name", "new_string": "NAME"}),
        )]),
        tool_call_reply(&[(
            "e2",
            "edit_file",
            json!({"path": "latin1.txt", "old_string": "NAME", "new_string": "Name"}),
        )]),
        answer("done"),
    ]);
    let mut h = start_with(&server.base_url(), "", |_, root| {
        std::fs::write(root.join("latin1.txt"), b"caf\xe9 name\n").unwrap();
    })
    .await;
    let path = h.root.join("latin1.txt");
    h.say(1, "shout the name");
    approve(&mut h, "e1").await;
    // the first edit is written as previewed, its other bytes kept
    let AgentEvent::ApprovalNeeded { .. } = h
        .until(|e| matches!(e, AgentEvent::ApprovalNeeded { .. }))
        .await
    else {
        unreachable!()
    };
    assert_eq!(std::fs::read(&path).unwrap(), b"caf\xe9 NAME\n");
    // the user changes a byte that reads as the same replacement character as text
    std::fs::write(&path, b"caf\xe8 NAME\n").unwrap();
    h.ops
        .send(Op::Decide {
            call_id: "e2".into(),
            decision: Decision::Approve,
        })
        .unwrap();
    turn_done(&mut h.events).await;
    assert_eq!(std::fs::read(&path).unwrap(), b"caf\xe8 NAME\n");
    let r = tool_results(&server);
    assert!(
        r.last()
            .unwrap()
            .contains("changed on disk after this change was proposed"),
        "{r:?}"
    );
}
