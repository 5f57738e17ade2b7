//! The workspace's file list for the `@` picker: every file under the root that git would
//! not ignore, as `/`-separated paths relative to the root, sorted.
//!
//! `.gitignore` (also outside a git repository), `.ignore`, `.git/info/exclude` and the
//! global git excludes are honoured; hidden files and directories (so `.git`) are skipped;
//! symbolic links are neither followed nor listed. Paths that are not UTF-8 are left out
//! (they could not be written into a message). The walk is parallel.

use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use ignore::{DirEntry, ParallelVisitor, ParallelVisitorBuilder, WalkBuilder, WalkState};

/// The files of a workspace.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FileIndex {
    /// Relative, `/`-separated, sorted.
    pub paths: Vec<String>,
    /// More than `limit` files were found; `paths` holds `limit` of them.
    pub truncated: bool,
}

/// Lists the files under `root`, at most `limit` of them. Unreadable directories and
/// entries are skipped; the result is empty when `root` cannot be read at all.
pub fn index(root: &Path, limit: usize) -> FileIndex {
    let found = Mutex::new(Vec::new());
    let count = AtomicUsize::new(0);
    let mut builder = Shared {
        root,
        limit,
        count: &count,
        found: &found,
    };
    walker(root).build_parallel().visit(&mut builder);
    let mut paths = found.into_inner().unwrap_or_else(|e| e.into_inner());
    let truncated = paths.len() > limit;
    if truncated {
        // which files made it is down to thread timing; keep the first `limit` by name
        paths.select_nth_unstable(limit);
        paths.truncate(limit);
    }
    paths.sort_unstable();
    FileIndex { paths, truncated }
}

fn walker(root: &Path) -> WalkBuilder {
    let mut b = WalkBuilder::new(root);
    b.hidden(true)
        .git_ignore(true)
        .git_exclude(true)
        .git_global(true)
        .ignore(true)
        .parents(true)
        .require_git(false)
        .follow_links(false)
        .filter_entry(|e| e.file_name() != ".git");
    b
}

/// The path of a regular file, relative to `root` with `/` separators.
fn relative(root: &Path, entry: &DirEntry) -> Option<String> {
    if !entry.file_type().is_some_and(|t| t.is_file()) {
        return None;
    }
    let rel = entry.path().strip_prefix(root).ok()?.to_str()?;
    if rel.is_empty() {
        return None;
    }
    Some(if std::path::MAIN_SEPARATOR == '/' {
        rel.to_owned()
    } else {
        rel.replace(std::path::MAIN_SEPARATOR, "/")
    })
}

/// What the walker threads share; also the builder of their visitors.
#[derive(Clone, Copy)]
struct Shared<'a> {
    root: &'a Path,
    limit: usize,
    /// Files found by all threads, to stop once past `limit`.
    count: &'a AtomicUsize,
    /// Where each thread leaves its files when it is done.
    found: &'a Mutex<Vec<String>>,
}

impl<'s> ParallelVisitorBuilder<'s> for Shared<'s> {
    fn build(&mut self) -> Box<dyn ParallelVisitor + 's> {
        Box::new(Visitor {
            shared: *self,
            paths: Vec::new(),
        })
    }
}

/// One walker thread: collects into its own list, hands it over when dropped.
struct Visitor<'a> {
    shared: Shared<'a>,
    paths: Vec<String>,
}

impl ParallelVisitor for Visitor<'_> {
    fn visit(&mut self, entry: Result<DirEntry, ignore::Error>) -> WalkState {
        let Ok(entry) = entry else {
            return WalkState::Continue;
        };
        let Some(path) = relative(self.shared.root, &entry) else {
            return WalkState::Continue;
        };
        self.paths.push(path);
        let seen = self.shared.count.fetch_add(1, Ordering::Relaxed);
        // one past the limit tells the caller that there were more
        if seen >= self.shared.limit {
            WalkState::Quit
        } else {
            WalkState::Continue
        }
    }
}

impl Drop for Visitor<'_> {
    fn drop(&mut self) {
        let mut found = self.shared.found.lock().unwrap_or_else(|e| e.into_inner());
        found.append(&mut self.paths);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn tree() -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path();
        for d in ["src/app", "target/debug", ".hidden", ".git/objects", "docs"] {
            fs::create_dir_all(root.join(d)).expect("mkdir");
        }
        for f in [
            "Cargo.toml",
            "src/main.rs",
            "src/app/mod.rs",
            "target/debug/cove",
            ".hidden/secret.txt",
            ".env",
            ".git/HEAD",
            ".git/objects/ab",
            "docs/notes.md",
            "docs/draft.log",
        ] {
            fs::write(root.join(f), "x").expect("write");
        }
        fs::write(root.join(".gitignore"), "target/\n*.log\n").expect("write");
        dir
    }

    #[test]
    fn ignored_hidden_and_git_are_absent() {
        let dir = tree();
        let idx = index(dir.path(), 1000);
        assert_eq!(
            idx,
            FileIndex {
                paths: vec![
                    "Cargo.toml".to_owned(),
                    "docs/notes.md".to_owned(),
                    "src/app/mod.rs".to_owned(),
                    "src/main.rs".to_owned(),
                ],
                truncated: false,
            }
        );
    }

    #[test]
    fn limit_truncates() {
        let dir = tree();
        let idx = index(dir.path(), 2);
        assert!(idx.truncated);
        assert_eq!(idx.paths.len(), 2);
        assert!(idx.paths.is_sorted());
        let exact = index(dir.path(), 4);
        assert!(!exact.truncated);
        assert_eq!(exact.paths.len(), 4);
        assert!(index(dir.path(), 0).paths.is_empty());
    }

    #[test]
    fn missing_root_is_empty() {
        let dir = tree();
        let idx = index(&dir.path().join("nope"), 10);
        assert_eq!(idx, FileIndex::default());
    }

    #[cfg(unix)]
    #[test]
    fn symlinks_are_not_followed() {
        let dir = tree();
        std::os::unix::fs::symlink(dir.path().join("src"), dir.path().join("link"))
            .expect("symlink");
        std::os::unix::fs::symlink(dir.path().join("Cargo.toml"), dir.path().join("c.toml"))
            .expect("symlink");
        let idx = index(dir.path(), 1000);
        assert!(
            idx.paths
                .iter()
                .all(|p| !p.starts_with("link") && p != "c.toml")
        );
    }
}
