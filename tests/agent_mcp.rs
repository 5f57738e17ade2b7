//! MCP tools in the agent loop, against a real server (`server-everything`, installed by
//! scripts/test.sh): offered as `<server>__<tool>`, put to the user, run, the result back
//! to the model; over the schema budget, `tool_search` instead; the size of the first
//! request with and without servers.

mod agent_support;
mod common;
mod mcp_support;

use agent_support::*;
use common::*;
use cove::protocol::{AgentEvent, Decision, Op, ToolResultKind};
use serde_json::json;

fn server(name: &str, bin: &str, extra: &str) -> String {
    format!("\n[mcp.servers.{name}]\ncommand = \"{bin}\"\nargs = [\"stdio\"]\n{extra}")
}

/// The tool names of the first request the model server got.
fn offered(server: &FakeServer) -> Vec<String> {
    server.posts()[0].json()["tools"]
        .as_array()
        .map(|t| {
            t.iter()
                .map(|t| t["function"]["name"].as_str().unwrap_or("").to_owned())
                .collect()
        })
        .unwrap_or_default()
}

async fn approve_next(h: &mut Harness) -> cove::protocol::ApprovalRequest {
    let AgentEvent::ApprovalNeeded { request, .. } = h
        .until(|e| {
            matches!(
                e,
                AgentEvent::ApprovalNeeded { .. } | AgentEvent::TurnDone { .. }
            )
        })
        .await
    else {
        panic!("no approval asked")
    };
    h.ops
        .send(Op::Decide {
            call_id: request.call_id.clone(),
            decision: Decision::Approve,
        })
        .unwrap();
    request
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_mcp_tool_is_offered_asked_run_and_answered() {
    let Some(bin) = mcp_support::everything().map(|p| p.display().to_string()) else {
        return;
    };
    let model = FakeServer::start(vec![
        tool_call_reply(&[("m1", "everything__echo", json!({"message": "hello mcp"}))]),
        answer("It echoed."),
    ]);
    let mut h = start(
        &model.base_url(),
        &server("everything", &bin, "tools = [\"echo\", \"get-sum\"]\n"),
    )
    .await;
    h.say(1, "echo something");
    let request = approve_next(&mut h).await;
    assert_eq!(request.tool, "everything__echo");
    assert!(request.summary.contains("hello mcp"), "{}", request.summary);
    let AgentEvent::ToolFinished { kind, summary, .. } = h
        .until(|e| matches!(e, AgentEvent::ToolFinished { .. }))
        .await
    else {
        unreachable!()
    };
    assert_eq!(kind, ToolResultKind::Done, "{summary}");
    h.until(|e| matches!(e, AgentEvent::TurnDone { .. })).await;
    let names = offered(&model);
    assert!(names.contains(&"everything__echo".to_owned()), "{names:?}");
    assert!(
        !names.iter().any(|n| n.contains("tiny")),
        "the allow list: {names:?}"
    );
    // the built-ins stay first: the start of the prompt never moves
    assert_eq!(names[0], "read_file");
    let results = tool_results(&model);
    assert!(results[0].contains("hello mcp"), "{results:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_the_budget_the_model_searches_then_calls_by_name() {
    let Some(bin) = mcp_support::everything().map(|p| p.display().to_string()) else {
        return;
    };
    let model = FakeServer::start(vec![
        tool_call_reply(&[("s1", "tool_search", json!({"query": "sum two numbers"}))]),
        tool_call_reply(&[("m1", "everything__get-sum", json!({"a": 2, "b": 3}))]),
        answer("5"),
    ]);
    let config = format!(
        "\n[mcp]\nschema_budget = 50\n{}",
        server("everything", &bin, "")
    );
    let mut h = start(&model.base_url(), &config).await;
    h.say(1, "add 2 and 3");
    // tool_search runs without asking; the found tool is put to the user
    let request = approve_next(&mut h).await;
    assert_eq!(request.tool, "everything__get-sum");
    h.until(|e| matches!(e, AgentEvent::TurnDone { .. })).await;
    let names = offered(&model);
    assert!(names.contains(&"tool_search".to_owned()), "{names:?}");
    assert!(
        !names.iter().any(|n| n.starts_with("everything__")),
        "{names:?}"
    );
    let posts = model.posts();
    let found = posts[1].json()["messages"].to_string();
    assert!(
        found.contains("everything__get-sum"),
        "the search answered with the tool"
    );
    let results = tool_results(&model);
    assert!(results.last().unwrap().contains('5'), "{results:?}");
}

/// The tool part of the first request, in bytes (~3.5 bytes a token).
fn tools_bytes(model: &FakeServer) -> usize {
    model.posts()[0].json()["tools"].to_string().len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_request_size_with_and_without_two_servers() {
    let Some(bin) = mcp_support::everything().map(|p| p.display().to_string()) else {
        return;
    };
    let mut sizes = Vec::new();
    for (label, extra) in [
        ("no MCP server", String::new()),
        (
            "two servers, all tools (budget off)",
            format!(
                "\n[mcp]\nschema_budget = 1000000\n{}{}",
                server("a", &bin, ""),
                server("b", &bin, "")
            ),
        ),
        (
            "two servers, default budget",
            format!("{}{}", server("a", &bin, ""), server("b", &bin, "")),
        ),
    ] {
        let model = FakeServer::start(vec![answer("ok")]);
        let mut h = start(&model.base_url(), &extra).await;
        h.say(1, "hi");
        h.until(|e| matches!(e, AgentEvent::TurnDone { .. })).await;
        let bytes = tools_bytes(&model);
        eprintln!(
            "first request, tools: {label}: {bytes} bytes (~{} tokens)",
            bytes * 2 / 7
        );
        sizes.push(bytes);
    }
    assert!(sizes[1] > sizes[0] + 4000, "{sizes:?}");
    // over the budget the servers cost one small tool
    assert!(sizes[2] < sizes[0] + 1200, "{sizes:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_image_from_a_tool_goes_to_the_vision_model() {
    let Some(bin) = mcp_support::everything().map(|p| p.display().to_string()) else {
        return;
    };
    let model = FakeServer::start(vec![
        tool_call_reply(&[("i1", "everything__get-tiny-image", json!({}))]),
        answer("A small logo: two overlapping rings."),
        answer("The tool returned the MCP logo."),
    ]);
    let config = format!(
        "\n[vision]\nname = \"vision-model\"\napi_base = \"{}\"\n{}",
        model.base_url(),
        server("everything", &bin, "tools = [\"get-tiny-image\"]\n")
    );
    let mut h = start(&model.base_url(), &config).await;
    h.say(1, "show me the image");
    approve_next(&mut h).await;
    h.until(|e| matches!(e, AgentEvent::TurnDone { .. })).await;
    let posts = model.posts();
    assert_eq!(posts.len(), 3, "main, vision, main");
    let vision = posts[1].json();
    assert_eq!(vision["model"], "vision-model");
    assert!(
        vision.to_string().contains("data:image/png;base64,"),
        "the image went to the vision model"
    );
    assert!(vision["tools"].is_null() || vision["tools"].as_array().is_some_and(Vec::is_empty));
    let results = tool_results(&model);
    assert!(results[0].contains("two overlapping rings"), "{results:?}");
    assert!(
        !results[0].contains("base64"),
        "the bytes stay out of the conversation"
    );
}
