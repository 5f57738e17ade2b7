//! The server's real limits, through the real agent loop under the fake server (and
//! `cove ask` / `cove doctor` through the binary): a request refused as too big for the
//! window (llama.cpp's and vLLM's own error bodies, as an HTTP 400, an `error:` SSE line or
//! an error frame) is compacted and asked once more, or fails with the numbers; the window
//! named by the refusal is adopted; `max_tokens` too large for what is left is lowered;
//! Ollama's window comes from `/api/show` and goes back as `options.num_ctx`; stream shapes
//! (an `error:` line, content as typed parts, a byte-order mark); a slow stream gets a
//! notice, and with `retry_slow` is asked again at a lower temperature.

mod agent_support;
mod cli_support;
mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use agent_support::*;
use common::*;
use cove::protocol::{AgentEvent, StreamEvent, TurnOutcome};
use serde_json::json;

/// llama-server's answer to a prompt over its per-slot context (HTTP 400).
const LLAMA_OVERFLOW: &str = r#"{"error":{"code":400,"message":"request (5210 tokens) exceeds the available context size (4096 tokens), try increasing it","type":"exceed_context_size_error","n_prompt_tokens":5210,"n_ctx":4096}}"#;

/// vLLM's answer to a prompt over `max_model_len` (HTTP 400).
const VLLM_OVERFLOW: &str = r#"{"error":{"message":"This model's maximum context length is 32768 tokens. However, your request has 40112 input tokens. Please reduce the length of the input messages. None","type":"BadRequestError","param":null,"code":400}}"#;

/// Older vLLM: the message at the top level, prompt and reply counted apart.
const VLLM_OLD_OVERFLOW: &str = r#"{"object":"error","message":"This model's maximum context length is 4096 tokens. However, you requested 5000 tokens (4200 in the messages, 800 in the completion). Please reduce the length of the messages or completion.","type":"BadRequestError","param":null,"code":400}"#;

/// vLLM when the prompt fits but `max_tokens` does not.
const VLLM_MAX_TOKENS: &str = r#"{"error":{"message":"'max_tokens' or 'max_completion_tokens' is too large: 8000. This model's maximum context length is 4096 tokens and your request has 2778 input tokens (8000 > 4096 - 2778). None","type":"BadRequestError","param":null,"code":400}}"#;

fn long_answer(word: &str) -> Reply {
    answer(&format!("{word} ").repeat(80))
}

async fn turn_end(h: &mut Harness) -> AgentEvent {
    h.until(|e| {
        matches!(
            e,
            AgentEvent::TurnDone { .. } | AgentEvent::TurnFailed { .. }
        )
    })
    .await
}

async fn done(h: &mut Harness) -> TurnOutcome {
    match turn_end(h).await {
        AgentEvent::TurnDone { outcome, .. } => outcome,
        other => panic!("the turn failed: {other:?}"),
    }
}

/// Every notice until the turn ends, and how it ended.
async fn notices_until_end(h: &mut Harness) -> (Vec<String>, AgentEvent) {
    let mut notices = Vec::new();
    loop {
        match h.next().await {
            AgentEvent::Notice { text } => notices.push(text),
            AgentEvent::Stream {
                event: StreamEvent::Notice { message },
                ..
            } => notices.push(message),
            e @ (AgentEvent::TurnDone { .. } | AgentEvent::TurnFailed { .. }) => {
                return (notices, e);
            }
            _ => {}
        }
    }
}

fn journal_text(dir: &Path) -> String {
    let list = cove::session::store::list(dir);
    let loaded = cove::session::journal::load(&list[0].path).unwrap();
    format!("{:?}", loaded.records)
}

fn all_text(body: &serde_json::Value) -> String {
    body["messages"].to_string()
}

/// Two finished turns, so there is something older to compact.
async fn two_turns(h: &mut Harness) {
    h.say(1, "question one about alpha");
    done(h).await;
    h.say(2, "question two about beta");
    done(h).await;
}

async fn harness_with_journal(
    server: &FakeServer,
    extra: &str,
) -> (Harness, PathBuf, tempfile::TempDir) {
    let sessions = tempfile::tempdir().unwrap();
    let sdir = sessions.path().to_owned();
    let s2 = sdir.clone();
    let h = start_with(&server.base_url(), extra, move |s, _| {
        s.sessions_dir = Some(s2);
    })
    .await;
    (h, sdir, sessions)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn llama_cpp_overflow_compacts_retries_and_adopts_the_window() {
    let server = FakeServer::start(vec![
        long_answer("first"),
        long_answer("second"),
        Reply::json(400, LLAMA_OVERFLOW),
        answer("SUMMARY: two questions about alpha and beta."),
        answer("It fits now."),
    ]);
    let (mut h, sdir, _keep) = harness_with_journal(&server, "").await;
    two_turns(&mut h).await;
    h.say(3, "question three about gamma");
    let mut adopted = None;
    let mut notices = Vec::new();
    let end = loop {
        match h.next().await {
            AgentEvent::Server(s) => adopted = s.context_window,
            AgentEvent::Notice { text } => notices.push(text),
            e @ (AgentEvent::TurnDone { .. } | AgentEvent::TurnFailed { .. }) => break e,
            _ => {}
        }
    };
    let AgentEvent::TurnDone { outcome, .. } = end else {
        panic!("{end:?} after {notices:?}")
    };
    assert_eq!(outcome.cut_short, None);
    let all = notices.join("\n");
    assert!(
        all.contains(
            "does not fit the context window (the prompt is 5210 tokens, the window 4096 tokens)"
        ),
        "{all}"
    );
    assert!(all.contains("Compacted the conversation"), "{all}");
    assert!(all.contains("4096 tokens (from its refusal)"), "{all}");
    assert_eq!(adopted, Some(4096), "the status bar shows the real window");

    let posts = server.posts();
    assert_eq!(posts.len(), 5);
    // the refused request and the one sent again after compacting
    let refused = all_text(&posts[2].json());
    assert!(refused.contains("first first"), "{refused}");
    let summary_req = all_text(&posts[3].json());
    assert!(
        summary_req.contains("question one about alpha"),
        "{summary_req}"
    );
    let retried = all_text(&posts[4].json());
    assert!(retried.contains("SUMMARY: two questions"), "{retried}");
    assert!(retried.contains("question three about gamma"), "{retried}");
    assert!(
        !retried.contains("first first"),
        "older turns summarised: {retried}"
    );

    // the recovery is journaled
    h.ops.send(cove::protocol::Op::Shutdown).unwrap();
    let journal = journal_text(&sdir);
    assert!(
        journal.contains("does not fit the context window"),
        "{journal}"
    );
    assert!(journal.contains("from its refusal"), "{journal}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vllm_overflow_that_still_does_not_fit_says_so_with_the_numbers() {
    let server = FakeServer::start(vec![
        long_answer("first"),
        long_answer("second"),
        Reply::json(400, VLLM_OVERFLOW),
        answer("SUMMARY of the earlier turns."),
        Reply::json(400, VLLM_OVERFLOW),
    ]);
    let mut h = start(&server.base_url(), "").await;
    two_turns(&mut h).await;
    h.say(3, "question three");
    let (notices, end) = notices_until_end(&mut h).await;
    let AgentEvent::TurnFailed { error, hint, .. } = end else {
        panic!("{end:?}")
    };
    assert!(
        error.contains("even after compacting")
            && error.contains("the prompt is 40112 tokens, the window 32768 tokens"),
        "{error}"
    );
    assert!(hint.contains("/clear"), "{hint}");
    assert!(
        notices
            .iter()
            .any(|n| n.contains("Compacting and asking once more")),
        "{notices:?}"
    );
    // asked once more, not again and again
    assert_eq!(server.posts().len(), 5);
    // the session goes on: the next message is a normal turn
    server.push(answer("back"));
    h.say(4, "shorter question");
    done(&mut h).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overflow_sent_as_an_sse_error_line_or_an_error_frame_is_recovered_too() {
    // an older llama-server: HTTP 200, then `error:` (not `data:`), then [DONE]
    let error_line = Reply::sse_raw(
        b"error: {\"code\":400,\"message\":\"the request exceeds the available context size, try increasing it\",\"type\":\"exceed_context_size_error\"}\n\ndata: [DONE]\n\n".to_vec(),
    )
    .pieces_of(7);
    // vLLM's error frame in the stream: `data: {"error":…}`
    let frame = Reply::sse(&[VLLM_OLD_OVERFLOW
        .replace(r#"{"object":"error","#, r#"{"error":{"object":"error","#)
        .replace("\"code\":400}", "\"code\":400}}")
        .as_str()]);
    for (i, refusal) in [error_line, frame].into_iter().enumerate() {
        let server = FakeServer::start(vec![
            long_answer("first"),
            long_answer("second"),
            refusal,
            answer("SUMMARY of one and two."),
            answer("Recovered."),
        ]);
        let mut h = start(&server.base_url(), "").await;
        two_turns(&mut h).await;
        h.say(3, "question three");
        let (notices, end) = notices_until_end(&mut h).await;
        assert!(
            matches!(end, AgentEvent::TurnDone { ref outcome, .. } if outcome.cut_short.is_none()),
            "case {i}: {end:?} {notices:?}"
        );
        let all = notices.join("\n");
        assert!(
            all.contains("does not fit the context window"),
            "case {i}: {all}"
        );
        if i == 1 {
            assert!(
                all.contains("the prompt is 4200 tokens, the window 4096 tokens"),
                "{all}"
            );
        } else {
            assert!(all.contains("the server gave no numbers"), "{all}");
        }
        let posts = server.posts();
        assert_eq!(posts.len(), 5, "case {i}");
        assert!(all_text(&posts[4].json()).contains("SUMMARY of one and two."));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_overflow_on_the_first_message_has_nothing_to_compact() {
    let server = FakeServer::start(vec![Reply::json(400, LLAMA_OVERFLOW)]);
    let mut h = start(&server.base_url(), "").await;
    h.say(1, &"a very long paste ".repeat(100));
    let (_, end) = notices_until_end(&mut h).await;
    let AgentEvent::TurnFailed { error, hint, .. } = end else {
        panic!("{end:?}")
    };
    assert!(
        error.contains("nothing left to compact")
            && error.contains("the prompt is 5210 tokens, the window 4096 tokens"),
        "{error}"
    );
    assert!(hint.contains("raise"), "{hint}");
    assert_eq!(server.posts().len(), 1, "not sent again unchanged");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_tokens_too_large_for_the_window_is_lowered_once() {
    let server = FakeServer::start(vec![
        Reply::json(400, VLLM_MAX_TOKENS),
        answer("short enough"),
    ]);
    let mut h = start(&server.base_url(), "max_tokens = 8000\n").await;
    h.say(1, "hello");
    let (notices, end) = notices_until_end(&mut h).await;
    assert!(matches!(end, AgentEvent::TurnDone { .. }), "{end:?}");
    assert!(
        notices
            .iter()
            .any(|n| n.contains("leaves 1318 tokens for the reply after this 2778-token request")),
        "{notices:?}"
    );
    let posts = server.posts();
    assert_eq!(posts.len(), 2, "no compaction, just a smaller reply");
    assert_eq!(posts[0].json()["max_tokens"], 8000);
    assert_eq!(posts[1].json()["max_tokens"], 1318);
    // the next turn asks for the configured size again
    server.push(answer("again"));
    h.say(2, "more");
    done(&mut h).await;
    assert_eq!(server.posts()[2].json()["max_tokens"], 8000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_error_line_that_is_not_an_overflow_ends_the_reply_as_a_server_error() {
    let server = FakeServer::start(vec![Reply::sse_raw(
        b"data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Partial\"}}]}\n\nerror: {\"code\":500,\"message\":\"slot 0 was cancelled\",\"type\":\"server_error\"}\n\ndata: [DONE]\n\n".to_vec(),
    )]);
    let mut h = start(&server.base_url(), "").await;
    h.say(1, "hi");
    let outcome = done(&mut h).await;
    let why = outcome.cut_short.expect("a server error, not a clean end");
    assert!(why.contains("slot 0 was cancelled (server_error)"), "{why}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn content_parts_and_a_byte_order_mark_reach_the_reply() {
    let parts = [
        r#"{"choices":[{"index":0,"delta":{"role":"assistant","content":[{"type":"thinking","thinking":[{"type":"text","text":"The user greets me."}]}]}}]}"#,
        r#"{"choices":[{"index":0,"delta":{"content":[{"type":"text","text":"Hello "}]}}]}"#,
        r#"{"choices":[{"index":0,"delta":{"content":[{"type":"text","text":"there."}]},"finish_reason":"stop"}]}"#,
    ];
    let mut body = b"\xEF\xBB\xBF".to_vec();
    for p in parts {
        body.extend_from_slice(format!("data: {p}\n\n").as_bytes());
    }
    body.extend_from_slice(b"data: [DONE]\n\n");
    let server = FakeServer::start(vec![Reply::sse_raw(body).pieces_of(2), answer("ok")]);
    let mut h = start(&server.base_url(), "").await;
    h.say(1, "hi");
    let (mut content, mut reasoning, mut notices) = (String::new(), String::new(), Vec::new());
    let outcome = loop {
        match h.next().await {
            AgentEvent::Stream { event, .. } => match event {
                StreamEvent::Content { text } => content.push_str(&text),
                StreamEvent::Reasoning { text } => reasoning.push_str(&text),
                StreamEvent::Notice { message } => notices.push(message),
                _ => {}
            },
            AgentEvent::TurnDone { outcome, .. } => break outcome,
            e @ AgentEvent::TurnFailed { .. } => panic!("{e:?}"),
            _ => {}
        }
    };
    assert_eq!(outcome.cut_short, None);
    assert_eq!(content, "Hello there.");
    assert_eq!(reasoning, "The user greets me.");
    assert!(notices.is_empty(), "nothing skipped: {notices:?}");
    h.say(2, "and?");
    done(&mut h).await;
    let last = server.posts()[1].json();
    let assistant = last["messages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["role"] == "assistant")
        .cloned()
        .unwrap();
    assert_eq!(assistant["content"], "Hello there.");
}

/// A stream of `n` one-word deltas, each after `gap`.
fn slow_reply(n: usize, gap: Duration) -> Reply {
    let mut events = vec![ROLE_CHUNK.to_owned()];
    events.extend((0..n).map(|i| content_chunk(&format!("w{i} "))));
    events.push(finish_chunk("stop"));
    events.push("[DONE]".to_owned());
    let mut r = Reply::sse(&events.iter().map(String::as_str).collect::<Vec<_>>());
    // one event per piece, each after the gap
    let body = r.pieces.concat();
    let text = String::from_utf8(body).unwrap();
    r.pieces = text
        .split_inclusive("\n\n")
        .map(|e| e.as_bytes().to_vec())
        .collect();
    r.delay(gap)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_stream_gets_a_notice_with_the_rate_and_is_journaled() {
    let server = FakeServer::start(vec![slow_reply(12, Duration::from_millis(100))]);
    let sessions = tempfile::tempdir().unwrap();
    let sdir = sessions.path().to_owned();
    let s2 = sdir.clone();
    let mut h = start_with(
        &server.base_url(),
        "min_tokens_per_s = 50\n",
        move |s, _| {
            s.sessions_dir = Some(s2);
            s.client.set_slow_window(Duration::from_millis(400));
        },
    )
    .await;
    h.say(1, "hi");
    let (notices, end) = notices_until_end(&mut h).await;
    let AgentEvent::TurnDone { outcome, .. } = end else {
        panic!("{end:?}")
    };
    assert_eq!(outcome.cut_short, None, "only a notice: the reply is whole");
    let slow = notices
        .iter()
        .find(|n| n.contains("tokens/s"))
        .unwrap_or_else(|| panic!("{notices:?}"));
    assert!(slow.contains("under model.min_tokens_per_s = 50"), "{slow}");
    // the measured rate is in it: about 10 a second, certainly under 50
    let rate: f64 = slow
        .split("streaming at ")
        .nth(1)
        .and_then(|r| r.split(' ').next())
        .and_then(|r| r.parse().ok())
        .unwrap();
    assert!(rate > 2.0 && rate < 50.0, "{slow}");
    assert_eq!(server.posts().len(), 1);
    h.ops.send(cove::protocol::Op::Shutdown).unwrap();
    assert!(journal_text(&sdir).contains("tokens/s"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fast_stream_gets_no_notice_and_zero_switches_the_check_off() {
    for extra in ["min_tokens_per_s = 5\n", "min_tokens_per_s = 0\n"] {
        let server = FakeServer::start(vec![if extra.contains("= 0") {
            slow_reply(6, Duration::from_millis(100))
        } else {
            slow_reply(20, Duration::from_millis(20))
        }]);
        let mut h = start_with(&server.base_url(), extra, |s, _| {
            s.client.set_slow_window(Duration::from_millis(200));
        })
        .await;
        h.say(1, "hi");
        let (notices, end) = notices_until_end(&mut h).await;
        assert!(matches!(end, AgentEvent::TurnDone { .. }), "{end:?}");
        assert!(
            !notices.iter().any(|n| n.contains("tokens/s")),
            "{extra}: {notices:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_slow_asks_once_more_at_a_lower_temperature() {
    let server = FakeServer::start(vec![
        slow_reply(30, Duration::from_millis(100)),
        answer("Quick answer."),
    ]);
    let mut h = start_with(
        &server.base_url(),
        "temperature = 0.6\nmin_tokens_per_s = 50\nretry_slow = true\n",
        |s, _| s.client.set_slow_window(Duration::from_millis(400)),
    )
    .await;
    h.say(1, "hi");
    let mut notices = Vec::new();
    let mut cut_step = None;
    let outcome = loop {
        match h.next().await {
            AgentEvent::Notice { text } => notices.push(text),
            AgentEvent::Stream {
                event: StreamEvent::Notice { message },
                ..
            } => notices.push(message),
            AgentEvent::StepDone { outcome, .. } => cut_step = Some(outcome),
            AgentEvent::TurnDone { outcome, .. } => break outcome,
            e @ AgentEvent::TurnFailed { .. } => panic!("{e:?}"),
            _ => {}
        }
    };
    let all = notices.join("\n");
    assert!(all.contains("stopped to ask again"), "{all}");
    assert!(all.contains("Asking again at temperature 0.2"), "{all}");
    let cut = cut_step.expect("the slow reply ends as a step cut short");
    assert!(
        cut.cut_short
            .as_deref()
            .is_some_and(|w| w.contains("min_tokens_per_s")),
        "{cut:?}"
    );
    assert_eq!(outcome.cut_short, None);
    let posts = server.posts();
    assert_eq!(posts.len(), 2, "asked once more, not again");
    assert_eq!(posts[0].json()["temperature"], 0.6);
    assert_eq!(posts[1].json()["temperature"], 0.2);
    // the slow reply's words are not in the conversation
    server.push(answer("next"));
    h.say(2, "and?");
    done(&mut h).await;
    let third = all_text(&server.posts()[2].json());
    assert!(
        third.contains("Quick answer.") && !third.contains("w0 "),
        "{third}"
    );
}

/// A fake Ollama: `/api/version`, nothing loaded in `/api/ps`, `/api/show` with a
/// Modelfile that sets num_ctx.
fn ollama(server: &FakeServer, num_ctx: Option<u64>) {
    server.set_get("/api/version", Reply::json(200, r#"{"version":"0.12.3"}"#));
    server.set_get("/api/ps", Reply::json(200, r#"{"models":[]}"#));
    let parameters = match num_ctx {
        Some(n) => format!(
            "num_ctx                        {n}\nstop                           \"<|im_end|>\""
        ),
        None => "stop                           \"<|im_end|>\"".to_owned(),
    };
    server.set_post(
        "/api/show",
        Reply::json(
            200,
            &json!({
                "modelfile": "FROM qwen2.5-coder:7b",
                "parameters": parameters,
                "details": {"family": "qwen2", "parameter_size": "7.6B", "quantization_level": "Q4_K_M"},
                "model_info": {"general.architecture": "qwen2", "qwen2.context_length": 32768}
            })
            .to_string(),
        ),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ollama_window_from_api_show_is_sent_as_num_ctx() {
    let server = FakeServer::start(vec![answer("hi from ollama")]);
    ollama(&server, Some(16384));
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap();
    let settings = cove::agent::AgentSettings::from_config(
        &config(&server.base_url(), ""),
        "system".into(),
        root,
    )
    .unwrap();
    let (ops, mut events) = cove::agent::spawn(settings);
    let status = loop {
        if let AgentEvent::Server(s) = events.recv().await.unwrap() {
            break s;
        }
    };
    assert_eq!(status.context_window, Some(16384));
    let show = server
        .posts()
        .into_iter()
        .find(|p| p.path == "/api/show")
        .expect("the model's details are asked for");
    assert_eq!(show.json()["model"], "fake-model");
    ops.send(cove::protocol::Op::UserTurn {
        turn: 1,
        text: "hello".into(),
        images: vec![],
    })
    .unwrap();
    loop {
        if let AgentEvent::TurnDone { .. } = events.recv().await.unwrap() {
            break;
        }
    }
    let chat = server
        .posts()
        .into_iter()
        .find(|p| p.path.ends_with("/chat/completions"))
        .unwrap();
    assert_eq!(chat.json()["options"]["num_ctx"], 16384);
    ops.send(cove::protocol::Op::Shutdown).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ollama_without_num_ctx_assumes_its_default_until_the_model_is_loaded() {
    let server = FakeServer::start(vec![answer("loaded now")]);
    ollama(&server, None);
    let mut h = start(&server.base_url(), "").await;
    // the model is not loaded: Ollama's smallest default until it is
    server.set_get(
        "/api/ps",
        Reply::json(
            200,
            r#"{"models":[{"name":"fake-model","model":"fake-model","context_length":32768}]}"#,
        ),
    );
    h.say(1, "hello");
    done(&mut h).await;
    let chat = &server.posts()[1];
    assert_eq!(chat.path, "/v1/chat/completions");
    assert_eq!(chat.json()["options"]["num_ctx"], 4096);
    // after the reply, /api/ps tells what the loaded model runs with
    let AgentEvent::Server(s) = h.until(|e| matches!(e, AgentEvent::Server(_))).await else {
        unreachable!()
    };
    assert_eq!(s.context_window, Some(32768));
    server.push(answer("bigger"));
    h.say(2, "again");
    done(&mut h).await;
    assert_eq!(
        server.posts().last().unwrap().json()["options"]["num_ctx"],
        32768
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_servers_get_no_options_and_a_configured_window_wins() {
    let server = FakeServer::start(vec![answer("plain")]);
    let mut h = start(&server.base_url(), "").await;
    h.say(1, "hello");
    done(&mut h).await;
    assert!(server.posts()[0].json().get("options").is_none());

    let server = FakeServer::start(vec![answer("configured")]);
    ollama(&server, Some(16384));
    let mut h = start(&server.base_url(), "context_window = 8192\n").await;
    h.say(1, "hello");
    done(&mut h).await;
    let chat = server
        .posts()
        .into_iter()
        .find(|p| p.path.ends_with("/chat/completions"))
        .unwrap();
    assert_eq!(chat.json()["options"]["num_ctx"], 8192);
}

// ---- through the binary ----

fn ask(sb: &cli_support::Sandbox, url: &str, extra: &[&str]) -> cli_support::Run {
    let mut args = vec!["ask"];
    args.extend_from_slice(extra);
    args.push("hi");
    sb.run_with(&args, &[("COVE_BASE_URL", url)], None)
}

#[test]
fn ask_reports_an_overflow_with_the_numbers_and_exit_4() {
    let server = FakeServer::start(vec![Reply::json(400, LLAMA_OVERFLOW)]);
    let sb = cli_support::Sandbox::new();
    let run = ask(&sb, &server.base_url(), &["--model", "m"]);
    assert_eq!(run.code, 4, "{run:?}");
    assert!(
        run.stderr
            .contains("the prompt is 5210 tokens, the window 4096 tokens"),
        "{run:?}"
    );
    assert_eq!(server.posts().len(), 1, "an overflow is not sent twice");
}

#[test]
fn ask_ends_with_the_server_error_of_an_error_line() {
    let server = FakeServer::start(vec![Reply::sse_raw(
        b"error: {\"code\":500,\"message\":\"the model crashed\",\"type\":\"server_error\"}\n\ndata: [DONE]\n\n".to_vec(),
    )]);
    let sb = cli_support::Sandbox::new();
    let run = ask(&sb, &server.base_url(), &["--model", "m", "--json"]);
    assert_eq!(run.code, 4, "{run:?}");
    let v = run.json();
    assert!(
        v["error"]
            .as_str()
            .is_some_and(|e| e.contains("the model crashed")),
        "{v}"
    );
}

#[test]
fn doctor_says_where_the_window_comes_from() {
    // llama.cpp: /props
    let server = FakeServer::start(vec![answer("no tools")]);
    server.set_get(
        "/props",
        Reply::json(
            200,
            r#"{"default_generation_settings":{"n_ctx":8192},"build_info":"b6500"}"#,
        ),
    );
    let sb = cli_support::Sandbox::new();
    let run = sb.run_with(&["doctor"], &[("COVE_BASE_URL", &server.base_url())], None);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout
            .contains("window     cove works with 8192 tokens, from llama.cpp /props"),
        "{run:?}"
    );
    // Ollama: /api/show's num_ctx, and the note about options.num_ctx
    let server = FakeServer::start(vec![answer("no tools")]);
    ollama(&server, Some(16384));
    let run = sb.run_with(&["doctor"], &[("COVE_BASE_URL", &server.base_url())], None);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout
            .contains("cove works with 16384 tokens, from Ollama /api/show (num_ctx)"),
        "{run:?}"
    );
    assert!(run.stdout.contains("trained    32768"), "{run:?}");
    assert!(run.stdout.contains("options.num_ctx"), "{run:?}");
    // the config wins
    sb.write_user_config("[model]\ncontext_window = 4096\n");
    let run = sb.run_with(&["doctor"], &[("COVE_BASE_URL", &server.base_url())], None);
    assert!(
        run.stdout
            .contains("cove works with 4096 tokens, from config (model.context_window)"),
        "{run:?}"
    );
}

#[test]
fn the_slow_stream_keys_apply_from_an_untrusted_workspace_and_default_to_a_notice_only() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join(".cove")).unwrap();
    std::fs::write(
        dir.path().join(".cove/config.toml"),
        "[model]\nmin_tokens_per_s = 5.0\nretry_slow = true\napi_base = \"http://10.9.9.9:1/v1\"\n",
    )
    .unwrap();
    let input = |trust| cove::config::LoadInput {
        user_file: None,
        workspace: dir.path().to_owned(),
        env: Default::default(),
        flags: cove::config::Overrides::default(),
        trust,
    };
    let loaded = cove::config::load(&input(cove::config::trust::TrustCheck::Untrusted)).unwrap();
    let m = &loaded.config.model;
    assert_eq!(m.min_tokens_per_s, Some(5.0));
    assert_eq!(m.retry_slow, Some(true));
    // the endpoint is not harmless: ignored, and named
    let ignored = format!("{:?}", loaded.untrusted);
    assert!(ignored.contains("model.api_base"), "{ignored}");
    assert!(!ignored.contains("min_tokens_per_s"), "{ignored}");
    // the built-in defaults: a notice under 1 token/s, no retry
    std::fs::remove_file(dir.path().join(".cove/config.toml")).unwrap();
    let loaded = cove::config::load(&input(cove::config::trust::TrustCheck::Untrusted)).unwrap();
    assert_eq!(loaded.config.model.min_tokens_per_s, Some(1.0));
    assert_eq!(loaded.config.model.retry_slow, Some(false));
    let opts = cove::llm::ClientOptions::from_config(&loaded.config, &loaded.config.model);
    assert_eq!(opts.min_tokens_per_s, 1.0);
    assert_eq!(opts.slow_window, Duration::from_secs(30));
}
