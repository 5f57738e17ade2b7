//! The OS sandbox, against the real binary (`cove sandbox -- ...`) and through the `shell`
//! tool: writes inside and outside the workspace, read-only mode, `.git`, the network
//! (loopback included), escaping children, real builds, fail-closed refusals.

mod cli_support;
mod tui_support;

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use cli_support::{Run, Sandbox as Home};
use cove::sandbox::{SETUP_FAILED, Sandbox};
use cove::tools::context::ToolContext;
use cove::tools::shell::shell;
use serde_json::json;

fn sandboxed(home: &Home, argv: &[&str]) -> Run {
    let mut args = vec!["sandbox", "--"];
    args.extend_from_slice(argv);
    home.run(&args)
}

fn sh(home: &Home, script: &str) -> Run {
    sandboxed(home, &["sh", "-c", script])
}

fn wait_until(mut done: impl FnMut() -> bool, limit: Duration) -> bool {
    let end = Instant::now() + limit;
    while Instant::now() < end {
        if done() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    done()
}

#[test]
fn writes_inside_the_workspace_work_and_outside_fail() {
    let home = Home::new();
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("keep.txt"), "precious").unwrap();
    let o = outside.path().display();
    let r = sh(
        &home,
        &format!(
            "echo in > inside.txt && mkdir -p sub && echo deep > sub/f && echo tmp > \"$TMPDIR/t\" && cat \"$TMPDIR/t\";\
             echo bad > {o}/new.txt; echo bad >> {o}/keep.txt; truncate -s 0 {o}/keep.txt; rm -f {o}/keep.txt;\
             mv {o}/keep.txt {o}/moved.txt; echo bad > \"$HOME/in-home.txt\"; echo bad > /tmp/cove-sandbox-escape-$$;\
             echo done"
        ),
    );
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout.starts_with("tmp\n") && r.stdout.ends_with("done\n"),
        "{r:?}"
    );
    assert!(r.stderr.contains("Permission denied"), "{r:?}");
    let ws = home.workspace();
    assert_eq!(
        std::fs::read_to_string(ws.join("inside.txt")).unwrap(),
        "in\n"
    );
    assert_eq!(std::fs::read_to_string(ws.join("sub/f")).unwrap(), "deep\n");
    assert_eq!(
        std::fs::read_to_string(outside.path().join("keep.txt")).unwrap(),
        "precious"
    );
    assert!(!outside.path().join("new.txt").exists());
    assert!(!outside.path().join("moved.txt").exists());
    // $HOME is the test's isolated home: the workspace's parent
    assert!(!home.dir.path().join("in-home.txt").exists());
}

#[test]
fn links_mounts_and_nested_namespaces_do_not_get_out() {
    let home = Home::new();
    std::fs::create_dir_all(home.workspace().join(".git")).unwrap();
    let outside = tempfile::tempdir().unwrap();
    let f = outside.path().join("f");
    std::fs::write(&f, "precious").unwrap();
    let f = f.display();
    let r = sh(
        &home,
        &format!(
            "ln -s {f} sym; echo bad >> sym; ln {f} hard; echo bad >> hard;\
             unshare -rm sh -c 'umount .git; touch .git/x'; mount -t tmpfs none .git;\
             mount -o remount,rw .git; touch .git/y; echo done"
        ),
    );
    assert!(r.stdout.ends_with("done\n"), "{r:?}");
    assert_eq!(
        std::fs::read_to_string(outside.path().join("f")).unwrap(),
        "precious"
    );
    let git = home.workspace().join(".git");
    assert!(!git.join("x").exists() && !git.join("y").exists(), "{r:?}");
}

#[test]
fn read_only_mode_refuses_workspace_writes() {
    let home = Home::new();
    home.write_user_config("[sandbox]\nmode = \"read-only\"\n");
    let r = sh(
        &home,
        "echo x > ws.txt; echo y > \"$TMPDIR/t\" && cat \"$TMPDIR/t\"",
    );
    assert_eq!(r.stdout, "y\n", "{r:?}");
    assert!(r.stderr.contains("Permission denied"), "{r:?}");
    assert!(!home.workspace().join("ws.txt").exists());
}

#[test]
fn git_and_cove_dirs_stay_read_only_unless_listed() {
    let home = Home::new();
    let ws = home.workspace();
    std::fs::create_dir_all(ws.join(".git/hooks")).unwrap();
    std::fs::create_dir_all(ws.join(".cove")).unwrap();
    let r = sh(
        &home,
        "echo evil > .git/hooks/pre-commit; echo evil > .cove/config.toml; mv .git gone; echo ok > file",
    );
    assert!(r.stderr.contains("Read-only file system"), "{r:?}");
    assert!(!ws.join(".git/hooks/pre-commit").exists());
    assert!(!ws.join(".cove/config.toml").exists());
    assert!(ws.join(".git").is_dir() && !ws.join("gone").exists());
    assert!(ws.join("file").exists());
    home.write_user_config("[sandbox]\nwritable = [\".git\"]\n");
    let r = sh(&home, "echo hook > .git/hooks/pre-commit");
    assert_eq!(r.code, 0, "{r:?}");
}

/// Connects to `addr` from inside the sandbox; whether the listener saw the connection.
fn connect_from_sandbox(home: &Home, listener: &TcpListener, network: bool) -> (Run, bool) {
    listener.set_nonblocking(true).unwrap();
    let addr = listener.local_addr().unwrap();
    let host = match addr.ip() {
        std::net::IpAddr::V4(ip) => ip.to_string(),
        std::net::IpAddr::V6(ip) => format!("[{ip}]"),
    };
    let script = format!("exec 3<>/dev/tcp/{host}/{} && echo connected", addr.port());
    let mut args = vec!["sandbox"];
    if network {
        args.push("--network");
    }
    args.extend(["--", "bash", "-c", &script]);
    let r = home.run(&args);
    let accepted = wait_until(|| listener.accept().is_ok(), Duration::from_millis(300));
    (r, accepted)
}

#[test]
fn no_network_not_even_loopback_unless_allowed() {
    let home = Home::new();
    let v4 = TcpListener::bind("127.0.0.1:0").unwrap();
    let (r, accepted) = connect_from_sandbox(&home, &v4, false);
    assert_ne!(r.code, 0, "{r:?}");
    assert!(!r.stdout.contains("connected") && !accepted, "{r:?}");
    let (r, accepted) = connect_from_sandbox(&home, &v4, true);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.contains("connected") && accepted, "{r:?}");
    if let Ok(v6) = TcpListener::bind("[::1]:0") {
        let (r, accepted) = connect_from_sandbox(&home, &v6, false);
        assert!(r.code != 0 && !accepted, "{r:?}");
    }
    // the config's `network = true` does the same as --network
    home.write_user_config("[sandbox]\nnetwork = true\n");
    let (r, accepted) = connect_from_sandbox(&home, &v4, false);
    assert!(r.code == 0 && accepted, "{r:?}");
}

#[test]
fn setsid_children_die_when_the_command_returns() {
    let home = Home::new();
    let start = Instant::now();
    let r = sh(
        &home,
        "setsid sh -c 'sleep 2; touch marker' > /dev/null 2>&1 & sleep 0.2; echo started",
    );
    assert_eq!(r.code, 0, "{r:?}");
    assert!(start.elapsed() < Duration::from_secs(2), "{r:?}");
    assert!(r.stderr.contains("were stopped when it ended"), "{r:?}");
    std::thread::sleep(Duration::from_secs(3));
    assert!(!home.workspace().join("marker").exists());
}

#[test]
fn everything_dies_when_cove_is_killed() {
    let home = Home::new();
    let mut child = home
        .command(
            &[
                "sandbox",
                "--",
                "sh",
                "-c",
                "setsid sh -c 'sleep 2; touch marker' & touch started; sleep 30",
            ],
            &[],
        )
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let ws = home.workspace();
    assert!(wait_until(
        || ws.join("started").exists(),
        Duration::from_secs(10)
    ));
    child.kill().unwrap();
    child.wait().unwrap();
    std::thread::sleep(Duration::from_secs(3));
    assert!(!ws.join("marker").exists(), "a child outlived cove");
}

#[test]
fn the_helper_binary_only_runs_for_cove() {
    let out = Command::new(env!("CARGO_BIN_EXE_cove-sandbox-helper"))
        .arg("ls")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cove sandbox -- CMD"));
    // given the helper's arguments, it runs the command confined like cove itself does
    let ws = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_cove-sandbox-helper"))
        .args(["__sandbox-exec", "--write"])
        .arg(ws.path())
        .args([
            "--",
            "sh",
            "-c",
            "echo in > f && echo out > /etc/cove-sandbox-test",
        ])
        .current_dir(ws.path())
        .output()
        .unwrap();
    assert!(ws.path().join("f").exists());
    assert!(!std::path::Path::new("/etc/cove-sandbox-test").exists());
    assert_ne!(out.status.code(), Some(0));
}

#[test]
fn exit_status_passes_through() {
    let home = Home::new();
    assert_eq!(sh(&home, "exit 7").code, 7);
    assert_eq!(sh(&home, "kill -TERM $$").code, 128 + 15);
    let r = sandboxed(&home, &["no-such-command-here"]);
    assert_eq!(r.code, 127, "{r:?}");
}

#[test]
fn fail_closed_when_the_kernel_lacks_a_part() {
    let home = Home::new();
    for (missing, named) in [("landlock", "Landlock"), ("namespaces", "namespaces")] {
        let r = home.run_with(
            &["sandbox", "--", "touch", "ran"],
            &[("COVE_SANDBOX_SIMULATE_MISSING", missing)],
            None,
        );
        assert_eq!(r.code, SETUP_FAILED, "{r:?}");
        assert!(r.stderr.contains(named), "{r:?}");
        assert!(r.stderr.contains("mode = \"off\""), "{r:?}");
        assert!(!home.workspace().join("ran").exists(), "{missing}: it ran");
    }
    // switched off in the user's own config: runs, unconfined, and says so
    home.write_user_config("[sandbox]\nmode = \"off\"\n");
    let o = home.dir.path().join("outside.txt");
    let r = sh(&home, &format!("echo x > {}", o.display()));
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stderr.contains("unconfined"), "{r:?}");
    assert!(o.exists());
}

#[test]
fn processes_outside_cannot_be_read_or_signalled() {
    let home = Home::new();
    let me = std::process::id();
    let r = sh(
        &home,
        &format!("cat /proc/{me}/environ; kill -0 {me} && echo signalled; echo done"),
    );
    assert!(r.stdout.ends_with("done\n"), "{r:?}");
    assert!(r.stderr.contains("Permission denied"), "{r:?}");
    assert!(
        !r.stdout.contains("signalled") && !r.stdout.contains("PATH="),
        "{r:?}"
    );
}

#[test]
fn api_keys_do_not_reach_the_command() {
    let home = Home::new();
    let r = home.run_with(
        &["sandbox", "--", "env"],
        &[
            ("COVE_API_KEY", "sk-cove-sandbox-secret"),
            ("OTHER_API_KEY", "sk-other-sandbox-secret"),
        ],
        None,
    );
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout.contains("PATH=") && r.stdout.contains("TMPDIR="),
        "{r:?}"
    );
    assert!(!r.stdout.contains("sandbox-secret"), "{r:?}");
}

#[test]
fn cargo_test_on_a_small_crate_passes_inside() {
    let home = Home::new();
    let ws = home.workspace();
    std::fs::create_dir_all(ws.join("src")).unwrap();
    std::fs::write(
        ws.join("Cargo.toml"),
        "[package]\nname = \"tiny\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[workspace]\n",
    )
    .unwrap();
    std::fs::write(
        ws.join("src/lib.rs"),
        "pub fn add(a: i32, b: i32) -> i32 { a + b }\n\
         #[cfg(test)]\nmod tests {\n    #[test]\n    fn adds() { assert_eq!(super::add(2, 2), 4); }\n}\n",
    )
    .unwrap();
    // rustup and cargo read their homes; the isolated $HOME has neither
    let real_home = std::env::var("HOME").unwrap_or_default();
    let cargo_home = std::env::var("CARGO_HOME").unwrap_or(format!("{real_home}/.cargo"));
    let rustup_home = std::env::var("RUSTUP_HOME").unwrap_or(format!("{real_home}/.rustup"));
    let target = ws.join("target");
    let out = home
        .command(
            &["sandbox", "--", "cargo", "test", "--offline", "--quiet"],
            &[
                ("CARGO_HOME", &cargo_home),
                ("RUSTUP_HOME", &rustup_home),
                ("CARGO_TARGET_DIR", target.to_str().unwrap()),
            ],
        )
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{text}");
    assert!(text.contains("1 passed"), "{text}");
    assert!(target.is_dir());
}

/// A Python that has pytest: `COVE_TEST_PYTHON` (scripts/test.sh sets it), the venv that
/// scripts/test.sh makes, or `python3`.
fn python_with_pytest() -> Option<PathBuf> {
    let cache = std::env::var("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|_| {
            PathBuf::from(std::env::var("HOME").unwrap_or_default()).join(".cache")
        });
    let candidates = [
        std::env::var("COVE_TEST_PYTHON").ok().map(PathBuf::from),
        Some(cache.join("cove-dev/pytest-venv/bin/python")),
        Some(PathBuf::from("python3")),
    ];
    candidates.into_iter().flatten().find(|p| {
        Command::new(p)
            .args(["-c", "import pytest"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    })
}

#[test]
fn pytest_passes_inside() {
    let Some(python) = python_with_pytest() else {
        eprintln!(
            "SKIPPED pytest_passes_inside: no Python with pytest (scripts/test.sh installs one)"
        );
        return;
    };
    let home = Home::new();
    let ws = home.workspace();
    std::fs::write(ws.join("calc.py"), "def add(a, b):\n    return a + b\n").unwrap();
    std::fs::write(
        ws.join("test_calc.py"),
        "from calc import add\n\ndef test_add(tmp_path):\n    (tmp_path / 'f').write_text('x')\n    assert add(2, 3) == 5\n",
    )
    .unwrap();
    let py = python.to_str().unwrap();
    let r = sandboxed(&home, &[py, "-m", "pytest", "-q", "-p", "no:cacheprovider"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.contains("1 passed"), "{r:?}");
}

// ---- through the shell tool, as the agent runs it

fn tool_workspace() -> (tempfile::TempDir, ToolContext) {
    cove::sandbox::set_helper(env!("CARGO_BIN_EXE_cove"));
    let dir = tempfile::tempdir().unwrap();
    let root = std::fs::canonicalize(dir.path()).unwrap();
    let mut ctx = ToolContext::new(root);
    ctx.sandbox = Sandbox::default();
    (dir, ctx)
}

#[tokio::test]
async fn the_shell_tool_runs_confined() {
    let (_d, ctx) = tool_workspace();
    let outside = tempfile::tempdir().unwrap();
    let cmd = format!(
        "echo ok > here.txt; echo bad > {}/x.txt",
        outside.path().display()
    );
    let out = shell(&ctx, &json!({ "command": cmd })).await;
    assert!(out.text.contains("Permission denied"), "{}", out.text);
    assert!(ctx.root.join("here.txt").exists());
    assert!(!outside.path().join("x.txt").exists());
    assert!(!out.text.contains("[cove:"), "{}", out.text);
}

#[tokio::test]
async fn the_shell_tool_kills_setsid_children_at_its_timeout_and_when_dropped() {
    let (_d, ctx) = tool_workspace();
    let start = Instant::now();
    let out = shell(
        &ctx,
        &json!({ "command": "setsid sh -c 'sleep 2; touch marker' & sleep 30", "timeout_secs": 1 }),
    )
    .await;
    assert!(
        out.is_error && out.text.contains("timed out"),
        "{}",
        out.text
    );
    assert!(
        start.elapsed() < Duration::from_secs(6),
        "{:?}",
        start.elapsed()
    );
    // dropped mid-run (the user pressed Esc, or cove is quitting)
    let args = json!({ "command": "setsid sh -c 'sleep 2; touch marker2' & sleep 30" });
    let run = shell(&ctx, &args);
    assert!(
        tokio::time::timeout(Duration::from_millis(700), run)
            .await
            .is_err()
    );
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(!ctx.root.join("marker").exists(), "escaped the timeout");
    assert!(!ctx.root.join("marker2").exists(), "escaped the drop");
}

#[tokio::test]
async fn the_shell_tool_refuses_when_the_sandbox_is_unavailable() {
    let (_d, mut ctx) = tool_workspace();
    ctx.sandbox.simulate_missing = Some("landlock".into());
    let out = shell(&ctx, &json!({ "command": "touch ran" })).await;
    assert!(out.is_error, "{}", out.text);
    assert!(out.text.contains("Landlock"), "{}", out.text);
    assert!(out.text.contains("mode = \"off\""), "{}", out.text);
    assert!(!ctx.root.join("ran").exists());
    let status = ctx.sandbox.status_line();
    assert!(status.contains("UNAVAILABLE"), "{status}");
}

#[test]
fn the_status_line_names_the_policy_and_how_it_is_enforced() {
    cove::sandbox::set_helper(env!("CARGO_BIN_EXE_cove"));
    let line = Sandbox::default().status_line();
    assert!(line.contains("workspace-write, no network"), "{line}");
    assert!(line.contains("Landlock ABI"), "{line}");
}

#[test]
fn the_private_temp_dir_is_removed_afterwards() {
    let home = Home::new();
    let r = sh(&home, "echo $TMPDIR; touch $TMPDIR/left");
    let tmp = PathBuf::from(r.stdout.trim());
    assert!(tmp.starts_with(std::env::temp_dir()), "{r:?}");
    assert!(!tmp.exists(), "{} was left behind", tmp.display());
}

#[tokio::test]
async fn the_shell_tool_stops_background_processes_when_the_command_ends() {
    let (_d, ctx) = tool_workspace();
    let start = Instant::now();
    let out = shell(
        &ctx,
        &json!({ "command": "sleep 30 > /dev/null 2>&1 & sleep 30 & echo started" }),
    )
    .await;
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "{:?}",
        start.elapsed()
    );
    assert!(!out.is_error, "{}", out.text);
    // (the note comes on stderr, the echo on stdout: their order in the capture is not fixed)
    assert!(out.text.contains("started\n"), "{}", out.text);
    assert!(
        out.text.contains("were stopped when it ended"),
        "{}",
        out.text
    );
    assert!(out.text.ends_with("exit code 0"), "{}", out.text);
}

#[test]
fn the_status_bar_warns_when_commands_are_not_confined() {
    let draw = |warning: Option<&str>, w: u16| {
        let mut s = tui_support::state();
        s.sandbox_warning = warning.map(Into::into);
        s.view.size = (w, 24);
        let mut t = ratatui::Terminal::new(ratatui::backend::TestBackend::new(w, 24)).unwrap();
        t.draw(|f| cove::ui::render(f, &s)).unwrap();
        let buf = t.backend().buffer().clone();
        (0..24)
            .map(|y| (0..w).map(|x| buf[(x, y)].symbol()).collect::<String>())
            .collect::<Vec<_>>()
            .join("\n")
    };
    // confined: nothing is added
    assert!(!draw(None, 120).contains("sandbox"));
    assert!(draw(Some("unsandboxed"), 120).contains(" unsandboxed"));
    assert!(
        draw(Some("no sandbox: commands refused"), 120).contains("no sandbox: commands refused")
    );
}
