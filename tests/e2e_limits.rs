//! The server's real limits against a real llama.cpp `llama-server` serving
//! SmolLM2-135M-Instruct (scripts/local-model.sh, 4096-token context): the agent with a
//! `context_window` far larger than the server's (the mistake `cove doctor` warns about)
//! outgrows the real window, gets llama.cpp's own refusal, adopts its window, compacts and
//! goes on. Built only with `--features e2e`; COVE_E2E_BASE_URL names the server.
#![cfg(feature = "e2e")]

mod agent_support;
mod common;

use std::time::Duration;

use agent_support::*;
use cove::protocol::{AgentEvent, Op};

fn base_url() -> String {
    std::env::var("COVE_E2E_BASE_URL")
        .expect("COVE_E2E_BASE_URL is not set: run scripts/test.sh, or COVE_E2E_BASE_URL=$(scripts/local-model.sh) cargo test --features e2e")
}

/// The server's context per slot, from `/props`.
fn n_ctx(base: &str) -> u64 {
    let root = base.trim_end_matches('/').trim_end_matches("/v1");
    let out = std::process::Command::new("curl")
        .args(["-sf", &format!("{root}/props")])
        .output()
        .expect("curl");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("/props is JSON");
    v["default_generation_settings"]["n_ctx"]
        .as_u64()
        .expect("n_ctx in /props")
}

/// Events of one turn (a CPU model on a busy machine: minutes between events).
async fn turn(h: &mut Harness, n: u64, text: &str) -> (Vec<String>, AgentEvent, Option<u64>) {
    h.say(n, text);
    let (mut notices, mut window) = (Vec::new(), None);
    loop {
        let ev = tokio::time::timeout(Duration::from_secs(300), h.events.recv())
            .await
            .expect("an agent event within 5 minutes")
            .expect("agent alive");
        match ev {
            AgentEvent::Notice { text } => notices.push(text),
            AgentEvent::Server(s) => window = s.context_window,
            e @ (AgentEvent::TurnDone { .. } | AgentEvent::TurnFailed { .. }) => {
                return (notices, e, window);
            }
            _ => {}
        }
    }
}

/// `n` words of filler text.
fn paste(n: u64, seed: &str) -> String {
    const WORDS: &[&str] = &["river", "stone", "garden", "window", "yellow", "paper"];
    let words: Vec<&str> = (0..n as usize).map(|i| WORDS[i % WORDS.len()]).collect();
    format!("Here is a {seed} list to remember:\n{}", words.join(" "))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outgrowing_the_real_window_compacts_and_goes_on() {
    let url = base_url();
    let ctx = n_ctx(&url);
    assert!(
        ctx >= 3000,
        "the test expects the script's 4096-token context, got {ctx}"
    );
    // each paste a little over half the window (SmolLM2's template leaves the tool
    // schemas out): the first turn fits, the second does not
    let words = ctx * 55 / 100;
    let mut h = start(
        &url,
        "context_window = 131072\nmax_tokens = 48\ntemperature = 0.0\n[context]\nsummary_max = 60\n",
    )
    .await;
    let (_, first, _) = turn(&mut h, 1, &paste(words, "first")).await;
    assert!(
        matches!(first, AgentEvent::TurnDone { .. }),
        "the first paste fits: {first:?}"
    );
    let (notices, second, window) = turn(&mut h, 2, &paste(words, "second")).await;
    let all = notices.join("\n");
    assert!(
        all.contains("does not fit the context window (the prompt is"),
        "llama.cpp's refusal was recognised: {all}"
    );
    assert!(
        all.contains(&format!("the window {ctx} tokens")),
        "with its numbers: {all}"
    );
    assert_eq!(window, Some(ctx), "the real window is adopted: {all}");
    assert!(all.contains("Compacted the conversation"), "{all}");
    assert!(
        matches!(second, AgentEvent::TurnDone { .. }),
        "after compacting it fits: {second:?}\n{all}"
    );
    let _ = h.ops.send(Op::Shutdown);
}
