//! The file tools through their public API: happy paths, hostile and malformed
//! arguments, workspace escapes, ignore files, output caps, and atomic writes (including
//! a writer killed with SIGKILL mid-write).

use std::fs;
use std::path::PathBuf;

use cove::domain::paths::{PathError, resolve_in_root};
use cove::tools::atomic::write_atomic;
use cove::tools::context::{FileChange, ToolContext, ToolOutput};
use cove::tools::fs::{edit_file, list_files, preview, read_file, search, write_file};
use serde_json::{Value, json};

/// A workspace `ws` and, next to it, a directory `outside` holding a secret.
struct Ws {
    _tmp: tempfile::TempDir,
    root: PathBuf,
    outside: PathBuf,
    ctx: ToolContext,
}

fn ws() -> Ws {
    let tmp = tempfile::tempdir().unwrap();
    let base = tmp.path().canonicalize().unwrap();
    let root = base.join("ws");
    let outside = base.join("outside");
    fs::create_dir_all(&root).unwrap();
    fs::create_dir_all(&outside).unwrap();
    fs::write(outside.join("secret"), "TOPSECRET\n").unwrap();
    let ctx = ToolContext::new(root.clone());
    Ws {
        _tmp: tmp,
        root,
        outside,
        ctx,
    }
}

impl Ws {
    fn put(&self, rel: &str, content: impl AsRef<[u8]>) {
        let p = self.root.join(rel);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, content).unwrap();
    }

    fn get(&self, rel: &str) -> Vec<u8> {
        fs::read(self.root.join(rel)).unwrap()
    }

    fn secret_untouched(&self) {
        assert_eq!(
            fs::read(self.outside.join("secret")).unwrap(),
            b"TOPSECRET\n"
        );
        let names: Vec<_> = fs::read_dir(&self.outside)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(
            names,
            ["secret"],
            "nothing may be created outside the workspace"
        );
    }
}

#[track_caller]
fn ok(out: ToolOutput) -> String {
    assert!(!out.is_error, "expected success, got error: {}", out.text);
    out.text
}

#[track_caller]
fn err(out: ToolOutput) -> String {
    assert!(out.is_error, "expected an error, got: {}", out.text);
    assert!(out.changes.is_empty(), "a failed tool reports no changes");
    out.text
}

type Tool = fn(&ToolContext, &Value) -> ToolOutput;

// ---------------------------------------------------------------------------------------
// read_file

#[test]
fn read_file_numbers_lines() {
    let w = ws();
    w.put("src/main.rs", "fn main() {\n    println!(\"hi\");\n}\n");
    let text = ok(read_file(&w.ctx, &json!({"path": "src/main.rs"})));
    assert_eq!(
        text,
        "   1│fn main() {\n   2│    println!(\"hi\");\n   3│}\n"
    );
    // CRLF is shown without the CR; a last line without newline is still a line.
    w.put("crlf.txt", "a\r\nb");
    assert_eq!(
        ok(read_file(&w.ctx, &json!({"path": "crlf.txt"}))),
        "   1│a\n   2│b\n"
    );
    assert_eq!(
        ok(read_file(&w.ctx, &json!({"path": "./src/../crlf.txt"}))),
        "   1│a\n   2│b\n"
    );
}

#[test]
fn read_file_offset_and_limit_with_a_note_on_how_to_read_on() {
    let w = ws();
    let body: String = (1..=10).map(|i| format!("line {i}\n")).collect();
    w.put("ten.txt", &body);
    let text = ok(read_file(
        &w.ctx,
        &json!({"path": "ten.txt", "offset": 4, "limit": 3}),
    ));
    assert!(
        text.starts_with("   4│line 4\n   5│line 5\n   6│line 6\n"),
        "{text}"
    );
    assert!(!text.contains("line 7"));
    assert!(
        text.contains("showed lines 4-6 of 10; 4 more lines not shown"),
        "{text}"
    );
    assert!(text.contains("offset=7"), "{text}");
    // Reading the tail: no note.
    let tail = ok(read_file(&w.ctx, &json!({"path": "ten.txt", "offset": 9})));
    assert_eq!(tail, "   9│line 9\n  10│line 10\n");
    // Whole-number floats are fine; an offset past the end is an error that says so.
    assert!(
        ok(read_file(
            &w.ctx,
            &json!({"path": "ten.txt", "offset": 10.0})
        ))
        .contains("line 10")
    );
    let e = err(read_file(&w.ctx, &json!({"path": "ten.txt", "offset": 11})));
    assert!(e.contains("past the end") && e.contains("10 lines"), "{e}");
}

#[test]
fn read_file_default_limit_is_2000_lines() {
    let w = ws();
    let body: String = (1..=2500).map(|i| format!("{i}\n")).collect();
    w.put("long.txt", &body);
    let text = ok(read_file(&w.ctx, &json!({"path": "long.txt"})));
    assert!(text.contains("2000│2000\n"));
    assert!(!text.contains("2001│"));
    assert!(text.contains("500 more lines not shown"), "{text}");
    assert!(text.contains("offset=2001"));
}

#[test]
fn read_file_caps_output_bytes_with_a_note() {
    let mut w = ws();
    w.ctx.max_output_bytes = 2_000;
    let body: String = (1..=500)
        .map(|i| format!("this is line number {i} of the file\n"))
        .collect();
    w.put("big.txt", &body);
    let text = ok(read_file(&w.ctx, &json!({"path": "big.txt"})));
    assert!(text.len() <= 2_000, "{} bytes", text.len());
    let shown = text.lines().filter(|l| l.contains('│')).count();
    assert!(shown > 10 && shown < 500, "{shown} lines shown");
    let expected_note = format!(
        "{} more lines not shown because the output limit was reached",
        500 - shown
    );
    assert!(text.contains(&expected_note), "{text}");
    assert!(text.contains(&format!("offset={}", shown + 1)), "{text}");
    // Following the note gives the next lines.
    let next = ok(read_file(
        &w.ctx,
        &json!({"path": "big.txt", "offset": shown + 1}),
    ));
    assert!(
        next.starts_with(&format!(
            "{:>4}│this is line number {} of",
            shown + 1,
            shown + 1
        )),
        "{next}"
    );
}

#[test]
fn read_file_cuts_very_long_lines() {
    let w = ws();
    w.put("min.js", format!("{}\nshort\n", "x".repeat(100_000)));
    let text = ok(read_file(&w.ctx, &json!({"path": "min.js"})));
    assert!(text.len() < 3_000, "{} bytes", text.len());
    assert!(text.contains("[line cut: 98000 more bytes]"), "{text}");
    assert!(text.contains("   2│short"));
}

#[test]
fn read_file_refuses_binary_and_decodes_bad_utf8_lossily() {
    let w = ws();
    w.put("img.png", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR");
    let e = err(read_file(&w.ctx, &json!({"path": "img.png"})));
    assert!(e.contains("binary"), "{e}");
    w.put("latin1.txt", b"caf\xe9\nok\n");
    let text = ok(read_file(&w.ctx, &json!({"path": "latin1.txt"})));
    assert!(text.contains("   1│caf\u{fffd}\n   2│ok\n"), "{text}");
    assert!(text.contains("not valid UTF-8"), "{text}");
}

#[test]
fn read_file_missing_directory_and_empty() {
    let w = ws();
    w.put("src/a.rs", "");
    assert!(
        err(read_file(&w.ctx, &json!({"path": "nope.rs"}))).contains("`nope.rs` does not exist")
    );
    assert!(err(read_file(&w.ctx, &json!({"path": "src"}))).contains("is a directory"));
    assert!(ok(read_file(&w.ctx, &json!({"path": "src/a.rs"}))).contains("empty"));
}

// ---------------------------------------------------------------------------------------
// Malformed, truncated and wrong-typed arguments

#[test]
fn every_tool_rejects_arguments_that_are_not_an_object() {
    let w = ws();
    let tools: [(&str, Tool); 5] = [
        ("read_file", read_file),
        ("list_files", list_files),
        ("search", search),
        ("write_file", write_file),
        ("edit_file", edit_file),
    ];
    for (name, tool) in tools {
        for bad in [
            json!("src/a.rs"),
            json!(["src/a.rs"]),
            json!(null),
            json!(42),
            json!(true),
        ] {
            let e = err(tool(&w.ctx, &bad));
            assert!(
                e.contains(name) && e.contains("must be a JSON object"),
                "{name}: {e}"
            );
        }
    }
}

#[test]
fn missing_and_wrong_typed_arguments_name_the_argument_and_type() {
    let w = ws();
    w.put("a.txt", "hello\n");
    let cases: Vec<(Tool, Value, &str)> = vec![
        (read_file, json!({}), "`path` is required (a string)"),
        (
            read_file,
            json!({"path": null}),
            "`path` is required (a string)",
        ),
        (
            read_file,
            json!({"path": 7}),
            "`path` must be a string, got a number",
        ),
        (
            read_file,
            json!({"path": "a.txt", "offset": "3"}),
            "`offset` must be an integer, got a string",
        ),
        (
            read_file,
            json!({"path": "a.txt", "limit": -1}),
            "`limit` must be a non-negative integer",
        ),
        (
            read_file,
            json!({"path": "a.txt", "limit": 0}),
            "`limit` must be at least 1",
        ),
        (
            read_file,
            json!({"path": "a.txt", "limit": 2.5}),
            "`limit` must be a non-negative integer",
        ),
        (read_file, json!({"path": ""}), "the path is empty"),
        (
            list_files,
            json!({"path": ["src"]}),
            "`path` must be a string, got an array",
        ),
        (
            list_files,
            json!({"glob": {"x": 1}}),
            "`glob` must be a string, got an object",
        ),
        (
            list_files,
            json!({"glob": "a[b"}),
            "`glob` is not a valid glob pattern",
        ),
        (search, json!({}), "`pattern` is required (a string)"),
        (search, json!({"pattern": ""}), "`pattern` is empty"),
        (
            search,
            json!({"pattern": 1}),
            "`pattern` must be a string, got a number",
        ),
        (
            search,
            json!({"pattern": "fn (", "path": "."}),
            "`pattern` is not a valid regular expression",
        ),
        (
            search,
            json!({"pattern": "x", "glob": false}),
            "`glob` must be a string, got a boolean",
        ),
        // A call cut off before its content arrived.
        (
            write_file,
            json!({"path": "b.txt"}),
            "`content` is required (a string)",
        ),
        (
            write_file,
            json!({"content": "x"}),
            "`path` is required (a string)",
        ),
        (
            write_file,
            json!({"path": "b.txt", "content": ["x"]}),
            "`content` must be a string, got an array",
        ),
        (
            write_file,
            json!({"path": "b.txt", "content": 12}),
            "`content` must be a string, got a number",
        ),
        (
            write_file,
            json!({"path": "a\u{0}.txt", "content": "x"}),
            "contains a NUL byte",
        ),
        (
            edit_file,
            json!({"path": "a.txt", "old_string": "hello"}),
            "`new_string` is required (a string)",
        ),
        (
            edit_file,
            json!({"path": "a.txt", "new_string": "x"}),
            "`old_string` is required (a string)",
        ),
        (
            edit_file,
            json!({"path": "a.txt", "old_string": "hello", "new_string": "x", "replace_all": "yes"}),
            "`replace_all` must be true or false, got a string",
        ),
        (
            edit_file,
            json!({"path": "a.txt", "old_string": "", "new_string": "x"}),
            "`old_string` is empty",
        ),
        (
            edit_file,
            json!({"path": "a.txt", "old_string": "hello", "new_string": "hello"}),
            "are the same",
        ),
    ];
    for (tool, args, want) in cases {
        let e = err(tool(&w.ctx, &args));
        assert!(e.contains(want), "{args}: expected {want:?} in {e:?}");
    }
    assert_eq!(w.get("a.txt"), b"hello\n");
    assert!(!w.root.join("b.txt").exists());
}

#[test]
fn truncated_json_never_reaches_the_disk() {
    // A model's argument text cut off mid-stream does not parse; whatever a caller passes
    // on instead (the raw text, or nothing) is refused without writing.
    let w = ws();
    let raw = r#"{"path": "x.txt", "content": "half a fi"#;
    assert!(serde_json::from_str::<Value>(raw).is_err());
    err(write_file(&w.ctx, &Value::String(raw.to_owned())));
    err(write_file(&w.ctx, &json!({})));
    assert!(preview(&w.ctx, "write_file", &Value::String(raw.to_owned())).is_err());
    assert!(!w.root.join("x.txt").exists());
}

// ---------------------------------------------------------------------------------------
// Escapes

#[cfg(unix)]
#[test]
fn no_tool_reads_or_writes_outside_the_workspace() {
    use std::os::unix::fs::symlink;
    let w = ws();
    w.put("src/a.rs", "fn a() {}\n");
    symlink(w.outside.join("secret"), w.root.join("leak.txt")).unwrap();
    symlink(&w.outside, w.root.join("outlink")).unwrap();
    let secret = w.outside.join("secret");
    let secret_abs = secret.to_str().unwrap();

    for path in [
        "../outside/secret",
        secret_abs,
        "/etc/passwd",
        "leak.txt",
        "outlink/secret",
        "src/../../outside/secret",
    ] {
        let e = err(read_file(&w.ctx, &json!({"path": path})));
        assert!(e.contains("outside the workspace"), "{path}: {e}");
        assert!(!e.contains("TOPSECRET"));
    }
    assert_eq!(
        err(read_file(&w.ctx, &json!({"path": "../etc/passwd"}))),
        "`../etc/passwd` is outside the workspace"
    );
    for path in ["..", "outlink", secret_abs] {
        err(list_files(&w.ctx, &json!({"path": path})));
        err(search(&w.ctx, &json!({"pattern": "TOP", "path": path})));
    }
    // Writing: through a file symlink, through a directory symlink (new file, new
    // directories), with `..`, absolute.
    for path in [
        "leak.txt",
        "outlink/secret",
        "outlink/new.txt",
        "outlink/deep/new.txt",
        "../outside/new.txt",
        secret_abs,
    ] {
        let e = err(write_file(
            &w.ctx,
            &json!({"path": path, "content": "pwned\n"}),
        ));
        assert!(e.contains("outside the workspace"), "{path}: {e}");
        assert!(
            preview(
                &w.ctx,
                "write_file",
                &json!({"path": path, "content": "pwned\n"})
            )
            .is_err()
        );
        let e = err(edit_file(
            &w.ctx,
            &json!({"path": path, "old_string": "TOPSECRET", "new_string": "pwned"}),
        ));
        assert!(e.contains("outside the workspace"), "{path}: {e}");
    }
    // `..` after a directory that does not exist yet.
    let e = err(write_file(
        &w.ctx,
        &json!({"path": "new/../../outside/x", "content": "pwned"}),
    ));
    assert!(e.contains("does not exist"), "{e}");
    w.secret_untouched();
    assert!(!w.root.join("new").exists());
}

#[cfg(unix)]
#[test]
fn listing_and_search_do_not_follow_symlinks_out() {
    use std::os::unix::fs::symlink;
    let w = ws();
    w.put("src/a.rs", "fn a() {}\n");
    symlink(w.outside.join("secret"), w.root.join("leak.txt")).unwrap();
    symlink(&w.outside, w.root.join("outlink")).unwrap();
    let listing = ok(list_files(&w.ctx, &json!({})));
    assert!(!listing.contains("outlink/secret"), "{listing}");
    assert!(listing.contains("src/a.rs"));
    let found = ok(search(&w.ctx, &json!({"pattern": "TOPSECRET"})));
    assert!(found.starts_with("no matches"), "{found}");
}

#[cfg(unix)]
#[test]
fn symlinks_inside_the_workspace_are_followed_to_the_real_file() {
    use std::os::unix::fs::symlink;
    let w = ws();
    w.put("real.txt", "one\n");
    symlink("real.txt", w.root.join("alias.txt")).unwrap();
    assert!(ok(read_file(&w.ctx, &json!({"path": "alias.txt"}))).contains("one"));
    let out = write_file(&w.ctx, &json!({"path": "alias.txt", "content": "two\n"}));
    assert_eq!(out.changes[0].path, w.root.join("real.txt"));
    assert_eq!(w.get("real.txt"), b"two\n");
    assert!(
        fs::symlink_metadata(w.root.join("alias.txt"))
            .unwrap()
            .file_type()
            .is_symlink()
    );
}

#[test]
fn resolve_in_root_public_api() {
    let w = ws();
    w.put("src/a.rs", "");
    assert_eq!(
        resolve_in_root(&w.root, "src/a.rs").unwrap(),
        w.root.join("src/a.rs")
    );
    assert_eq!(
        resolve_in_root(&w.root, "src/new/b.rs").unwrap(),
        w.root.join("src/new/b.rs")
    );
    assert!(matches!(
        resolve_in_root(&w.root, "../x"),
        Err(PathError::Outside(_))
    ));
    assert!(matches!(
        resolve_in_root(&w.root, ""),
        Err(PathError::Empty)
    ));
}

// ---------------------------------------------------------------------------------------
// list_files

#[test]
fn list_files_honours_gitignore_and_sorts() {
    let w = ws();
    w.put(".gitignore", "target/\n*.log\n/secret.env\n");
    w.put("src/main.rs", "");
    w.put("src/lib.rs", "");
    w.put("src/deep/x.log", "");
    w.put("target/debug/app", "");
    w.put("debug.log", "");
    w.put("secret.env", "");
    w.put(".github/workflows/ci.yml", "");
    w.put(".git/config", "");
    w.put("sub/.gitignore", "generated.rs\n");
    w.put("sub/generated.rs", "");
    w.put("sub/kept.rs", "");
    let text = ok(list_files(&w.ctx, &json!({})));
    assert_eq!(
        text,
        ".github/workflows/ci.yml\n.gitignore\nsrc/lib.rs\nsrc/main.rs\nsub/.gitignore\nsub/kept.rs\n"
    );
    // A subdirectory still honours the root's .gitignore; paths stay root-relative.
    assert_eq!(
        ok(list_files(&w.ctx, &json!({"path": "src"}))),
        "src/lib.rs\nsrc/main.rs\n"
    );
    assert_eq!(
        ok(list_files(&w.ctx, &json!({"path": "src/"}))),
        "src/lib.rs\nsrc/main.rs\n"
    );
    // A file is listed as itself.
    assert_eq!(
        ok(list_files(&w.ctx, &json!({"path": "src/lib.rs"}))),
        "src/lib.rs\n"
    );
    assert!(err(list_files(&w.ctx, &json!({"path": "nope"}))).contains("`nope` does not exist"));
}

#[test]
fn list_files_glob_filters() {
    let w = ws();
    w.put("Cargo.toml", "");
    w.put("src/main.rs", "");
    w.put("src/tools/fs.rs", "");
    w.put("tests/t.rs", "");
    let list = |args: Value| ok(list_files(&w.ctx, &args));
    assert_eq!(
        list(json!({"glob": "*.rs"})),
        "src/main.rs\nsrc/tools/fs.rs\ntests/t.rs\n"
    );
    assert_eq!(list(json!({"glob": "src/*.rs"})), "src/main.rs\n");
    assert_eq!(
        list(json!({"glob": "src/**/*.rs"})),
        "src/main.rs\nsrc/tools/fs.rs\n"
    );
    assert_eq!(
        list(json!({"glob": "*.{toml,rs}", "path": "src"})),
        "src/main.rs\nsrc/tools/fs.rs\n"
    );
    // Relative to the listed directory as well as to the root.
    assert_eq!(
        list(json!({"glob": "tools/*.rs", "path": "src"})),
        "src/tools/fs.rs\n"
    );
    assert_eq!(list(json!({"glob": "!*.rs"})), "Cargo.toml\n");
    assert!(list(json!({"glob": "*.py"})).starts_with("no files matching `*.py`"));
    // An empty glob is no glob.
    assert_eq!(list(json!({"glob": "", "path": "tests"})), "tests/t.rs\n");
}

#[test]
fn list_files_caps_at_1000_entries_with_a_note() {
    let w = ws();
    for i in 0..1_050 {
        w.put(&format!("d/f{i:04}"), "");
    }
    let text = ok(list_files(&w.ctx, &json!({"path": "d"})));
    let entries: Vec<&str> = text.lines().filter(|l| !l.starts_with('[')).collect();
    assert_eq!(entries.len(), 1_000);
    assert_eq!(entries[0], "d/f0000");
    assert_eq!(entries[999], "d/f0999");
    assert!(
        text.contains("1000 of 1050 files listed; 50 more not listed"),
        "{}",
        &text[text.len() - 200..]
    );
}

#[test]
fn list_files_caps_output_bytes_with_a_note() {
    let mut w = ws();
    w.ctx.max_output_bytes = 1_000;
    for i in 0..300 {
        w.put(&format!("some/longer/directory/file_{i:03}.txt"), "");
    }
    let text = ok(list_files(&w.ctx, &json!({})));
    assert!(text.len() <= 1_000, "{}", text.len());
    let listed = text.lines().filter(|l| !l.starts_with('[')).count();
    assert!(listed > 5 && listed < 300);
    assert!(
        text.contains(&format!(
            "{listed} of 300 files listed; {} more not listed",
            300 - listed
        )),
        "{text}"
    );
}

// ---------------------------------------------------------------------------------------
// search

#[test]
fn search_finds_lines_honouring_gitignore_and_skipping_binaries() {
    let w = ws();
    w.put(".gitignore", "build/\n");
    w.put("src/a.rs", "fn alpha() {}\nlet x = 1;\nfn beta() {}\n");
    w.put("src/b.py", "def alpha():\n    pass\n");
    w.put("build/gen.rs", "fn alpha() {}\n");
    w.put("blob.bin", b"fn alpha\0\0\0");
    w.put("latin1.txt", b"fn alpha caf\xe9\n");
    let text = ok(search(&w.ctx, &json!({"pattern": r"fn \w+"})));
    assert_eq!(
        text,
        "latin1.txt:1: fn alpha caf\u{fffd}\nsrc/a.rs:1: fn alpha() {}\nsrc/a.rs:3: fn beta() {}\n"
    );
    assert_eq!(
        ok(search(&w.ctx, &json!({"pattern": "alpha", "glob": "*.py"}))),
        "src/b.py:1: def alpha():\n"
    );
    assert_eq!(
        ok(search(
            &w.ctx,
            &json!({"pattern": "alpha", "path": "src/b.py"})
        )),
        "src/b.py:1: def alpha():\n"
    );
    assert_eq!(
        ok(search(
            &w.ctx,
            &json!({"pattern": "(?i)LET", "path": "src"})
        )),
        "src/a.rs:2: let x = 1;\n"
    );
    assert!(ok(search(&w.ctx, &json!({"pattern": "gamma"}))).starts_with("no matches for `gamma`"));
    let e = err(search(&w.ctx, &json!({"pattern": "(unclosed"})));
    assert!(
        e.contains("`pattern` is not a valid regular expression") && e.contains("unclosed"),
        "{e}"
    );
}

#[test]
fn search_caps_at_200_matches_with_a_note() {
    let w = ws();
    let body: String = (1..=250).map(|i| format!("match {i}\n")).collect();
    w.put("many.txt", &body);
    w.put("more.txt", "match again\n");
    let text = ok(search(&w.ctx, &json!({"pattern": "match"})));
    let hits: Vec<&str> = text.lines().filter(|l| !l.starts_with('[')).collect();
    assert_eq!(hits.len(), 200);
    assert_eq!(hits[0], "many.txt:1: match 1");
    assert_eq!(hits[199], "many.txt:200: match 200");
    assert!(
        text.contains("200 of 251 matches shown; 51 more matched"),
        "{text}"
    );
}

#[test]
fn search_caps_output_bytes_with_a_note() {
    let mut w = ws();
    w.ctx.max_output_bytes = 1_000;
    let body: String = (1..=100)
        .map(|i| format!("a fairly long line that matches the needle, number {i}\n"))
        .collect();
    w.put("f.txt", &body);
    let text = ok(search(&w.ctx, &json!({"pattern": "needle"})));
    assert!(text.len() <= 1_000, "{}", text.len());
    let shown = text.lines().filter(|l| !l.starts_with('[')).count();
    assert!(shown > 3 && shown < 100);
    assert!(
        text.contains(&format!(
            "{shown} of 100 matches shown; {} more matched",
            100 - shown
        )),
        "{text}"
    );
}

// ---------------------------------------------------------------------------------------
// write_file

#[test]
fn write_file_creates_with_parents_and_records_the_change() {
    let w = ws();
    let out = write_file(
        &w.ctx,
        &json!({"path": "src/new/mod.rs", "content": "pub fn a() {}\npub fn b() {}\n"}),
    );
    assert_eq!(
        ok(out.clone()),
        "wrote src/new/mod.rs: 2 lines (+2 -0) (new file)"
    );
    assert_eq!(
        out.changes,
        vec![FileChange {
            path: w.root.join("src/new/mod.rs"),
            old: None,
            new: Some(b"pub fn a() {}\npub fn b() {}\n"[..].into()),
        }]
    );
    assert_eq!(w.get("src/new/mod.rs"), b"pub fn a() {}\npub fn b() {}\n");

    let out = write_file(
        &w.ctx,
        &json!({"path": "src/new/mod.rs", "content": "pub fn a() {}\npub fn c() {}\npub fn d() {}\n"}),
    );
    assert_eq!(ok(out.clone()), "wrote src/new/mod.rs: 3 lines (+2 -1)");
    assert_eq!(
        out.changes[0].old.as_deref(),
        Some(&b"pub fn a() {}\npub fn b() {}\n"[..])
    );
    assert_eq!(
        w.get("src/new/mod.rs"),
        b"pub fn a() {}\npub fn c() {}\npub fn d() {}\n"
    );

    // The same content again changes nothing.
    let out = write_file(
        &w.ctx,
        &json!({"path": "src/new/mod.rs", "content": "pub fn a() {}\npub fn c() {}\npub fn d() {}\n"}),
    );
    assert!(ok(out.clone()).contains("already has this content"));
    assert!(out.changes.is_empty());

    // An absolute path inside the workspace is fine; an empty file too.
    let abs = w.root.join("empty.txt");
    let out = write_file(
        &w.ctx,
        &json!({"path": abs.to_str().unwrap(), "content": ""}),
    );
    assert_eq!(ok(out), "wrote empty.txt: 0 lines (+0 -0) (new file)");
    assert_eq!(w.get("empty.txt"), b"");
}

#[test]
fn write_file_onto_a_directory_or_through_a_file_fails_cleanly() {
    let w = ws();
    w.put("src/a.rs", "x");
    assert!(
        err(write_file(&w.ctx, &json!({"path": "src", "content": "x"}))).contains("is a directory")
    );
    err(write_file(
        &w.ctx,
        &json!({"path": "src/a.rs/b.rs", "content": "x"}),
    ));
    err(write_file(&w.ctx, &json!({"path": ".", "content": "x"})));
    assert_eq!(w.get("src/a.rs"), b"x");
}

#[cfg(unix)]
#[test]
fn writes_keep_the_file_mode() {
    use std::os::unix::fs::PermissionsExt;
    let w = ws();
    w.put("run.sh", "#!/bin/sh\necho one\n");
    fs::set_permissions(w.root.join("run.sh"), fs::Permissions::from_mode(0o750)).unwrap();
    ok(write_file(
        &w.ctx,
        &json!({"path": "run.sh", "content": "#!/bin/sh\necho two\n"}),
    ));
    let mode = |p: &str| fs::metadata(w.root.join(p)).unwrap().permissions().mode() & 0o7777;
    assert_eq!(mode("run.sh"), 0o750);
    ok(edit_file(
        &w.ctx,
        &json!({"path": "run.sh", "old_string": "two", "new_string": "three"}),
    ));
    assert_eq!(mode("run.sh"), 0o750);
    assert_eq!(w.get("run.sh"), b"#!/bin/sh\necho three\n");
    w.put("ro.txt", "a\n");
    fs::set_permissions(w.root.join("ro.txt"), fs::Permissions::from_mode(0o604)).unwrap();
    write_atomic(&w.root.join("ro.txt"), b"b\n").unwrap();
    assert_eq!(mode("ro.txt"), 0o604);
    // No temporary files are left behind.
    let leftovers: Vec<_> = fs::read_dir(&w.root)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains(".cove-"))
        .collect();
    assert!(leftovers.is_empty());
}

// ---------------------------------------------------------------------------------------
// edit_file

#[test]
fn edit_file_replaces_exactly_once_and_records_the_change() {
    let w = ws();
    w.put(
        "src/a.rs",
        "fn main() {\n    let x = 1;\n    println!(\"{x}\");\n}\n",
    );
    let out = edit_file(
        &w.ctx,
        &json!({"path": "src/a.rs", "old_string": "    let x = 1;\n", "new_string": "    let x = 2;\n    let y = 3;\n"}),
    );
    assert_eq!(
        ok(out.clone()),
        "edited src/a.rs: replaced 1 occurrence (+2 -1)"
    );
    let new = b"fn main() {\n    let x = 2;\n    let y = 3;\n    println!(\"{x}\");\n}\n".to_vec();
    assert_eq!(w.get("src/a.rs"), new);
    assert_eq!(out.changes.len(), 1);
    assert_eq!(out.changes[0].path, w.root.join("src/a.rs"));
    assert_eq!(
        out.changes[0].old.as_deref(),
        Some(&b"fn main() {\n    let x = 1;\n    println!(\"{x}\");\n}\n"[..])
    );
    assert_eq!(out.changes[0].new.as_deref(), Some(&new[..]));
}

#[test]
fn edit_file_with_several_matches_says_where_and_writes_nothing() {
    let w = ws();
    let body = "a = 1\nb = 2\na = 1\nc = 3\na = 1\n";
    w.put("f.py", body);
    let e = err(edit_file(
        &w.ctx,
        &json!({"path": "f.py", "old_string": "a = 1", "new_string": "a = 9"}),
    ));
    assert!(
        e.contains("occurs 3 times") && e.contains("lines 1, 3, 5") && e.contains("replace_all"),
        "{e}"
    );
    assert_eq!(w.get("f.py"), body.as_bytes());
    let out = edit_file(
        &w.ctx,
        &json!({"path": "f.py", "old_string": "a = 1", "new_string": "a = 9", "replace_all": true}),
    );
    assert_eq!(ok(out), "edited f.py: replaced 3 occurrences (+3 -3)");
    assert_eq!(w.get("f.py"), b"a = 9\nb = 2\na = 9\nc = 3\na = 9\n");
}

#[test]
fn edit_file_with_no_match_helps_and_writes_nothing() {
    let w = ws();
    let body = "fn main() {\n    if ready {\n        go();\n    }\n}\n";
    w.put("m.rs", body);
    // Wrong indentation: pointed at the line.
    let e = err(edit_file(
        &w.ctx,
        &json!({"path": "m.rs", "old_string": "if ready {\n    go();\n}", "new_string": "x"}),
    ));
    assert!(
        e.contains("was not found") && e.contains("differs only in whitespace starts at line 2"),
        "{e}"
    );
    // Line numbers copied from read_file.
    let e = err(edit_file(
        &w.ctx,
        &json!({"path": "m.rs", "old_string": "   3│        go();", "new_string": "x"}),
    ));
    assert!(e.contains("line numbers") && e.contains("line 3"), "{e}");
    // Nothing like it.
    let e = err(edit_file(
        &w.ctx,
        &json!({"path": "m.rs", "old_string": "stop();", "new_string": "x"}),
    ));
    assert!(
        e.contains("was not found") && e.contains("Read the file again"),
        "{e}"
    );
    assert_eq!(w.get("m.rs"), body.as_bytes());
    // A file that does not exist, a directory, a binary file.
    assert!(
        err(edit_file(
            &w.ctx,
            &json!({"path": "nope.rs", "old_string": "a", "new_string": "b"})
        ))
        .contains("use write_file")
    );
    w.put("d/x", "");
    assert!(
        err(edit_file(
            &w.ctx,
            &json!({"path": "d", "old_string": "a", "new_string": "b"})
        ))
        .contains("is a directory")
    );
    w.put("b.bin", b"a\0b");
    assert!(
        err(edit_file(
            &w.ctx,
            &json!({"path": "b.bin", "old_string": "a", "new_string": "b"})
        ))
        .contains("binary")
    );
    assert_eq!(w.get("b.bin"), b"a\0b");
}

#[test]
fn edit_file_keeps_crlf_line_endings() {
    let w = ws();
    w.put("win.txt", "one\r\ntwo\r\nthree\r\n");
    ok(edit_file(
        &w.ctx,
        &json!({"path": "win.txt", "old_string": "one\ntwo\n", "new_string": "1\n2\n"}),
    ));
    assert_eq!(w.get("win.txt"), b"1\r\n2\r\nthree\r\n");
}

// ---------------------------------------------------------------------------------------
// preview

#[test]
fn preview_is_exactly_what_the_tool_then_does_and_writes_nothing() {
    let w = ws();
    w.put("a.txt", "x = 1\ny = 2\n");
    let edit = json!({"path": "a.txt", "old_string": "y = 2", "new_string": "y = 3"});
    let planned = preview(&w.ctx, "edit_file", &edit).unwrap();
    assert_eq!(w.get("a.txt"), b"x = 1\ny = 2\n");
    assert_eq!(planned[0].new.as_deref(), Some(&b"x = 1\ny = 3\n"[..]));
    assert_eq!(edit_file(&w.ctx, &edit).changes, planned);

    let write = json!({"path": "dir/b.txt", "content": "new\n"});
    let planned = preview(&w.ctx, "write_file", &write).unwrap();
    assert_eq!(
        planned,
        vec![FileChange {
            path: w.root.join("dir/b.txt"),
            old: None,
            new: Some(b"new\n"[..].into())
        }]
    );
    assert!(
        !w.root.join("dir").exists(),
        "preview creates no directories"
    );
    assert_eq!(write_file(&w.ctx, &write).changes, planned);

    // Errors are the tool's own errors.
    let bad = json!({"path": "a.txt", "old_string": "nope", "new_string": "x"});
    assert_eq!(
        preview(&w.ctx, "edit_file", &bad).unwrap_err(),
        edit_file(&w.ctx, &bad).text
    );
    assert!(preview(&w.ctx, "read_file", &json!({"path": "a.txt"})).is_err());
}

// ---------------------------------------------------------------------------------------
// Crash safety: a writer killed with SIGKILL never leaves a torn file.

const CRASH_SIZE: usize = 64 * 1024 * 1024;
const CRASH_ENV: &str = "COVE_TEST_CRASH_TARGET";

/// The child process of `write_atomic_never_tears_under_sigkill` (which re-runs this test
/// binary with the variable set): rewrites the target forever, alternating all-`B` and
/// all-`A` content, and marks `.ready` after the first complete write. In an ordinary
/// test run the variable is unset and it returns at once.
#[test]
fn crash_child_writer() {
    let Ok(target) = std::env::var(CRASH_ENV) else {
        return;
    };
    let target = PathBuf::from(target);
    let a = vec![b'A'; CRASH_SIZE];
    let b = vec![b'B'; CRASH_SIZE];
    for i in 0u64.. {
        write_atomic(&target, if i % 2 == 0 { &b } else { &a }).unwrap();
        if i == 0 {
            fs::write(target.with_extension("ready"), "").unwrap();
        }
    }
}

#[cfg(unix)]
#[test]
fn write_atomic_never_tears_under_sigkill() {
    use std::process::{Command, Stdio};
    use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

    // A real disk (not a tmpfs), so fsync and rename take real time.
    let dir = tempfile::Builder::new()
        .prefix("crash")
        .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .unwrap();
    let target = dir.path().join("big.dat");
    let ready = target.with_extension("ready");
    fs::write(&target, vec![b'A'; CRASH_SIZE]).unwrap();

    let mut seed = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        | 1;
    eprintln!("crash test seed {seed}");
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };

    let mut killed_mid_write = 0;
    for round in 0..6 {
        let _ = fs::remove_file(&ready);
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args([
                "crash_child_writer",
                "--exact",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CRASH_ENV, &target)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let start = Instant::now();
        while !ready.exists() {
            if let Some(status) = child.try_wait().unwrap() {
                panic!("the writer exited early: {status}");
            }
            assert!(
                start.elapsed() < Duration::from_secs(120),
                "the writer never finished a first write"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
        std::thread::sleep(Duration::from_millis(next() % 700));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();

        let data = fs::read(&target).unwrap();
        assert_eq!(
            data.len(),
            CRASH_SIZE,
            "round {round}: the file has the wrong length"
        );
        let first = data[0];
        assert!(
            first == b'A' || first == b'B',
            "round {round}: unexpected content"
        );
        assert!(
            data.iter().all(|&x| x == first),
            "round {round}: the file is torn (a mix of old and new)"
        );

        let temps: Vec<PathBuf> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| {
                p.file_name()
                    .is_some_and(|n| n.to_string_lossy().contains(".cove-"))
            })
            .collect();
        if !temps.is_empty() {
            killed_mid_write += 1;
        }
        for t in temps {
            fs::remove_file(t).unwrap();
        }
    }
    eprintln!("{killed_mid_write} of 6 kills interrupted a write");
    // Evidence the kills landed during writes, not only between them.
    assert!(
        killed_mid_write > 0,
        "no kill interrupted a write; the test proved nothing"
    );
}

#[test]
fn a_search_that_runs_out_of_time_answers_with_what_it_found() {
    let mut w = ws();
    for i in 0..20 {
        w.put(&format!("f{i:02}.txt"), "needle\n");
    }
    w.ctx.search_time_limit = std::time::Duration::ZERO;
    let text = ok(search(&w.ctx, &json!({"pattern": "needle"})));
    assert!(
        text.contains("[stopped after 0 s: 0 of 20 files searched"),
        "{text}"
    );
    w.ctx.search_time_limit = std::time::Duration::from_secs(30);
    let text = ok(search(&w.ctx, &json!({"pattern": "needle"})));
    assert!(!text.contains("stopped after"), "{text}");
}
