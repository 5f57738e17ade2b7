use super::edit::*;
use super::*;

#[test]
fn line_capped_reading_keeps_memory_bounded() {
    let data = b"short\nlonger line here\n\nlast";
    let mut r = BufReader::with_capacity(4, &data[..]);
    let mut buf = Vec::new();
    assert_eq!(read_line_capped(&mut r, &mut buf, 100).unwrap(), Some(0));
    assert_eq!(buf, b"short");
    assert_eq!(read_line_capped(&mut r, &mut buf, 6).unwrap(), Some(10));
    assert_eq!(buf, b"longer");
    assert_eq!(read_line_capped(&mut r, &mut buf, 6).unwrap(), Some(0));
    assert_eq!(buf, b"");
    assert_eq!(read_line_capped(&mut r, &mut buf, 0).unwrap(), Some(4));
    assert_eq!(read_line_capped(&mut r, &mut buf, 6).unwrap(), None);
}

#[test]
fn loose_matches_ignore_whitespace_and_allow_partial_end_lines() {
    let file: Vec<String> = ["fn main() {", "    let x = foo( 1 );", "    bar();", "}"]
        .iter()
        .map(|l| squeeze(l))
        .collect();
    let want = |s: &str| s.lines().map(squeeze).collect::<Vec<_>>();
    assert_eq!(loose_match(&file, want("foo(1)")), Some(2));
    assert_eq!(
        loose_match(&file, want("let x = foo(1);\nbar();\n}")),
        Some(2)
    );
    assert_eq!(loose_match(&file, want("\n\nbar();\n\n")), Some(3));
    assert_eq!(loose_match(&file, want("baz()")), None);
    assert_eq!(loose_match(&file, want("  \n ")), None);
}

#[test]
fn line_number_prefixes_are_recognised() {
    assert_eq!(strip_line_number("  12│    let x = 1;"), "    let x = 1;");
    assert_eq!(strip_line_number("│x"), "│x");
    assert_eq!(strip_line_number("12 apples"), "12 apples");
}

#[test]
fn counting_helpers() {
    assert_eq!(count_lines(b""), 0);
    assert_eq!(count_lines(b"a"), 1);
    assert_eq!(count_lines(b"a\nb\n"), 2);
    assert_eq!(line_numbers(b"x\ny\nx\n\nx", &[0, 4, 8]), vec![1, 3, 5]);
    assert_eq!(diff_counts(b"a\nb\nc\n", b"a\nB\nc\nd\n"), (2, 1));
}

#[test]
fn integer_arguments_accept_whole_floats_only() {
    let v = serde_json::json!({"a": 3, "b": 3.0, "c": 3.5, "d": -1, "e": "3"});
    let mut a = crate::tools::args::Args::new("t", v).unwrap();
    assert_eq!(a.count("a").unwrap(), Some(3));
    assert_eq!(a.count("b").unwrap(), Some(3));
    assert!(
        a.count("c")
            .unwrap_err()
            .contains("`c` must be a non-negative integer")
    );
    assert!(
        a.count("d")
            .unwrap_err()
            .contains("`d` must be a non-negative integer")
    );
    assert!(
        a.count("e")
            .unwrap_err()
            .contains("`e` must be an integer, got a string")
    );
    assert_eq!(a.count("missing").unwrap(), None);
}
