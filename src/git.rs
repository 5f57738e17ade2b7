//! Git access through git2 (no `git` binary needed): status, diff, and committing the
//! files cove changed.

use std::path::{Path, PathBuf};

use git2::{DiffFormat, DiffOptions, Repository, Signature, StatusOptions};

#[derive(Debug, thiserror::Error)]
pub enum GitError {
    #[error("{0} is not inside a git repository")]
    NotARepo(String),
    #[error("git: {0}")]
    Git(#[from] git2::Error),
    #[error("{0}")]
    Other(String),
}

fn open(root: &Path) -> Result<Repository, GitError> {
    Repository::discover(root).map_err(|_| GitError::NotARepo(root.display().to_string()))
}

/// The repository that holds the workspace, and where the workspace sits in its work
/// tree. The repository may be an enclosing one (a home directory under git, a monorepo):
/// everything cove reads from it is confined to the workspace's part, so files beside
/// the workspace (`~/.ssh/id_rsa` in a home repository) are never listed or shown.
pub struct Confined {
    pub repo: Repository,
    /// The workspace relative to the work tree, `/`-separated, with a trailing `/`;
    /// empty when the workspace is the work tree.
    pub prefix: String,
}

impl Confined {
    pub fn open(root: &Path) -> Result<Confined, GitError> {
        let repo = open(root)?;
        let workdir = repo
            .workdir()
            .ok_or_else(|| GitError::Other("the repository has no work tree".into()))?;
        let workdir = workdir
            .canonicalize()
            .unwrap_or_else(|_| workdir.to_owned());
        let root = root.canonicalize().unwrap_or_else(|_| root.to_owned());
        let rel = root.strip_prefix(&workdir).map_err(|_| {
            GitError::Other(format!(
                "the workspace {} is not inside the repository's work tree {}",
                root.display(),
                workdir.display()
            ))
        })?;
        let mut prefix = rel.to_string_lossy().replace('\\', "/");
        if !prefix.is_empty() && !prefix.ends_with('/') {
            prefix.push('/');
        }
        Ok(Confined { repo, prefix })
    }

    /// `path` (relative to the work tree) relative to the workspace, when it is inside it.
    pub fn in_workspace<'a>(&self, path: &'a str) -> Option<&'a str> {
        path.strip_prefix(self.prefix.as_str())
    }

    /// Status entries inside the workspace, paths relative to it.
    pub fn statuses(&self) -> Result<Vec<(git2::Status, String)>, GitError> {
        let mut opts = StatusOptions::new();
        opts.include_untracked(true)
            .recurse_untracked_dirs(true)
            .include_ignored(false);
        if !self.prefix.is_empty() {
            opts.pathspec(&self.prefix);
        }
        let statuses = self.repo.statuses(Some(&mut opts))?;
        Ok(statuses
            .iter()
            .filter_map(|s| {
                let path = String::from_utf8_lossy(s.path_bytes()).into_owned();
                // the pathspec narrows; this makes sure
                self.in_workspace(&path)
                    .map(|rel| (s.status(), rel.to_owned()))
            })
            .collect())
    }
}

/// The current branch, or a note for a detached or unborn HEAD.
pub fn branch(root: &Path) -> Result<String, GitError> {
    let repo = open(root)?;
    Ok(match repo.head() {
        Ok(h) if h.is_branch() => h.shorthand().unwrap_or("(unnamed)").to_owned(),
        Ok(h) => format!(
            "(detached at {})",
            h.target()
                .map(|o| o.to_string()[..8].to_owned())
                .unwrap_or_default()
        ),
        Err(_) => "(no commits yet)".to_owned(),
    })
}

/// `git status --short` style lines for the workspace's part of the repository, with the
/// branch first. Paths are relative to the workspace.
pub fn status(root: &Path) -> Result<String, GitError> {
    let confined = Confined::open(root)?;
    let statuses = confined.statuses()?;
    let mut out = format!("branch {}\n", branch(root)?);
    if statuses.is_empty() {
        out.push_str("clean: nothing to commit\n");
        return Ok(out);
    }
    for (st, path) in statuses {
        let index = if st.is_index_new() {
            'A'
        } else if st.is_index_modified() {
            'M'
        } else if st.is_index_deleted() {
            'D'
        } else if st.is_index_renamed() {
            'R'
        } else {
            ' '
        };
        let work = if st.is_wt_new() {
            '?'
        } else if st.is_wt_modified() {
            'M'
        } else if st.is_wt_deleted() {
            'D'
        } else if st.is_wt_renamed() {
            'R'
        } else {
            ' '
        };
        let (index, work) = if st.is_wt_new() && index == ' ' {
            ('?', '?')
        } else {
            (index, work)
        };
        out.push_str(&format!("{index}{work} {path}\n"));
    }
    Ok(out)
}

/// Uncommitted changes (index and work tree against HEAD) inside the workspace as a
/// unified diff; `path` (relative to the workspace, resolved inside it) narrows it.
pub fn diff(root: &Path, path: Option<&str>) -> Result<String, GitError> {
    let confined = Confined::open(root)?;
    let repo = &confined.repo;
    let head_tree = repo.head().ok().and_then(|h| h.peel_to_tree().ok());
    let mut opts = DiffOptions::new();
    opts.include_untracked(true)
        .recurse_untracked_dirs(true)
        .show_untracked_content(true);
    // the workspace's part, or the file asked for inside it
    let mut scope = confined.prefix.clone();
    if let Some(p) = path.filter(|p| !p.trim().is_empty() && *p != ".") {
        let canonical_root = root.canonicalize().unwrap_or_else(|_| root.to_owned());
        let abs = crate::domain::paths::resolve_in_root(&canonical_root, p)
            .map_err(|e| GitError::Other(e.to_string()))?;
        let rel = abs
            .strip_prefix(&canonical_root)
            .map_err(|_| GitError::Other(format!("`{p}` is outside the workspace")))?;
        scope.push_str(&rel.to_string_lossy());
    }
    if !scope.is_empty() {
        opts.pathspec(&scope);
    }
    let diff = repo.diff_tree_to_workdir_with_index(head_tree.as_ref(), Some(&mut opts))?;
    let mut text = String::new();
    diff.print(DiffFormat::Patch, |delta, _, line| {
        // only files inside the workspace, whatever the pathspec matched
        let inside = [delta.old_file().path(), delta.new_file().path()]
            .into_iter()
            .flatten()
            .all(|p| p.to_string_lossy().starts_with(confined.prefix.as_str()));
        if !inside {
            return true;
        }
        let prefix = match line.origin() {
            '+' | '-' | ' ' => Some(line.origin()),
            _ => None,
        };
        if let Some(p) = prefix {
            text.push(p);
        }
        text.push_str(&String::from_utf8_lossy(line.content()));
        true
    })?;
    if text.is_empty() {
        text.push_str("no uncommitted changes\n");
    }
    Ok(text)
}

/// Commits exactly `paths` (relative to the repository's work tree, or absolute) with
/// `message`; files that no longer exist are recorded as deleted. Returns the short id.
pub fn commit(root: &Path, paths: &[PathBuf], message: &str) -> Result<String, GitError> {
    if message.trim().is_empty() {
        return Err(GitError::Other("the commit message is empty".into()));
    }
    if paths.is_empty() {
        return Err(GitError::Other(
            "cove changed no files in this turn: nothing to commit".into(),
        ));
    }
    let repo = open(root)?;
    let workdir = repo
        .workdir()
        .ok_or_else(|| GitError::Other("the repository has no work tree".into()))?
        .to_owned();
    let workdir = workdir.canonicalize().unwrap_or(workdir);
    // The commit is HEAD's tree plus exactly cove's files: whatever else the user has
    // staged stays staged and out of this commit.
    let parent = repo.head().ok().and_then(|h| h.peel_to_commit().ok());
    let mut tree_index = git2::Index::new()?;
    if let Some(c) = &parent {
        tree_index.read_tree(&c.tree()?)?;
    }
    let mut index = repo.index()?;
    for p in paths {
        let abs = if p.is_absolute() {
            p.clone()
        } else {
            root.join(p)
        };
        let rel = abs
            .strip_prefix(&workdir)
            .map_err(|_| GitError::Other(format!("{} is outside the repository", abs.display())))?
            .to_owned();
        if abs.exists() {
            index.add_path(&rel)?;
            let entry = index
                .get_path(&rel, 0)
                .ok_or_else(|| GitError::Other(format!("{} was not staged", rel.display())))?;
            tree_index.add(&entry)?;
        } else {
            let _ = index.remove_path(&rel);
            let _ = tree_index.remove_path(&rel);
        }
    }
    index.write()?;
    let tree = repo.find_tree(tree_index.write_tree_to(&repo)?)?;
    let sig = repo
        .signature()
        .or_else(|_| Signature::now("cove", "cove@localhost"))?;
    let parents: Vec<&git2::Commit> = parent.iter().collect();
    let oid = repo.commit(Some("HEAD"), &sig, &sig, message, &tree, &parents)?;
    Ok(oid.to_string()[..8].to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repo_with_file() -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path().canonicalize().expect("canonical");
        let repo = Repository::init(&root).expect("init");
        let mut cfg = repo.config().expect("config");
        cfg.set_str("user.name", "Test").expect("name");
        cfg.set_str("user.email", "t@example.invalid")
            .expect("email");
        std::fs::write(root.join("a.txt"), "one\n").expect("write");
        (dir, root)
    }

    #[test]
    fn status_diff_and_commit_of_changed_files_only() {
        let (_dir, root) = repo_with_file();
        assert!(branch(&root).expect("branch").contains("no commits"));
        let st = status(&root).expect("status");
        assert!(st.contains("?? a.txt"), "{st}");
        let id = commit(&root, &[PathBuf::from("a.txt")], "add a").expect("commit");
        assert_eq!(id.len(), 8);
        assert!(status(&root).expect("status").contains("clean"));
        std::fs::write(root.join("a.txt"), "one\ntwo\n").expect("write");
        std::fs::write(root.join("other.txt"), "not mine\n").expect("write");
        let d = diff(&root, Some("a.txt")).expect("diff");
        assert!(d.contains("+two"), "{d}");
        assert!(!d.contains("not mine"), "{d}");
        commit(&root, &[root.join("a.txt")], "change a").expect("commit");
        let st = status(&root).expect("status");
        assert!(
            !st.contains("a.txt") && st.contains("other.txt"),
            "only cove's file is committed: {st}"
        );
        // something the user staged is not swept into cove's commit
        std::fs::write(root.join("a.txt"), "one\ntwo\nthree\n").expect("write");
        let repo = Repository::open(&root).expect("open");
        let mut idx = repo.index().expect("index");
        idx.add_path(Path::new("other.txt")).expect("stage");
        idx.write().expect("write index");
        commit(&root, &[root.join("a.txt")], "change a again").expect("commit");
        let head = repo.head().unwrap().peel_to_tree().unwrap();
        assert!(
            head.get_path(Path::new("other.txt")).is_err(),
            "the user's staged file was committed"
        );
        let st = status(&root).expect("status");
        assert!(st.contains("other.txt") && !st.contains("a.txt"), "{st}");
        assert!(commit(&root, &[], "x").is_err());
        assert!(commit(&root, &[PathBuf::from("a.txt")], "  ").is_err());
    }

    #[test]
    fn an_enclosing_repository_is_confined_to_the_workspace() {
        // a home directory under git, the workspace a plain directory inside it
        let dir = tempfile::tempdir().expect("tempdir");
        let home = dir.path().canonicalize().expect("canonical");
        Repository::init(&home).expect("init");
        std::fs::create_dir_all(home.join(".ssh")).expect("mkdir");
        std::fs::write(home.join(".ssh/id_rsa"), "PRIVATE KEY\n").expect("write");
        std::fs::write(home.join("notes-beside.txt"), "secret\n").expect("write");
        let ws = home.join("proj");
        std::fs::create_dir_all(ws.join("src")).expect("mkdir");
        std::fs::write(ws.join("src/a.rs"), "fn a() {}\n").expect("write");
        let st = status(&ws).expect("status");
        assert!(st.contains("?? src/a.rs"), "{st}");
        assert!(
            !st.contains("id_rsa") && !st.contains("notes-beside"),
            "{st}"
        );
        let d = diff(&ws, None).expect("diff");
        assert!(d.contains("fn a()"), "{d}");
        assert!(!d.contains("PRIVATE KEY") && !d.contains("secret"), "{d}");
        for escape in ["../.ssh/id_rsa", "/etc/passwd", "../notes-beside.txt"] {
            let r = diff(&ws, Some(escape));
            assert!(
                r.as_ref()
                    .map_or(true, |t| !t.contains("PRIVATE") && !t.contains("secret")),
                "{escape}: {r:?}"
            );
            assert!(r.is_err(), "{escape}: {r:?}");
        }
        // a pathspec glob cannot reach out either
        let d = diff(&ws, Some("*")).expect("diff");
        assert!(!d.contains("PRIVATE KEY"), "{d}");
    }

    #[test]
    fn outside_a_repository_is_a_clear_error() {
        let dir = tempfile::tempdir().expect("tempdir");
        let err = status(dir.path()).expect_err("not a repo").to_string();
        assert!(err.contains("not inside a git repository"), "{err}");
    }
}
