//! `cove acp` sessions as an editor keeps them: loading (and what a hostile id cannot
//! reach), modes that do not loosen the protected-file rule, and slash commands.

mod acp_support;
mod agent_support;
mod cli_support;
mod common;

use acp_support::*;
use agent_support::tool_call_reply;
use cli_support::Sandbox;
use common::*;
use serde_json::json;

#[test]
fn load_refuses_ids_that_are_not_sessions_of_this_workspace() {
    let server = FakeServer::start(vec![]);
    let sb = Sandbox::new();
    // a journal-looking file outside the sessions directory
    std::fs::write(sb.workspace().join("evil.jsonl"), "{}\n").unwrap();
    let mut c = Client::start(&sb, &server);
    let _ = c.handshake(&sb.workspace());
    let ws = sb.workspace();
    for id in [
        "../../evil",
        "/etc/passwd",
        "",
        "20990101-000000-dead",
        "a\u{0}b",
    ] {
        let rid = c.request(
            "session/load",
            json!({"sessionId": id, "cwd": ws.to_str().unwrap(), "mcpServers": []}),
        );
        let (_, r) = c.until_response(rid);
        assert!(r["error"]["message"].is_string(), "{id}: {r}");
    }
    let rid = c.request(
        "session/load",
        json!({"cwd": ws.to_str().unwrap(), "mcpServers": []}),
    );
    let (_, r) = c.until_response(rid);
    assert_eq!(r["error"]["code"], -32602, "{r}");
    // a session of this process cannot be loaded twice
    let sid = c.handshake(&sb.workspace());
    let rid = c.request(
        "session/load",
        json!({"sessionId": sid, "cwd": ws.to_str().unwrap(), "mcpServers": []}),
    );
    let (_, r) = c.until_response(rid);
    assert!(r["error"]["message"].is_string(), "{r}");
    assert_eq!(server.posts().len(), 0);
    c.finish();
}

#[test]
fn accept_edits_still_asks_before_writing_a_protected_file() {
    let server = FakeServer::start(vec![
        tool_call_reply(&[
            (
                "p1",
                "write_file",
                json!({"path": "plain.txt", "content": "ok\n"}),
            ),
            (
                "p2",
                "write_file",
                json!({"path": ".cove/config.toml", "content": "[tools]\n"}),
            ),
        ]),
        answer("Done."),
    ]);
    let sb = Sandbox::new();
    let mut c = Client::start(&sb, &server);
    let sid = c.handshake(&sb.workspace());
    let rid = c.request(
        "session/set_mode",
        json!({"sessionId": sid, "modeId": "accept-edits"}),
    );
    let (_, r) = c.until_response(rid);
    assert!(r.get("error").is_none(), "{r}");
    let rid = c.request(
        "session/set_mode",
        json!({"sessionId": sid, "modeId": "yolo"}),
    );
    let (_, r) = c.until_response(rid);
    assert_eq!(r["error"]["code"], -32602, "{r}");
    let prompt = c.request(
        "session/prompt",
        json!({"sessionId": sid, "prompt": [{"type": "text", "text": "write both"}]}),
    );
    let msgs = c.until(|m| m["method"] == "session/request_permission");
    let ask = msgs.last().unwrap();
    assert_eq!(ask["params"]["toolCall"]["toolCallId"], "p2", "{ask}");
    c.send(json!({"jsonrpc": "2.0", "id": ask["id"], "result": {"outcome": {"outcome": "selected", "optionId": "reject_once"}}}));
    let (msgs, done) = c.until_response(prompt);
    assert_eq!(done["result"]["stopReason"], "end_turn", "{done}");
    assert!(
        !msgs
            .iter()
            .any(|m| m["method"] == "session/request_permission"),
        "asked twice"
    );
    assert_eq!(
        std::fs::read_to_string(sb.workspace().join("plain.txt")).unwrap(),
        "ok\n"
    );
    assert!(!sb.workspace().join(".cove/config.toml").exists());
    c.finish();
}

#[test]
fn slash_commands_run_in_the_session_and_answer_like_a_turn() {
    let server = FakeServer::start(vec![
        tool_call_reply(&[(
            "w1",
            "write_file",
            json!({"path": "u.txt", "content": "new\n"}),
        )]),
        answer("Wrote it."),
    ]);
    let sb = Sandbox::new();
    std::fs::write(sb.workspace().join("u.txt"), "old\n").unwrap();
    let mut c = Client::start(&sb, &server);
    let sid = c.handshake(&sb.workspace());
    let rid = c.request(
        "session/set_mode",
        json!({"sessionId": sid, "modeId": "accept-edits"}),
    );
    c.until_response(rid);
    let prompt = c.request(
        "session/prompt",
        json!({"sessionId": sid, "prompt": [{"type": "text", "text": "change u.txt"}]}),
    );
    c.until_response(prompt);
    assert_eq!(
        std::fs::read_to_string(sb.workspace().join("u.txt")).unwrap(),
        "new\n"
    );
    // /undo reverts the turn and says so in the prompt's reply
    let undo = c.request(
        "session/prompt",
        json!({"sessionId": sid, "prompt": [{"type": "text", "text": "/undo"}]}),
    );
    let (msgs, done) = c.until_response(undo);
    assert_eq!(done["result"]["stopReason"], "end_turn", "{done}");
    let said: String = updates(&msgs, "agent_message_chunk")
        .iter()
        .map(|u| u["content"]["text"].as_str().unwrap_or("").to_owned())
        .collect();
    assert!(said.to_lowercase().contains("u.txt"), "{said}");
    assert_eq!(
        std::fs::read_to_string(sb.workspace().join("u.txt")).unwrap(),
        "old\n"
    );
    // /commit without a message says how, and sends nothing to the model
    let commit = c.request(
        "session/prompt",
        json!({"sessionId": sid, "prompt": [{"type": "text", "text": "/commit"}]}),
    );
    let (msgs, done) = c.until_response(commit);
    assert_eq!(done["result"]["stopReason"], "end_turn", "{done}");
    assert!(!updates(&msgs, "agent_message_chunk").is_empty());
    // /permissions lists the configured policy
    let perms = c.request(
        "session/prompt",
        json!({"sessionId": sid, "prompt": [{"type": "text", "text": "/permissions"}]}),
    );
    let (msgs, _) = c.until_response(perms);
    let said: String = updates(&msgs, "agent_message_chunk")
        .iter()
        .map(|u| u["content"]["text"].as_str().unwrap_or("").to_owned())
        .collect();
    assert!(said.contains("From the config"), "{said}");
    assert_eq!(server.posts().len(), 2, "commands are not model turns");
    c.finish();
}
