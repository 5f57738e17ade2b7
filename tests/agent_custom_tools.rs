//! Custom command tools (`[tools.custom.NAME]`) through the whole agent: offered with
//! their schema after the built-ins, gated by their permission, put to the user, run
//! sandboxed with the arguments on stdin and in `COVE_ARG_*` (never in the command line),
//! the output back to the model, journaled; a command that never ends stops on Esc.

mod agent_support;
mod common;

use std::time::{Duration, Instant};

use agent_support::*;
use common::*;
use cove::protocol::{AgentEvent, ApprovalKind, Decision, Op, ToolResultKind};
use serde_json::json;

const LINT: &str = r#"
[tools.custom.lint]
description = "Lint one target and print the findings."
command = '''printf 'target=%s level=%s\n' "$COVE_ARG_TARGET" "$COVE_ARG_LEVEL"; printf 'stdin='; cat; echo; touch made-by-lint; (echo outside > /tmp/cove-custom-escape-$$) 2>/dev/null || echo "outside refused"'''
[tools.custom.lint.parameters]
type = "object"
required = ["target"]
[tools.custom.lint.parameters.properties.target]
type = "string"
description = "What to lint."
[tools.custom.lint.parameters.properties.level]
type = "integer"
"#;

fn asked_or_done(e: &AgentEvent) -> bool {
    matches!(
        e,
        AgentEvent::ApprovalNeeded { .. }
            | AgentEvent::TurnDone { .. }
            | AgentEvent::TurnFailed { .. }
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_model_calls_a_custom_tool_it_asks_runs_sandboxed_and_the_output_reaches_the_model() {
    let hostile = "src/$(touch pwned); `touch pwned2` && touch pwned3";
    let server = FakeServer::start(vec![
        tool_call_reply(&[("l1", "lint", json!({"target": hostile, "level": 2}))]),
        answer("done"),
    ]);
    let sessions = tempfile::tempdir().unwrap();
    let dir = sessions.path().to_owned();
    let mut h = start_with(&server.base_url(), LINT, move |s, _| {
        s.sessions_dir = Some(dir);
    })
    .await;
    h.say(1, "lint it");
    let AgentEvent::ApprovalNeeded { request, .. } = h.until(asked_or_done).await else {
        panic!("the custom tool ran without asking")
    };
    assert_eq!(request.tool, "lint");
    assert_eq!(request.kind, ApprovalKind::Other);
    assert!(
        request.summary.contains("touch pwned"),
        "{}",
        request.summary
    );
    assert!(
        request.edit_text.contains("\"level\": 2"),
        "{}",
        request.edit_text
    );
    assert!(!h.root.join("made-by-lint").exists(), "ran before approval");
    h.ops
        .send(Op::Decide {
            call_id: "l1".into(),
            decision: Decision::Approve,
        })
        .unwrap();
    let finished = h
        .until(|e| matches!(e, AgentEvent::ToolFinished { .. }))
        .await;
    let AgentEvent::ToolFinished { kind, .. } = finished else {
        unreachable!()
    };
    assert_eq!(kind, ToolResultKind::Done);
    h.until(|e| matches!(e, AgentEvent::TurnDone { .. })).await;

    // offered after the built-ins, with the configured schema
    let tools = server.posts()[0].json()["tools"].clone();
    let names: Vec<&str> = tools
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["function"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(names.last(), Some(&"lint"));
    assert_eq!(names.len(), 11);
    let lint = &tools[10]["function"];
    assert_eq!(
        lint["description"],
        "Lint one target and print the findings."
    );
    assert_eq!(lint["parameters"]["required"], json!(["target"]));
    assert_eq!(lint["parameters"]["properties"]["level"]["type"], "integer");

    // the output reached the model: arguments in the variables and on stdin, as text
    let result = &tool_results(&server)[0];
    assert!(
        result.contains(&format!("target={hostile} level=2\n")),
        "{result}"
    );
    let stdin = result
        .lines()
        .find_map(|l| l.strip_prefix("stdin="))
        .unwrap();
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(stdin).unwrap(),
        json!({"target": hostile, "level": 2})
    );
    // it ran in the workspace, in the sandbox: inside writable, outside not
    assert!(h.root.join("made-by-lint").exists());
    assert!(result.contains("outside refused"), "{result}");
    // nothing in the arguments ran
    for f in ["pwned", "pwned2", "pwned3"] {
        assert!(!h.root.join(f).exists(), "{f}");
    }
    // journaled like any call: the call, the decision, the result
    let journal = std::fs::read_dir(sessions.path())
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| std::fs::read_to_string(e.path()).unwrap_or_default())
        .collect::<String>();
    let records: Vec<serde_json::Value> = journal
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    assert!(
        records
            .iter()
            .any(|r| r["type"] == "tool" && r["name"] == "lint" && r["kind"] == "done"),
        "{journal}"
    );
    assert!(
        records
            .iter()
            .any(|r| r["type"] == "decision" && r["tool"] == "lint"),
        "{journal}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn permission_always_runs_never_is_neither_offered_nor_run_and_bad_arguments_are_told() {
    let server = FakeServer::start(vec![
        tool_call_reply(&[
            ("a1", "quick", json!({})),
            ("a2", "off", json!({})),
            ("a3", "lint", json!({"level": "high"})),
        ]),
        answer("done"),
    ]);
    let extra = format!(
        "{LINT}\n[tools.custom.quick]\ndescription = \"q\"\ncommand = \"echo quick-ran\"\npermission = \"always\"\n[tools.custom.off]\ndescription = \"o\"\ncommand = \"touch off-ran\"\npermission = \"never\"\n"
    );
    let mut h = start(&server.base_url(), &extra).await;
    h.say(1, "go");
    let ev = h.until(asked_or_done).await;
    assert!(
        matches!(ev, AgentEvent::TurnDone { .. }),
        "nothing asks: {ev:?}"
    );
    let offered: Vec<String> = server.posts()[0].json()["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["function"]["name"].as_str().unwrap().to_owned())
        .collect();
    assert!(offered.contains(&"quick".to_owned()));
    assert!(!offered.contains(&"off".to_owned()));
    let results = tool_results(&server);
    assert!(results[0].starts_with("quick-ran\n"), "{results:?}");
    assert!(results[1].contains("disabled"), "{results:?}");
    assert!(!h.root.join("off-ran").exists());
    assert_eq!(results[2], "lint: `target` is required");
    // /permissions names them with the built-ins
    h.ops.send(Op::Permissions).unwrap();
    let AgentEvent::Notice { text } = h.until(|e| matches!(e, AgentEvent::Notice { .. })).await
    else {
        unreachable!()
    };
    let segment = |p: &str| {
        let from = text.find(p).unwrap_or_else(|| panic!("{p} in {text}"));
        text[from..].split([';', '.']).next().unwrap().to_owned()
    };
    assert!(segment("always: ").contains("quick"), "{text}");
    assert!(segment("ask: ").contains("lint"), "{text}");
    assert!(segment("never: ").contains("off"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_only_tool_cannot_write_the_workspace() {
    let server = FakeServer::start(vec![
        tool_call_reply(&[("r1", "peek", json!({}))]),
        answer("done"),
    ]);
    let extra = "[tools.custom.peek]\ndescription = \"p\"\ncommand = \"cat notes.txt; touch written 2>&1 || true\"\nread_only = true\npermission = \"always\"\n";
    let mut h = start(&server.base_url(), extra).await;
    h.say(1, "go");
    h.until(|e| matches!(e, AgentEvent::TurnDone { .. })).await;
    let result = &tool_results(&server)[0];
    assert!(result.starts_with("alpha\nbeta\n"), "{result}");
    assert!(!h.root.join("written").exists(), "{result}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn esc_stops_a_custom_tool_that_never_ends() {
    let server = FakeServer::start(vec![
        tool_call_reply(&[("h1", "hang", json!({}))]),
        answer("after"),
    ]);
    let extra = "[tools.custom.hang]\ndescription = \"h\"\ncommand = \"echo $$ > pid; sleep 1000\"\npermission = \"always\"\ntimeout_secs = 1000\n";
    let mut h = start(&server.base_url(), extra).await;
    h.say(1, "go");
    h.until(|e| matches!(e, AgentEvent::ToolStarted { .. }))
        .await;
    // the command is running: its pid file appears
    let pid_file = h.root.join("pid");
    let began = Instant::now();
    while !pid_file.exists() && began.elapsed() < Duration::from_secs(10) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(pid_file.exists());
    let pressed = Instant::now();
    h.ops.send(Op::Interrupt).unwrap();
    let ev = h
        .until(|e| matches!(e, AgentEvent::ToolFinished { .. }))
        .await;
    let AgentEvent::ToolFinished { kind, .. } = ev else {
        unreachable!()
    };
    assert_eq!(kind, ToolResultKind::Rejected);
    h.until(|e| matches!(e, AgentEvent::TurnDone { .. })).await;
    assert!(
        pressed.elapsed() < Duration::from_secs(3),
        "{:?}",
        pressed.elapsed()
    );
    // only the first request: the model was not asked again
    assert_eq!(server.posts().len(), 1);
}

/// A tool registered at run time (as the MCP client does) whose server has gone away.
struct Gone;

impl cove::tools::Tool for Gone {
    type Args = serde_json::Value;

    fn name(&self) -> &str {
        "srv__gone"
    }

    fn spec(&self) -> cove::domain::conversation::ToolSpec {
        cove::domain::conversation::ToolSpec {
            name: "srv__gone".into(),
            description: "A tool whose server died.".into(),
            parameters: json!({"type": "object", "properties": {}}),
        }
    }

    fn read_only(&self) -> bool {
        false
    }

    fn parse(&self, args: serde_json::Value) -> Result<serde_json::Value, String> {
        Ok(args)
    }

    fn run(
        &self,
        _: &cove::tools::context::ToolContext,
        _: std::sync::Arc<serde_json::Value>,
        _: &cove::tools::Turn,
    ) -> futures_util::future::BoxFuture<'static, cove::tools::RunResult> {
        Box::pin(async {
            Err(cove::tools::ToolError::Fatal(
                "the server `srv` is gone".into(),
            ))
        })
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tool_added_at_run_time_is_offered_and_a_fatal_error_ends_the_turn() {
    let server = FakeServer::start(vec![
        tool_call_reply(&[
            ("g1", "srv__gone", json!({})),
            (
                "g2",
                "write_file",
                json!({"path": "after.txt", "content": "x"}),
            ),
        ]),
        answer("never asked"),
    ]);
    let mut h = start_with(
        &server.base_url(),
        "[tools]\nwrite_file = \"always\"\n",
        |s, _| {
            let registry = s.registry.clone();
            registry
                .add(std::sync::Arc::new(Gone), cove::config::Policy::Always)
                .unwrap();
        },
    )
    .await;
    h.say(1, "go");
    let ev = h
        .until(|e| {
            matches!(
                e,
                AgentEvent::TurnFailed { .. } | AgentEvent::TurnDone { .. }
            )
        })
        .await;
    let AgentEvent::TurnFailed { error, .. } = ev else {
        panic!("the turn went on: {ev:?}")
    };
    assert!(
        error.contains("`srv__gone` failed: the server `srv` is gone"),
        "{error}"
    );
    let offered = server.posts()[0].json()["tools"].clone();
    assert_eq!(offered[10]["function"]["name"], "srv__gone");
    // the model was not asked again, and the call after the failed one did not run
    assert_eq!(server.posts().len(), 1);
    assert!(!h.root.join("after.txt").exists());
}

/// Whether process `pid` has ended (gone, or a zombie nobody has reaped yet).
fn ended(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat
            .rsplit_once(") ")
            .is_some_and(|(_, rest)| rest.starts_with('Z') || rest.starts_with('X')),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn esc_stops_read_only_commands_running_together() {
    let server = FakeServer::start(vec![
        tool_call_reply(&[
            ("w1", "wait", json!({"n": 1})),
            ("w2", "wait", json!({"n": 2})),
        ]),
        answer("after"),
    ]);
    // the sandbox off here, so the pids are this machine's own
    let extra = "[sandbox]\nmode = \"off\"\n[tools.custom.wait]\ndescription = \"w\"\ncommand = 'echo $$ > \"pid$COVE_ARG_N\"; exec sleep 1000'\nread_only = true\npermission = \"always\"\n";
    let mut h = start(&server.base_url(), extra).await;
    h.say(1, "go");
    let files = [h.root.join("pid1"), h.root.join("pid2")];
    let began = Instant::now();
    while files
        .iter()
        .any(|f| std::fs::read_to_string(f).map_or(true, |t| !t.ends_with('\n')))
        && began.elapsed() < Duration::from_secs(10)
    {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let pids: Vec<i32> = files
        .iter()
        .map(|f| std::fs::read_to_string(f).unwrap().trim().parse().unwrap())
        .collect();
    h.ops.send(Op::Interrupt).unwrap();
    h.until(|e| matches!(e, AgentEvent::TurnDone { .. })).await;
    let gone = (0..100).any(|_| {
        std::thread::sleep(Duration::from_millis(20));
        pids.iter().all(|p| ended(*p))
    });
    assert!(gone, "still running: {pids:?}");
}
