//! Custom command tools through the trait: arguments, the variables made of them, and runs
//! (without the sandbox here; tests/agent_custom_tools.rs runs them sandboxed).

use super::*;
use crate::tools::context::ToolOutput;
use serde_json::json;

fn config(command: &str, extra: &str) -> CustomToolConfig {
    toml::from_str(&format!(
        "description = \"test tool\"\ncommand = '''{command}'''\n{extra}"
    ))
    .unwrap()
}

const SCHEMA: &str = "[parameters]\ntype = \"object\"\nrequired = [\"target\"]\n[parameters.properties.target]\ntype = \"string\"\n[parameters.properties.level]\ntype = \"integer\"\n";

struct Ws {
    _dir: tempfile::TempDir,
    ctx: ToolContext,
}

fn ws() -> Ws {
    let dir = tempfile::tempdir().unwrap();
    let mut ctx = ToolContext::new(dir.path().canonicalize().unwrap());
    ctx.sandbox = crate::sandbox::Sandbox::off();
    Ws { _dir: dir, ctx }
}

async fn run(w: &Ws, tool: &CustomTool, args: Value) -> ToolOutput {
    let parsed = Arc::new(tool.parse(args).unwrap());
    match tool.run(&w.ctx, parsed, &Turn::default()).await {
        Ok(out) => out,
        Err(e) => ToolOutput::error(e.to_string()),
    }
}

#[test]
fn the_spec_is_the_configured_name_description_and_schema() {
    let t = CustomTool::new("lint", &config("true", SCHEMA));
    let spec = t.spec();
    assert_eq!(spec.name, "lint");
    assert_eq!(spec.description, "test tool");
    assert_eq!(spec.parameters["required"], json!(["target"]));
    assert!(!t.read_only());
    assert!(t.abandonable());
    let bare = CustomTool::new("x", &config("true", "read_only = true"));
    assert_eq!(
        bare.spec().parameters,
        json!({"type": "object", "properties": {}})
    );
    assert!(bare.read_only());
}

#[test]
fn arguments_are_checked_against_required_and_declared_types() {
    let t = CustomTool::new("lint", &config("true", SCHEMA));
    assert_eq!(
        t.parse(json!({})).unwrap_err(),
        "lint: `target` is required"
    );
    assert_eq!(
        t.parse(json!({"target": null})).unwrap_err(),
        "lint: `target` is required"
    );
    assert_eq!(
        t.parse(json!({"target": 3})).unwrap_err(),
        "lint: `target` must be string, got a number"
    );
    assert_eq!(
        t.parse(json!({"target": "a", "level": 1.5})).unwrap_err(),
        "lint: `level` must be integer, got a number"
    );
    assert!(
        t.parse(json!({"target": "a", "level": 2, "extra": [1]}))
            .is_ok()
    );
    assert!(t.parse(json!(["a"])).unwrap_err().contains("JSON object"));
}

#[test]
fn variables_come_only_from_plain_names_and_scalars() {
    let huge = "x".repeat(MAX_ENV_VALUE + 1);
    let args = json!({
        "target": "src/; rm -rf ~",
        "Level": 3,
        "level": 4,
        "fix": true,
        "ratio": 0.5,
        "list": [1, 2],
        "obj": {"a": 1},
        "none": null,
        "a b": "space",
        "x=y": "equals",
        "": "empty",
        "PATH": "/evil",
        "ünï": "unicode",
        "nul": "a\u{0}b",
        "big": huge,
        "n".repeat(65): "long",
    });
    let env = arg_env(args.as_object().unwrap());
    let env: Vec<(String, String)> = env
        .into_iter()
        .map(|(k, v)| (k.into_string().unwrap(), v.into_string().unwrap()))
        .collect();
    let names: Vec<&str> = env.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        names,
        [
            "COVE_ARG_LEVEL",
            "COVE_ARG_PATH",
            "COVE_ARG_FIX",
            "COVE_ARG_RATIO",
            "COVE_ARG_TARGET",
        ]
    );
    let get = |k: &str| env.iter().find(|(n, _)| n == k).unwrap().1.clone();
    // the first of two names that differ only in case (byte order: `Level` before `level`)
    assert_eq!(get("COVE_ARG_LEVEL"), "3");
    assert_eq!(get("COVE_ARG_TARGET"), "src/; rm -rf ~");
    assert_eq!(get("COVE_ARG_FIX"), "true");
    assert_eq!(get("COVE_ARG_RATIO"), "0.5");
    // a flood of arguments makes at most MAX_ENV_ARGS variables
    let many: Map<String, Value> = (0..500).map(|i| (format!("k{i}"), json!(i))).collect();
    assert_eq!(arg_env(&many).len(), MAX_ENV_ARGS);
}

#[tokio::test]
async fn arguments_arrive_on_stdin_and_as_variables_never_in_the_command_line() {
    let w = ws();
    let t = CustomTool::new(
        "show",
        &config(
            r#"printf 'env=%s\n' "$COVE_ARG_TARGET"; printf 'stdin='; cat; echo"#,
            SCHEMA,
        ),
    );
    let hostile = "$(touch pwned1); `touch pwned2`; touch pwned3 && echo \"'";
    let out = run(&w, &t, json!({"target": hostile, "level": 2})).await;
    assert!(!out.is_error, "{out:?}");
    assert!(
        out.text.contains(&format!("env={hostile}\n")),
        "{}",
        out.text
    );
    let stdin = out
        .text
        .lines()
        .find_map(|l| l.strip_prefix("stdin="))
        .unwrap();
    let parsed: Value = serde_json::from_str(stdin).unwrap();
    assert_eq!(parsed, json!({"target": hostile, "level": 2}));
    for f in ["pwned1", "pwned2", "pwned3"] {
        assert!(!w.ctx.root.join(f).exists(), "{f} was created");
    }
    assert!(out.text.ends_with("exit code 0"));
}

#[tokio::test]
async fn cove_secrets_and_variables_are_not_passed_but_the_workspace_is_the_directory() {
    let mut w = ws();
    w.ctx.secret_env = vec!["MY_SECRET_FOR_TEST".into()];
    let t = CustomTool::new(
        "where",
        &config(
            "pwd; env | grep -c '^COVE_' ; echo x${MY_SECRET_FOR_TEST}x",
            "",
        ),
    );
    // (the test process may have COVE_* variables of its own; none reach the command
    // except the tool's own arguments, of which there are none here)
    let out = run(&w, &t, json!({})).await;
    let lines: Vec<&str> = out.text.lines().collect();
    assert_eq!(lines[0], w.ctx.root.display().to_string());
    assert_eq!(lines[1], "0");
    assert_eq!(lines[2], "xx");
}

#[tokio::test]
async fn huge_output_is_capped_like_shell() {
    let mut w = ws();
    w.ctx.max_output_bytes = 4_000;
    let t = CustomTool::new(
        "flood",
        &config(
            "head -c 50000000 /dev/zero | tr '\\0' 'a'; echo; echo END",
            "",
        ),
    );
    let out = run(&w, &t, json!({})).await;
    assert!(out.text.len() < 5_000, "{}", out.text.len());
    assert!(out.text.contains("bytes elided"), "{}", &out.text[..200]);
    assert!(out.text.contains("END\n"), "the tail is kept");
}

#[tokio::test]
async fn a_command_that_never_ends_is_stopped_at_its_timeout() {
    let w = ws();
    let t = CustomTool::new(
        "hang",
        &config("sleep 100 & echo started; wait", "timeout_secs = 1"),
    );
    let started = std::time::Instant::now();
    let out = run(&w, &t, json!({})).await;
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    assert!(out.is_error);
    assert!(out.text.contains("started"), "{}", out.text);
    assert!(out.text.contains("[timed out after 1 s"), "{}", out.text);
}

#[tokio::test]
async fn dropping_the_call_kills_its_whole_group() {
    let w = ws();
    let pid_file = w.ctx.root.join("pid");
    let t = CustomTool::new(
        "slow",
        &config("sleep 100 & echo $! > pid; wait", "timeout_secs = 100"),
    );
    let args = Arc::new(t.parse(json!({})).unwrap());
    let fut = t.run(&w.ctx, args, &Turn::default());
    // what Esc does: the agent stops awaiting the call
    let _ = tokio::time::timeout(std::time::Duration::from_millis(800), fut).await;
    let pid: i32 = std::fs::read_to_string(&pid_file)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    // gone, or a zombie waiting for whoever reaps it now
    let dead = || match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat
            .rsplit_once(") ")
            .is_some_and(|(_, rest)| rest.starts_with('Z') || rest.starts_with('X')),
    };
    let gone = (0..100).any(|_| {
        std::thread::sleep(std::time::Duration::from_millis(20));
        dead()
    });
    assert!(gone, "the background sleep {pid} survived");
}

#[tokio::test]
async fn a_command_that_ignores_its_input_does_not_stall() {
    let w = ws();
    let t = CustomTool::new("deaf", &config("echo ok", SCHEMA));
    // far more than a pipe holds, never read
    let out = run(&w, &t, json!({"target": "x".repeat(4 * 1024 * 1024)})).await;
    assert_eq!(out.text, "ok\nexit code 0");
}
