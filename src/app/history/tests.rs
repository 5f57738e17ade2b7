use super::*;

#[test]
fn walks_back_and_forth_and_restores_the_draft() {
    let mut h = InputHistory::new(vec!["one".into(), "two\nlines".into()]);
    assert_eq!(h.older("draft").as_deref(), Some("two\nlines"));
    assert_eq!(h.older("").as_deref(), Some("one"));
    assert_eq!(h.older(""), None);
    assert_eq!(h.newer().as_deref(), Some("two\nlines"));
    assert_eq!(h.newer().as_deref(), Some("draft"));
    assert_eq!(h.newer(), None);
    h.push("two\nlines");
    assert_eq!(h.entries().len(), 2, "a repeat is not recorded");
}

#[test]
fn persists_multiline_entries_and_skips_damage() {
    let dir = tempfile::tempdir().unwrap();
    let path = history_path(dir.path(), dir.path());
    append(&path, "first").unwrap();
    append(&path, "multi\nline \"quoted\"").unwrap();
    std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .unwrap()
        .write_all(b"{torn")
        .unwrap();
    assert_eq!(
        load(&path),
        vec!["first".to_string(), "multi\nline \"quoted\"".to_string()]
    );
}

#[test]
fn the_history_file_name_is_stable_across_builds() {
    // FNV-1a of the path: the same name from every cove version, so history is not lost
    let p = history_path(Path::new("/state"), Path::new("/nonexistent/my proj"));
    assert_eq!(p, Path::new("/state/history/myproj-653781f9423961cb.jsonl"));
}
