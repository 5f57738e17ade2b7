//! The guard inside the agent, where someone can be asked: reading a secret-looking file
//! asks, flagged, even though `read_file` is read-only and allowed; once allowed, the file
//! is read and its secret goes out only as a placeholder.

mod agent_support;
mod common;

use std::sync::Arc;

use agent_support::*;
use common::*;
use cove::config::GuardConfig;
use cove::guard::{Guard, samples};
use cove::protocol::{AgentEvent, Decision, Op};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reading_a_secret_file_asks_flagged_and_once_allowed_goes_out_redacted() {
    let server = FakeServer::start(vec![
        tool_call_reply(&[("r1", "read_file", json!({ "path": ".env" }))]),
        answer("The token is [REDACTED:github-pat-1]."),
    ]);
    let gh = samples::secrets()[2].2.clone();
    let ledger = tempfile::tempdir().unwrap();
    let ledger_path = ledger.path().join("ledger.jsonl");
    let path = ledger_path.clone();
    let mut h = start_with(
        &server.base_url(),
        "[tools]\nread_file = \"always\"\n",
        move |settings, root| {
            std::fs::write(root.join(".env"), format!("GITHUB_TOKEN={gh}\n")).unwrap();
            settings.client.set_guard(Arc::new(Guard::with_ledger(
                &GuardConfig::default(),
                Some(path),
            )));
        },
    )
    .await;
    h.say(1, "what is in .env?");
    let AgentEvent::ApprovalNeeded { request, .. } = h
        .until(|e| matches!(e, AgentEvent::ApprovalNeeded { .. }))
        .await
    else {
        unreachable!()
    };
    assert_eq!(request.tool, "read_file");
    let danger = request.danger.clone().unwrap_or_default();
    assert!(
        danger.contains("secret-looking") && danger.contains(".env"),
        "{danger}"
    );
    h.ops
        .send(Op::Decide {
            call_id: "r1".into(),
            decision: Decision::Approve,
        })
        .unwrap();
    h.until(|e| matches!(e, AgentEvent::TurnDone { .. })).await;
    let results = tool_results(&server);
    assert!(
        results[0].contains("GITHUB_TOKEN=[REDACTED:github-pat-1]"),
        "{results:?}"
    );
    let secret = samples::secrets()[2].2.clone();
    for p in server.posts() {
        assert!(!String::from_utf8_lossy(&p.body).contains(&secret));
    }
    let (entries, _) = cove::guard::ledger::read(&ledger_path, 0).unwrap();
    let reads: Vec<&str> = entries
        .iter()
        .filter(|e| e.event.as_deref() == Some("deny_read"))
        .filter_map(|e| e.detail.as_deref())
        .collect();
    // the question and the user's answer are both on record
    assert!(
        reads.iter().any(|d| d.starts_with("asked the user")),
        "{reads:?}"
    );
    assert!(
        reads.iter().any(|d| d.starts_with("the user approved")),
        "{reads:?}"
    );
    assert!(
        entries
            .iter()
            .any(|e| e.redactions.contains_key("github-pat"))
    );
    // `/ledger`: this session's lines, as a table
    h.ops.send(Op::Ledger).unwrap();
    let AgentEvent::Notice { text } = h
        .until(|e| matches!(e, AgentEvent::Notice { text } if text.contains("ledger")))
        .await
    else {
        unreachable!()
    };
    assert!(text.contains("This session's ledger: "), "{text}");
    assert!(
        text.contains("POST turn") && text.contains("GET probe"),
        "{text}"
    );
    assert!(text.contains("redacted github-pat 1"), "{text}");
    assert!(text.contains("guard deny_read"), "{text}");
    assert!(!text.contains(&secret), "{text}");
}
