//! `cove acp` driven by the official ACP SDK client against the real llama-server +
//! SmolLM2-135M (scripts/local-model.sh): a session opened, a prompt that streams a real
//! reply into the editor, `end_turn`, and the session loaded again in a second process.
//! Built only with `--features e2e`; scripts/test.sh passes the server's URL in
//! COVE_E2E_BASE_URL and the SDK's directory in COVE_TEST_ACP_SDK.
#![cfg(feature = "e2e")]

mod cli_support;
mod common;

use std::process::Command;

use cli_support::Sandbox;
use serde_json::{Value, json};

const CLIENT: &str = include_str!("fixtures/acp-sdk-client.mjs");

#[test]
fn an_editor_session_streams_a_real_reply_and_loads_again() {
    let url = std::env::var("COVE_E2E_BASE_URL").expect("COVE_E2E_BASE_URL is not set");
    let sdk = std::env::var("COVE_TEST_ACP_SDK").expect("COVE_TEST_ACP_SDK is not set");
    let sb = Sandbox::new();
    sb.write_user_config("[model]\nmax_tokens = 48\ntemperature = 0.0\n");
    let ws = sb.workspace().canonicalize().unwrap();
    let steps = json!([
        {"op": "new"},
        {"op": "prompt", "text": "Say hello in one short sentence."},
        {"op": "restart"},
        {"op": "load"},
    ])
    .to_string();
    let cove = sb.command(
        &[],
        &[
            ("COVE_BASE_URL", url.as_str()),
            ("COVE_BIN", env!("CARGO_BIN_EXE_cove")),
            ("ACP_CWD", ws.to_str().unwrap()),
            ("ACP_STEPS", steps.as_str()),
            ("ACP_PERMISSION", "reject_once"),
        ],
    );
    let env: Vec<(std::ffi::OsString, std::ffi::OsString)> = cove
        .get_envs()
        .filter_map(|(k, v)| Some((k.to_owned(), v?.to_owned())))
        .collect();
    let out = Command::new("node")
        .args(["--input-type=module", "-e", CLIENT])
        .env_clear()
        .envs(env)
        .current_dir(&sdk)
        .output()
        .expect("run node");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let seen: Value = serde_json::from_str(stdout.trim()).expect("client output");
    let stop = &seen["results"][1]["stopReason"];
    assert!(stop == "end_turn" || stop == "max_tokens", "{seen}");
    let said: String = seen["updates"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| u["sessionUpdate"] == "agent_message_chunk")
        .map(|u| u["content"]["text"].as_str().unwrap_or("").to_owned())
        .collect();
    assert!(!said.trim().is_empty(), "no reply streamed: {seen}");
    // loaded again: the user's message comes back as a replayed update
    assert!(seen["results"][2].get("error").is_none(), "{seen}");
    assert!(
        seen["updates"]
            .as_array()
            .unwrap()
            .iter()
            .any(|u| u["sessionUpdate"] == "user_message_chunk"
                && u["content"]["text"]
                    .as_str()
                    .unwrap_or("")
                    .contains("Say hello")),
        "{seen}"
    );
}
