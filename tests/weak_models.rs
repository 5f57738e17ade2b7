//! What small local models get wrong, through the real agent loop under the fake server:
//! calls printed as text in every form cove recovers, arguments that are almost JSON,
//! and calls repeated in circles. Each reply is streamed split at random points (the
//! text across deltas, the bytes across writes); the edit must be applied after the
//! user approves, the card must say what cove mended, and a loop must stop the turn.

mod agent_support;
mod common;

use agent_support::*;
use common::*;
use cove::protocol::{AgentEvent, Decision, Op, ToolResultKind};
use serde_json::json;

/// A small deterministic generator for the split points (no extra crate).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, below: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 33) as usize) % below.max(1)
    }

    /// `text` cut at random character boundaries into 1-8 pieces.
    fn split(&mut self, text: &str) -> Vec<String> {
        let chars: Vec<char> = text.chars().collect();
        let n = 1 + self.next(8);
        let mut cuts: Vec<usize> = (0..n - 1).map(|_| self.next(chars.len())).collect();
        cuts.push(0);
        cuts.push(chars.len());
        cuts.sort_unstable();
        cuts.windows(2)
            .map(|w| chars[w[0]..w[1]].iter().collect())
            .filter(|s: &String| !s.is_empty())
            .collect()
    }
}

/// A reply whose content is `text`, streamed in random pieces.
fn printed(text: &str, rng: &mut Lcg) -> Reply {
    let mut events = vec![ROLE_CHUNK.to_owned()];
    events.extend(rng.split(text).iter().map(|p| content_chunk(p)));
    events.push(finish_chunk("stop"));
    events.push("[DONE]".into());
    let refs: Vec<&str> = events.iter().map(String::as_str).collect();
    Reply::sse(&refs).pieces_of(7 + rng.next(60))
}

/// A structured call whose raw arguments text is `args`, streamed in random fragments.
fn structured(name: &str, args: &str, rng: &mut Lcg) -> Reply {
    let mut events = vec![ROLE_CHUNK.to_owned()];
    events.push(json!({"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":name,"arguments":""}}]}}]}).to_string());
    for piece in rng.split(args) {
        events.push(json!({"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":piece}}]}}]}).to_string());
    }
    events.push(finish_chunk("tool_calls"));
    events.push("[DONE]".into());
    let refs: Vec<&str> = events.iter().map(String::as_str).collect();
    Reply::sse(&refs).pieces_of(5 + rng.next(80))
}

const EDIT_JSON: &str = r#"{"path": "notes.txt", "old_string": "beta", "new_string": "gamma"}"#;

/// Every printed form of the same edit (text around the calls included where models
/// put it).
fn printed_forms() -> Vec<(&'static str, String)> {
    vec![
        (
            "qwen3-coder xml",
            "I'll rename it.\n<tool_call>\n<function=edit_file>\n<parameter=path>\nnotes.txt\n</parameter>\n<parameter=old_string>\nbeta\n</parameter>\n<parameter=new_string>\ngamma\n</parameter>\n</function>\n</tool_call>".into(),
        ),
        ("mistral [ARGS]", format!("[TOOL_CALLS]edit_file[ARGS]{EDIT_JSON}")),
        ("mistral name{json}", format!("[TOOL_CALLS]edit_file{EDIT_JSON}")),
        (
            "mistral array",
            format!(r#"[TOOL_CALLS][{{"name": "edit_file", "arguments": {EDIT_JSON}}}]"#),
        ),
        (
            "hermes",
            format!("Let me edit.\n<tool_call>\n{{\"name\": \"edit_file\", \"arguments\": {EDIT_JSON}}}\n</tool_call>\nDone soon."),
        ),
        (
            "hermes, almost JSON",
            "<tool_call>\n{\"name\": \"edit_file\", \"arguments\": {\"path\": \"notes.txt\", \"old_string\": \"beta\", \"new_string\": \"gamma\",},}\n</tool_call>".into(),
        ),
        (
            "llama python_tag",
            format!("<|python_tag|>{{\"name\": \"edit_file\", \"parameters\": {EDIT_JSON}}}<|eom_id|>"),
        ),
        (
            "bare object",
            format!("{{\"name\": \"edit_file\", \"parameters\": {EDIT_JSON}}}"),
        ),
        (
            "fenced json",
            format!("Here is the call:\n```json\n{{\"name\": \"edit_file\", \"arguments\": {EDIT_JSON}}}\n```"),
        ),
    ]
}

/// The edit arrives, is approved, and is applied; returns what the card said was mended.
async fn edit_is_applied(first: Reply, form: &str) -> Option<String> {
    let server = FakeServer::start(vec![first, answer("Renamed.")]);
    let mut h = start(&server.base_url(), "").await;
    h.say(1, "rename beta to gamma");
    let mut mended = None;
    let request = loop {
        match h.next().await {
            AgentEvent::StepDone { outcome, .. } => {
                assert_eq!(outcome.tool_calls.len(), 1, "{form}: one call");
                mended = outcome.tool_calls[0].mended.clone();
            }
            AgentEvent::ApprovalNeeded { request, .. } => break request,
            AgentEvent::TurnDone { .. } | AgentEvent::TurnFailed { .. } => {
                panic!("{form}: the turn ended without a call")
            }
            _ => {}
        }
    };
    assert_eq!(
        std::fs::read_to_string(h.root.join("notes.txt")).unwrap(),
        "alpha\nbeta\n",
        "{form}: nothing before approval"
    );
    h.ops
        .send(Op::Decide {
            call_id: request.call_id.clone(),
            decision: Decision::Approve,
        })
        .unwrap();
    let AgentEvent::ToolFinished { kind, summary, .. } = h
        .until(|e| matches!(e, AgentEvent::ToolFinished { .. }))
        .await
    else {
        unreachable!()
    };
    assert_eq!(kind, ToolResultKind::Done, "{form}: {summary}");
    h.until(|e| matches!(e, AgentEvent::TurnDone { .. })).await;
    assert_eq!(
        std::fs::read_to_string(h.root.join("notes.txt")).unwrap(),
        "alpha\ngamma\n",
        "{form}"
    );
    // the printed call is gone from what the model hears back: it is a call now
    let posts = server.posts();
    let sent = posts[1].json();
    let assistant = sent["messages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["role"] == "assistant")
        .unwrap()
        .clone();
    assert_eq!(
        assistant["tool_calls"][0]["function"]["name"], "edit_file",
        "{form}"
    );
    let text = assistant["content"].as_str().unwrap_or("");
    assert!(!text.contains("edit_file"), "{form}: {text}");
    mended
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn printed_calls_in_every_form_are_recovered_split_anywhere() {
    for seed in 1..=4u64 {
        let mut rng = Lcg(seed);
        for (form, text) in printed_forms() {
            let mended = edit_is_applied(printed(&text, &mut rng), form).await;
            let mended = mended.unwrap_or_else(|| panic!("{form}: not flagged"));
            assert!(
                mended.starts_with("recovered from text"),
                "{form}: {mended}"
            );
            if form.contains("almost") {
                assert!(mended.contains("trailing comma"), "{form}: {mended}");
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn almost_json_arguments_of_structured_calls_are_repaired_and_flagged() {
    let cases = [
        (
            "trailing comma",
            r#"{"path": "notes.txt", "old_string": "beta", "new_string": "gamma",}"#,
        ),
        (
            "raw newline in a string",
            "{\"path\": \"notes.txt\", \"old_string\": \"alpha\nbeta\", \"new_string\": \"alpha\ngamma\"}",
        ),
        (
            "closed the cut-off arguments",
            r#"{"path": "notes.txt", "old_string": "beta", "new_string": "gamma""#,
        ),
    ];
    for seed in 1..=3u64 {
        let mut rng = Lcg(seed * 7);
        for (what, args) in cases {
            let mended = edit_is_applied(structured("edit_file", args, &mut rng), what).await;
            let mended = mended.unwrap_or_else(|| panic!("{what}: not flagged"));
            assert!(mended.contains(what), "{what}: {mended}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn arguments_that_are_not_almost_json_get_the_precise_error() {
    let mut rng = Lcg(3);
    for args in [
        r#"{'path': 'notes.txt'}"#,
        r#"{"path": "notes.txt", "old_string": "beta", "new_string": "gam"#,
    ] {
        let server = FakeServer::start(vec![structured("edit_file", args, &mut rng), answer("ok")]);
        let mut h = start(&server.base_url(), "").await;
        h.say(1, "edit");
        loop {
            match h.next().await {
                AgentEvent::ApprovalNeeded { .. } => panic!("{args}: asked to approve a guess"),
                AgentEvent::TurnDone { .. } => break,
                _ => {}
            }
        }
        let results = tool_results(&server);
        assert!(
            results[0].contains("not valid JSON") || results[0].contains("cut off"),
            "{args}: {results:?}"
        );
        assert_eq!(
            std::fs::read_to_string(h.root.join("notes.txt")).unwrap(),
            "alpha\nbeta\n"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_model_that_repeats_a_call_is_stopped_and_told() {
    let read = || tool_call_reply(&[("r", "read_file", json!({"path": "notes.txt"}))]);
    // ids repeat too, as small models' do; the fourth reply must never be asked for
    let server = FakeServer::start(vec![read(), read(), read(), read(), answer("next turn")]);
    let mut h = start(&server.base_url(), "[tools]\nread_file = \"always\"\n").await;
    h.say(1, "look at notes");
    let AgentEvent::TurnFailed { error, hint, .. } = h
        .until(|e| {
            matches!(
                e,
                AgentEvent::TurnFailed { .. } | AgentEvent::TurnDone { .. }
            )
        })
        .await
    else {
        panic!("the loop was not stopped")
    };
    assert!(error.contains("repeated itself"), "{error}");
    assert!(error.contains("3 times in a row"), "{error}");
    assert!(hint.contains("repeat_limit"), "{hint}");
    assert_eq!(
        server.posts().len(),
        3,
        "stopped at the third identical call"
    );
    let results = tool_results(&server);
    assert_eq!(results.len(), 2, "two reads ran");
    // the next message tells the model why
    h.say(2, "go on");
    h.until(|e| matches!(e, AgentEvent::TurnDone { .. })).await;
    let posts = server.posts();
    let msgs = posts[3].json()["messages"].as_array().unwrap().clone();
    let last_user = msgs.iter().rev().find(|m| m["role"] == "user").unwrap();
    assert!(
        last_user["content"]
            .as_str()
            .unwrap()
            .contains("cove stopped your previous turn"),
        "{last_user}"
    );
    // every call got a result: the request is one strict templates accept
    let calls: usize = msgs
        .iter()
        .map(|m| m["tool_calls"].as_array().map_or(0, Vec::len))
        .sum();
    let answers = msgs.iter().filter(|m| m["role"] == "tool").count();
    assert_eq!(calls, answers);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cycle_of_two_calls_is_stopped_and_the_limit_is_configurable() {
    let a = || tool_call_reply(&[("a", "read_file", json!({"path": "notes.txt"}))]);
    let b = || tool_call_reply(&[("b", "list_files", json!({}))]);
    let server = FakeServer::start(vec![a(), b(), a(), b(), a(), answer("x")]);
    let mut h = start(
        &server.base_url(),
        "[tools]\nread_file = \"always\"\nlist_files = \"always\"\n",
    )
    .await;
    h.say(1, "look");
    let ev = h
        .until(|e| {
            matches!(
                e,
                AgentEvent::TurnFailed { .. } | AgentEvent::TurnDone { .. }
            )
        })
        .await;
    let AgentEvent::TurnFailed { error, .. } = ev else {
        panic!("the cycle was not stopped")
    };
    assert!(error.contains("the same 2 calls 2 times over"), "{error}");
    assert_eq!(server.posts().len(), 4);

    // repeat_limit = 0: the check is off, max_iterations ends it
    let server = FakeServer::start((0..4).map(|_| a()).collect());
    let mut h = start(
        &server.base_url(),
        "[tools]\nread_file = \"always\"\nrepeat_limit = 0\nmax_iterations = 4\n",
    )
    .await;
    h.say(1, "look");
    let AgentEvent::TurnFailed { error, .. } = h
        .until(|e| {
            matches!(
                e,
                AgentEvent::TurnFailed { .. } | AgentEvent::TurnDone { .. }
            )
        })
        .await
    else {
        panic!()
    };
    assert!(error.contains("max_iterations"), "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edit_that_cannot_apply_is_not_put_to_the_user() {
    let server = FakeServer::start(vec![
        tool_call_reply(&[(
            "e1",
            "edit_file",
            json!({"path": "notes.txt", "old_string": "no such text", "new_string": "x"}),
        )]),
        answer("I will read it first."),
    ]);
    let mut h = start(&server.base_url(), "").await;
    h.say(1, "edit");
    let AgentEvent::ToolFinished { kind, summary, .. } = h
        .until(|e| {
            assert!(
                !matches!(e, AgentEvent::ApprovalNeeded { .. }),
                "asked to approve an edit that cannot apply"
            );
            matches!(e, AgentEvent::ToolFinished { .. })
        })
        .await
    else {
        unreachable!()
    };
    assert_eq!(kind, ToolResultKind::Failed);
    assert!(summary.contains("was not found"), "{summary}");
    h.until(|e| matches!(e, AgentEvent::TurnDone { .. })).await;
    let results = tool_results(&server);
    assert!(results[0].contains("not asked"), "{results:?}");
    assert_eq!(
        std::fs::read_to_string(h.root.join("notes.txt")).unwrap(),
        "alpha\nbeta\n"
    );
}
