//! `cove doctor` against fake servers of each kind.

mod cli_support;
mod common;

use cli_support::Sandbox;
use common::*;

fn tool_call_reply() -> Reply {
    Reply::sse(&[
        r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_1","function":{"name":"get_time","arguments":"{}"}}]},"finish_reason":"tool_calls"}]}"#,
        "[DONE]",
    ])
}

fn doctor(sb: &Sandbox, server_url: &str) -> cli_support::Run {
    sb.run_with(&["doctor"], &[("COVE_BASE_URL", server_url)], None)
}

#[test]
fn llama_cpp_context_and_structured_tools() {
    let server = FakeServer::start(vec![tool_call_reply()]);
    server.set_get(
        "/props",
        Reply::json(
            200,
            r#"{"default_generation_settings":{"n_ctx":4096},"build_info":"b6000-abc"}"#,
        ),
    );
    let sb = Sandbox::new();
    sb.write_user_config("[model]\ncontext_window = 32768\n");
    let run = doctor(&sb, &server.base_url());
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout.contains("llama.cpp (llama-server) b6000-abc"),
        "{run:?}"
    );
    assert!(run.stdout.contains("4096 tokens"), "{run:?}");
    assert!(
        run.stdout.contains("WARNING") && run.stdout.contains("32768 exceeds the server's 4096"),
        "{run:?}"
    );
    assert!(run.stdout.contains("structured tool calls work"), "{run:?}");
    let probe = &server.posts()[0].json();
    assert_eq!(probe["tools"][0]["function"]["name"], "get_time");
}

#[test]
fn ollama_and_rejected_tools() {
    let server = FakeServer::start(vec![Reply::json(
        500,
        r#"{"error":{"message":"tools param requires --jinja flag"}}"#,
    )]);
    server.set_get("/api/version", Reply::json(200, r#"{"version":"0.12.3"}"#));
    server.set_get(
        "/api/ps",
        Reply::json(
            200,
            r#"{"models":[{"name":"other:1b","model":"other:1b","context_length":2048},{"name":"fake-model","model":"fake-model","context_length":8192}]}"#,
        ),
    );
    let sb = Sandbox::new();
    let run = doctor(&sb, &server.base_url());
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("Ollama 0.12.3"), "{run:?}");
    assert!(
        run.stdout.contains("8192"),
        "the loaded model's context: {run:?}"
    );
    assert!(
        run.stdout.contains("REJECTED") && run.stdout.contains("--jinja"),
        "{run:?}"
    );
}

#[test]
fn vllm_context_from_models_and_tools_printed_as_text() {
    let server = FakeServer::start(vec![answer(
        r#"<tool_call>{"name": "get_time", "arguments": {}}</tool_call>"#,
    )]);
    server.set_get(
        "/v1/models",
        Reply::json(
            200,
            r#"{"data":[{"id":"devstral","owned_by":"vllm","max_model_len":131072}]}"#,
        ),
    );
    server.set_get("/version", Reply::json(200, r#"{"version":"0.11.0"}"#));
    let sb = Sandbox::new();
    let run = doctor(&sb, &server.base_url());
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("vLLM 0.11.0"), "{run:?}");
    assert!(run.stdout.contains("131072"), "{run:?}");
    assert!(run.stdout.contains("prints tool calls as text"), "{run:?}");
    assert_eq!(server.posts()[0].json()["model"], "devstral");
}

#[test]
fn every_endpoint_is_reported_and_all_down_exits_3() {
    let server = FakeServer::start(vec![tool_call_reply()]);
    let dead = format!("http://127.0.0.1:{}/v1", dead_port());
    let sb = Sandbox::new();
    let run = doctor(&sb, &format!("{dead},{}", server.base_url()));
    assert_eq!(run.code, 0, "one endpoint is up: {run:?}");
    assert!(
        run.stdout.contains("endpoint 1 of 2") && run.stdout.contains("down"),
        "{run:?}"
    );
    assert!(run.stdout.contains("endpoint 2 of 2"), "{run:?}");
    let run = doctor(&sb, &dead);
    assert_eq!(run.code, 3, "{run:?}");
}
