//! The file tools: `read_file`, `list_files`, `search`, `write_file`, `edit_file`.
//!
//! Every path the model names goes through `domain::paths::resolve_in_root` first.
//! Arguments are untrusted: anything malformed is a `ToolOutput::error` naming the
//! argument and the type it should have. Writes are atomic (`atomic::write_atomic`), and
//! `write_file`/`edit_file` are exactly `preview` followed by the write, so the diff the
//! user approves is the change that is made.

use std::fs::{self, File};
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::time::Duration;

use ignore::WalkBuilder;
use ignore::overrides::{Override, OverrideBuilder};
use serde_json::{Map, Value};

use super::atomic::write_atomic;
use super::context::{FileChange, ToolContext, ToolOutput};
use crate::domain::paths::{resolve_in_root, resolve_path};

/// Lines `read_file` returns when the model gives no `limit`.
pub const DEFAULT_READ_LIMIT: u64 = 2_000;
/// Entries `list_files` returns at most.
pub const MAX_LIST_ENTRIES: usize = 1_000;
/// Matches `search` returns at most.
pub const MAX_SEARCH_MATCHES: usize = 200;
/// A file with a NUL byte in its first 8 KB is binary.
const BINARY_SNIFF: usize = 8 * 1024;
/// `read_file` cuts lines longer than this (minified code would otherwise fill the output).
const MAX_LINE_BYTES: usize = 2_000;
/// `search` shows at most this much of a matching line.
const MAX_MATCH_LINE_BYTES: usize = 300;
/// `search` skips files larger than this.
const MAX_SEARCH_FILE_BYTES: u64 = 16 * 1024 * 1024;
/// Room kept under `max_output_bytes` for the notes after the content.
const NOTE_RESERVE: usize = 300;

// ---------------------------------------------------------------------------------------
// read_file

/// `read_file{path, offset?, limit?}`: numbered lines (`  12│text`) from line `offset`
/// (1-based, default 1), at most `limit` of them (default 2,000) and at most
/// `ctx.max_output_bytes`, with a note on how to read the rest.
pub fn read_file(ctx: &ToolContext, args: &Value) -> ToolOutput {
    into_output(read_file_text(ctx, args))
}

fn read_file_text(ctx: &ToolContext, args: &Value) -> Result<String, String> {
    let a = Args::new("read_file", args)?;
    let path = a.string("path")?;
    let offset = a.count("offset")?.unwrap_or(1).max(1);
    let limit = match a.count("limit")? {
        Some(0) => return Err("read_file: `limit` must be at least 1".to_owned()),
        Some(n) => n,
        None => DEFAULT_READ_LIMIT,
    };
    let abs = resolve(ctx, path)?;
    let shown = relative(ctx, &abs);
    let mut file = open_regular(&abs, &shown)?;
    let read_err = |e: io::Error| format!("cannot read `{shown}`: {e}");

    let mut head = Vec::with_capacity(BINARY_SNIFF);
    (&mut file)
        .take(BINARY_SNIFF as u64)
        .read_to_end(&mut head)
        .map_err(read_err)?;
    if head.contains(&0) {
        return Err(format!(
            "`{shown}` looks like a binary file (it contains NUL bytes); read_file only shows text"
        ));
    }
    let mut reader = BufReader::new(io::Cursor::new(head).chain(file));

    let budget = ctx.max_output_bytes.saturating_sub(NOTE_RESERVE).max(200);
    let mut buf = Vec::new();
    let mut line_no: u64 = 0;
    let mut lines: Vec<(u64, String)> = Vec::new();
    let mut used = 0;
    let mut lossy = false;
    // The first line not shown, and whether the byte cap (not `limit`) stopped us.
    let mut stopped: Option<(u64, bool)> = None;
    loop {
        let cap = if line_no + 1 < offset || stopped.is_some() {
            0
        } else {
            MAX_LINE_BYTES
        };
        let Some(cut) = read_line_capped(&mut reader, &mut buf, cap).map_err(read_err)? else {
            break;
        };
        line_no += 1;
        if cap == 0 {
            continue;
        }
        if lines.len() as u64 >= limit {
            stopped = Some((line_no, false));
            continue;
        }
        if buf.last() == Some(&b'\r') {
            buf.pop();
        }
        let (mut text, bad) = decode(&buf, cut > 0);
        lossy |= bad;
        if cut > 0 {
            text.push_str(&format!(" … [line cut: {cut} more bytes]"));
        }
        let cost = text.len() + 8;
        if used + cost > budget {
            if !lines.is_empty() {
                stopped = Some((line_no, true));
                continue;
            }
            truncate_at_char(&mut text, budget.saturating_sub(40));
            text.push_str(" … [line cut at the output limit]");
        }
        used += cost;
        lines.push((line_no, text));
    }

    let total = line_no;
    if total == 0 {
        return Ok(format!("(`{shown}` is empty)"));
    }
    if offset > total {
        return Err(format!(
            "`offset` {offset} is past the end of `{shown}`, which has {total} lines"
        ));
    }
    let width = lines.last().map_or(1, |(n, _)| n.to_string().len()).max(4);
    let mut out = String::with_capacity(used + 200);
    for (n, text) in &lines {
        out.push_str(&format!("{n:>width$}│{text}\n"));
    }
    if lossy {
        out.push_str(&format!(
            "[note: `{shown}` is not valid UTF-8; undecodable bytes are shown as �]\n"
        ));
    }
    if let Some((next, by_bytes)) = stopped {
        let first = lines.first().map_or(offset, |(n, _)| *n);
        let why = if by_bytes {
            "the output limit was reached"
        } else {
            "the line limit was reached"
        };
        out.push_str(&format!(
            "[showed lines {first}-{} of {total}; {} more lines not shown because {why}. To read on, call read_file with offset={next}]\n",
            next - 1,
            total - next + 1,
        ));
    }
    Ok(out)
}

/// Reads one line (without its `\n`) into `buf`, keeping at most `cap` bytes. Returns
/// `None` at the end of the input, else how many bytes of the line did not fit.
fn read_line_capped<R: BufRead>(
    r: &mut R,
    buf: &mut Vec<u8>,
    cap: usize,
) -> io::Result<Option<usize>> {
    buf.clear();
    let mut cut = 0;
    let mut any = false;
    loop {
        let chunk = match r.fill_buf() {
            Ok(chunk) => chunk,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if chunk.is_empty() {
            return Ok(any.then_some(cut));
        }
        any = true;
        let (part, consumed, done) = match memchr::memchr(b'\n', chunk) {
            Some(i) => (&chunk[..i], i + 1, true),
            None => (chunk, chunk.len(), false),
        };
        let take = cap.saturating_sub(buf.len()).min(part.len());
        buf.extend_from_slice(&part[..take]);
        cut += part.len() - take;
        r.consume(consumed);
        if done {
            return Ok(Some(cut));
        }
    }
}

/// Decodes a line; `(text, had invalid bytes)`. A character split by a cut at the end is
/// dropped rather than counted as invalid.
fn decode(bytes: &[u8], was_cut: bool) -> (String, bool) {
    match std::str::from_utf8(bytes) {
        Ok(s) => (s.to_owned(), false),
        Err(e) if was_cut && e.error_len().is_none() => (
            String::from_utf8_lossy(&bytes[..e.valid_up_to()]).into_owned(),
            false,
        ),
        Err(_) => (String::from_utf8_lossy(bytes).into_owned(), true),
    }
}

fn truncate_at_char(s: &mut String, max: usize) {
    if s.len() > max {
        let mut end = max;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
    }
}

// ---------------------------------------------------------------------------------------
// list_files

/// `list_files{path?, glob?}`: the files under `path` (default the root) as sorted paths
/// relative to the root, honouring `.gitignore`, `.ignore` and `.git/info/exclude`.
/// Hidden files are listed as git would (`.github/`, `.gitignore`); `.git` is not.
pub fn list_files(ctx: &ToolContext, args: &Value) -> ToolOutput {
    into_output(list_files_text(ctx, args))
}

fn list_files_text(ctx: &ToolContext, args: &Value) -> Result<String, String> {
    let a = Args::new("list_files", args)?;
    let path = a
        .optional_string("path")?
        .filter(|p| !p.trim().is_empty())
        .unwrap_or(".");
    let glob = a.optional_string("glob")?.filter(|g| !g.trim().is_empty());
    let abs = resolve(ctx, path)?;
    let shown = relative(ctx, &abs);
    let filter = glob.map(GlobFilter::new).transpose()?;
    let walked = walk_files(ctx, &abs, &shown, filter.as_ref())?;
    let mut files: Vec<String> = walked.files.into_iter().map(|f| f.rel).collect();
    if files.is_empty() {
        let what = glob.map_or(String::new(), |g| format!(" matching `{g}`"));
        return Ok(format!(
            "no files{what} in `{shown}`\n{}",
            unreadable_note(walked.unreadable)
        ));
    }
    files.sort();
    let budget = ctx.max_output_bytes.saturating_sub(NOTE_RESERVE).max(200);
    let mut out = String::new();
    let mut listed = 0;
    for f in files.iter().take(MAX_LIST_ENTRIES) {
        if out.len() + f.len() + 1 > budget && listed > 0 {
            break;
        }
        out.push_str(f);
        out.push('\n');
        listed += 1;
    }
    if listed < files.len() {
        out.push_str(&format!(
            "[{listed} of {} files listed; {} more not listed. Narrow the listing with `path` or `glob`]\n",
            files.len(),
            files.len() - listed
        ));
    }
    out.push_str(&unreadable_note(walked.unreadable));
    Ok(out)
}

fn unreadable_note(n: usize) -> String {
    if n == 0 {
        String::new()
    } else {
        format!("[{n} entries could not be read]\n")
    }
}

struct Walked {
    /// Unsorted.
    files: Vec<Found>,
    unreadable: usize,
}

struct Found {
    /// Relative to the root, with `/` separators.
    rel: String,
    path: PathBuf,
    /// Not a symlink (`search` reads only these).
    regular: bool,
}

/// The files under `abs` (a directory or a single file), honouring ignore files and the
/// glob filter. Symlinks are not followed; a symlink to a file is listed but not marked
/// `regular`, so `search` never reads through it.
fn walk_files(
    ctx: &ToolContext,
    abs: &Path,
    shown: &str,
    filter: Option<&GlobFilter>,
) -> Result<Walked, String> {
    let meta = fs::metadata(abs).map_err(|e| match e.kind() {
        io::ErrorKind::NotFound => format!("`{shown}` does not exist"),
        _ => format!("cannot read `{shown}`: {e}"),
    })?;
    let mut walked = Walked {
        files: Vec::new(),
        unreadable: 0,
    };
    let keep = |rel_root: &str, path: &Path| match filter {
        None => true,
        Some(f) => {
            let rel_dir = path
                .strip_prefix(abs)
                .ok()
                .map(slashed)
                .filter(|r| !r.is_empty());
            f.keeps(rel_root, rel_dir.as_deref())
        }
    };
    if meta.is_file() {
        let rel = relative(ctx, abs);
        let name = abs
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if filter.is_none_or(|f| f.keeps(&rel, Some(&name))) {
            walked.files.push(Found {
                rel,
                path: abs.to_path_buf(),
                regular: true,
            });
        }
        return Ok(walked);
    }
    let walk = WalkBuilder::new(abs)
        .hidden(false)
        .git_ignore(true)
        .git_exclude(true)
        .git_global(true)
        .ignore(true)
        .parents(true)
        .require_git(false)
        .follow_links(false)
        .filter_entry(|e| e.file_name() != ".git")
        .build();
    for entry in walk {
        let Ok(entry) = entry else {
            walked.unreadable += 1;
            continue;
        };
        let Some(kind) = entry.file_type() else {
            continue;
        };
        let path = entry.path();
        let regular = kind.is_file();
        let symlink_to_file = kind.is_symlink() && !path.is_dir();
        if !regular && !symlink_to_file {
            continue;
        }
        let rel = relative(ctx, path);
        if keep(&rel, path) {
            walked.files.push(Found {
                rel,
                path: path.to_path_buf(),
                regular,
            });
        }
    }
    Ok(walked)
}

/// The `glob` argument: gitignore-style (`*.rs` matches at any depth, `src/*.rs` is
/// anchored), matched against the path relative to the root and to the listed
/// directory; a leading `!` excludes instead.
struct GlobFilter {
    matcher: Override,
    exclude: bool,
}

impl GlobFilter {
    fn new(glob: &str) -> Result<Self, String> {
        let glob = glob.trim();
        let mut builder = OverrideBuilder::new(".");
        builder
            .add(glob)
            .map_err(|e| format!("`glob` is not a valid glob pattern (`{glob}`): {e}"))?;
        let matcher = builder
            .build()
            .map_err(|e| format!("`glob` is not a valid glob pattern (`{glob}`): {e}"))?;
        Ok(GlobFilter {
            matcher,
            exclude: glob.starts_with('!'),
        })
    }

    fn keeps(&self, rel_root: &str, rel_dir: Option<&str>) -> bool {
        let candidates = std::iter::once(rel_root).chain(rel_dir);
        let mut matches = candidates.map(|p| self.matcher.matched(p, false));
        if self.exclude {
            !matches.any(|m| m.is_ignore())
        } else {
            matches.any(|m| m.is_whitelist())
        }
    }
}

// ---------------------------------------------------------------------------------------
// search

/// `search{pattern, path?, glob?}`: lines matching the regular expression, as
/// `path:line: text`, honouring `.gitignore`; binary files are skipped. At most 200
/// matches and `ctx.max_output_bytes`, with a note of how many more matched.
pub fn search(ctx: &ToolContext, args: &Value) -> ToolOutput {
    into_output(search_text(ctx, args))
}

fn search_text(ctx: &ToolContext, args: &Value) -> Result<String, String> {
    let a = Args::new("search", args)?;
    let pattern = a.string("pattern")?;
    if pattern.is_empty() {
        return Err("search: `pattern` is empty; give a regular expression to look for".to_owned());
    }
    let path = a
        .optional_string("path")?
        .filter(|p| !p.trim().is_empty())
        .unwrap_or(".");
    let glob = a.optional_string("glob")?.filter(|g| !g.trim().is_empty());
    let regex = regex::bytes::RegexBuilder::new(pattern)
        .size_limit(1 << 24)
        .build()
        .map_err(|e| format!("`pattern` is not a valid regular expression: {e}"))?;
    let abs = resolve(ctx, path)?;
    let shown = relative(ctx, &abs);
    let filter = glob.map(GlobFilter::new).transpose()?;
    let walked = walk_files(ctx, &abs, &shown, filter.as_ref())?;
    let mut files: Vec<(String, PathBuf)> = walked
        .files
        .into_iter()
        .filter(|f| f.regular)
        .map(|f| (f.rel, f.path))
        .collect();
    files.sort();

    let budget = ctx.max_output_bytes.saturating_sub(NOTE_RESERVE).max(200);
    let mut out = String::new();
    let (mut total, mut shown_matches, mut too_large, mut unreadable) =
        (0usize, 0usize, 0usize, walked.unreadable);
    let mut full = false;
    for (rel, p) in &files {
        if fs::metadata(p).is_ok_and(|m| m.len() > MAX_SEARCH_FILE_BYTES) {
            too_large += 1;
            continue;
        }
        let Ok(bytes) = fs::read(p) else {
            unreadable += 1;
            continue;
        };
        if bytes[..bytes.len().min(BINARY_SNIFF)].contains(&0) {
            continue;
        }
        for (i, line) in bytes.split(|&b| b == b'\n').enumerate() {
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            if !regex.is_match(line) {
                continue;
            }
            total += 1;
            if full || shown_matches >= MAX_SEARCH_MATCHES {
                continue;
            }
            let cut = line.len() > MAX_MATCH_LINE_BYTES;
            let (mut text, _) = decode(&line[..line.len().min(MAX_MATCH_LINE_BYTES)], cut);
            if cut {
                text.push_str(" …");
            }
            let entry = format!("{rel}:{}: {text}\n", i + 1);
            if out.len() + entry.len() > budget && shown_matches > 0 {
                full = true;
                continue;
            }
            out.push_str(&entry);
            shown_matches += 1;
        }
    }
    if total == 0 {
        let what = glob.map_or(String::new(), |g| format!(" (files matching `{g}`)"));
        out = format!("no matches for `{pattern}` in `{shown}`{what}\n");
    } else if shown_matches < total {
        out.push_str(&format!(
            "[{shown_matches} of {total} matches shown; {} more matched. Narrow the search with `path`, `glob` or a more specific pattern]\n",
            total - shown_matches
        ));
    }
    if too_large > 0 {
        out.push_str(&format!(
            "[{too_large} files larger than 16 MB were not searched]\n"
        ));
    }
    out.push_str(&unreadable_note(unreadable));
    Ok(out)
}

// ---------------------------------------------------------------------------------------
// write_file, edit_file, preview

/// `write_file{path, content}`: creates or replaces the file (and any missing parent
/// directories inside the root), atomically.
pub fn write_file(ctx: &ToolContext, args: &Value) -> ToolOutput {
    apply(ctx, plan_write(ctx, args))
}

/// `edit_file{path, old_string, new_string, replace_all?}`: replaces `old_string`, which
/// must occur exactly once unless `replace_all` is true. Nothing is written on error.
pub fn edit_file(ctx: &ToolContext, args: &Value) -> ToolOutput {
    apply(ctx, plan_edit(ctx, args))
}

/// What a `write_file` or `edit_file` call would change, without writing anything; the
/// error is the one the tool itself would return.
pub fn preview(ctx: &ToolContext, tool: &str, args: &Value) -> Result<Vec<FileChange>, String> {
    match tool {
        "write_file" => plan_write(ctx, args).map(|p| vec![p.change]),
        "edit_file" => plan_edit(ctx, args).map(|p| vec![p.change]),
        other => Err(format!(
            "`{other}` has no file preview (only write_file and edit_file do)"
        )),
    }
}

/// A computed change and the line the model sees once it is written.
struct Planned {
    change: FileChange,
    summary: String,
}

fn plan_write(ctx: &ToolContext, args: &Value) -> Result<Planned, String> {
    let a = Args::new("write_file", args)?;
    let path = a.string("path")?;
    let content = a.string("content")?;
    let abs = resolve(ctx, path)?;
    let shown = relative(ctx, &abs);
    let old = read_existing(&abs, &shown)?;
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
            new: Some(content.as_bytes().to_vec()),
        },
        summary,
    })
}

fn plan_edit(ctx: &ToolContext, args: &Value) -> Result<Planned, String> {
    let a = Args::new("edit_file", args)?;
    let path = a.string("path")?;
    let old_string = a.string("old_string")?;
    let new_string = a.string("new_string")?;
    let replace_all = a.boolean("replace_all")?.unwrap_or(false);
    if old_string.is_empty() {
        return Err("edit_file: `old_string` is empty; give the exact text to replace (to write a whole file, use write_file)".to_owned());
    }
    if old_string == new_string {
        return Err(
            "edit_file: `old_string` and `new_string` are the same; there is nothing to change"
                .to_owned(),
        );
    }
    let abs = resolve(ctx, path)?;
    let shown = relative(ctx, &abs);
    let Some(content) = read_existing(&abs, &shown)? else {
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
    let mut new = Vec::with_capacity(content.len() + positions.len() * replacement.len());
    let mut last = 0;
    for &p in &positions {
        new.extend_from_slice(&content[last..p]);
        new.extend_from_slice(replacement.as_bytes());
        last = p + needle.len();
    }
    new.extend_from_slice(&content[last..]);
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
        write_atomic(&change.path, bytes).map_err(|e| format!("cannot write `{shown}`: {e}"))
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
fn not_found_message(content: &[u8], old_string: &str, shown: &str) -> String {
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
fn loose_match(file: &[String], mut want: Vec<String>) -> Option<usize> {
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

fn squeeze(line: &str) -> String {
    line.chars().filter(|c| !c.is_whitespace()).collect()
}

/// `  12│text` -> `text`.
fn strip_line_number(line: &str) -> &str {
    let t = line.trim_start();
    let digits = t.len() - t.trim_start_matches(|c: char| c.is_ascii_digit()).len();
    match t[digits..].strip_prefix('│') {
        Some(rest) if digits > 0 => rest,
        _ => line,
    }
}

fn line_numbers(content: &[u8], positions: &[usize]) -> Vec<usize> {
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
fn diff_counts(old: &[u8], new: &[u8]) -> (usize, usize) {
    let (old, new) = (String::from_utf8_lossy(old), String::from_utf8_lossy(new));
    let diff = similar::TextDiff::configure()
        .timeout(Duration::from_secs(2))
        .diff_lines(old.as_ref(), new.as_ref());
    let (mut add, mut del) = (0, 0);
    for change in diff.iter_all_changes() {
        match change.tag() {
            similar::ChangeTag::Insert => add += 1,
            similar::ChangeTag::Delete => del += 1,
            similar::ChangeTag::Equal => {}
        }
    }
    (add, del)
}

fn count_lines(bytes: &[u8]) -> u64 {
    let newlines = memchr::memchr_iter(b'\n', bytes).count() as u64;
    newlines + u64::from(!bytes.is_empty() && !bytes.ends_with(b"\n"))
}

fn plural(n: u64) -> &'static str {
    if n == 1 { "" } else { "s" }
}

// ---------------------------------------------------------------------------------------
// shared helpers

fn into_output(result: Result<String, String>) -> ToolOutput {
    match result {
        Ok(text) => ToolOutput::ok(text),
        Err(e) => ToolOutput::error(e),
    }
}

fn resolve(ctx: &ToolContext, path: &str) -> Result<PathBuf, String> {
    resolve_in_root(&ctx.root, path).map_err(|e| e.to_string())
}

/// `path` relative to the root with `/` separators; `.` for the root itself.
fn relative(ctx: &ToolContext, path: &Path) -> String {
    match path.strip_prefix(&ctx.root) {
        Ok(rel) if rel.as_os_str().is_empty() => ".".to_owned(),
        Ok(rel) => slashed(rel),
        Err(_) => path.display().to_string(),
    }
}

fn slashed(rel: &Path) -> String {
    rel.components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

/// Opens an existing regular file for reading (not a directory, FIFO or device, which
/// could block or never end).
fn open_regular(abs: &Path, shown: &str) -> Result<File, String> {
    match fs::metadata(abs) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Err(format!("`{shown}` does not exist")),
        Err(e) => Err(format!("cannot read `{shown}`: {e}")),
        Ok(m) if m.is_dir() => Err(format!(
            "`{shown}` is a directory; use list_files to see what is in it"
        )),
        Ok(m) if !m.is_file() => Err(format!("`{shown}` is not a regular file")),
        Ok(_) => File::open(abs).map_err(|e| format!("cannot read `{shown}`: {e}")),
    }
}

/// The current content of a file about to be written, `None` if it does not exist.
fn read_existing(abs: &Path, shown: &str) -> Result<Option<Vec<u8>>, String> {
    if fs::symlink_metadata(abs).is_err_and(|e| e.kind() == io::ErrorKind::NotFound) {
        return Ok(None);
    }
    let mut bytes = Vec::new();
    open_regular(abs, shown)?
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read `{shown}`: {e}"))?;
    Ok(Some(bytes))
}

/// Typed access to the model's arguments, with errors that name the argument.
struct Args<'a> {
    tool: &'static str,
    map: &'a Map<String, Value>,
}

impl<'a> Args<'a> {
    fn new(tool: &'static str, args: &'a Value) -> Result<Self, String> {
        match args {
            Value::Object(map) => Ok(Args { tool, map }),
            other => Err(format!(
                "{tool}: the arguments must be a JSON object, got {}",
                kind(other)
            )),
        }
    }

    /// A present, non-null argument.
    fn get(&self, key: &str) -> Option<&'a Value> {
        self.map.get(key).filter(|v| !v.is_null())
    }

    fn string(&self, key: &str) -> Result<&'a str, String> {
        match self.get(key) {
            None => Err(format!("{}: `{key}` is required (a string)", self.tool)),
            Some(v) => self.as_str(key, v),
        }
    }

    fn optional_string(&self, key: &str) -> Result<Option<&'a str>, String> {
        self.get(key).map(|v| self.as_str(key, v)).transpose()
    }

    fn as_str(&self, key: &str, v: &'a Value) -> Result<&'a str, String> {
        v.as_str()
            .ok_or_else(|| format!("{}: `{key}` must be a string, got {}", self.tool, kind(v)))
    }

    /// A non-negative integer (`3` or `3.0`).
    fn count(&self, key: &str) -> Result<Option<u64>, String> {
        let Some(v) = self.get(key) else {
            return Ok(None);
        };
        let n = match v {
            Value::Number(n) => n.as_u64().or_else(|| {
                n.as_f64()
                    .filter(|f| f.fract() == 0.0 && *f >= 0.0 && *f < 1e15)
                    .map(|f| f as u64)
            }),
            _ => {
                return Err(format!(
                    "{}: `{key}` must be an integer, got {}",
                    self.tool,
                    kind(v)
                ));
            }
        };
        n.map(Some).ok_or_else(|| {
            format!(
                "{}: `{key}` must be a non-negative integer, got {v}",
                self.tool
            )
        })
    }

    fn boolean(&self, key: &str) -> Result<Option<bool>, String> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(v) => Err(format!(
                "{}: `{key}` must be true or false, got {}",
                self.tool,
                kind(v)
            )),
        }
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
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
        let a = Args::new("t", &v).unwrap();
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
}
