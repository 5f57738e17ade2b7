//! apply_patch and shell against a real temporary workspace.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use cove::tools::context::ToolContext;
use cove::tools::patch::{apply_patch, preview};
use cove::tools::shell::shell;
use serde_json::json;

fn workspace() -> (tempfile::TempDir, ToolContext) {
    // shell commands run through the sandbox helper: the built binary
    cove::sandbox::set_helper(env!("CARGO_BIN_EXE_cove"));
    let dir = tempfile::tempdir().unwrap();
    let root = fs::canonicalize(dir.path()).unwrap();
    (dir, ToolContext::new(root))
}

fn write(root: &Path, rel: &str, text: &str) {
    let p = root.join(rel);
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(p, text).unwrap();
}

fn read(root: &Path, rel: &str) -> String {
    fs::read_to_string(root.join(rel)).unwrap()
}

/// Every file under `root`, with its content, to check that nothing changed.
fn snapshot(root: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push((p.clone(), fs::read(&p).unwrap()));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn patch_modifies_creates_and_deletes_several_files() {
    let (_d, ctx) = workspace();
    let root = ctx.root.clone();
    write(
        &root,
        "src/a.rs",
        "fn a() {\n    1\n}\n\nfn b() {\n    2\n}\n",
    );
    write(&root, "old.txt", "one\ntwo\n");
    let patch = "\
diff --git a/src/a.rs b/src/a.rs
--- a/src/a.rs
+++ b/src/a.rs
@@ -1,3 +1,4 @@
 fn a() {
-    1
+    10
+    // more
 }
@@ -5,3 +6,3 @@
 fn b() {
-    2
+    20
 }
--- /dev/null
+++ b/src/new/mod.rs
@@ -0,0 +1,2 @@
+pub mod x;
+pub mod y;
--- a/old.txt
+++ /dev/null
@@ -1,2 +0,0 @@
-one
-two
";
    let previewed = preview(&ctx, &json!({ "patch": patch })).unwrap();
    assert_eq!(previewed.len(), 3);
    assert!(root.join("old.txt").exists(), "preview must not write");

    let out = apply_patch(&ctx, &json!({ "patch": patch }));
    assert!(!out.is_error, "{}", out.text);
    assert_eq!(
        read(&root, "src/a.rs"),
        "fn a() {\n    10\n    // more\n}\n\nfn b() {\n    20\n}\n"
    );
    assert_eq!(read(&root, "src/new/mod.rs"), "pub mod x;\npub mod y;\n");
    assert!(!root.join("old.txt").exists());
    assert!(out.text.contains("M src/a.rs +3 -2"), "{}", out.text);
    assert!(out.text.contains("A src/new/mod.rs +2"), "{}", out.text);
    assert!(out.text.contains("D old.txt -2"), "{}", out.text);

    assert_eq!(out.changes, previewed);
    let a = out
        .changes
        .iter()
        .find(|c| c.path == root.join("src/a.rs"))
        .unwrap();
    assert_eq!(
        a.old.as_deref(),
        Some(&b"fn a() {\n    1\n}\n\nfn b() {\n    2\n}\n"[..])
    );
    let created = out
        .changes
        .iter()
        .find(|c| c.path == root.join("src/new/mod.rs"))
        .unwrap();
    assert_eq!(created.old, None);
    let deleted = out
        .changes
        .iter()
        .find(|c| c.path == root.join("old.txt"))
        .unwrap();
    assert_eq!(
        (deleted.old.as_deref(), deleted.new.as_deref()),
        (Some(&b"one\ntwo\n"[..]), None)
    );
}

#[test]
fn one_failing_hunk_writes_nothing_and_names_the_hunk() {
    let (_d, ctx) = workspace();
    let root = ctx.root.clone();
    write(&root, "a.txt", "alpha\nbeta\ngamma\n");
    write(&root, "b.txt", "one\ntwo\nthree\nfour\nfive\n");
    let before = snapshot(&root);
    let patch = "\
--- a/a.txt
+++ b/a.txt
@@ -1,3 +1,3 @@
 alpha
-beta
+BETA
 gamma
--- a/b.txt
+++ b/b.txt
@@ -1,2 +1,2 @@
-one
+ONE
 two
@@ -4,2 +4,2 @@
 four
-fiive
+FIVE
--- /dev/null
+++ b/c.txt
@@ -0,0 +1 @@
+new
";
    let out = apply_patch(&ctx, &json!({ "patch": patch }));
    assert!(out.is_error);
    assert!(out.changes.is_empty());
    assert_eq!(snapshot(&root), before, "nothing may be written");
    assert!(out.text.contains("nothing was written"), "{}", out.text);
    assert!(
        out.text.contains("`b.txt`: 1 of 2 hunks did not apply"),
        "{}",
        out.text
    );
    assert!(
        out.text.contains("hunk #2 `@@ -4,2 +4,2 @@`"),
        "{}",
        out.text
    );
    assert!(
        out.text.contains("|fiive"),
        "expected lines shown: {}",
        out.text
    );
    assert!(
        out.text.contains("(from line 4)") && out.text.contains("|five"),
        "closest lines shown: {}",
        out.text
    );
    assert!(
        !out.text.contains("a.txt"),
        "a.txt applied fine: {}",
        out.text
    );
    assert!(preview(&ctx, &json!({ "patch": patch })).is_err());
}

#[test]
fn creating_an_existing_file_or_deleting_a_missing_one_fails() {
    let (_d, ctx) = workspace();
    write(&ctx.root, "here.txt", "x\n");
    let create = apply_patch(
        &ctx,
        &json!({ "patch": "--- /dev/null\n+++ b/here.txt\n@@ -0,0 +1 @@\n+y\n" }),
    );
    assert!(
        create.is_error && create.text.contains("already exists"),
        "{}",
        create.text
    );
    let delete = apply_patch(
        &ctx,
        &json!({ "patch": "--- a/gone.txt\n+++ /dev/null\n@@ -1 +0,0 @@\n-x\n" }),
    );
    assert!(
        delete.is_error && delete.text.contains("does not exist"),
        "{}",
        delete.text
    );
    let partial = apply_patch(
        &ctx,
        &json!({ "patch": "--- a/here.txt\n+++ /dev/null\n@@ -1 +0,0 @@\n-nope\n" }),
    );
    assert!(partial.is_error, "{}", partial.text);
    assert_eq!(read(&ctx.root, "here.txt"), "x\n");
}

#[test]
fn path_escapes_are_refused() {
    let (_d, ctx) = workspace();
    let outside = tempfile::tempdir().unwrap();
    write(&ctx.root, "in.txt", "a\n");
    for path in ["../escape.txt", "/etc/passwd", "sub/../../escape.txt"] {
        let patch = format!("--- /dev/null\n+++ b/{path}\n@@ -0,0 +1 @@\n+pwned\n");
        let out = apply_patch(&ctx, &json!({ "patch": patch }));
        assert!(out.is_error, "{path}: {}", out.text);
        assert!(
            out.text.contains("outside the workspace") || out.text.contains("escape"),
            "{path}: {}",
            out.text
        );
    }
    assert!(!ctx.root.parent().unwrap().join("escape.txt").exists());
    // Through a symlink pointing outside.
    std::os::unix::fs::symlink(outside.path(), ctx.root.join("link")).unwrap();
    let out = apply_patch(
        &ctx,
        &json!({ "patch": "--- /dev/null\n+++ b/link/x.txt\n@@ -0,0 +1 @@\n+pwned\n" }),
    );
    assert!(out.is_error, "{}", out.text);
    assert!(!outside.path().join("x.txt").exists());
    // An escape anywhere in the patch stops the whole patch.
    let mixed = "--- a/in.txt\n+++ b/in.txt\n@@ -1 +1 @@\n-a\n+b\n--- /dev/null\n+++ b/../x.txt\n@@ -0,0 +1 @@\n+x\n";
    assert!(apply_patch(&ctx, &json!({ "patch": mixed })).is_error);
    assert_eq!(read(&ctx.root, "in.txt"), "a\n");
}

#[test]
fn sections_for_the_same_file_apply_in_turn_and_a_missing_file_with_only_additions_is_created() {
    let (_d, ctx) = workspace();
    write(&ctx.root, "f.txt", "a\nb\nc\n");
    let patch = "--- a/f.txt\n+++ b/f.txt\n@@ -1 +1 @@\n-a\n+A\n--- a/f.txt\n+++ b/f.txt\n@@ -3 +3 @@\n-c\n+C\n--- a/brand-new.txt\n+++ b/brand-new.txt\n@@ -0,0 +1 @@\n+fresh\n";
    let out = apply_patch(&ctx, &json!({ "patch": patch }));
    assert!(!out.is_error, "{}", out.text);
    assert_eq!(read(&ctx.root, "f.txt"), "A\nb\nC\n");
    assert_eq!(read(&ctx.root, "brand-new.txt"), "fresh\n");
    let f = out
        .changes
        .iter()
        .find(|c| c.path == ctx.root.join("f.txt"))
        .unwrap();
    assert_eq!(
        f.old.as_deref(),
        Some(&b"a\nb\nc\n"[..]),
        "old is the content before the whole patch"
    );
    assert_eq!(out.changes.len(), 2);
}

#[test]
fn crlf_files_stay_crlf() {
    let (_d, ctx) = workspace();
    write(&ctx.root, "win.txt", "first\r\nsecond\r\nthird\r\n");
    let out = apply_patch(
        &ctx,
        &json!({ "patch": "--- a/win.txt\n+++ b/win.txt\n@@ -1,3 +1,4 @@\n first\n-second\n+SECOND\n+extra\n third\n" }),
    );
    assert!(!out.is_error, "{}", out.text);
    assert_eq!(
        read(&ctx.root, "win.txt"),
        "first\r\nSECOND\r\nextra\r\nthird\r\n"
    );
}

#[test]
fn wrong_arguments_are_clear_errors() {
    let (_d, ctx) = workspace();
    for (args, needle) in [
        (json!({}), "needs `patch`"),
        (json!({ "patch": 42 }), "must be a string"),
        (json!({ "patch": ["--- a/x"] }), "must be a string"),
        (json!({ "patch": "" }), "empty"),
        (json!({ "patch": "hello there" }), "no file headers"),
        (json!({ "patch": "@@ -1 +1 @@\n-a\n+b\n" }), "before any"),
        (json!("--- a/x"), "JSON object"),
        (json!(null), "JSON object"),
    ] {
        let out = apply_patch(&ctx, &args);
        assert!(out.is_error, "{args}");
        assert!(out.text.contains(needle), "{args}: {}", out.text);
        assert!(preview(&ctx, &args).is_err());
    }
}

#[tokio::test]
async fn shell_reports_output_and_exit_code() {
    let (_d, ctx) = workspace();
    let out = shell(
        &ctx,
        &json!({ "command": "echo hello; echo oops >&2; exit 3" }),
    )
    .await;
    assert!(out.is_error);
    assert!(
        out.text.contains("hello") && out.text.contains("oops"),
        "{}",
        out.text
    );
    assert!(out.text.ends_with("exit code 3"), "{}", out.text);
    let ok = shell(&ctx, &json!({ "command": "true" })).await;
    assert!(!ok.is_error);
    assert_eq!(ok.text, "(no output)\nexit code 0");
    let killed = shell(&ctx, &json!({ "command": "kill -9 $$" })).await;
    assert!(
        killed.text.ends_with("killed by signal 9 (SIGKILL)"),
        "{}",
        killed.text
    );
    let bad = shell(&ctx, &json!({ "command": 12 })).await;
    assert!(
        bad.is_error && bad.text.contains("must be a string"),
        "{}",
        bad.text
    );
}

#[tokio::test]
async fn shell_runs_in_the_workspace_root() {
    let (_d, ctx) = workspace();
    write(&ctx.root, "marker.txt", "here\n");
    let out = shell(&ctx, &json!({ "command": "pwd" })).await;
    assert_eq!(out.text, format!("{}\nexit code 0", ctx.root.display()));
    let out2 = shell(&ctx, &json!({ "command": "cat marker.txt" })).await;
    assert!(
        out2.text.contains("here") && out2.text.ends_with("exit code 0"),
        "{}",
        out2.text
    );
}

#[tokio::test]
async fn background_processes_holding_the_output_are_stopped() {
    let (_d, ctx) = unsandboxed();
    let start = Instant::now();
    let out = shell(
        &ctx,
        &json!({ "command": "sleep 30 & echo $! > held.pid; echo started" }),
    )
    .await;
    assert!(
        start.elapsed() < Duration::from_secs(10),
        "took {:?}",
        start.elapsed()
    );
    assert!(out.text.starts_with("started\n"), "{}", out.text);
    assert!(out.text.contains("kept its output open"), "{}", out.text);
    assert!(out.text.ends_with("exit code 0"), "{}", out.text);
    let held: u32 = read(&ctx.root, "held.pid").trim().parse().unwrap();
    let until = Instant::now() + Duration::from_secs(3);
    while alive(held) && Instant::now() < until {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(!alive(held), "the sleep holding stdout survived");
}

#[tokio::test]
async fn background_processes_with_redirected_output_are_left_running() {
    let (_d, ctx) = unsandboxed();
    let start = Instant::now();
    let out = shell(
        &ctx,
        &json!({ "command": "sleep 30 > /dev/null 2>&1 & echo $! > detached.pid; echo started" }),
    )
    .await;
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "took {:?}",
        start.elapsed()
    );
    assert_eq!(out.text, "started\nexit code 0");
    let detached: u32 = read(&ctx.root, "detached.pid").trim().parse().unwrap();
    assert!(alive(detached));
    // SAFETY: signals the sleep this test started.
    unsafe {
        libc::kill(detached as libc::pid_t, libc::SIGKILL);
    }
}

/// The process-group handling with the sandbox off (`[sandbox] mode = "off"`): the pids
/// the commands write are then the host's. Sandboxed, everything a command started ends
/// with it (tests/sandbox.rs).
fn unsandboxed() -> (tempfile::TempDir, ToolContext) {
    let (d, mut ctx) = workspace();
    ctx.sandbox = cove::sandbox::Sandbox::off();
    (d, ctx)
}

fn alive(pid: u32) -> bool {
    // A zombie is dead for our purposes.
    match fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => !stat
            .rsplit(')')
            .next()
            .unwrap_or("")
            .trim_start()
            .starts_with('Z'),
        Err(_) => false,
    }
}

#[tokio::test]
async fn timeout_kills_the_command_and_its_children() {
    let (_d, ctx) = unsandboxed();
    let start = Instant::now();
    let out = shell(&ctx, &json!({ "command": "sleep 30 & echo $! > bg.pid; sh -c 'echo $$ > fg.pid; exec sleep 30'", "timeout_secs": 1 })).await;
    let took = start.elapsed();
    assert!(out.is_error);
    assert!(out.text.contains("timed out after 1 s"), "{}", out.text);
    assert!(
        out.text.contains("killed by signal") || out.text.contains("exit code"),
        "{}",
        out.text
    );
    assert!(took < Duration::from_secs(10), "took {took:?}");
    let bg: u32 = read(&ctx.root, "bg.pid").trim().parse().unwrap();
    let fg: u32 = read(&ctx.root, "fg.pid").trim().parse().unwrap();
    // The group was signalled; give the kernel a moment to finish them off.
    let until = Instant::now() + Duration::from_secs(3);
    while (alive(bg) || alive(fg)) && Instant::now() < until {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(!alive(bg), "background sleep {bg} survived");
    assert!(!alive(fg), "foreground sleep {fg} survived");
}

#[tokio::test]
async fn secrets_are_not_in_the_environment() {
    // SAFETY: only this test sets these variables; the std env lock serialises access.
    unsafe {
        std::env::set_var("COVE_API_KEY", "sk-cove-secret");
        std::env::set_var("SOME_VENDOR_API_KEY", "sk-vendor-secret");
        std::env::set_var("COVE_TEST_PRIVATE_TOKEN", "tok-private");
        std::env::set_var("MY_PRIVATE_TOKEN_FOR_TEST", "tok-custom");
    }
    let (_d, mut ctx) = workspace();
    ctx.secret_env = vec!["MY_PRIVATE_TOKEN_FOR_TEST".to_owned()];
    let out = shell(&ctx, &json!({ "command": "env" })).await;
    assert!(!out.is_error, "{}", out.text);
    for secret in [
        "sk-cove-secret",
        "sk-vendor-secret",
        "tok-private",
        "tok-custom",
        "COVE_",
    ] {
        assert!(!out.text.contains(secret), "{secret} leaked: {}", out.text);
    }
    assert!(out.text.contains("PATH="), "{}", out.text);
}

#[tokio::test]
async fn large_output_is_capped_keeping_head_and_tail() {
    let (_d, mut ctx) = workspace();
    ctx.max_output_bytes = 2000;
    // About 1.9 MB on stdout and some on stderr: both pipes must be drained concurrently.
    // (the pause lets FIRST-LINE be read before the stderr flood: the two pipes are merged
    // in arrival order, and when both are ready either may come first)
    let cmd = "echo FIRST-LINE; sleep 0.5; i=0; while [ $i -lt 2000 ]; do echo err-$i >&2; i=$((i+1)); done; yes 0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz | head -n 25000; echo LAST-LINE";
    let out = shell(&ctx, &json!({ "command": cmd, "timeout_secs": 60 })).await;
    assert!(!out.is_error, "{}", &out.text[..out.text.len().min(500)]);
    let (head, tail) = out
        .text
        .split_once(" bytes elided] …")
        .expect("elision marker");
    assert!(head.contains("FIRST-LINE\n"), "{}", out.text);
    assert!(tail.ends_with("LAST-LINE\nexit code 0"), "{}", out.text);
    assert!(out.text.len() < 2200, "{} bytes", out.text.len());
}

#[tokio::test]
async fn non_utf8_output_is_lossy() {
    let (_d, ctx) = workspace();
    let out = shell(&ctx, &json!({ "command": "printf 'a\\377b\\n'" })).await;
    assert!(out.text.starts_with("a\u{fffd}b\n"), "{:?}", out.text);
}
