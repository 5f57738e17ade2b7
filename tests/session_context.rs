//! `session::context` through its public API: the git summary, the git line of the
//! project context and the change note.

use std::fs;
use std::path::{Path, PathBuf};

use cove::session::context::{build, git_change_note, git_summary};
use git2::Repository;

fn dir() -> (tempfile::TempDir, PathBuf) {
    let t = tempfile::tempdir().expect("tempdir");
    let root = t.path().canonicalize().expect("canonical");
    (t, root)
}

fn write(root: &Path, rel: &str, content: &str) {
    let p = root.join(rel);
    if let Some(parent) = p.parent() {
        fs::create_dir_all(parent).expect("mkdir");
    }
    fs::write(p, content).expect("write");
}

fn commit_all(repo: &Repository, files: &[&str]) {
    let mut index = repo.index().expect("index");
    for f in files {
        index.add_path(Path::new(f)).expect("add");
    }
    index.write().expect("write index");
    let tree = repo
        .find_tree(index.write_tree().expect("tree"))
        .expect("tree");
    let sig = git2::Signature::now("t", "t@example.com").expect("sig");
    repo.commit(Some("HEAD"), &sig, &sig, "init", &tree, &[])
        .expect("commit");
}

#[test]
fn git_branch_and_status_appear() {
    let (_t, root) = dir();
    let repo = Repository::init_opts(
        &root,
        git2::RepositoryInitOptions::new().initial_head("main"),
    )
    .expect("init");
    write(&root, "a.txt", "one\n");
    write(&root, ".gitignore", "*.log\n");
    commit_all(&repo, &["a.txt", ".gitignore"]);
    assert_eq!(git_summary(&root).as_deref(), Some("branch main · clean"));

    write(&root, "a.txt", "two\n");
    write(&root, "notes/new.txt", "x");
    write(&root, "debug.log", "x");
    let summary = git_summary(&root);
    assert_eq!(
        summary.as_deref(),
        Some("branch main · 1 modified, 1 untracked (a.txt, notes/new.txt)")
    );
    let ctx = build(&root, 800, true);
    assert_eq!(ctx.git, summary);
    assert!(
        ctx.text
            .contains("\nGit: branch main · 1 modified, 1 untracked (a.txt, notes/new.txt)\n")
    );
    assert_eq!(build(&root, 800, false).git, None);
    assert!(!build(&root, 800, false).text.contains("Git:"));
}

#[test]
fn git_summary_is_bounded() {
    let (_t, root) = dir();
    Repository::init(&root).expect("init");
    for i in 0..40 {
        write(&root, &format!("{}{i}.txt", "long-name-".repeat(5)), "x");
    }
    let s = git_summary(&root).expect("summary");
    assert!(s.len() <= 300, "{s}");
    assert!(s.contains("40 untracked ("), "{s}");
    assert!(s.ends_with(", …)"), "{s}");
}

#[test]
fn not_a_repo_has_no_git_line() {
    let (_t, root) = dir();
    write(&root, "a.txt", "x");
    if Repository::discover(&root).is_ok() {
        return; // the temp dir itself lives in a repository
    }
    assert_eq!(git_summary(&root), None);
    let ctx = build(&root, 800, true);
    assert_eq!(ctx.git, None);
    assert!(!ctx.text.contains("Git:"));
}

#[test]
fn git_change_note_only_on_change() {
    assert_eq!(git_change_note(None, None), None);
    assert_eq!(
        git_change_note(Some("branch main · clean"), Some("branch main · clean")),
        None
    );
    let note = git_change_note(Some("branch main · clean"), Some("branch dev · clean"));
    assert_eq!(
        note.as_deref(),
        Some(
            "(Note from cove: the git state changed outside this conversation; it is now: branch dev · clean)"
        )
    );
    assert!(git_change_note(Some("branch main · clean"), None).is_some());
}
