//! The agent against the fake server: scripted tool-call replies and a harness that
//! starts the agent in a temporary workspace and reads its events.
#![allow(dead_code)]

use std::path::PathBuf;
use std::time::Duration;

use cove::agent::{self, AgentSettings};
use cove::config::{Config, LoadInput, Overrides, load};
use cove::protocol::{AgentEvent, Op};
use serde_json::json;
use tokio::sync::mpsc::UnboundedSender;

use super::common::*;

pub fn tool_call_reply(calls: &[(&str, &str, serde_json::Value)]) -> Reply {
    let deltas: Vec<serde_json::Value> = calls
        .iter()
        .enumerate()
        .map(|(i, (id, name, args))| json!({"index": i, "id": id, "type": "function", "function": {"name": name, "arguments": args.to_string()}}))
        .collect();
    let chunk = json!({"choices":[{"index":0,"delta":{"role":"assistant","tool_calls":deltas}}]})
        .to_string();
    let fin = finish_chunk("tool_calls");
    Reply::sse(&[&chunk, &fin, "[DONE]"]).pieces_of(11)
}

pub fn config(url: &str, extra: &str) -> Config {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join(".cove")).unwrap();
    std::fs::write(
        dir.path().join(".cove/config.toml"),
        format!("[model]\nname = \"fake-model\"\napi_base = \"{url}\"\n{extra}"),
    )
    .unwrap();
    load(&LoadInput {
        user_file: None,
        workspace: dir.path().to_owned(),
        env: Default::default(),
        flags: Overrides::default(),
        // the test's own config: applied whole
        trust: cove::config::trust::TrustCheck::Trusted,
    })
    .unwrap()
    .config
}

pub struct Harness {
    pub ops: UnboundedSender<Op>,
    pub events: cove::protocol::EventRx,
    pub root: PathBuf,
    _dir: tempfile::TempDir,
    _ledger: tempfile::TempDir,
}

pub async fn start(url: &str, extra: &str) -> Harness {
    start_with(url, extra, |_, _| {}).await
}

/// `start`, with the settings changed by `adjust` (given the workspace root) first.
pub async fn start_with(
    url: &str,
    extra: &str,
    adjust: impl FnOnce(&mut AgentSettings, &std::path::Path),
) -> Harness {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap();
    std::fs::write(root.join("notes.txt"), "alpha\nbeta\n").unwrap();
    let config = config(url, extra);
    let mut settings = AgentSettings::from_config(&config, "system".into(), root.clone()).unwrap();
    // the ledger in a directory of the test's (outside the workspace, where git would see
    // it), not the data dir of whoever runs the tests
    let ledger = tempfile::tempdir().unwrap();
    settings
        .client
        .set_guard(std::sync::Arc::new(cove::guard::Guard::with_ledger(
            &config.guard,
            Some(ledger.path().join("ledger.jsonl")),
        )));
    adjust(&mut settings, &root);
    let (ops, events) = agent::spawn(settings);
    let mut h = Harness {
        ops,
        events,
        root,
        _dir: dir,
        _ledger: ledger,
    };
    // the start-up probe
    assert!(matches!(h.next().await, AgentEvent::Server(_)));
    h
}

impl Harness {
    /// The user sends `text` as turn `turn`.
    pub fn say(&self, turn: u64, text: &str) {
        self.ops
            .send(Op::UserTurn {
                turn,
                text: text.into(),
                images: vec![],
            })
            .unwrap();
    }

    /// The next event, skipping the bookkeeping ones (context use, the session's id).
    pub async fn next(&mut self) -> AgentEvent {
        loop {
            let ev = self.next_raw().await;
            if !matches!(
                ev,
                AgentEvent::ContextUsage { .. }
                    | AgentEvent::SessionLoaded { .. }
                    | AgentEvent::SessionStarted { .. }
                    | AgentEvent::Ready
            ) {
                return ev;
            }
        }
    }

    /// The next event, whatever it is.
    pub async fn next_raw(&mut self) -> AgentEvent {
        tokio::time::timeout(Duration::from_secs(10), self.events.recv())
            .await
            .expect("agent event in time")
            .expect("agent alive")
    }

    /// Events until `pred` matches (returned), skipping stream increments.
    pub async fn until(&mut self, pred: impl Fn(&AgentEvent) -> bool) -> AgentEvent {
        loop {
            let ev = self.next().await;
            if pred(&ev) {
                return ev;
            }
        }
    }
}

/// The tool results of the last request the server got, in order.
pub fn tool_results(server: &crate::common::FakeServer) -> Vec<String> {
    let posts = server.posts();
    posts.last().unwrap().json()["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["role"] == "tool")
        .map(|m| m["content"].as_str().unwrap_or("").to_owned())
        .collect()
}
