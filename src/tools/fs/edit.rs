//! `write_file` and `edit_file`: planned as a preview, then written atomically.

use super::*;
use crate::tools::args::{self, EditArgs, WriteArgs};

// ---------------------------------------------------------------------------------------
// write_file, edit_file, preview

/// `write_file{path, content}`: creates or replaces the file (and any missing parent
/// directories inside the root), atomically.
pub fn write_file(ctx: &ToolContext, args: &Value) -> ToolOutput {
    apply(
        ctx,
        args::write(args.clone()).and_then(|a| plan_write(ctx, &a)),
    )
}

/// `edit_file{path, old_string, new_string, replace_all?}`: replaces `old_string`, which
/// must occur exactly once unless `replace_all` is true. Nothing is written on error.
pub fn edit_file(ctx: &ToolContext, args: &Value) -> ToolOutput {
    apply(
        ctx,
        args::edit(args.clone()).and_then(|a| plan_edit(ctx, &a)),
    )
}

/// What a `write_file` or `edit_file` call would change, without writing anything; the
/// error is the one the tool itself would return.
pub fn preview(ctx: &ToolContext, tool: &str, args: &Value) -> Result<Vec<FileChange>, String> {
    plan(ctx, tool, args).map(|p| vec![p.change])
}

/// The change a `write_file` or `edit_file` call would make and the text it would return;
/// `write_planned` then makes it.
pub fn plan(ctx: &ToolContext, tool: &str, args: &Value) -> Result<Planned, String> {
    match tool {
        "write_file" => plan_write(ctx, &args::write(args.clone())?),
        "edit_file" => plan_edit(ctx, &args::edit(args.clone())?),
        other => Err(format!(
            "`{other}` has no file preview (only write_file and edit_file do)"
        )),
    }
}

/// Writes a planned change as it is (an approved preview whose file has not changed since:
/// the checked bytes are written, nothing is read or computed again).
pub fn write_planned(ctx: &ToolContext, planned: Planned) -> ToolOutput {
    apply(ctx, Ok(planned))
}

/// A computed change and the line the model sees once it is written.
#[derive(Debug, Clone)]
pub struct Planned {
    pub change: FileChange,
    pub summary: String,
}

/// The change `write_file` would make.
pub fn plan_write(ctx: &ToolContext, a: &WriteArgs) -> Result<Planned, String> {
    let (path, content) = (a.path.as_str(), a.content.as_str());
    let abs = resolve(ctx, path)?;
    let shown = relative(ctx, &abs);
    let old = read_existing(ctx, &abs, &shown)?;
    let (add, del) = diff_counts(old.as_deref().unwrap_or_default(), content.as_bytes());
    let lines = count_lines(content.as_bytes());
    let summary = if old.as_deref() == Some(content.as_bytes()) {
        format!("`{shown}` already has this content; nothing was written")
    } else {
        let new_file = if old.is_none() { " (new file)" } else { "" };
        format!(
            "wrote {shown}: {lines} line{} (+{add} -{del}){new_file}",
            plural(lines)
        )
    };
    Ok(Planned {
        change: FileChange {
            path: abs,
            old,
            new: Some(Arc::from(content.as_bytes())),
        },
        summary,
    })
}

/// The change `edit_file` would make.
pub fn plan_edit(ctx: &ToolContext, a: &EditArgs) -> Result<Planned, String> {
    let (path, old_string, new_string, replace_all) = (
        a.path.as_str(),
        a.old_string.as_str(),
        a.new_string.as_str(),
        a.replace_all,
    );
    let abs = resolve(ctx, path)?;
    let shown = relative(ctx, &abs);
    let Some(content) = read_existing(ctx, &abs, &shown)? else {
        return Err(format!(
            "`{shown}` does not exist; to create it, use write_file"
        ));
    };
    if content[..content.len().min(BINARY_SNIFF)].contains(&0) {
        return Err(format!(
            "`{shown}` looks like a binary file (it contains NUL bytes); edit_file only edits text"
        ));
    }

    let mut needle = old_string.to_owned();
    let mut replacement = new_string.to_owned();
    let mut positions: Vec<usize> =
        memchr::memmem::find_iter(&content, needle.as_bytes()).collect();
    if positions.is_empty()
        && old_string.contains('\n')
        && !old_string.contains("\r\n")
        && memchr::memmem::find(&content, b"\r\n").is_some()
    {
        // A CRLF file edited with LF text: match and write in the file's line endings.
        let crlf = old_string.replace('\n', "\r\n");
        positions = memchr::memmem::find_iter(&content, crlf.as_bytes()).collect();
        if !positions.is_empty() {
            needle = crlf;
            replacement = new_string.replace("\r\n", "\n").replace('\n', "\r\n");
        }
    }
    match positions.len() {
        0 => return Err(not_found_message(&content, old_string, &shown)),
        1 => {}
        n if !replace_all => {
            let lines = line_numbers(&content, &positions);
            let mut list: Vec<String> = lines.iter().take(20).map(|l| l.to_string()).collect();
            if lines.len() > 20 {
                list.push("…".to_owned());
            }
            return Err(format!(
                "`old_string` occurs {n} times in `{shown}` (at lines {}). Include more of the surrounding lines so it matches exactly once, or set `replace_all` to true to replace every occurrence. Nothing was changed.",
                list.join(", ")
            ));
        }
        _ => {}
    }
    let mut pieces: Vec<&[u8]> = Vec::with_capacity(positions.len() * 2 + 1);
    let mut last = 0;
    for &p in &positions {
        pieces.push(&content[last..p]);
        pieces.push(replacement.as_bytes());
        last = p + needle.len();
    }
    pieces.push(&content[last..]);
    // built in place: the old and the new text are the only copies of the file
    let new = crate::domain::shared::concat(&pieces);
    drop(pieces);
    let (add, del) = diff_counts(&content, &new);
    let n = positions.len();
    let summary = format!(
        "edited {shown}: replaced {n} occurrence{} (+{add} -{del})",
        plural(n as u64)
    );
    Ok(Planned {
        change: FileChange {
            path: abs,
            old: Some(content),
            new: Some(new),
        },
        summary,
    })
}

/// Writes a planned change: missing parent directories are created (and removed again if
/// the write fails), the path is checked again, then the file is replaced atomically.
fn apply(ctx: &ToolContext, planned: Result<Planned, String>) -> ToolOutput {
    let planned = match planned {
        Ok(p) => p,
        Err(e) => return ToolOutput::error(e),
    };
    let change = &planned.change;
    if change.old == change.new {
        return ToolOutput::ok(planned.summary);
    }
    let shown = relative(ctx, &change.path);
    let Some(parent) = change.path.parent() else {
        return ToolOutput::error(format!(
            "cannot write `{shown}`: it has no parent directory"
        ));
    };
    let created: Vec<PathBuf> = parent
        .ancestors()
        .take_while(|d| !d.exists())
        .map(Path::to_path_buf)
        .collect();
    let result = (|| {
        if !created.is_empty() {
            fs::create_dir_all(parent)
                .map_err(|e| format!("cannot create the directories for `{shown}`: {e}"))?;
            // Nothing may have swapped a directory for a symlink between the check and now.
            match resolve_path(&ctx.root, &change.path, &shown) {
                Ok(p) if p == change.path => {}
                Ok(_) => {
                    return Err(format!(
                        "`{shown}` changed while it was being written; nothing was written"
                    ));
                }
                Err(e) => return Err(e.to_string()),
            }
        }
        let bytes = change.new.as_deref().unwrap_or_default();
        super::super::files::write(ctx, &change.path, bytes)
            .map_err(|e| format!("cannot write `{shown}`: {e}"))
    })();
    match result {
        Ok(()) => ToolOutput {
            text: planned.summary,
            is_error: false,
            changes: vec![planned.change],
        },
        Err(e) => {
            for dir in &created {
                let _ = fs::remove_dir(dir);
            }
            ToolOutput::error(e)
        }
    }
}

/// The error for an `old_string` that is not in the file, with a pointer to a match that
/// differs only in whitespace (or line-number prefixes copied from read_file) if any.
pub(super) fn not_found_message(content: &[u8], old_string: &str, shown: &str) -> String {
    let base = format!("`old_string` was not found in `{shown}`; nothing was changed.");
    let text = String::from_utf8_lossy(content);
    let file_lines: Vec<String> = text.lines().map(squeeze).collect();
    if let Some(line) = loose_match(&file_lines, old_string.lines().map(squeeze).collect()) {
        return format!(
            "{base} Text that differs only in whitespace starts at line {line}; copy it exactly (read_file shows it), including indentation."
        );
    }
    let stripped: Vec<&str> = old_string.lines().map(strip_line_number).collect();
    if stripped
        .iter()
        .zip(old_string.lines())
        .any(|(s, o)| s.len() != o.len())
        && let Some(line) = loose_match(&file_lines, stripped.into_iter().map(squeeze).collect())
    {
        return format!(
            "{base} It seems to include the line numbers that read_file shows; leave them out. The text starts at line {line}."
        );
    }
    format!("{base} Read the file again to get its exact current text.")
}

/// The 1-based line where `want` (lines with whitespace removed) matches the file: the
/// first wanted line may be the end of a file line, the last the start of one.
pub(super) fn loose_match(file: &[String], mut want: Vec<String>) -> Option<usize> {
    while want.last().is_some_and(String::is_empty) {
        want.pop();
    }
    let lead = want.iter().take_while(|l| l.is_empty()).count();
    want.drain(..lead);
    if want.is_empty() || want.len() > file.len() {
        return None;
    }
    let k = want.len();
    (0..=file.len() - k)
        .find(|&i| {
            (0..k).all(|j| {
                let (f, w) = (&file[i + j], &want[j]);
                match (j == 0, j == k - 1) {
                    (true, true) => f.contains(w.as_str()),
                    (true, false) => f.ends_with(w.as_str()),
                    (false, true) => f.starts_with(w.as_str()),
                    (false, false) => f == w,
                }
            })
        })
        .map(|i| i + 1)
}

pub(super) fn squeeze(line: &str) -> String {
    line.chars().filter(|c| !c.is_whitespace()).collect()
}

/// `  12│text` -> `text`.
pub(super) fn strip_line_number(line: &str) -> &str {
    let t = line.trim_start();
    let digits = t.len() - t.trim_start_matches(|c: char| c.is_ascii_digit()).len();
    match t[digits..].strip_prefix('│') {
        Some(rest) if digits > 0 => rest,
        _ => line,
    }
}

pub(super) fn line_numbers(content: &[u8], positions: &[usize]) -> Vec<usize> {
    let mut line = 1;
    let mut from = 0;
    positions
        .iter()
        .map(|&p| {
            line += memchr::memchr_iter(b'\n', &content[from..p]).count();
            from = p;
            line
        })
        .collect()
}

/// Lines added and removed, as a line diff shows them.
pub(super) fn diff_counts(old: &[u8], new: &[u8]) -> (usize, usize) {
    crate::domain::patch::line_counts(&String::from_utf8_lossy(old), &String::from_utf8_lossy(new))
}

pub(super) fn count_lines(bytes: &[u8]) -> u64 {
    let newlines = memchr::memchr_iter(b'\n', bytes).count() as u64;
    newlines + u64::from(!bytes.is_empty() && !bytes.ends_with(b"\n"))
}

pub(super) fn plural(n: u64) -> &'static str {
    if n == 1 { "" } else { "s" }
}
