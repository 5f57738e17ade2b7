//! `cove ask` end to end: the real binary against the fake server.

mod cli_support;
mod common;

use std::time::{Duration, Instant};

use cli_support::Sandbox;
use common::*;

fn ask(sb: &Sandbox, server: &FakeServer, extra: &[&str]) -> cli_support::Run {
    let url = server.base_url();
    let mut args = vec!["ask", "--base-url", url.as_str(), "--model", "fake-model"];
    args.extend_from_slice(extra);
    sb.run(&args)
}

#[test]
fn streams_the_answer_and_sends_the_expected_request() {
    let server = FakeServer::start(vec![answer("Hello from a fake model.").pieces_of(3)]);
    let sb = Sandbox::new();
    let run = ask(&sb, &server, &["--system", "be brief", "say hi"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(run.stdout, "Hello from a fake model.\n");
    let posts = server.posts();
    assert_eq!(posts.len(), 1);
    assert_eq!(posts[0].path, "/v1/chat/completions");
    let body = posts[0].json();
    assert_eq!(body["stream"], true);
    assert_eq!(body["stream_options"]["include_usage"], true);
    assert_eq!(body["model"], "fake-model");
    assert_eq!(
        body["messages"][0],
        serde_json::json!({"role":"system","content":"be brief"})
    );
    assert_eq!(
        body["messages"][1],
        serde_json::json!({"role":"user","content":"say hi"})
    );
    assert!(body.get("tools").is_none());
}

#[test]
fn json_output_has_every_field() {
    let server = FakeServer::start(vec![answer("four").pieces_of(7)]);
    let sb = Sandbox::new();
    let run = ask(&sb, &server, &["--json", "2+2?"]);
    assert_eq!(run.code, 0, "{run:?}");
    let v = run.json();
    assert_eq!(v["content"], "four");
    assert_eq!(v["reasoning"], "");
    assert_eq!(v["tool_calls"], serde_json::json!([]));
    assert_eq!(v["finish_reason"], "stop");
    assert_eq!(v["usage"]["completion_tokens"], 4);
    assert_eq!(v["usage"]["total_tokens"], 15);
    assert!(v["ttft_ms"].as_f64().unwrap() >= 0.0);
    // four tokens in a few milliseconds: no rate (it would read thousands of tokens/s)
    assert!(v.get("tokens_per_s").is_some_and(|r| r.is_null()), "{v}");
    assert_eq!(v["model"], "fake-model");
    assert_eq!(v["error"], serde_json::Value::Null);
}

#[test]
fn prompt_from_stdin_and_model_from_server_list() {
    let server = FakeServer::start(vec![answer("ok")]);
    let sb = Sandbox::new();
    let url = server.base_url();
    let run = sb.run_with(
        &["ask", "--base-url", &url, "-"],
        &[],
        Some("a question\nin two lines\n"),
    );
    assert_eq!(run.code, 0, "{run:?}");
    let body = server.posts()[0].json();
    assert_eq!(body["messages"][0]["content"], "a question\nin two lines\n");
    assert_eq!(
        body["model"], "fake-model",
        "unset model.name takes the first listed model"
    );
}

#[test]
fn unreachable_server_exits_3() {
    let sb = Sandbox::new();
    let url = format!("http://127.0.0.1:{}/v1", dead_port());
    let run = sb.run(&["ask", "--base-url", &url, "--model", "m", "hi"]);
    assert_eq!(run.code, 3, "{run:?}");
    assert!(
        run.stderr.contains("cannot reach") && run.stderr.contains(&url),
        "{run:?}"
    );
    let run = sb.run(&["ask", "--base-url", &url, "--model", "m", "--json", "hi"]);
    assert_eq!(run.code, 3);
    assert!(
        run.json()["error"]
            .as_str()
            .unwrap()
            .contains("cannot reach")
    );
}

#[test]
fn http_errors_show_the_servers_message_and_exit_4() {
    for (status, body, expect) in [
        (
            401,
            r#"{"error":{"message":"invalid api key","type":"auth"}}"#,
            "invalid api key",
        ),
        (
            403,
            r#"{"error":"forbidden for this key"}"#,
            "forbidden for this key",
        ),
        (
            404,
            r#"{"error":{"message":"The model `nope` does not exist."}}"#,
            "does not exist",
        ),
        (413, r#"{"detail":"prompt too large"}"#, "prompt too large"),
        (500, "plain text failure", "plain text failure"),
    ] {
        let server = FakeServer::start(vec![Reply::json(status, body)]);
        let sb = Sandbox::new();
        let run = ask(&sb, &server, &["hi"]);
        assert_eq!(run.code, 4, "{status}: {run:?}");
        assert!(run.stderr.contains(expect), "{status}: {run:?}");
        assert!(
            run.stderr.contains(&status.to_string()),
            "{status}: {run:?}"
        );
    }
}

#[test]
fn error_frame_mid_stream_keeps_partial_output_and_exits_4() {
    let server = FakeServer::start(vec![Reply::sse(&[
        ROLE_CHUNK,
        &content_chunk("partial answer"),
        r#"{"error":{"message":"CUDA out of memory","code":500}}"#,
    ])]);
    let sb = Sandbox::new();
    let run = ask(&sb, &server, &["hi"]);
    assert_eq!(run.code, 4, "{run:?}");
    assert_eq!(run.stdout, "partial answer\n");
    assert!(run.stderr.contains("CUDA out of memory"), "{run:?}");
}

#[test]
fn stream_ending_early_exits_5_and_keeps_what_arrived() {
    // clean close, but no finish_reason and no [DONE]
    let server = FakeServer::start(vec![Reply::sse(&[
        ROLE_CHUNK,
        &content_chunk("half an ans"),
    ])]);
    let sb = Sandbox::new();
    let run = ask(&sb, &server, &["hi"]);
    assert_eq!(run.code, 5, "{run:?}");
    assert_eq!(run.stdout, "half an ans\n");
    assert!(run.stderr.contains("ended early"), "{run:?}");

    // connection cut mid-response (no final chunk), in --json mode
    let server = FakeServer::start(vec![
        Reply::sse(&[ROLE_CHUNK, &content_chunk("cut here")]).cut(),
    ]);
    let run = ask(&sb, &server, &["--json", "hi"]);
    assert_eq!(run.code, 5, "{run:?}");
    let v = run.json();
    assert_eq!(v["content"], "cut here");
    assert!(v["error"].as_str().unwrap().contains("ended early"));
}

#[test]
fn idle_timeout_between_chunks_ends_the_stream() {
    let server = FakeServer::start(vec![
        Reply::sse(&[ROLE_CHUNK, &content_chunk("stalled")]).hang(),
    ]);
    let sb = Sandbox::new();
    sb.write_user_config("[model]\nidle_timeout_secs = 1\n");
    let started = Instant::now();
    let run = ask(&sb, &server, &["hi"]);
    assert_eq!(run.code, 5, "{run:?}");
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(run.stdout, "stalled\n");
    assert!(run.stderr.contains("idle timeout"), "{run:?}");
}

#[test]
fn failover_to_the_next_endpoint_is_shown() {
    let server = FakeServer::start(vec![answer("from the second")]);
    let dead = format!("http://127.0.0.1:{}/v1", dead_port());
    let sb = Sandbox::new();
    sb.write_user_config(&format!(
        "[model]\nname = \"fake-model\"\napi_base = [\"{dead}\", \"{}\"]\n",
        server.base_url()
    ));
    let run = sb.run(&["ask", "hi"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(run.stdout, "from the second\n");
    assert!(
        run.stderr.contains(&dead) && run.stderr.contains("is down"),
        "{run:?}"
    );
}

#[test]
fn busy_server_is_retried_after_retry_after() {
    let server = FakeServer::start(vec![
        Reply::json(429, r#"{"error":{"message":"slow down"}}"#).header("Retry-After", "1"),
        Reply::json(503, r#"{"error":"loading model"}"#).header("Retry-After", "0"),
        answer("finally"),
    ]);
    let sb = Sandbox::new();
    let started = Instant::now();
    let run = ask(&sb, &server, &["hi"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(run.stdout, "finally\n");
    assert!(
        started.elapsed() >= Duration::from_millis(950),
        "Retry-After: 1 was honoured"
    );
    assert!(
        run.stderr.contains("slow down") && run.stderr.contains("retrying"),
        "{run:?}"
    );
    assert_eq!(server.posts().len(), 3);
}

#[test]
fn retries_are_bounded() {
    let busy = || Reply::json(429, r#"{"error":"busy"}"#).header("Retry-After", "0");
    let server = FakeServer::start(vec![busy(), busy(), busy(), busy(), answer("never")]);
    let sb = Sandbox::new();
    sb.write_user_config("[model]\nmax_retries = 2\n");
    let run = ask(&sb, &server, &["hi"]);
    assert_eq!(run.code, 4, "{run:?}");
    assert_eq!(server.posts().len(), 3);
}

#[test]
fn rejected_stream_options_is_retried_without_it() {
    let server = FakeServer::start(vec![
        Reply::json(
            400,
            r#"{"error":{"message":"Unrecognized request argument supplied: stream_options"}}"#,
        ),
        answer("fine"),
    ]);
    let sb = Sandbox::new();
    let run = ask(&sb, &server, &["hi"]);
    assert_eq!(run.code, 0, "{run:?}");
    let posts = server.posts();
    assert_eq!(posts.len(), 2);
    assert!(posts[0].json().get("stream_options").is_some());
    assert!(posts[1].json().get("stream_options").is_none());
}

#[test]
fn other_bad_requests_are_not_sent_twice() {
    let server = FakeServer::start(vec![
        Reply::json(
            400,
            r#"{"error":{"message":"the request exceeds the available context size: 9000 tokens in messages"}}"#,
        ),
        answer("should not be asked"),
    ]);
    let sb = Sandbox::new();
    let run = ask(&sb, &server, &["hi"]);
    assert_eq!(run.code, 4, "{run:?}");
    assert!(run.stderr.contains("context size"), "{run:?}");
    assert_eq!(server.posts().len(), 1, "a context overflow is not retried");
}

#[test]
fn offline_mode_refuses_public_hosts_before_sending() {
    let sb = Sandbox::new();
    let run = sb.run(&[
        "ask",
        "--base-url",
        "http://93.184.216.34/v1",
        "--model",
        "m",
        "hi",
    ]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr.contains("offline mode")
            && run.stderr.contains("93.184.216.34")
            && run.stderr.contains("allowed_hosts"),
        "{run:?}"
    );
}

#[test]
fn api_key_is_sent_as_bearer_from_env_or_api_key_env() {
    let server = FakeServer::start(vec![answer("a"), answer("b")]);
    let sb = Sandbox::new();
    let url = server.base_url();
    let run = sb.run_with(
        &["ask", "--base-url", &url, "--model", "m", "hi"],
        &[("COVE_API_KEY", "sk-one")],
        None,
    );
    assert_eq!(run.code, 0, "{run:?}");
    sb.write_user_config("[model]\napi_key_env = \"MY_VLLM_KEY\"\n");
    let run = sb.run_with(
        &["ask", "--base-url", &url, "--model", "m", "hi"],
        &[("MY_VLLM_KEY", "sk-two")],
        None,
    );
    assert_eq!(run.code, 0, "{run:?}");
    let posts = server.posts();
    assert_eq!(posts[0].header("authorization"), Some("Bearer sk-one"));
    assert_eq!(posts[1].header("authorization"), Some("Bearer sk-two"));
}

#[test]
fn tools_are_offered_and_calls_reported_with_ids_unchanged() {
    let server = FakeServer::start(vec![Reply::sse(&[
        r#"{"choices":[{"index":0,"delta":{"role":"assistant","tool_calls":[{"index":0,"id":"Ab3dE6gH9","type":"function","function":{"name":"read_file","arguments":"{\"path\": \"src/"}}]}}]}"#,
        r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"main.rs\"}"}}]},"finish_reason":"tool_calls"}]}"#,
        r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"id":"call_2","function":{"name":"shell","arguments":"not json"}}]}}]}"#,
        "[DONE]",
    ])
    .pieces_of(5)]);
    let sb = Sandbox::new();
    sb.write_user_config("[tools]\nshell = \"never\"\n");
    let run = ask(&sb, &server, &["--tools", "--json", "read main"]);
    assert_eq!(run.code, 0, "{run:?}");
    let body = server.posts()[0].json();
    let names: Vec<&str> = body["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["function"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 9);
    assert!(
        !names.contains(&"shell"),
        "a tool set to never is not offered"
    );
    let v = run.json();
    assert_eq!(v["finish_reason"], "tool_calls");
    assert_eq!(v["tool_calls"][0]["id"], "Ab3dE6gH9");
    assert_eq!(
        v["tool_calls"][0]["arguments"],
        serde_json::json!({"path": "src/main.rs"})
    );
    assert_eq!(
        v["tool_calls"][1]["arguments"], "not json",
        "unparsable arguments stay a raw string"
    );
}

#[test]
fn printed_tool_calls_are_recovered_and_flagged() {
    let server = FakeServer::start(vec![answer(
        r#"[TOOL_CALLS]read_file{"path": "Cargo.toml"}"#,
    )]);
    let sb = Sandbox::new();
    let run = ask(&sb, &server, &["--tools", "--json", "read it"]);
    assert_eq!(run.code, 0, "{run:?}");
    let v = run.json();
    assert_eq!(v["content"], "");
    assert_eq!(v["tool_calls"][0]["name"], "read_file");
    assert_eq!(v["tool_calls"][0]["recovered"], true);
    assert!(
        v["warnings"][0]
            .as_str()
            .unwrap()
            .contains("recovered 1 tool call")
    );
    // without --tools nothing is recovered: the text stays text
    let server = FakeServer::start(vec![answer(
        r#"[TOOL_CALLS]read_file{"path": "Cargo.toml"}"#,
    )]);
    let v = ask(&sb, &server, &["--json", "read it"]).json();
    assert_eq!(v["tool_calls"], serde_json::json!([]));
}

#[test]
fn reasoning_goes_to_stderr_and_json_apart_from_content() {
    let server = FakeServer::start(vec![Reply::sse(&[
        r#"{"choices":[{"index":0,"delta":{"reasoning_content":"Let me think."}}]}"#,
        &content_chunk("Answer."),
        &finish_chunk("stop"),
        "[DONE]",
    ])]);
    let sb = Sandbox::new();
    let run = ask(&sb, &server, &["hi"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(run.stdout, "Answer.\n");
    assert!(run.stderr.contains("Let me think."));
}

#[test]
fn non_streaming_json_reply_is_accepted() {
    let server = FakeServer::start(vec![Reply::json(
        200,
        r#"{"id":"x","object":"chat.completion","model":"fake-model","choices":[{"index":0,"message":{"role":"assistant","content":"whole reply"},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5}}"#,
    )]);
    let sb = Sandbox::new();
    let run = ask(&sb, &server, &["hi"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(run.stdout, "whole reply\n");
}

#[test]
fn usage_errors_exit_2() {
    let sb = Sandbox::new();
    let run = sb.run(&["ask", "--image", "missing-shot.png", "what is this"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("missing-shot.png"), "{run:?}");
    let run = sb.run_with(&["ask", "-"], &[], Some("  \n"));
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("empty"));
    let run = sb.run(&["ask"]);
    assert_eq!(run.code, 2);
    let run = sb.run(&["--bogus-flag"]);
    assert_eq!(run.code, 2);
}

#[test]
fn interrupt_exits_130_and_keeps_partial_output() {
    let pieces: Vec<String> = (0..40).map(|i| content_chunk(&format!("w{i} "))).collect();
    let mut events: Vec<&str> = vec![ROLE_CHUNK];
    events.extend(pieces.iter().map(String::as_str));
    let server = FakeServer::start(vec![
        Reply::sse(&events)
            .pieces_of(64)
            .delay(Duration::from_millis(100)),
    ]);
    let sb = Sandbox::new();
    let url = server.base_url();
    let child = sb
        .command(&["ask", "--base-url", &url, "--model", "m", "hi"], &[])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(900));
    let status = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let run = cli_support::wait(child);
    assert_eq!(run.code, 130, "{run:?}");
    assert!(run.stdout.starts_with("w0 "), "{run:?}");
    assert!(!run.stdout.contains("w39"), "{run:?}");
    // the connection was dropped: the server's later writes fail
    std::thread::sleep(Duration::from_millis(600));
    assert_eq!(server.broken_writes(), 1);
}

#[test]
fn models_lists_what_the_server_offers() {
    let server = FakeServer::start(vec![]);
    server.set_get(
        "/v1/models",
        Reply::json(200, r#"{"data":[{"id":"devstral-small","owned_by":"vllm","max_model_len":32768},{"id":"qwen3-vl"}]}"#),
    );
    let sb = Sandbox::new();
    let url = server.base_url();
    let run = sb.run_with(&["models"], &[("COVE_BASE_URL", &url)], None);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout.contains("devstral-small")
            && run.stdout.contains("32768")
            && run.stdout.contains("qwen3-vl"),
        "{run:?}"
    );
    let run = sb.run_with(&["models", "--json"], &[("COVE_BASE_URL", &url)], None);
    assert_eq!(run.json()["models"][1]["id"], "qwen3-vl");
}

#[test]
fn escape_sequences_from_the_server_never_reach_the_terminal_raw() {
    // the error message goes to stderr (a human's screen): neutralised
    let server = FakeServer::start(vec![Reply::json(
        500,
        "{\"error\":\"boom\\u001b]52;c;ZXZpbA==\\u0007\"}",
    )]);
    let sb = Sandbox::new();
    let run = ask(&sb, &server, &["hi"]);
    assert_eq!(run.code, 4, "{run:?}");
    assert!(!run.stderr.contains('\u{1b}'), "{run:?}");
    assert!(run.stderr.contains("boom^[]52;c;ZXZpbA==^G"), "{run:?}");
    // content into a pipe is passed byte for byte (the user asked for the raw answer)
    let server = FakeServer::start(vec![answer("red\u{1b}[31m")]);
    let run = ask(&sb, &server, &["hi"]);
    assert_eq!(run.stdout, "red\u{1b}[31m\n");
}

#[test]
fn think_tags_at_the_start_of_content_are_reasoning() {
    let server = FakeServer::start(vec![Reply::sse(&[
        &content_chunk("<thi"),
        &content_chunk("nk>weighing options</th"),
        &content_chunk("ink>\n\nFinal answer."),
        &finish_chunk("stop"),
        "[DONE]",
    ])]);
    let sb = Sandbox::new();
    let v = ask(&sb, &server, &["--json", "hi"]).json();
    assert_eq!(v["reasoning"], "weighing options");
    assert_eq!(v["content"], "Final answer.");
}
