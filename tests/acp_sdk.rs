//! `cove acp` driven by a client built on the official `@agentclientprotocol/sdk` (npm,
//! pinned, installed by scripts/test.sh into the cache; COVE_TEST_ACP_SDK names the
//! directory holding its node_modules). Without it a plain `cargo test` says the test
//! was skipped; under scripts/test.sh a missing SDK fails it.

mod agent_support;
mod cli_support;
mod common;

use std::path::PathBuf;
use std::process::Command;

use agent_support::tool_call_reply;
use cli_support::Sandbox;
use common::*;
use serde_json::{Value, json};

const CLIENT: &str = include_str!("fixtures/acp-sdk-client.mjs");

fn sdk_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("COVE_TEST_ACP_SDK")
        .map(PathBuf::from)
        .or_else(|| {
            let cache = std::env::var_os("XDG_CACHE_HOME")
                .map(PathBuf::from)
                .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
            Some(cache.join("cove-dev/acp-sdk"))
        })?;
    if dir
        .join("node_modules/@agentclientprotocol/sdk/package.json")
        .exists()
    {
        return Some(dir);
    }
    assert!(
        std::env::var_os("COVE_TEST_ACP_SDK").is_none(),
        "COVE_TEST_ACP_SDK is set but {} has no @agentclientprotocol/sdk",
        dir.display()
    );
    eprintln!("skipped: @agentclientprotocol/sdk is not installed (scripts/test.sh installs it)");
    None
}

#[test]
fn the_official_sdk_client_gets_a_streamed_reply_and_a_permission_request() {
    let Some(sdk) = sdk_dir() else { return };
    let server = FakeServer::start(vec![
        tool_call_reply(&[(
            "call_1",
            "write_file",
            json!({"path": "sdk.txt", "content": "from the sdk\n"}),
        )]),
        answer("Written with the SDK."),
    ]);
    let sb = Sandbox::new();
    let ws = sb.workspace().canonicalize().unwrap();
    let url = server.base_url();
    // the client (node) starts cove with the test's isolated environment
    let cove = sb.command(
        &[],
        &[
            ("COVE_BASE_URL", url.as_str()),
            ("COVE_MODEL", "fake-model"),
            ("COVE_BIN", env!("CARGO_BIN_EXE_cove")),
            ("ACP_CWD", ws.to_str().unwrap()),
        ],
    );
    let env: Vec<(std::ffi::OsString, std::ffi::OsString)> = cove
        .get_envs()
        .filter_map(|(k, v)| Some((k.to_owned(), v?.to_owned())))
        .collect();
    // a module given with -e resolves its imports from the current directory
    let out = Command::new("node")
        .args(["--input-type=module", "-e", CLIENT])
        .env_clear()
        .envs(env)
        .current_dir(&sdk)
        .output()
        .expect("run node");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "node client failed: {stdout}\n{stderr}"
    );
    let seen: Value = serde_json::from_str(stdout.trim())
        .unwrap_or_else(|e| panic!("client output not JSON ({e}): {stdout}\n{stderr}"));
    assert_eq!(seen["init"]["protocolVersion"], 1, "{seen}");
    assert_eq!(seen["stopReason"], "end_turn", "{seen}");
    let text: String = seen["updates"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| u["sessionUpdate"] == "agent_message_chunk")
        .map(|u| u["content"]["text"].as_str().unwrap_or("").to_owned())
        .collect();
    assert_eq!(text, "Written with the SDK.", "{seen}");
    let kinds: Vec<&str> = seen["updates"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|u| u["sessionUpdate"].as_str())
        .collect();
    assert!(kinds.contains(&"tool_call"), "{kinds:?}");
    assert!(kinds.contains(&"tool_call_update"), "{kinds:?}");
    assert_eq!(seen["permissions"].as_array().unwrap().len(), 1, "{seen}");
    assert_eq!(
        seen["permissions"][0]["toolCall"]["content"][0]["type"], "diff",
        "{seen}"
    );
    assert_eq!(
        std::fs::read_to_string(ws.join("sdk.txt")).unwrap(),
        "from the sdk\n"
    );
    assert_eq!(server.posts().len(), 2);
}
