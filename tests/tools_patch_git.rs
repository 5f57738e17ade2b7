//! `apply_patch` on what real `git diff` output holds: modes, binary files, CRLF in new
//! files, `\ No newline at end of file`, content lines that look like file headers, and
//! files that are not regular files.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::time::{Duration, Instant};

use cove::tools::context::ToolContext;
use cove::tools::patch::apply_patch;
use serde_json::json;

fn workspace() -> (tempfile::TempDir, ToolContext) {
    let dir = tempfile::tempdir().unwrap();
    let ctx = ToolContext::new(dir.path().canonicalize().unwrap());
    (dir, ctx)
}

fn mode(ctx: &ToolContext, rel: &str) -> u32 {
    fs::metadata(ctx.root.join(rel))
        .unwrap()
        .permissions()
        .mode()
        & 0o777
}

#[test]
fn new_file_mode_100755_and_executable_renames_give_executable_files() {
    let (_d, ctx) = workspace();
    let patch = "diff --git a/run.sh b/run.sh\nnew file mode 100755\nindex 0000000..1111111\n--- /dev/null\n+++ b/run.sh\n@@ -0,0 +1,2 @@\n+#!/bin/sh\n+echo hi\n";
    let out = apply_patch(&ctx, &json!({ "patch": patch }));
    assert!(!out.is_error, "{}", out.text);
    assert_ne!(
        mode(&ctx, "run.sh") & 0o100,
        0,
        "{:o}",
        mode(&ctx, "run.sh")
    );

    // a rename keeps the executable bit
    let patch = "diff --git a/run.sh b/tools/go.sh\nsimilarity index 90%\nrename from run.sh\nrename to tools/go.sh\n--- a/run.sh\n+++ b/tools/go.sh\n@@ -1,2 +1,2 @@\n #!/bin/sh\n-echo hi\n+echo hello\n";
    let out = apply_patch(&ctx, &json!({ "patch": patch }));
    assert!(!out.is_error, "{}", out.text);
    assert!(!ctx.root.join("run.sh").exists());
    assert_ne!(mode(&ctx, "tools/go.sh") & 0o100, 0);

    // `old mode` / `new mode 100644` takes it away
    let patch = "diff --git a/tools/go.sh b/tools/go.sh\nold mode 100755\nnew mode 100644\n--- a/tools/go.sh\n+++ b/tools/go.sh\n@@ -2 +2 @@\n-echo hello\n+echo bye\n";
    let out = apply_patch(&ctx, &json!({ "patch": patch }));
    assert!(!out.is_error, "{}", out.text);
    assert_eq!(mode(&ctx, "tools/go.sh") & 0o111, 0);
}

#[test]
fn a_binary_file_is_refused_and_nothing_is_created() {
    let (_d, ctx) = workspace();
    for patch in [
        "diff --git a/logo.png b/logo.png\nnew file mode 100644\nindex 0000000..abcdef1\nBinary files /dev/null and b/logo.png differ\n",
        "diff --git a/logo.png b/logo.png\nindex 1111111..2222222 100644\nGIT binary patch\nliteral 5\nMcmZ?wbhEHb\n\nliteral 0\nKcmV+b0RR6000031\n",
    ] {
        let out = apply_patch(
            &ctx,
            &json!({ "patch": format!("{patch}diff --git a/a.txt b/a.txt\nnew file mode 100644\n--- /dev/null\n+++ b/a.txt\n@@ -0,0 +1 @@\n+x\n") }),
        );
        assert!(out.is_error, "{}", out.text);
        assert!(out.text.contains("binary"), "{}", out.text);
        assert!(!ctx.root.join("logo.png").exists());
        assert!(
            !ctx.root.join("a.txt").exists(),
            "a partial patch was applied"
        );
    }
}

#[test]
fn crlf_lines_of_a_new_file_keep_their_cr() {
    let (_d, ctx) = workspace();
    let patch = "--- /dev/null\n+++ b/win.bat\n@@ -0,0 +1,2 @@\n+@echo off\r\n+echo hi\r\n";
    let out = apply_patch(&ctx, &json!({ "patch": patch }));
    assert!(!out.is_error, "{}", out.text);
    assert_eq!(
        fs::read(ctx.root.join("win.bat")).unwrap(),
        b"@echo off\r\necho hi\r\n"
    );
    // a patch that travelled with CRLF endings everywhere gives an LF file
    let patch = "--- /dev/null\r\n+++ b/unix.txt\r\n@@ -0,0 +1,2 @@\r\n+a\r\n+b\r\n";
    let out = apply_patch(&ctx, &json!({ "patch": patch }));
    assert!(!out.is_error, "{}", out.text);
    assert_eq!(fs::read(ctx.root.join("unix.txt")).unwrap(), b"a\nb\n");
}

#[test]
fn no_newline_at_end_of_file_anchors_at_the_end() {
    let (_d, ctx) = workspace();
    // `}` appears twice; the hunk is about the last one, which has no newline after it
    fs::write(ctx.root.join("f.rs"), "fn a() {\n}\nfn b() {\n}").unwrap();
    let patch =
        "--- a/f.rs\n+++ b/f.rs\n@@ -1 +1,2 @@\n-}\n\\ No newline at end of file\n+}\n+// end\n";
    let out = apply_patch(&ctx, &json!({ "patch": patch }));
    assert!(!out.is_error, "{}", out.text);
    assert_eq!(
        fs::read_to_string(ctx.root.join("f.rs")).unwrap(),
        "fn a() {\n}\nfn b() {\n}\n// end\n"
    );
}

#[test]
fn lines_that_look_like_file_headers_inside_a_hunk_are_content() {
    let (_d, ctx) = workspace();
    fs::write(
        ctx.root.join("q.sql"),
        "select 1;\n-- old comment\nselect 2;\n",
    )
    .unwrap();
    let patch = "--- a/q.sql\n+++ b/q.sql\n@@ -1,3 +1,3 @@\n select 1;\n--- old comment\n+++ new comment\n select 2;\n";
    let out = apply_patch(&ctx, &json!({ "patch": patch }));
    assert!(!out.is_error, "{}", out.text);
    assert_eq!(
        fs::read_to_string(ctx.root.join("q.sql")).unwrap(),
        "select 1;\n++ new comment\nselect 2;\n"
    );
    assert!(!ctx.root.join("old comment").exists());
}

#[test]
fn a_fifo_is_refused_at_once() {
    let (_d, ctx) = workspace();
    let fifo = ctx.root.join("pipe");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: mkfifo with a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
    let started = Instant::now();
    let out = apply_patch(
        &ctx,
        &json!({ "patch": "--- a/pipe\n+++ b/pipe\n@@ -1 +1 @@\n-a\n+b\n" }),
    );
    assert!(started.elapsed() < Duration::from_secs(2));
    assert!(out.is_error);
    assert!(out.text.contains("not a regular file"), "{}", out.text);
}
