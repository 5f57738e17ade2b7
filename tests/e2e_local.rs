//! End to end against a real llama.cpp `llama-server` serving SmolLM2-135M-Instruct
//! (scripts/local-model.sh). Built only with `--features e2e`; scripts/test.sh starts the
//! server and passes its URL in COVE_E2E_BASE_URL.
#![cfg(feature = "e2e")]

mod cli_support;
mod common;
mod tmux_support;

use std::io::Read;
use std::process::Stdio;
use std::time::Instant;

use cli_support::Sandbox;

fn base_url() -> String {
    std::env::var("COVE_E2E_BASE_URL")
        .expect("COVE_E2E_BASE_URL is not set: run scripts/test.sh, or COVE_E2E_BASE_URL=$(scripts/local-model.sh) cargo test --features e2e")
}

fn env() -> Vec<(&'static str, String)> {
    vec![("COVE_BASE_URL", base_url())]
}

fn run(sb: &Sandbox, args: &[&str]) -> cli_support::Run {
    let env = env();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    sb.run_with(args, &env, None)
}

#[test]
fn ask_streams_a_non_empty_answer() {
    let sb = Sandbox::new();
    let r = run(&sb, &["ask", "--max-tokens", "40", "Name three colours."]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.trim().len() > 3, "{r:?}");
}

#[test]
fn output_arrives_while_the_model_is_still_generating() {
    let sb = Sandbox::new();
    let url = base_url();
    let started = Instant::now();
    let mut child = sb
        .command(
            &[
                "ask",
                "--max-tokens",
                "200",
                "Write a long story about a lighthouse keeper.",
            ],
            &[("COVE_BASE_URL", &url)],
        )
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut first = [0u8; 1];
    let n = stdout.read(&mut first).unwrap();
    let first_byte = started.elapsed();
    assert_eq!(n, 1, "no output at all");
    let mut rest = Vec::new();
    stdout.read_to_end(&mut rest).unwrap();
    let status = child.wait().unwrap();
    let total = started.elapsed();
    assert!(status.success());
    assert!(rest.len() > 50, "a long answer was asked for");
    assert!(
        first_byte * 2 < total,
        "first byte after {first_byte:?} of {total:?}: not streamed"
    );
}

#[test]
fn json_reports_usage_ttft_and_server_timings() {
    let sb = Sandbox::new();
    let r = run(
        &sb,
        &[
            "ask",
            "--json",
            "--max-tokens",
            "24",
            "What is the capital of France?",
        ],
    );
    assert_eq!(r.code, 0, "{r:?}");
    let v = r.json();
    assert!(!v["content"].as_str().unwrap().is_empty());
    assert!(v["usage"]["completion_tokens"].as_u64().unwrap() > 0, "{v}");
    assert!(v["usage"]["prompt_tokens"].as_u64().unwrap() > 0, "{v}");
    assert!(v["ttft_ms"].as_f64().unwrap() > 0.0, "{v}");
    assert!(v["tokens_per_s"].as_f64().unwrap() > 0.0, "{v}");
    assert!(
        v["timings"]["predicted_n"].as_u64().unwrap() > 0,
        "llama.cpp timings: {v}"
    );
    assert!(
        matches!(v["finish_reason"].as_str(), Some("stop" | "length")),
        "{v}"
    );
    assert_eq!(v["error"], serde_json::Value::Null);
}

#[test]
fn a_request_with_tools_reaches_the_server_and_is_handled() {
    let sb = Sandbox::new();
    let r = run(
        &sb,
        &[
            "ask",
            "--tools",
            "--json",
            "--max-tokens",
            "64",
            "Read the file Cargo.toml.",
        ],
    );
    assert_eq!(r.code, 0, "{r:?}");
    let v = r.json();
    assert!(v["finish_reason"].is_string(), "{v}");
    for call in v["tool_calls"].as_array().unwrap() {
        assert!(!call["id"].as_str().unwrap().is_empty());
        assert!(!call["name"].as_str().unwrap().is_empty());
    }
}

#[test]
fn models_and_doctor_describe_the_server() {
    let sb = Sandbox::new();
    let r = run(&sb, &["models"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.contains("smollm2"), "{r:?}");
    let r = run(&sb, &["doctor"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.contains("llama.cpp"), "{r:?}");
    assert!(r.stdout.contains("4096 tokens"), "{r:?}");
    assert!(r.stdout.contains("tools "), "{r:?}");
}

#[test]
fn the_full_screen_session_streams_a_real_reply_and_quits_cleanly() {
    let sb = Sandbox::new();
    let url = base_url();
    sb.write_workspace_config("[model]\nmax_tokens = 300\n");
    let t = tmux_support::Tmux::start(100, 30);
    t.run_cove_in(sb.dir.path(), &sb.workspace(), &url, &[]);
    // the start-up probe finds the real server and its model
    t.wait_for(
        |s| s.contains("smollm2") && s.contains("●"),
        std::time::Duration::from_secs(15),
    );
    t.send_literal("Say hello in five words.");
    t.keys(&["Enter"]);
    // while it streams, the status bar shows a spinner and the elapsed time
    let streaming = |s: &str| {
        s.lines()
            .last()
            .is_some_and(|l| "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏".chars().any(|c| l.contains(c)))
    };
    let seen = t.wait_for(
        |s| streaming(s) || s.contains("tok/s"),
        std::time::Duration::from_secs(30),
    );
    assert!(seen.contains("Say hello in five words"), "{seen}");
    t.wait_for(|s| s.contains("tok/s"), std::time::Duration::from_secs(60));

    // a long reply: seen while it streams, then Esc stops it and what came stays
    t.send_literal("Write a very long story about a lighthouse keeper, at least 2000 words.");
    t.keys(&["Enter"]);
    let mid = t.wait_for(
        |s| streaming(s) && s.matches("smollm2").count() >= 3,
        std::time::Duration::from_secs(30),
    );
    assert!(streaming(&mid), "{mid}");
    t.keys(&["Escape"]);
    let after = t.wait_for(
        |s| s.contains("interrupted"),
        std::time::Duration::from_secs(10),
    );
    assert!(!streaming(&after), "the spinner stops:\n{after}");

    t.keys(&["C-c"]);
    t.wait_for(
        |s| s.contains("Ctrl+C again"),
        std::time::Duration::from_secs(5),
    );
    t.keys(&["C-c"]);
    t.wait_for(
        |s| s.contains("session") && s.contains("ended · 2 turns"),
        std::time::Duration::from_secs(5),
    );
    // the shell is back in cooked mode
    t.send_literal("stty -a | tr ' ' '\\n' | grep -x -- '-\\?icanon'; echo END-$((6*7))");
    t.keys(&["Enter"]);
    let screen = t.wait_for(|s| s.contains("END-42"), std::time::Duration::from_secs(10));
    assert!(
        screen.lines().any(|l| l.trim() == "icanon"),
        "terminal not restored:\n{screen}"
    );
}

/// Tokens of `text` by the real server's tokenizer (llama.cpp `/tokenize`).
fn count_tokens(text: &str) -> usize {
    let root = base_url()
        .trim_end_matches('/')
        .trim_end_matches("/v1")
        .to_owned();
    let body = serde_json::json!({ "content": text }).to_string();
    let out = std::process::Command::new("curl")
        .args([
            "-sS",
            "--max-time",
            "30",
            "-H",
            "Content-Type: application/json",
            "-d",
            &body,
        ])
        .arg(format!("{root}/tokenize"))
        .output()
        .expect("curl");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("tokenize JSON");
    v["tokens"].as_array().expect("tokens").len()
}

/// cove's first request from the session in an empty git repository, captured by a fake
/// server, measured with the real tokenizer: system prompt, every tool schema, the message.
#[test]
fn the_first_request_stays_under_1500_tokens() {
    let server = common::FakeServer::start(vec![common::answer("hello")]);
    let sb = Sandbox::new();
    assert!(
        std::process::Command::new("git")
            .args(["init", "-q"])
            .current_dir(sb.workspace())
            .status()
            .unwrap()
            .success()
    );
    let url = server.base_url();
    let t = tmux_support::Tmux::start(100, 30);
    t.run_cove_in(
        sb.dir.path(),
        &sb.workspace(),
        &url,
        &[("COVE_MODEL", "fake-model")],
    );
    t.wait_for(
        |s| s.contains("message"),
        std::time::Duration::from_secs(15),
    );
    t.send_literal("hi");
    t.keys(&["Enter"]);
    t.wait_for(|s| s.contains("hello"), std::time::Duration::from_secs(15));
    t.keys(&["C-c", "C-c"]);
    let body = server.posts()[0].json();
    let system = body["messages"][0]["content"].as_str().unwrap().to_owned();
    let tools = body["tools"].to_string();
    let (s, tl, u) = (
        count_tokens(&system),
        count_tokens(&tools),
        count_tokens("hi"),
    );
    let total = s + tl + u;
    eprintln!("first request: {total} tokens (system {s}, tools {tl}, message {u})");
    assert!(
        total <= 1500,
        "the first request is {total} tokens, over 1,500"
    );
}

/// A session with the real model: a turn, `!command`, quit; `cove --continue` brings
/// the transcript back and the model answers the next message (what the request holds
/// is checked against the fake server in `session_tmux.rs`); `/compact` makes the real
/// model summarise; `/export` writes it all.
#[test]
fn a_real_session_resumes_compacts_and_exports() {
    let sb = Sandbox::new();
    let url = base_url();
    sb.write_workspace_config("[model]\nmax_tokens = 60\n");
    let t = tmux_support::Tmux::start(110, 34);
    let secs = std::time::Duration::from_secs;
    t.run_cove_in(sb.dir.path(), &sb.workspace(), &url, &[]);
    t.wait_for(|s| s.contains("smollm2") && s.contains("●"), secs(15));
    t.send_literal("My name is Ada. Say hi to me.");
    t.keys(&["Enter"]);
    t.wait_for(|s| s.contains("tok/s"), secs(60));
    t.send_literal("!echo marker-$((6*7))");
    t.keys(&["Enter"]);
    t.wait_for(|s| s.contains("marker-42"), secs(10));
    t.keys(&["C-c", "C-c"]);
    t.wait_for(|s| s.contains("--continue` resumes it"), secs(10));

    t.run_cove_args(sb.dir.path(), &sb.workspace(), &url, &[], "--continue");
    let screen = t.wait_for(
        |s| s.contains("My name is Ada") && s.contains("marker-42") && s.contains("●"),
        secs(15),
    );
    assert!(screen.contains("smollm2"), "{screen}");
    t.send_literal("What is my name?");
    t.keys(&["Enter"]);
    t.wait_for(
        |s| s.matches("tok/s").count() >= 1 && s.contains("What is my name?"),
        secs(60),
    );
    t.wait_for(|s| !s.contains("reply streaming"), secs(60));
    t.send_literal("/compact");
    t.keys(&["Enter"]);
    let screen = t.wait_for(
        |s| s.contains("Compacted the conversation") || s.contains("Compaction failed"),
        secs(60),
    );
    assert!(screen.contains("Compacted the conversation"), "{screen}");
    t.send_literal("/export session.md");
    t.keys(&["Enter"]);
    t.wait_for(|s| s.contains("Exported the session"), secs(10));
    t.keys(&["C-c", "C-c"]);
    let md = std::fs::read_to_string(sb.workspace().join("session.md")).unwrap();
    assert!(md.contains("My name is Ada"), "{md}");
    assert!(md.contains("What is my name?"), "{md}");
    assert!(md.contains("marker-42"), "{md}");
    assert!(md.contains("Compacted the conversation"), "{md}");
}
