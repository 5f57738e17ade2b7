//! `cove acp` driven by a client built on the official `@agentclientprotocol/sdk` (npm,
//! pinned, installed by scripts/test.sh into the cache; COVE_TEST_ACP_SDK names the
//! directory holding its node_modules). Without it a plain `cargo test` says the test
//! was skipped; under scripts/test.sh a missing SDK fails it.

mod acp_support;
mod agent_support;
mod cli_support;
mod common;
mod mcp_support;

use std::path::PathBuf;
use std::process::Command;

use acp_support::tool_messages;
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

/// Runs the SDK client with `steps` (see the fixture) against cove in `sb`'s workspace
/// with the model at `url`; every permission request is answered `permission`. Returns
/// what the client saw.
fn drive(sdk: &std::path::Path, sb: &Sandbox, url: &str, steps: Value, permission: &str) -> Value {
    drive_with(sdk, sb, url, steps, permission, None)
}

/// `drive`, with the client offering its file system and these unsaved buffers.
fn drive_with(
    sdk: &std::path::Path,
    sb: &Sandbox,
    url: &str,
    steps: Value,
    permission: &str,
    buffers: Option<Value>,
) -> Value {
    let buffers = buffers.map(|b| b.to_string()).unwrap_or_default();
    let ws = sb.workspace().canonicalize().unwrap();
    let steps = steps.to_string();
    // the client (node) starts cove with the test's isolated environment
    let cove = sb.command(
        &[],
        &[
            ("COVE_BASE_URL", url),
            ("COVE_MODEL", "fake-model"),
            ("COVE_BIN", env!("CARGO_BIN_EXE_cove")),
            ("ACP_CWD", ws.to_str().unwrap()),
            ("ACP_STEPS", steps.as_str()),
            ("ACP_PERMISSION", permission),
        ],
    );
    let mut cove = cove;
    if !buffers.is_empty() {
        cove.env("ACP_BUFFERS", &buffers);
    }
    let env: Vec<(std::ffi::OsString, std::ffi::OsString)> = cove
        .get_envs()
        .filter_map(|(k, v)| Some((k.to_owned(), v?.to_owned())))
        .collect();
    // a module given with -e resolves its imports from the current directory
    let out = Command::new("node")
        .args(["--input-type=module", "-e", CLIENT])
        .env_clear()
        .envs(env)
        .current_dir(sdk)
        .output()
        .expect("run node");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "node client failed: {stdout}\n{stderr}"
    );
    serde_json::from_str(stdout.trim())
        .unwrap_or_else(|e| panic!("client output not JSON ({e}): {stdout}\n{stderr}"))
}

fn kinds(seen: &Value) -> Vec<String> {
    seen["updates"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|u| u["sessionUpdate"].as_str().map(str::to_owned))
        .collect()
}

fn text_of(seen: &Value, kind: &str) -> String {
    seen["updates"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| u["sessionUpdate"] == kind)
        .map(|u| u["content"]["text"].as_str().unwrap_or("").to_owned())
        .collect()
}

fn write_call(path: &str, content: &str) -> Reply {
    tool_call_reply(&[(
        "call_1",
        "write_file",
        json!({"path": path, "content": content}),
    )])
}

#[test]
fn the_official_sdk_client_gets_a_streamed_reply_and_a_permission_request() {
    let Some(sdk) = sdk_dir() else { return };
    let server = FakeServer::start(vec![
        write_call("sdk.txt", "from the sdk\n"),
        answer("Written with the SDK."),
    ]);
    let sb = Sandbox::new();
    let seen = drive(
        &sdk,
        &sb,
        &server.base_url(),
        json!([{"op": "new"}, {"op": "prompt", "text": "write the file"}]),
        "allow_once",
    );
    assert_eq!(seen["init"]["protocolVersion"], 1, "{seen}");
    assert_eq!(seen["init"]["agentCapabilities"]["loadSession"], true);
    let new = &seen["results"][0];
    assert_eq!(new["modes"]["currentModeId"], "ask", "{new}");
    assert_eq!(new["configOptions"][1]["id"], "model", "{new}");
    assert_eq!(seen["results"][1]["stopReason"], "end_turn", "{seen}");
    assert_eq!(
        text_of(&seen, "agent_message_chunk"),
        "Written with the SDK."
    );
    let kinds = kinds(&seen);
    for k in ["available_commands_update", "tool_call", "tool_call_update"] {
        assert!(kinds.iter().any(|x| x == k), "{k}: {kinds:?}");
    }
    assert_eq!(seen["permissions"].as_array().unwrap().len(), 1, "{seen}");
    let ask = &seen["permissions"][0];
    assert_eq!(ask["toolCall"]["content"][0]["type"], "diff", "{seen}");
    assert_eq!(ask["toolCall"]["content"][0]["newText"], "from the sdk\n");
    let options: Vec<&str> = ask["options"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        options,
        ["allow_once", "allow_always", "reject_once", "reject_always"]
    );
    assert_eq!(
        std::fs::read_to_string(sb.workspace().join("sdk.txt")).unwrap(),
        "from the sdk\n"
    );
    assert_eq!(server.posts().len(), 2);
}

#[test]
fn a_rejected_edit_leaves_the_file_untouched_and_the_model_hears_of_it() {
    let Some(sdk) = sdk_dir() else { return };
    let server = FakeServer::start(vec![
        write_call("keep.txt", "overwritten\n"),
        answer("Understood, left alone."),
        write_call("other.txt", "x\n"),
        answer("Not asked again."),
    ]);
    let sb = Sandbox::new();
    std::fs::write(sb.workspace().join("keep.txt"), "original\n").unwrap();
    let seen = drive(
        &sdk,
        &sb,
        &server.base_url(),
        json!([
            {"op": "new"},
            {"op": "prompt", "text": "overwrite keep.txt"},
            {"op": "prompt", "text": "and other.txt"},
        ]),
        "reject_always",
    );
    assert_eq!(seen["results"][1]["stopReason"], "end_turn", "{seen}");
    assert_eq!(
        std::fs::read_to_string(sb.workspace().join("keep.txt")).unwrap(),
        "original\n"
    );
    assert!(!sb.workspace().join("other.txt").exists());
    // "reject always": the second write_file was refused without asking
    assert_eq!(seen["permissions"].as_array().unwrap().len(), 1, "{seen}");
    let posts = server.posts();
    assert_eq!(posts.len(), 4);
    let first = tool_messages(&posts[1]);
    assert!(first[0].contains("reject"), "{first:?}");
    let second = tool_messages(&posts[3]);
    assert!(
        second
            .last()
            .unwrap()
            .contains("for the rest of this session"),
        "{second:?}"
    );
}

#[test]
fn cancel_mid_stream_ends_the_prompt_with_cancelled() {
    let Some(sdk) = sdk_dir() else { return };
    let server = FakeServer::start(vec![
        Reply::sse(&[ROLE_CHUNK, &content_chunk("a long answer begins")]).hang(),
        answer("after the cancel"),
    ]);
    let sb = Sandbox::new();
    let seen = drive(
        &sdk,
        &sb,
        &server.base_url(),
        json!([
            {"op": "new"},
            {"op": "prompt", "text": "go slowly", "cancel": true},
            {"op": "prompt", "text": "again"},
        ]),
        "allow_once",
    );
    assert_eq!(seen["results"][1]["stopReason"], "cancelled", "{seen}");
    assert_eq!(seen["results"][2]["stopReason"], "end_turn", "{seen}");
    assert!(text_of(&seen, "agent_message_chunk").ends_with("after the cancel"));
}

#[test]
fn a_journaled_session_is_listed_and_loaded_in_a_new_process() {
    let Some(sdk) = sdk_dir() else { return };
    let server = FakeServer::start(vec![
        write_call("loaded.txt", "one\n"),
        answer("First answer."),
        answer("Second answer, after the load."),
    ]);
    let sb = Sandbox::new();
    let seen = drive(
        &sdk,
        &sb,
        &server.base_url(),
        json!([
            {"op": "new"},
            {"op": "prompt", "text": "remember the word apricot"},
            {"op": "restart"},
            {"op": "list"},
            {"op": "load"},
            {"op": "prompt", "text": "what was the word?"},
        ]),
        "allow_once",
    );
    let id = seen["results"][0]["sessionId"].as_str().unwrap().to_owned();
    let list = &seen["results"][2]["sessions"];
    assert_eq!(list[0]["sessionId"], json!(id), "{seen}");
    assert_eq!(list[0]["title"], "remember the word apricot");
    let load = &seen["results"][3];
    assert!(load.get("error").is_none(), "{load}");
    assert_eq!(load["modes"]["currentModeId"], "ask", "{load}");
    // the replay: the user's message, the answer, the tool call with its result
    assert!(
        text_of(&seen, "user_message_chunk").contains("remember the word apricot"),
        "{seen}"
    );
    let replayed_tool = seen["updates"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| u["sessionUpdate"] == "tool_call" && u["status"] == "completed")
        .count();
    assert_eq!(replayed_tool, 1, "{seen}");
    assert_eq!(seen["results"][4]["stopReason"], "end_turn", "{seen}");
    // the loaded session goes on with its conversation
    let posts = server.posts();
    let last = posts.last().unwrap().json().to_string();
    assert!(last.contains("remember the word apricot"), "{last}");
    assert!(last.contains("First answer."), "{last}");
}

#[test]
fn modes_decide_edits_without_asking_or_refuse_them() {
    let Some(sdk) = sdk_dir() else { return };
    let server = FakeServer::start(vec![
        write_call("auto.txt", "accepted\n"),
        answer("Written."),
        write_call("never.txt", "refused\n"),
        answer("Read-only, so not written."),
    ]);
    let sb = Sandbox::new();
    let seen = drive(
        &sdk,
        &sb,
        &server.base_url(),
        json!([
            {"op": "new"},
            {"op": "set_mode", "modeId": "accept-edits"},
            {"op": "prompt", "text": "write auto.txt"},
            {"op": "set_config", "configId": "mode", "value": "read-only"},
            {"op": "prompt", "text": "write never.txt"},
            {"op": "set_config", "configId": "model", "value": "no-such-profile"},
        ]),
        "reject_once",
    );
    assert_eq!(seen["results"][2]["stopReason"], "end_turn", "{seen}");
    assert_eq!(
        std::fs::read_to_string(sb.workspace().join("auto.txt")).unwrap(),
        "accepted\n"
    );
    assert_eq!(
        seen["results"][3]["configOptions"][0]["currentValue"], "read-only",
        "{seen}"
    );
    assert!(!sb.workspace().join("never.txt").exists());
    // neither asked: one mode accepted the edit, the other refused it
    assert_eq!(seen["permissions"].as_array().unwrap().len(), 0, "{seen}");
    let results = tool_messages(&server.posts()[3]);
    assert!(
        results.last().unwrap().contains("read-only mode"),
        "{results:?}"
    );
    assert!(seen["results"][5]["error"].is_string(), "{seen}");
}

#[test]
fn an_mcp_server_the_editor_passes_serves_a_turn() {
    let Some(sdk) = sdk_dir() else { return };
    let Some(bin) = mcp_support::everything().map(|p| p.display().to_string()) else {
        return;
    };
    let server = FakeServer::start(vec![
        tool_call_reply(&[(
            "m1",
            "everything__echo",
            json!({"message": "through the SDK"}),
        )]),
        answer("It echoed."),
    ]);
    let sb = Sandbox::new();
    let seen = drive(
        &sdk,
        &sb,
        &server.base_url(),
        json!([
            {"op": "new", "mcpServers": [{"name": "everything", "command": bin, "args": [], "env": []}]},
            {"op": "prompt", "text": "echo something"},
        ]),
        "allow_once",
    );
    assert_eq!(seen["results"][1]["stopReason"], "end_turn", "{seen}");
    assert_eq!(seen["permissions"].as_array().unwrap().len(), 1, "{seen}");
    let results = tool_messages(&server.posts()[1]);
    assert!(results[0].contains("through the SDK"), "{results:?}");
}

#[test]
fn the_model_reads_and_edits_the_editors_unsaved_buffer() {
    let Some(sdk) = sdk_dir() else { return };
    let server = FakeServer::start(vec![
        tool_call_reply(&[("r1", "read_file", json!({"path": "main.rs"}))]),
        tool_call_reply(&[(
            "e1",
            "edit_file",
            json!({"path": "main.rs", "old_string": "unsaved_name", "new_string": "better_name"}),
        )]),
        answer("Renamed in your buffer."),
    ]);
    let sb = Sandbox::new();
    std::fs::write(sb.workspace().join("main.rs"), "fn saved_name() {}\n").unwrap();
    let seen = drive_with(
        &sdk,
        &sb,
        &server.base_url(),
        json!([{"op": "new"}, {"op": "prompt", "text": "rename the function"}]),
        "allow_once",
        Some(json!({"main.rs": "fn unsaved_name() {}\n"})),
    );
    assert_eq!(seen["results"][1]["stopReason"], "end_turn", "{seen}");
    // the model saw the buffer, not the disk
    let posts = server.posts();
    let read = tool_messages(&posts[1]);
    assert!(read[0].contains("unsaved_name"), "{read:?}");
    // the edit was proposed against the buffer and written through the editor
    assert_eq!(seen["permissions"].as_array().unwrap().len(), 1, "{seen}");
    let diff = &seen["permissions"][0]["toolCall"]["content"][0];
    assert_eq!(diff["oldText"], "fn unsaved_name() {}\n", "{diff}");
    assert_eq!(diff["newText"], "fn better_name() {}\n", "{diff}");
    assert_eq!(
        seen["writes"],
        json!([{"path": "main.rs", "content": "fn better_name() {}\n"}]),
        "{seen}"
    );
    assert_eq!(
        std::fs::read_to_string(sb.workspace().join("main.rs")).unwrap(),
        "fn better_name() {}\n"
    );
}
