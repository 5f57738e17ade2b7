//! `cove acp` end to end: the real binary against the fake model server, spoken to as an
//! editor would, JSON-RPC lines on its stdin and stdout.

mod acp_support;
mod agent_support;
mod cli_support;
mod common;
mod mcp_support;

use std::io::Write;

use acp_support::*;
use agent_support::tool_call_reply;
use cli_support::Sandbox;
use common::*;
use serde_json::{Value, json};

#[test]
fn initialize_new_session_and_a_streamed_prompt() {
    let server = FakeServer::start(vec![answer("Hello from the fake model.")]);
    let sb = Sandbox::new();
    let mut c = Client::start(&sb, &server);
    let id = c.request("initialize", json!({"protocolVersion": 1}));
    let (before, init) = c.until_response(id);
    assert!(before.is_empty(), "{before:?}");
    let r = &init["result"];
    assert_eq!(r["protocolVersion"], 1);
    assert!(
        r["agentCapabilities"]["promptCapabilities"].is_object(),
        "{r}"
    );
    assert_eq!(r["agentInfo"]["name"], "cove");

    let ws = sb.workspace();
    let id = c.request(
        "session/new",
        json!({"cwd": ws.to_str().unwrap(), "mcpServers": []}),
    );
    let (_, new) = c.until_response(id);
    let sid = new["result"]["sessionId"].as_str().unwrap().to_owned();

    let id = c.request(
        "session/prompt",
        json!({"sessionId": sid, "prompt": [{"type": "text", "text": "say hello"}]}),
    );
    let (msgs, done) = c.until_response(id);
    assert_eq!(done["result"]["stopReason"], "end_turn", "{done}");
    let text: String = updates(&msgs, "agent_message_chunk")
        .iter()
        .map(|u| u["content"]["text"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(text, "Hello from the fake model.");
    assert!(
        msgs.iter().all(|m| m["params"]["sessionId"] == json!(sid)),
        "{msgs:?}"
    );
    // the prompt reached the model
    let posts = server.posts();
    let body = posts.last().unwrap().json();
    assert_eq!(body["model"], "fake-model");
    assert!(body.to_string().contains("say hello"));
    c.finish();
    // journaled like any session of the workspace
    let listed = sb.run(&["sessions", "--json"]);
    assert_eq!(listed.code, 0, "{listed:?}");
    assert_eq!(listed.stdout.lines().count(), 1, "{listed:?}");
    assert!(listed.stdout.contains("say hello"), "{listed:?}");
}

#[test]
fn an_image_block_goes_to_the_model_as_a_data_url_and_garbage_is_refused() {
    use base64::Engine;
    let server = FakeServer::start(vec![answer("a grey square")]);
    let sb = Sandbox::new();
    let mut c = Client::start(&sb, &server);
    let sid = c.handshake(&sb.workspace());
    // not an image: refused with a reason, nothing sent to the model
    let id = c.request(
        "session/prompt",
        json!({"sessionId": sid, "prompt": [{"type": "text", "text": "what is this"}, {"type": "image", "mimeType": "image/png", "data": "aGVsbG8="}]}),
    );
    let (_, v) = c.until_response(id);
    assert_eq!(v["error"]["code"], -32602, "{v}");
    assert!(server.posts().is_empty());
    let img = image::RgbImage::from_pixel(32, 32, image::Rgb([128, 128, 128]));
    let mut png = Vec::new();
    img.write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    let data = base64::engine::general_purpose::STANDARD.encode(&png);
    let id = c.request(
        "session/prompt",
        json!({"sessionId": sid, "prompt": [{"type": "text", "text": "what is this"}, {"type": "image", "mimeType": "image/png", "data": data}]}),
    );
    let (_, done) = c.until_response(id);
    assert_eq!(done["result"]["stopReason"], "end_turn", "{done}");
    let body = server.posts()[0].json().to_string();
    assert!(body.contains("data:image/"), "no image in the request");
    c.finish();
}

#[test]
fn reasoning_streams_as_thought_chunks() {
    let reasoning = json!({"object":"chat.completion.chunk","model":"fake-model","choices":[{"index":0,"delta":{"reasoning_content":"let me think"},"finish_reason":null}]}).to_string();
    let server = FakeServer::start(vec![Reply::sse(&[
        ROLE_CHUNK,
        &reasoning,
        &content_chunk("done"),
        &finish_chunk("stop"),
        "[DONE]",
    ])]);
    let sb = Sandbox::new();
    let mut c = Client::start(&sb, &server);
    let sid = c.handshake(&sb.workspace());
    let prompt = c.request(
        "session/prompt",
        json!({"sessionId": sid, "prompt": [{"type": "text", "text": "think"}]}),
    );
    let (msgs, done) = c.until_response(prompt);
    assert_eq!(done["result"]["stopReason"], "end_turn", "{done}");
    let thought = updates(&msgs, "agent_thought_chunk");
    assert_eq!(thought.len(), 1, "{msgs:?}");
    assert_eq!(thought[0]["content"]["text"], "let me think");
    let text = updates(&msgs, "agent_message_chunk");
    assert_eq!(text[0]["content"]["text"], "done");
    c.finish();
}

#[test]
fn a_tool_call_is_approved_through_request_permission_and_its_result_reaches_the_model() {
    let server = FakeServer::start(vec![
        tool_call_reply(&[(
            "call_1",
            "write_file",
            json!({"path": "hello.txt", "content": "hi from acp\n"}),
        )]),
        answer("Wrote it."),
    ]);
    let sb = Sandbox::new();
    let mut c = Client::start(&sb, &server);
    let sid = c.handshake(&sb.workspace());
    let prompt = c.request(
        "session/prompt",
        json!({"sessionId": sid, "prompt": [{"type": "text", "text": "write hello.txt"}]}),
    );
    let msgs = c.until(|m| m["method"] == "session/request_permission");
    let call = updates(&msgs, "tool_call");
    assert_eq!(call.len(), 1, "{msgs:?}");
    assert_eq!(call[0]["toolCallId"], "call_1");
    assert_eq!(call[0]["kind"], "edit");
    let ask = msgs.last().unwrap();
    assert_eq!(ask["params"]["sessionId"], json!(sid));
    assert_eq!(ask["params"]["toolCall"]["toolCallId"], "call_1");
    let kinds: Vec<&str> = ask["params"]["options"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        ["allow_once", "allow_always", "reject_once", "reject_always"]
    );
    assert!(
        !sb.workspace().join("hello.txt").exists(),
        "written before approval"
    );
    // the editor gets the change as a diff of its own, by absolute path
    let root = sb.workspace().canonicalize().unwrap();
    let path = root.join("hello.txt");
    let diff = &ask["params"]["toolCall"]["content"][0];
    assert_eq!(diff["type"], "diff", "{ask}");
    assert_eq!(diff["path"], path.to_str().unwrap());
    assert_eq!(diff["oldText"], Value::Null);
    assert_eq!(diff["newText"], "hi from acp\n");
    assert_eq!(
        ask["params"]["toolCall"]["locations"][0]["path"],
        path.to_str().unwrap()
    );
    let ask_id = ask["id"].clone();
    c.send(json!({"jsonrpc": "2.0", "id": ask_id, "result": {"outcome": {"outcome": "selected", "optionId": "allow_once"}}}));
    let (msgs, done) = c.until_response(prompt);
    assert_eq!(done["result"]["stopReason"], "end_turn", "{done}");
    let statuses: Vec<&str> = updates(&msgs, "tool_call_update")
        .iter()
        .map(|u| u["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses.last(), Some(&"completed"), "{msgs:?}");
    let done_update = *updates(&msgs, "tool_call_update").last().unwrap();
    assert_eq!(
        done_update["locations"][0]["path"],
        json!(path),
        "{done_update}"
    );
    assert_eq!(
        std::fs::read_to_string(sb.workspace().join("hello.txt")).unwrap(),
        "hi from acp\n"
    );
    let posts = server.posts();
    assert_eq!(posts.len(), 2);
    let results = tool_messages(&posts[1]);
    assert_eq!(results.len(), 1, "{results:?}");
    assert!(!results[0].contains("declined"), "{results:?}");
    c.finish();
}

#[test]
fn allow_always_stops_asking_for_that_tool_in_the_session() {
    let server = FakeServer::start(vec![
        tool_call_reply(&[(
            "call_a",
            "write_file",
            json!({"path": "a.txt", "content": "a"}),
        )]),
        tool_call_reply(&[(
            "call_b",
            "write_file",
            json!({"path": "b.txt", "content": "b"}),
        )]),
        answer("Both written."),
    ]);
    let sb = Sandbox::new();
    let mut c = Client::start(&sb, &server);
    let sid = c.handshake(&sb.workspace());
    let prompt = c.request(
        "session/prompt",
        json!({"sessionId": sid, "prompt": [{"type": "text", "text": "write two files"}]}),
    );
    let msgs = c.until(|m| m["method"] == "session/request_permission");
    let ask_id = msgs.last().unwrap()["id"].clone();
    c.send(json!({"jsonrpc": "2.0", "id": ask_id, "result": {"outcome": {"outcome": "selected", "optionId": "allow_always"}}}));
    let (msgs, done) = c.until_response(prompt);
    assert_eq!(done["result"]["stopReason"], "end_turn", "{done}");
    assert!(
        msgs.iter()
            .all(|m| m["method"] != "session/request_permission"),
        "asked again: {msgs:?}"
    );
    assert_eq!(
        std::fs::read_to_string(sb.workspace().join("a.txt")).unwrap(),
        "a"
    );
    assert_eq!(
        std::fs::read_to_string(sb.workspace().join("b.txt")).unwrap(),
        "b"
    );
    c.finish();
}

#[test]
fn a_rejected_call_writes_nothing_and_the_model_hears_of_it() {
    let server = FakeServer::start(vec![
        tool_call_reply(&[(
            "call_9",
            "write_file",
            json!({"path": "no.txt", "content": "x"}),
        )]),
        answer("Fine, not writing."),
    ]);
    let sb = Sandbox::new();
    let mut c = Client::start(&sb, &server);
    let sid = c.handshake(&sb.workspace());
    let prompt = c.request(
        "session/prompt",
        json!({"sessionId": sid, "prompt": [{"type": "text", "text": "write no.txt"}]}),
    );
    let msgs = c.until(|m| m["method"] == "session/request_permission");
    let ask_id = msgs.last().unwrap()["id"].clone();
    c.send(json!({"jsonrpc": "2.0", "id": ask_id, "result": {"outcome": {"outcome": "selected", "optionId": "reject_once"}}}));
    let (msgs, done) = c.until_response(prompt);
    assert_eq!(done["result"]["stopReason"], "end_turn", "{done}");
    let last = updates(&msgs, "tool_call_update");
    assert_eq!(last.last().unwrap()["status"], "failed", "{msgs:?}");
    assert!(!sb.workspace().join("no.txt").exists());
    let posts = server.posts();
    assert_eq!(posts.len(), 2);
    let results = tool_messages(&posts[1]);
    assert_eq!(results.len(), 1);
    assert!(results[0].contains("declined"), "{results:?}");
    c.finish();
}

#[test]
fn cancel_interrupts_the_turn_with_stop_reason_cancelled() {
    let server = FakeServer::start(vec![
        Reply::sse(&[ROLE_CHUNK, &content_chunk("thinking about it")]).hang(),
        answer("after the cancel"),
    ]);
    let sb = Sandbox::new();
    let mut c = Client::start(&sb, &server);
    let sid = c.handshake(&sb.workspace());
    let prompt = c.request(
        "session/prompt",
        json!({"sessionId": sid, "prompt": [{"type": "text", "text": "go slowly"}]}),
    );
    c.until(|m| m["params"]["update"]["sessionUpdate"] == "agent_message_chunk");
    c.send(json!({"jsonrpc": "2.0", "method": "session/cancel", "params": {"sessionId": sid}}));
    let (_, done) = c.until_response(prompt);
    assert_eq!(done["result"]["stopReason"], "cancelled", "{done}");
    // the session goes on
    let prompt = c.request(
        "session/prompt",
        json!({"sessionId": sid, "prompt": [{"type": "text", "text": "again"}]}),
    );
    let (_, done) = c.until_response(prompt);
    assert_eq!(done["result"]["stopReason"], "end_turn", "{done}");
    c.finish();
}

#[test]
fn cancel_while_a_permission_is_asked_rejects_the_call() {
    let server = FakeServer::start(vec![tool_call_reply(&[(
        "call_c",
        "write_file",
        json!({"path": "c.txt", "content": "c"}),
    )])]);
    let sb = Sandbox::new();
    let mut c = Client::start(&sb, &server);
    let sid = c.handshake(&sb.workspace());
    let prompt = c.request(
        "session/prompt",
        json!({"sessionId": sid, "prompt": [{"type": "text", "text": "write c.txt"}]}),
    );
    let msgs = c.until(|m| m["method"] == "session/request_permission");
    let ask_id = msgs.last().unwrap()["id"].clone();
    c.send(json!({"jsonrpc": "2.0", "method": "session/cancel", "params": {"sessionId": sid}}));
    // the editor answers its open dialog with cancelled, as ACP asks of it
    c.send(
        json!({"jsonrpc": "2.0", "id": ask_id, "result": {"outcome": {"outcome": "cancelled"}}}),
    );
    let (_, done) = c.until_response(prompt);
    assert_eq!(done["result"]["stopReason"], "cancelled", "{done}");
    assert!(!sb.workspace().join("c.txt").exists());
    assert_eq!(server.posts().len(), 1);
    c.finish();
}

#[test]
fn an_mcp_server_the_editor_passes_is_started_and_its_tool_used() {
    let Some(bin) = mcp_support::everything().map(|p| p.display().to_string()) else {
        return;
    };
    let server = FakeServer::start(vec![
        tool_call_reply(&[(
            "m1",
            "everything__echo",
            json!({"message": "hello from the editor's server"}),
        )]),
        answer("It echoed."),
    ]);
    let sb = Sandbox::new();
    let mut c = Client::start(&sb, &server);
    let id = c.request("initialize", json!({"protocolVersion": 1}));
    let (_, init) = c.until_response(id);
    assert_eq!(
        init["result"]["agentCapabilities"]["mcpCapabilities"]["http"],
        true
    );
    let ws = sb.workspace();
    let id = c.request(
        "session/new",
        json!({"cwd": ws.to_str().unwrap(), "mcpServers": [
            {"name": "everything", "command": bin, "args": [], "env": []}
        ]}),
    );
    let (_, new) = c.until_response(id);
    let sid = new["result"]["sessionId"].as_str().unwrap().to_owned();
    let prompt = c.request(
        "session/prompt",
        json!({"sessionId": sid, "prompt": [{"type": "text", "text": "echo something"}]}),
    );
    let msgs = c.until(|m| m["method"] == "session/request_permission");
    let ask_id = msgs.last().unwrap()["id"].clone();
    c.send(json!({"jsonrpc": "2.0", "id": ask_id, "result": {"outcome": {"outcome": "selected", "optionId": "allow_once"}}}));
    let (_, done) = c.until_response(prompt);
    assert_eq!(done["result"]["stopReason"], "end_turn", "{done}");
    let posts = server.posts();
    let offered = posts[0].json()["tools"].to_string();
    assert!(offered.contains("everything__echo"), "{offered}");
    let results = tool_messages(&posts[1]);
    assert!(
        results[0].contains("hello from the editor's server"),
        "{results:?}"
    );
    c.finish();
}

#[test]
fn hostile_input_gets_errors_not_a_crash_or_a_hang() {
    let server = FakeServer::start(vec![answer("still here")]);
    let sb = Sandbox::new();
    let mut c = Client::start(&sb, &server);
    // not JSON
    c.write_raw(b"{this is not json\n");
    let v = c.next();
    assert_eq!(v["error"]["code"], -32700, "{v}");
    assert_eq!(v["id"], Value::Null);
    // JSON, not an object
    c.write_raw(b"[1,2,3]\n");
    assert_eq!(c.next()["error"]["code"], -32600);
    // escape sequences and control bytes inside a bad line
    c.write_raw(b"\x1b[2J\x00\x07garbage\n");
    assert_eq!(c.next()["error"]["code"], -32700);
    // an unknown method
    let id = c.request("no/such_method", json!({}));
    let (_, v) = c.until_response(id);
    assert_eq!(v["error"]["code"], -32601, "{v}");
    // bad params
    let id = c.request("session/new", json!({"cwd": "relative/dir"}));
    let (_, v) = c.until_response(id);
    assert_eq!(v["error"]["code"], -32602, "{v}");
    let id = c.request(
        "session/prompt",
        json!({"sessionId": "nope", "prompt": [{"type": "text", "text": "x"}]}),
    );
    let (_, v) = c.until_response(id);
    assert_eq!(v["error"]["code"], -32602, "{v}");
    // a line far over the limit (12 MiB, no newline until the end), written from a thread
    let mut stdin = c.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        let chunk = vec![b'a'; 1024 * 1024];
        stdin
            .write_all(b"{\"jsonrpc\":\"2.0\",\"id\":99,\"method\":\"")
            .unwrap();
        for _ in 0..12 {
            stdin.write_all(&chunk).unwrap();
        }
        stdin.write_all(b"\"}\n").unwrap();
        stdin.flush().unwrap();
        stdin
    });
    let v = c.next();
    assert_eq!(v["error"]["code"], -32600, "{v}");
    c.stdin = Some(writer.join().unwrap());
    // a response to a request cove never made is ignored; then it still works
    c.send(json!({"jsonrpc": "2.0", "id": 12345, "result": {}}));
    let sid = c.handshake(&sb.workspace());
    let prompt = c.request(
        "session/prompt",
        json!({"sessionId": sid, "prompt": [{"type": "text", "text": "are you there"}]}),
    );
    let (_, done) = c.until_response(prompt);
    assert_eq!(done["result"]["stopReason"], "end_turn", "{done}");
    c.finish();
}

#[test]
fn an_untrusted_workspace_config_cannot_redirect_the_model() {
    // the user's config names the server; the workspace asks for another one, and
    // untrusted, its endpoint is ignored
    let server = FakeServer::start(vec![answer("from the real server")]);
    let sb = Sandbox::new();
    sb.write_user_config(&format!(
        "[model]\nname = \"fake-model\"\napi_base = \"{}\"\n",
        server.base_url()
    ));
    sb.write_workspace_config(&format!(
        "[model]\napi_base = \"http://127.0.0.1:{}/v1\"\n",
        dead_port()
    ));
    let mut c = Client::start_with(&sb, &[]);
    let sid = c.handshake(&sb.workspace());
    let prompt = c.request(
        "session/prompt",
        json!({"sessionId": sid, "prompt": [{"type": "text", "text": "hi"}]}),
    );
    let (_, done) = c.until_response(prompt);
    assert_eq!(done["result"]["stopReason"], "end_turn", "{done}");
    assert_eq!(server.posts().len(), 1);
    c.finish();
}
