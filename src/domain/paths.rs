//! Path confinement: every path the model names is resolved inside the workspace root
//! before anything is read or written.
//!
//! The model is untrusted. A path is refused when it is empty, holds a NUL byte, is
//! absolute and outside the root, climbs out with `..`, or passes through a symlink
//! (anywhere, the last component included) whose target is outside the root. A path that
//! does not exist yet (a file to create) is accepted when its deepest existing ancestor
//! resolves inside the root and the missing components hold no `..`.
//!
//! Resolution walks the path one component at a time from the canonical root, the way
//! the kernel would, canonicalising each symlink it meets; so `link/..` means the parent
//! of the link's target, as it does for `open(2)`. This module reads the file system
//! (metadata and symlinks only) but changes nothing.

use std::io;
use std::path::{Component, Path, PathBuf};

/// Why a requested path was refused. Every message names the path as the model wrote it.
#[derive(Debug, thiserror::Error)]
pub enum PathError {
    #[error("the path is empty")]
    Empty,
    #[error("`{0}` contains a NUL byte")]
    Nul(String),
    #[error("`{0}` is outside the workspace")]
    Outside(String),
    #[error("`{path}` goes through the symlink `{link}`, which points outside the workspace")]
    SymlinkEscape { path: String, link: String },
    #[error("`{path}` goes through the symlink `{link}`, whose target does not exist")]
    DanglingSymlink { path: String, link: String },
    #[error("`{path}` uses `..` after `{missing}`, which does not exist")]
    ParentOfMissing { path: String, missing: String },
    #[error(
        "`{0}` starts with `~`, which is not expanded here: paths are relative to the workspace root (write `notes.md`, not `~/notes.md`); the home directory is outside the workspace"
    )]
    Tilde(String),
    #[error("cannot resolve `{path}`: {source}")]
    Io {
        path: String,
        #[source]
        source: io::Error,
    },
}

/// Resolves `requested` (relative to `root`, or absolute inside it) to an absolute path
/// inside `root`. `root` must be canonical (`std::fs::canonicalize`).
///
/// Existing parts of the result are canonical (symlinks inside the root are followed);
/// a missing tail is appended as written, minus `.` components.
pub fn resolve_in_root(root: &Path, requested: &str) -> Result<PathBuf, PathError> {
    if requested.trim().is_empty() {
        return Err(PathError::Empty);
    }
    if requested.contains('\0') {
        return Err(PathError::Nul(requested.replace('\0', "\\0")));
    }
    // `~/x` would otherwise create a directory named `~` in the workspace
    if requested.starts_with('~') {
        return Err(PathError::Tilde(requested.to_owned()));
    }
    resolve_path(root, Path::new(requested), requested)
}

/// [`resolve_in_root`] for a path that is already a `Path` (for instance one this
/// module returned, checked again after directories were created). `shown` names it in
/// errors.
pub fn resolve_path(root: &Path, requested: &Path, shown: &str) -> Result<PathBuf, PathError> {
    if requested.as_os_str().is_empty() {
        return Err(PathError::Empty);
    }
    if !requested.is_absolute() {
        return walk(root, root.to_path_buf(), requested, shown);
    }
    if let Ok(rest) = requested.strip_prefix(root) {
        return walk(root, root.to_path_buf(), rest, shown);
    }
    // An absolute path that does not start with the root's canonical spelling may still
    // name it through an alias (a symlinked home directory, say). Find the shortest
    // plain prefix that canonicalises into the root and walk the rest from there, so
    // every symlink after it is still checked.
    let mut prefix = PathBuf::new();
    let mut components = requested.components();
    for component in components.by_ref() {
        match component {
            Component::RootDir | Component::Prefix(_) | Component::Normal(_) => {
                prefix.push(component)
            }
            Component::CurDir | Component::ParentDir => break,
        }
        if let Ok(real) = prefix.canonicalize()
            && let Ok(inside) = real.strip_prefix(root)
        {
            let rest = inside.join(components.as_path());
            return walk(root, root.to_path_buf(), &rest, shown);
        }
    }
    Err(PathError::Outside(shown.to_owned()))
}

/// Walks `rel` component by component from `start` (canonical, inside `root`).
fn walk(root: &Path, start: PathBuf, rel: &Path, shown: &str) -> Result<PathBuf, PathError> {
    let mut current = start;
    // Set once a component does not exist: everything after it is appended as written.
    let mut missing: Option<PathBuf> = None;
    for component in rel.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                if let Some(missing) = &missing {
                    return Err(PathError::ParentOfMissing {
                        path: shown.to_owned(),
                        missing: display(root, missing),
                    });
                }
                if current == root || !current.starts_with(root) {
                    return Err(PathError::Outside(shown.to_owned()));
                }
                if !current.is_dir() {
                    let source = io::Error::new(
                        io::ErrorKind::NotADirectory,
                        format!("`{}` is not a directory", display(root, &current)),
                    );
                    return Err(PathError::Io {
                        path: shown.to_owned(),
                        source,
                    });
                }
                current.pop();
            }
            Component::Normal(name) => {
                let candidate = current.join(name);
                if missing.is_some() {
                    current = candidate;
                    continue;
                }
                match std::fs::symlink_metadata(&candidate) {
                    Ok(meta) if meta.file_type().is_symlink() => {
                        let link = display(root, &candidate);
                        let real = match candidate.canonicalize() {
                            Ok(real) => real,
                            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                                return Err(PathError::DanglingSymlink {
                                    path: shown.to_owned(),
                                    link,
                                });
                            }
                            Err(source) => {
                                return Err(PathError::Io {
                                    path: shown.to_owned(),
                                    source,
                                });
                            }
                        };
                        if !real.starts_with(root) {
                            return Err(PathError::SymlinkEscape {
                                path: shown.to_owned(),
                                link,
                            });
                        }
                        current = real;
                    }
                    Ok(_) => current = candidate,
                    Err(e) if e.kind() == io::ErrorKind::NotFound => {
                        missing = Some(candidate.clone());
                        current = candidate;
                    }
                    Err(source) => {
                        return Err(PathError::Io {
                            path: shown.to_owned(),
                            source,
                        });
                    }
                }
            }
            Component::RootDir | Component::Prefix(_) => {
                return Err(PathError::Outside(shown.to_owned()));
            }
        }
    }
    Ok(current)
}

/// `path` relative to `root` for messages (`.` for the root itself).
fn display(root: &Path, path: &Path) -> String {
    match path.strip_prefix(root) {
        Ok(rel) if rel.as_os_str().is_empty() => ".".to_owned(),
        Ok(rel) => rel.display().to_string(),
        Err(_) => path.display().to_string(),
    }
}

#[cfg(all(test, unix))]
mod tests;

/// A file-name-safe key for a workspace: its directory name and an FNV-1a hash of its
/// canonical path (stable across Rust versions, unlike `DefaultHasher`), e.g.
/// `cove-1a2b3c4d5e6f7081`. Input history and session journals are grouped by it.
pub fn workspace_key(workspace: &Path) -> String {
    let canonical = workspace
        .canonicalize()
        .unwrap_or_else(|_| workspace.to_owned());
    use std::os::unix::ffi::OsStrExt;
    let hash = canonical
        .as_os_str()
        .as_bytes()
        .iter()
        .fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        });
    let name: String = canonical
        .file_name()
        .map(|n| {
            n.to_string_lossy()
                .chars()
                .filter(|c| c.is_alphanumeric() || *c == '-' || *c == '_')
                .take(40)
                .collect()
        })
        .unwrap_or_default();
    format!("{name}-{hash:016x}")
}
