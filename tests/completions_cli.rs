//! `cove completions SHELL` and `cove man` through the real binary: generated from the clap
//! definitions, and needing no config, workspace trust or server.

mod cli_support;

use cli_support::Sandbox;

/// Subcommands every generated artefact must know about.
const SUBCOMMANDS: &[&str] = &[
    "ask",
    "models",
    "config",
    "doctor",
    "sessions",
    "sandbox",
    "trust",
    "ledger",
    "completions",
    "man",
];

#[test]
fn completions_for_each_shell_name_the_subcommands() {
    let sb = Sandbox::new();
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let run = sb.run(&["completions", shell]);
        assert_eq!(run.code, 0, "{shell}: {run:?}");
        assert!(run.stderr.is_empty(), "{shell}: {run:?}");
        assert!(run.stdout.len() > 1000, "{shell}: too short: {run:?}");
        for sub in SUBCOMMANDS {
            assert!(
                run.stdout.contains(sub),
                "{shell} completions do not mention `{sub}`"
            );
        }
        // the options of a subcommand come from the same definitions
        assert!(run.stdout.contains("revoke"), "{shell}: no --revoke");
        assert!(run.stdout.contains("network"), "{shell}: no --network");
        assert!(
            run.stdout.contains("since"),
            "{shell}: no cove ledger --since"
        );
    }
}

#[test]
fn bash_completions_register_for_cove_and_parse_in_bash() {
    let sb = Sandbox::new();
    let run = sb.run(&["completions", "bash"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("complete -F _cove"), "{run:?}");
    let script = sb.dir.path().join("cove.bash");
    std::fs::write(&script, &run.stdout).unwrap();
    // `bash -n`: the script is valid bash syntax
    let check = std::process::Command::new("bash")
        .arg("-n")
        .arg(&script)
        .output()
        .expect("bash");
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
}

#[test]
fn unknown_shell_is_a_usage_error() {
    let sb = Sandbox::new();
    let run = sb.run(&["completions", "tcsh"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("tcsh"), "{run:?}");
    assert!(run.stdout.is_empty(), "{run:?}");
}

#[test]
fn man_page_is_roff_and_lists_the_subcommands() {
    let sb = Sandbox::new();
    let run = sb.run(&["man"]);
    assert_eq!(run.code, 0, "{run:?}");
    let first_macro = run
        .stdout
        .lines()
        .find(|l| l.starts_with(".TH") || l.starts_with(".SH"))
        .unwrap_or_default();
    assert!(
        first_macro.starts_with(".TH cove 1"),
        "the first heading is not .TH: {first_macro:?}"
    );
    for section in [
        ".SH NAME",
        ".SH SYNOPSIS",
        ".SH OPTIONS",
        ".SH COMMANDS",
        ".SH \"EXIT STATUS\"",
    ] {
        assert!(run.stdout.contains(section), "no {section}");
    }
    for sub in SUBCOMMANDS {
        assert!(
            run.stdout.contains(&format!(".SS \"cove {sub}\"")),
            "the man page has no entry for `cove {sub}`"
        );
    }
    // the options of the subcommands, roff-escaped
    assert!(run.stdout.contains("\\-\\-revoke"));
    assert!(run.stdout.contains("\\-\\-network"));
    // every line is text or a request; none begins with a stray control character
    for line in run.stdout.lines() {
        assert!(
            !line.starts_with('\'') && !line.chars().any(|c| c.is_control() && c != '\t'),
            "suspicious roff line: {line:?}"
        );
    }
}

#[test]
fn man_page_renders_without_warnings_when_groff_is_present() {
    let sb = Sandbox::new();
    let run = sb.run(&["man"]);
    assert_eq!(run.code, 0, "{run:?}");
    let Ok(mut child) = std::process::Command::new("groff")
        .args(["-man", "-ww", "-z"])
        .stdin(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
    else {
        eprintln!("groff is not installed: skipped the rendering check");
        return;
    };
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(run.stdout.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let warnings = String::from_utf8_lossy(&out.stderr);
    assert!(warnings.trim().is_empty(), "groff warns: {warnings}");
}

#[test]
fn they_need_no_config_and_no_server() {
    let sb = Sandbox::new();
    // a config that would stop every other command, and a server that is not there
    sb.write_user_config("this is [ not toml");
    let env = [("COVE_BASE_URL", "http://127.0.0.1:9/v1")];
    for args in [&["completions", "zsh"][..], &["man"][..]] {
        let run = sb.run_with(args, &env, None);
        assert_eq!(run.code, 0, "{args:?}: {run:?}");
        assert!(!run.stdout.is_empty(), "{args:?}");
        assert!(run.stderr.is_empty(), "{args:?}: {run:?}");
    }
    // and nothing was written to the state dir (no log file)
    assert!(!sb.dir.path().join("state/cove").exists());
    // the same broken config does stop a command that reads it
    let run = sb.run(&["config"]);
    assert_eq!(run.code, 2, "{run:?}");
}

#[test]
fn a_closed_pipe_is_not_an_error() {
    let sb = Sandbox::new();
    let mut child = sb
        .command(&["man"], &[])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{:?}: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}
