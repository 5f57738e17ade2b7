//! `apply_patch{patch}`: a unified diff over one or more files, all or nothing.
//!
//! Every file's new content is computed first (`preview`); only when every hunk of every
//! file applies is anything written (`apply_patch` = `preview` + write). Writes are atomic
//! per file; if one fails part-way, the files already written are put back.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::Value;

use super::context::json_kind as kind;
use super::context::{FileChange, ToolContext, ToolOutput};
use crate::domain::patch::{self, FilePatch};
use crate::domain::paths::{resolve_in_root, resolve_path};

/// One file as the patch leaves it, while the plan is computed.
struct Entry {
    /// The path as shown to the model (relative to the root).
    shown: String,
    abs: PathBuf,
    /// The bytes on disk before the patch (`None`: did not exist).
    original: Option<Arc<[u8]>>,
    /// The content after the hunks so far (`None`: does not exist).
    current: Option<String>,
    /// Whether the file on disk is executable (owner, group or other `x`).
    was_executable: bool,
    /// What the patch says the file's mode becomes (`None`: keep it).
    executable: Option<bool>,
}

struct Plan {
    entries: Vec<Entry>,
}

impl Plan {
    fn changes(&self) -> Vec<FileChange> {
        self.entries
            .iter()
            .filter(|e| e.original.as_deref() != e.current.as_deref().map(str::as_bytes))
            .map(|e| FileChange {
                path: e.abs.clone(),
                old: e.original.clone(),
                new: e.current.as_deref().map(|t| Arc::from(t.as_bytes())),
            })
            .collect()
    }

    fn summary(&self) -> Vec<String> {
        self.entries
            .iter()
            .filter(|e| e.original.as_deref() != e.current.as_deref().map(str::as_bytes))
            .map(|e| {
                let old = e
                    .original
                    .as_deref()
                    .map(String::from_utf8_lossy)
                    .unwrap_or_default();
                let new = e.current.as_deref().unwrap_or("");
                let (add, del) = counts(&old, new);
                match (&e.original, &e.current) {
                    (None, _) => format!("A {} +{add}", e.shown),
                    (_, None) => format!("D {} -{del}", e.shown),
                    _ => format!("M {} +{add} -{del}", e.shown),
                }
            })
            .collect()
    }
}

fn counts(old: &str, new: &str) -> (usize, usize) {
    let hunks = patch::diff_hunks(old, new, 0);
    (
        hunks.iter().map(|h| h.added()).sum(),
        hunks.iter().map(|h| h.removed()).sum(),
    )
}

/// The file changes the patch in `args` would make, without writing anything. The error
/// says what is wrong with the arguments, the paths, or each hunk that does not apply.
pub fn preview(ctx: &ToolContext, args: &Value) -> Result<Vec<FileChange>, String> {
    preview_parsed(ctx, &parse_args(args.clone())?)
}

/// [`preview`] with the arguments parsed.
pub fn preview_parsed(ctx: &ToolContext, args: &PatchArgs) -> Result<Vec<FileChange>, String> {
    plan(ctx, args).map(|p| p.changes())
}

/// `apply_patch`'s arguments: the diff, read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatchArgs {
    pub files: Vec<FilePatch>,
}

impl PatchArgs {
    /// Every old and new path the patch names, as written.
    pub fn paths(&self) -> Vec<String> {
        self.files
            .iter()
            .flat_map(|f| [f.old_path.clone(), f.new_path.clone()])
            .flatten()
            .collect()
    }
}

/// Reads `{patch}`: the errors say what is wrong with the argument or the diff.
pub fn parse_args(args: Value) -> Result<PatchArgs, String> {
    let text = patch_text(&args)?;
    let files = patch::parse(text).map_err(|e| format!("the patch could not be read: {e}"))?;
    Ok(PatchArgs { files })
}

/// Applies the patch in `args`: every file or none.
pub fn apply_patch(ctx: &ToolContext, args: &Value) -> ToolOutput {
    match parse_args(args.clone()) {
        Ok(a) => apply_parsed(ctx, &a),
        Err(e) => ToolOutput::error(e),
    }
}

/// [`apply_patch`] with the arguments parsed.
pub fn apply_parsed(ctx: &ToolContext, args: &PatchArgs) -> ToolOutput {
    let plan = match plan(ctx, args) {
        Ok(plan) => plan,
        Err(e) => return ToolOutput::error(e),
    };
    let changes = plan.changes();
    if changes.is_empty() {
        return ToolOutput::ok(
            "the patch applies but changes nothing (it holds only context lines)",
        );
    }
    if let Err(e) = write_all(ctx, &changes) {
        return ToolOutput::error(e);
    }
    if let Err(e) = set_modes(&plan) {
        return ToolOutput {
            text: format!("applied the patch, but: {e}"),
            is_error: true,
            changes,
        };
    }
    let mut text = format!(
        "applied the patch to {} file{}:\n",
        changes.len(),
        if changes.len() == 1 { "" } else { "s" }
    );
    text.push_str(&plan.summary().join("\n"));
    ToolOutput {
        text,
        is_error: false,
        changes,
    }
}

fn patch_text(args: &Value) -> Result<&str, String> {
    let Some(obj) = args.as_object() else {
        return Err("apply_patch needs a JSON object like {\"patch\": \"--- a/file\\n+++ b/file\\n@@ ...\"}".to_owned());
    };
    match obj.get("patch") {
        Some(Value::String(s)) if s.trim().is_empty() => Err("`patch` is empty; it must hold a unified diff".to_owned()),
        Some(Value::String(s)) => Ok(s),
        Some(other) => Err(format!("`patch` must be a string holding a unified diff, not {}", kind(other))),
        None => Err("apply_patch needs `patch`: a string holding a unified diff (--- a/PATH, +++ b/PATH, @@ hunks)".to_owned()),
    }
}

fn shown(ctx: &ToolContext, abs: &Path) -> String {
    abs.strip_prefix(&ctx.root)
        .unwrap_or(abs)
        .display()
        .to_string()
}

/// Finds (loading it on first use) the entry for `requested`.
fn entry<'a>(
    ctx: &ToolContext,
    entries: &'a mut Vec<Entry>,
    requested: &str,
) -> Result<&'a mut Entry, String> {
    let abs = resolve_in_root(&ctx.root, requested).map_err(|e| format!("`{requested}`: {e}"))?;
    if let Some(i) = entries.iter().position(|e| e.abs == abs) {
        return Ok(&mut entries[i]);
    }
    let mut was_executable = false;
    let original = match std::fs::symlink_metadata(&abs) {
        Ok(meta) if meta.is_dir() => {
            return Err(format!("`{requested}` is a directory, not a file"));
        }
        // a FIFO would block the read forever; a device or socket is no text file either
        Ok(meta) if !meta.is_file() => {
            return Err(format!(
                "`{requested}` is not a regular file (a FIFO, socket or device); apply_patch edits regular files only"
            ));
        }
        Ok(meta) => {
            use std::os::unix::fs::PermissionsExt;
            was_executable = meta.permissions().mode() & 0o111 != 0;
            let read = match super::files::editor_text(ctx, &abs) {
                Some(text) => Ok(text),
                None => {
                    std::fs::File::open(&abs).and_then(|mut f| super::on_disk::read_all(&mut f))
                }
            };
            Some(read.map_err(|e| format!("cannot read `{requested}`: {e}"))?)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(format!("cannot read `{requested}`: {e}")),
    };
    let current = match &original {
        None => None,
        Some(bytes) => Some(std::str::from_utf8(bytes).map(str::to_owned).map_err(|_| {
            format!("`{requested}` is not UTF-8 text; apply_patch only edits text files")
        })?),
    };
    entries.push(Entry {
        shown: shown(ctx, &abs),
        abs,
        original,
        current,
        was_executable,
        executable: None,
    });
    let last = entries.len() - 1;
    Ok(&mut entries[last])
}

fn exists(ctx: &ToolContext, entries: &mut Vec<Entry>, requested: &str) -> Result<bool, String> {
    Ok(entry(ctx, entries, requested)?.current.is_some())
}

/// Applies one file's hunks to `content`; the error lists each failing hunk.
fn apply_file(shown: &str, content: &str, fp: &FilePatch) -> Result<String, String> {
    patch::apply(content, &fp.hunks).map_err(|failures| {
        let mut msg = format!(
            "`{shown}`: {} of {} hunk{} did not apply:",
            failures.len(),
            fp.hunks.len(),
            if fp.hunks.len() == 1 { "" } else { "s" }
        );
        for f in failures {
            msg.push_str("\n  ");
            msg.push_str(&f.to_string().replace('\n', "\n  "));
        }
        msg
    })
}

/// Computes every file's new content, or every reason the patch cannot apply.
fn plan(ctx: &ToolContext, args: &PatchArgs) -> Result<Plan, String> {
    let files = &args.files;
    let mut entries: Vec<Entry> = Vec::new();
    let mut errors: Vec<String> = Vec::new();
    for fp in files {
        if let Err(e) = plan_file(ctx, &mut entries, fp) {
            errors.push(e);
        }
    }
    if errors.is_empty() {
        Ok(Plan { entries })
    } else {
        Err(format!(
            "the patch was not applied; nothing was written.\n{}",
            errors.join("\n")
        ))
    }
}

fn plan_file(ctx: &ToolContext, entries: &mut Vec<Entry>, fp: &FilePatch) -> Result<(), String> {
    match (fp.old_path.as_deref(), fp.new_path.as_deref()) {
        (None, None) => Err("a file section has /dev/null on both sides".to_owned()),
        (None, Some(new)) => {
            let e = entry(ctx, entries, new)?;
            if e.current.is_some() {
                return Err(format!(
                    "`{new}` already exists, but the patch creates it (--- /dev/null); to change it, use --- a/{new} and +++ b/{new} with context lines"
                ));
            }
            if fp.hunks.iter().any(|h| h.lines.iter().any(|l| l.in_old())) {
                return Err(format!(
                    "`{new}` is created (--- /dev/null), so its hunks may only add lines (+)"
                ));
            }
            let content = apply_file(&e.shown, "", fp)?;
            e.current = Some(content);
            e.executable = fp.executable;
            Ok(())
        }
        (Some(old), None) => {
            let e = entry(ctx, entries, old)?;
            let Some(current) = e.current.as_deref() else {
                return Err(format!("`{old}` does not exist, so it cannot be deleted"));
            };
            let rest = apply_file(&e.shown, current, fp)?;
            if !rest.is_empty() {
                let left = rest.lines().count();
                return Err(format!(
                    "`{old}` is deleted (+++ /dev/null), but the patch removes only part of it ({left} line{} would remain); a deletion must remove every line",
                    if left == 1 { "" } else { "s" }
                ));
            }
            e.current = None;
            Ok(())
        }
        (Some(old), Some(new)) => {
            let old_abs = resolve_in_root(&ctx.root, old).map_err(|e| format!("`{old}`: {e}"))?;
            let new_abs = resolve_in_root(&ctx.root, new).map_err(|e| format!("`{new}`: {e}"))?;
            let target = if old_abs == new_abs {
                old
            } else {
                // `--- file.orig` / `+++ file` (classic diff -u) or a rename.
                match (exists(ctx, entries, old)?, exists(ctx, entries, new)?) {
                    (_, true) => new,
                    (true, false) => return rename(ctx, entries, fp, old, new),
                    (false, false) => {
                        return Err(format!(
                            "neither `{old}` nor `{new}` exists; to create a file use --- /dev/null"
                        ));
                    }
                }
            };
            let e = entry(ctx, entries, target)?;
            let only_adds = !fp.hunks.is_empty()
                && fp.hunks.iter().all(|h| h.lines.iter().all(|l| !l.in_old()));
            let current = match e.current.as_deref() {
                Some(current) => current,
                // `--- a/new.rs` for a file that does not exist yet, with only added lines.
                None if only_adds => "",
                None => {
                    return Err(format!(
                        "`{target}` does not exist; to create it use --- /dev/null and +++ b/{target}"
                    ));
                }
            };
            let content = apply_file(&e.shown, current, fp)?;
            e.current = Some(content);
            if fp.executable.is_some() {
                e.executable = fp.executable;
            }
            Ok(())
        }
    }
}

fn rename(
    ctx: &ToolContext,
    entries: &mut Vec<Entry>,
    fp: &FilePatch,
    old: &str,
    new: &str,
) -> Result<(), String> {
    let e = entry(ctx, entries, old)?;
    let current = e.current.clone().unwrap_or_default();
    let content = apply_file(&e.shown, &current, fp)?;
    e.current = None;
    // a renamed file keeps its mode unless the patch gives a new one
    let executable = fp.executable.or(Some(e.was_executable));
    let target = entry(ctx, entries, new)?;
    target.current = Some(content);
    target.executable = executable;
    Ok(())
}

/// Gives each written file the mode the patch asked for (`new file mode 100755`, `new
/// mode`, a renamed executable): `x` where `r` is set, or `x` taken away.
fn set_modes(plan: &Plan) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt;
    for e in &plan.entries {
        let (Some(exec), Some(_)) = (e.executable, &e.current) else {
            continue;
        };
        let meta = std::fs::metadata(&e.abs).map_err(|err| format!("`{}`: {err}", e.shown))?;
        let mode = meta.permissions().mode();
        let wanted = if exec {
            mode | ((mode & 0o444) >> 2)
        } else {
            mode & !0o111
        };
        if wanted != mode {
            std::fs::set_permissions(&e.abs, std::fs::Permissions::from_mode(wanted))
                .map_err(|err| format!("`{}`: cannot set its mode: {err}", e.shown))?;
        }
    }
    Ok(())
}

/// Writes every change; on a failure, restores what was already written.
pub(crate) fn write_all(ctx: &ToolContext, changes: &[FileChange]) -> Result<(), String> {
    let mut done: Vec<&FileChange> = Vec::new();
    let mut created_dirs: Vec<PathBuf> = Vec::new();
    for change in changes {
        if let Err(e) = write_one(ctx, change, &mut created_dirs) {
            let mut msg = format!("could not write `{}`: {e}", shown(ctx, &change.path));
            let mut failed_restore = Vec::new();
            for prior in done.iter().rev() {
                let restored = match &prior.old {
                    Some(bytes) => super::files::write(ctx, &prior.path, bytes),
                    None => std::fs::remove_file(&prior.path),
                };
                if restored.is_err() {
                    failed_restore.push(shown(ctx, &prior.path));
                }
            }
            for dir in created_dirs.iter().rev() {
                let _ = std::fs::remove_dir(dir);
            }
            if failed_restore.is_empty() {
                msg.push_str("; the files already written were restored, so nothing changed");
            } else {
                msg.push_str(&format!(
                    "; could not restore {}",
                    failed_restore.join(", ")
                ));
            }
            return Err(msg);
        }
        done.push(change);
    }
    Ok(())
}

fn write_one(
    ctx: &ToolContext,
    change: &FileChange,
    created_dirs: &mut Vec<PathBuf>,
) -> std::io::Result<()> {
    let Some(bytes) = &change.new else {
        return std::fs::remove_file(&change.path);
    };
    if let Some(parent) = change.path.parent() {
        let mut missing = Vec::new();
        let mut p = parent;
        while !p.exists() {
            missing.push(p.to_path_buf());
            match p.parent() {
                Some(up) => p = up,
                None => break,
            }
        }
        if !missing.is_empty() {
            std::fs::create_dir_all(parent)?;
            created_dirs.extend(missing.into_iter().rev());
            // Check again now that the directories exist (a race could have put a symlink there).
            let shown = shown(ctx, &change.path);
            resolve_path(&ctx.root, &change.path, &shown)
                .map_err(|e| std::io::Error::other(e.to_string()))?;
        }
    }
    super::files::write(ctx, &change.path, bytes)
}
