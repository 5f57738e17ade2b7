use super::*;
use proptest::prelude::*;

fn one(text: &str) -> FilePatch {
    let mut files = parse(text).unwrap();
    assert_eq!(files.len(), 1, "{files:?}");
    files.remove(0)
}

#[test]
fn parses_git_diff_with_several_files() {
    let text = "diff --git a/src/a.rs b/src/a.rs\nindex 123..456 100644\n--- a/src/a.rs\n+++ b/src/a.rs\n@@ -1,3 +1,3 @@ fn x\n one\n-two\n+TWO\n three\ndiff --git a/new.txt b/new.txt\nnew file mode 100644\n--- /dev/null\n+++ b/new.txt\n@@ -0,0 +1,2 @@\n+hello\n+world\n--- a/gone.txt\n+++ /dev/null\n@@ -1 +0,0 @@\n-bye\n";
    let files = parse(text).unwrap();
    assert_eq!(files.len(), 3);
    assert_eq!(files[0].old_path.as_deref(), Some("src/a.rs"));
    assert_eq!(files[0].new_path.as_deref(), Some("src/a.rs"));
    assert_eq!(files[0].hunks[0].old_start, 1);
    assert_eq!(files[0].hunks[0].header, "@@ -1,3 +1,3 @@ fn x");
    assert_eq!(files[0].hunks[0].lines[1], HunkLine::Remove("two".into()));
    assert_eq!(files[1].old_path, None);
    assert_eq!(files[1].new_path.as_deref(), Some("new.txt"));
    assert_eq!(files[1].hunks[0].added(), 2);
    assert_eq!(files[2].new_path, None);
    assert_eq!(files[2].hunks[0].removed(), 1);
}

#[test]
fn tolerates_missing_prefixes_wrong_counts_fences_and_stripped_blank_lines() {
    let text = "Here is the fix:\n```diff\n--- src/x.rs\n+++ src/x.rs\n@@ -10,2 +10,2 @@\n fn a() {\n-    1\n+    2\n\n }\n```\nThat should do it.\n";
    let f = one(text);
    assert_eq!(f.path(), "src/x.rs");
    let h = &f.hunks[0];
    assert_eq!(
        h.lines,
        vec![
            HunkLine::Context("fn a() {".into()),
            HunkLine::Remove("    1".into()),
            HunkLine::Add("    2".into()),
            HunkLine::Context(String::new()),
            HunkLine::Context("}".into()),
        ]
    );
    let old = "fn a() {\n    1\n\n}\n";
    assert_eq!(apply(old, &f.hunks).unwrap(), "fn a() {\n    2\n\n}\n");
}

#[test]
fn bare_hunk_headers_and_sql_comment_lines() {
    let f = one("--- a/q.sql\n+++ b/q.sql\n@@\n select 1;\n--- old comment\n+-- new comment\n");
    assert!(!f.hunks[0].has_line_numbers);
    assert_eq!(
        f.hunks[0].lines[1],
        HunkLine::Remove("-- old comment".into())
    );
    assert_eq!(
        apply("x\nselect 1;\n-- old comment\n", &f.hunks).unwrap(),
        "x\nselect 1;\n-- new comment\n"
    );
}

#[test]
fn parse_errors_are_specific() {
    assert_eq!(parse("just some prose"), Err(PatchError::NoFiles));
    assert_eq!(
        parse("@@ -1 +1 @@\n-a\n+b\n"),
        Err(PatchError::HunkWithoutFile { line: 1 })
    );
    assert_eq!(
        parse("--- /dev/null\n+++ /dev/null\n@@ -0,0 +1 @@\n+a\n"),
        Err(PatchError::BothDevNull { line: 1 })
    );
    assert!(matches!(
        parse("--- a/x\n+++ b/x\n@@ -1 +1 @@\n"),
        Err(PatchError::EmptyHunk { .. })
    ));
    assert!(matches!(
        parse("--- a/x\n+++ b/x\n"),
        Err(PatchError::NoHunks { .. })
    ));
    assert!(matches!(
        parse("--- a/x\n@@ -1 +1 @@\n-a\n+b\n"),
        Err(PatchError::MissingNewHeader { line: 1 })
    ));
}

#[test]
fn quoted_paths_and_timestamps() {
    let f = one(
        "--- \"a/d\\303\\244 x.txt\"\t2024-01-01 00:00:00\n+++ \"b/d\\303\\244 x.txt\"\n@@ -1 +1 @@\n-a\n+b\n",
    );
    assert_eq!(f.old_path.as_deref(), Some("d\u{e4} x.txt"));
    assert_eq!(f.new_path.as_deref(), Some("d\u{e4} x.txt"));
}

#[test]
fn git_empty_file_creation_and_deletion() {
    let files = parse("diff --git a/e b/e\nnew file mode 100644\nindex 0000000..e69de29\ndiff --git a/f b/f\ndeleted file mode 100644\n").unwrap();
    assert_eq!(
        files,
        vec![
            FilePatch {
                old_path: None,
                new_path: Some("e".into()),
                hunks: vec![],
                executable: Some(false),
            },
            FilePatch {
                old_path: Some("f".into()),
                new_path: None,
                hunks: vec![],
                executable: None,
            },
        ]
    );
}

#[test]
fn relocates_moved_hunks_and_tolerates_trailing_whitespace() {
    let f = one("--- a/f\n+++ b/f\n@@ -1,3 +1,3 @@\n b\n-c\n+C\n d\n");
    let old = "x\ny\nz\na\nb  \nc\nd\ne\n";
    assert_eq!(apply(old, &f.hunks).unwrap(), "x\ny\nz\na\nb  \nC\nd\ne\n");
}

#[test]
fn ambiguous_and_missing_hunks_fail_with_details() {
    let f = one(
        "--- a/f\n+++ b/f\n@@ -100,2 +100,2 @@\n x\n-y\n+Y\n@@ -200,2 +200,2 @@\n q\n-nothing\n+r\n",
    );
    let old = "x\ny\n1\n2\nx\ny\nq\nnothin\n";
    let err = apply(old, &f.hunks).unwrap_err();
    assert_eq!(err.len(), 2);
    assert_eq!(err[0].index, 0);
    assert_eq!(err[0].reason, FailureReason::Ambiguous(vec![1, 5]));
    assert_eq!(err[1].index, 1);
    assert_eq!(err[1].reason, FailureReason::NotFound);
    assert_eq!(err[1].expected, vec!["q", "nothing"]);
    assert_eq!(
        err[1].closest,
        Some((7, vec!["q".to_owned(), "nothin".to_owned()]))
    );
    let shown = err[1].to_string();
    assert!(shown.contains("hunk #2 `@@ -200,2 +200,2 @@`"), "{shown}");
    assert!(
        shown.contains("|nothing") && shown.contains("from line 7"),
        "{shown}"
    );
    // With a line number near one of them, the nearest wins.
    let near = one("--- a/f\n+++ b/f\n@@ -4,2 +4,2 @@\n x\n-y\n+Y\n");
    assert_eq!(
        apply(old, &near.hunks).unwrap(),
        "x\ny\n1\n2\nx\nY\nq\nnothin\n"
    );
}

#[test]
fn keeps_crlf_and_missing_final_newline() {
    let f = one("--- a/f\n+++ b/f\n@@ -1,2 +1,3 @@\n a\n+new\n b\n");
    assert_eq!(
        apply("a\r\nb\r\nc\r\n", &f.hunks).unwrap(),
        "a\r\nnew\r\nb\r\nc\r\n"
    );
    assert_eq!(apply("a\nb", &f.hunks).unwrap(), "a\nnew\nb");
    // A CRLF patch on an LF file.
    let g = one("--- a/f\r\n+++ b/f\r\n@@ -1,2 +1,2 @@\r\n a\r\n-b\r\n+B\r\n");
    assert_eq!(apply("a\nb\n", &g.hunks).unwrap(), "a\nB\n");
}

#[test]
fn no_newline_markers_change_the_final_newline() {
    let add = one("--- a/f\n+++ b/f\n@@ -1 +1,2 @@\n-a\n\\ No newline at end of file\n+a\n+b\n");
    assert_eq!(apply("a", &add.hunks).unwrap(), "a\nb\n");
    let drop = one("--- a/f\n+++ b/f\n@@ -1 +1 @@\n-a\n+a\n\\ No newline at end of file\n");
    assert_eq!(apply("a\n", &drop.hunks).unwrap(), "a");
}

#[test]
fn creation_and_deletion_against_empty_text() {
    let create = one("--- /dev/null\n+++ b/n\n@@ -0,0 +1,2 @@\n+x\n+y\n");
    assert_eq!(apply("", &create.hunks).unwrap(), "x\ny\n");
    let delete = one("--- a/n\n+++ /dev/null\n@@ -1,2 +0,0 @@\n-x\n-y\n");
    assert_eq!(apply("x\ny\n", &delete.hunks).unwrap(), "");
    // Without line numbers, an insertion into a non-empty file has no anchor.
    let bare = one("--- a/n\n+++ b/n\n@@\n+x\n");
    assert_eq!(
        apply("a\n", &bare.hunks).unwrap_err()[0].reason,
        FailureReason::NoAnchor
    );
}

#[test]
fn out_of_order_hunks_apply() {
    let f = one("--- a/f\n+++ b/f\n@@ -5,1 +5,1 @@\n-e\n+E\n@@ -1,1 +1,1 @@\n-a\n+A\n");
    assert_eq!(
        apply("a\nb\nc\nd\ne\n", &f.hunks).unwrap(),
        "A\nb\nc\nd\nE\n"
    );
}

#[test]
fn render_round_trips_through_parse() {
    let old = "a\nb\nc\nd\ne\nf\ng\nh\ni\nj";
    let new = "a\nB\nc\nd\ne\nf\ng\nh\ni\nj\nk\n";
    let patch = FilePatch {
        old_path: Some("x".into()),
        new_path: Some("x".into()),
        hunks: diff_hunks(old, new, 3),
        executable: None,
    };
    let text = render_file(&patch);
    assert!(text.contains("\\ No newline at end of file"), "{text}");
    let back = one(&text);
    assert_eq!(
        back.hunks
            .iter()
            .map(|h| h.lines.clone())
            .collect::<Vec<_>>(),
        patch
            .hunks
            .iter()
            .map(|h| h.lines.clone())
            .collect::<Vec<_>>()
    );
    assert_eq!(apply(old, &back.hunks).unwrap(), new);
}

fn text_strategy() -> impl Strategy<Value = String> {
    (
        prop::collection::vec(
            prop::sample::select(vec!["a", "b", "c", "fn x() {", "}", "", "    let y = 1;"]),
            0..30,
        ),
        any::<bool>(),
    )
        .prop_map(|(lines, final_newline)| {
            let mut s = lines.join("\n");
            if final_newline && !lines.is_empty() {
                s.push('\n');
            }
            s
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn applying_a_diff_gives_the_new_text(old in text_strategy(), new in text_strategy(), context in 0usize..4) {
        let hunks = diff_hunks(&old, &new, context);
        prop_assert_eq!(apply(&old, &hunks).unwrap(), new.clone());
        // And through the text form.
        let text = render_file(&FilePatch { old_path: Some("f".into()), new_path: Some("f".into()), hunks, executable: None });
        match parse(&text) {
            Ok(files) => prop_assert_eq!(apply(&old, &files[0].hunks).unwrap(), new),
            Err(e) => prop_assert!(old == new, "{e}: {text}"),
        }
    }

    #[test]
    fn crlf_files_stay_crlf(old in text_strategy(), new in text_strategy()) {
        // An empty or one-line file without a newline has no line ending to keep.
        prop_assume!(old.contains('\n'));
        let hunks = diff_hunks(&old, &new, 3);
        let crlf = |s: &str| s.replace('\n', "\r\n");
        prop_assert_eq!(apply(&crlf(&old), &hunks).unwrap(), crlf(&new));
    }

    #[test]
    fn a_mismatched_base_is_an_error(old in text_strategy(), new in text_strategy(), pick in any::<prop::sample::Index>()) {
        let hunks = diff_hunks(&old, &new, 3);
        let removed: Vec<&str> = hunks.iter().flat_map(|h| h.lines.iter()).filter_map(|l| match l { HunkLine::Remove(t) => Some(t.as_str()), _ => None }).collect();
        prop_assume!(!removed.is_empty());
        let victim = removed[pick.index(removed.len())];
        // Change every copy of that line, so no other place can match instead.
        let changed = format!("{victim}#changed");
        let mismatched: String = old.split_inclusive('\n').map(|l| {
            let (text, end) = l.strip_suffix('\n').map_or((l, ""), |t| (t, "\n"));
            if text == victim { format!("{changed}{end}") } else { l.to_owned() }
        }).collect();
        let failures = apply(&mismatched, &hunks).unwrap_err();
        prop_assert!(!failures.is_empty());
    }

    #[test]
    fn hunks_apply_in_any_order(old in text_strategy(), new in text_strategy(), seed in any::<u64>()) {
        // context 0: insertion hunks sit right at the lines other hunks change
        let mut hunks = diff_hunks(&old, &new, 0);
        let mut x = seed | 1;
        for i in (1..hunks.len()).rev() {
            x ^= x << 13; x ^= x >> 7; x ^= x << 17;
            hunks.swap(i, (x % (i as u64 + 1)) as usize);
        }
        prop_assert_eq!(apply(&old, &hunks).unwrap(), new);
    }

    #[test]
    fn an_insertion_at_every_position_beside_a_change(
        lines in prop::collection::vec("[a-z]{1,4}", 1..12),
        at in any::<prop::sample::Index>(),
        insertion_first in any::<bool>(),
    ) {
        let n = lines.len();
        let p = at.index(n);
        let old: String = lines.iter().map(|l| format!("{l}\n")).collect();
        // hunk 1 changes line p+1; hunk 2 inserts after line p (before line p+1)
        let change = Hunk {
            old_start: p + 1, new_start: p + 1, has_line_numbers: true,
            lines: vec![HunkLine::Remove(lines[p].clone()), HunkLine::Add("CHANGED".into())],
            ..Hunk::default()
        };
        let insert = Hunk {
            old_start: p, new_start: p + 1, has_line_numbers: true,
            lines: vec![HunkLine::Add("INSERTED".into())],
            ..Hunk::default()
        };
        let hunks = if insertion_first { vec![insert, change] } else { vec![change, insert] };
        let mut expected: Vec<String> = lines.clone();
        expected[p] = "CHANGED".into();
        expected.insert(p, "INSERTED".into());
        let expected: String = expected.iter().map(|l| format!("{l}\n")).collect();
        prop_assert_eq!(apply(&old, &hunks).unwrap(), expected);
    }

    #[test]
    fn arbitrary_patch_text_never_panics(
        text in prop::collection::vec(prop::sample::select(vec![
            "--- a/x", "+++ b/x", "--- /dev/null", "+++ /dev/null", "@@ -1,2 +1,3 @@", "@@", "@@ -0,0 +1 @@",
            "@@ -99999999999999999999999,1 +1 @@", " a", "-a", "+b", "", "\\ No newline at end of file",
            "diff --git a/x b/x", "new file mode 100644", "deleted file mode 100644", "b", "---", "+++", "-", "+", " ",
        ]), 0..40),
        base in text_strategy(),
        junk in ".{0,60}",
    ) {
        let mut text = text.join("\n");
        text.push_str(&junk);
        if let Ok(files) = parse(&text) {
            for f in files {
                let _ = apply(&base, &f.hunks);
                let _ = render_file(&f);
            }
        }
    }
}

#[test]
fn the_reported_crash_an_insertion_where_the_previous_hunk_starts() {
    let old = "1\n2\n3\n4\n5\n6\n";
    let text =
        "--- a/f\n+++ b/f\n@@ -4,2 +4,2 @@\n-4\n+four\n 5\n@@ -3,0 +4,1 @@\n+three-and-a-half\n";
    let files = parse(text).unwrap();
    assert_eq!(
        apply(old, &files[0].hunks).unwrap(),
        "1\n2\n3\nthree-and-a-half\nfour\n5\n6\n"
    );
}
