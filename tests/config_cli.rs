//! `cove config` and configuration errors, through the real binary.

mod cli_support;
mod common;

use cli_support::Sandbox;
use common::{FakeServer, answer};

fn line<'a>(text: &'a str, key: &str) -> &'a str {
    text.lines()
        .find(|l| l.starts_with(&format!("{key} = ")))
        .unwrap_or_else(|| panic!("no line for {key} in:\n{text}"))
}

#[test]
fn every_value_shows_its_source_and_secrets_are_masked() {
    let sb = Sandbox::new();
    sb.write_user_config("[model]\napi_key = \"sk-secret-user-key\"\nmax_tokens = 512\n");
    sb.write_workspace_config("[model]\ntemperature = 0.2\n");
    let run = sb.run_with(&["config"], &[("COVE_MODEL", "devstral")], None);
    assert_eq!(run.code, 0, "{run:?}");
    let out = &run.stdout;
    assert!(!out.contains("sk-secret-user-key"), "{out}");
    assert!(line(out, "model.api_key").contains("********"));
    assert!(
        line(out, "model.api_key").ends_with(&format!("# {}", sb.user_config_path().display()))
    );
    assert!(line(out, "model.max_tokens").contains("512"));
    assert!(
        line(out, "model.temperature").ends_with(".cove/config.toml"),
        "{out}"
    );
    assert!(line(out, "model.name").ends_with("# env COVE_MODEL"));
    assert!(line(out, "offline").ends_with("# default"));
    assert!(line(out, "tools.shell").contains("\"ask\""));
}

#[test]
fn flags_beat_env_beats_files() {
    let sb = Sandbox::new();
    sb.write_user_config("[model]\nname = \"from-file\"\n");
    let explicit = sb.dir.path().join("explicit.toml");
    std::fs::write(&explicit, "[model]\nmax_tokens = 77\n").unwrap();
    let run = sb.run_with(
        &["config"],
        &[
            ("COVE_CONFIG", explicit.to_str().unwrap()),
            ("COVE_BASE_URL", "http://10.0.0.9:8000/v1"),
        ],
        None,
    );
    assert_eq!(run.code, 0, "{run:?}");
    assert!(line(&run.stdout, "model.name").contains("from-file"));
    assert!(line(&run.stdout, "model.max_tokens").contains(explicit.to_str().unwrap()));
    assert!(line(&run.stdout, "model.api_base").ends_with("# env COVE_BASE_URL"));
}

#[test]
fn profiles_switch_the_model_and_its_endpoints() {
    let server = FakeServer::start(vec![answer("from the big one")]);
    let sb = Sandbox::new();
    sb.write_user_config(&format!(
        "[profiles.local]\nname = \"smol\"\n\n[profiles.big]\nname = \"devstral\"\napi_base = [\"{}\"]\n",
        server.base_url()
    ));
    let run = sb.run(&["--profile", "big", "ask", "hi"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(server.posts()[0].json()["model"], "devstral");
    let run = sb.run_with(&["config"], &[("COVE_PROFILE", "local")], None);
    assert!(
        line(&run.stdout, "model.name").contains("profile local"),
        "{run:?}"
    );
    let run = sb.run(&["--profile", "huge", "config"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("huge") && run.stderr.contains("big, local"),
        "{run:?}"
    );
}

#[test]
fn bad_toml_names_file_line_and_column() {
    let sb = Sandbox::new();
    sb.write_workspace_config("[model]\nname = \"x\"\ntemperature = \n");
    let run = sb.run(&["config"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains(".cove/config.toml"), "{run:?}");
    assert!(run.stderr.contains("line 3, column"), "{run:?}");
}

#[test]
fn wrong_type_names_key_and_expected_type() {
    let sb = Sandbox::new();
    sb.write_user_config("[vision]\nmax_images = \"eight\"\n");
    let run = sb.run(&["ask", "hi"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr.contains("vision.max_images") && run.stderr.contains("u32"),
        "{run:?}"
    );
}

#[test]
fn unknown_keys_are_warned_about_not_fatal() {
    let sb = Sandbox::new();
    sb.write_user_config("[model]\ntemprature = 0.1\n");
    let run = sb.run(&["config"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout.contains("unknown key `model.temprature`"),
        "{run:?}"
    );
    let run = sb.run(&[
        "ask",
        "--base-url",
        "http://127.0.0.1:1/v1",
        "--model",
        "m",
        "hi",
    ]);
    assert!(
        run.stderr.contains("warning") && run.stderr.contains("model.temprature"),
        "{run:?}"
    );
}

#[test]
fn bad_values_are_config_errors() {
    let sb = Sandbox::new();
    sb.write_user_config("[model]\napi_base = \"localhost:8080\"\n");
    let run = sb.run(&["config"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("model.api_base"), "{run:?}");
    let run = sb.run_with(
        &["config"],
        &[("COVE_CONFIG", "/nonexistent/cove.toml")],
        None,
    );
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("/nonexistent/cove.toml"));
}

#[test]
fn offline_refusal_happens_before_any_traffic_and_says_how_to_allow() {
    let sb = Sandbox::new();
    // refused by address literal: no connection is attempted (this test sends nothing)
    let down = format!("http://127.0.0.1:{}/v1", common::dead_port());
    let run = sb.run_with(&["models"], &[("COVE_BASE_URL", &down)], None);
    assert_eq!(
        run.code, 3,
        "a loopback endpoint is allowed and merely down: {run:?}"
    );
    sb.write_user_config("[model]\napi_base = [\"http://203.0.113.7:8000/v1\"]\n");
    let run = sb.run(&["models"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr.contains("allowed_hosts = [\"203.0.113.7\"]")
            && run.stderr.contains("offline = false"),
        "{run:?}"
    );
}
