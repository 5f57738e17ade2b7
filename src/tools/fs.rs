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
use std::sync::Arc;

use ignore::WalkBuilder;
use ignore::overrides::{Override, OverrideBuilder};
use serde_json::Value;

use super::args::{self, ListArgs, ReadArgs, SearchArgs};
use super::context::{FileChange, ToolContext, ToolOutput};
use crate::domain::paths::{resolve_in_root, resolve_path};

/// Lines `read_file` returns when the model gives no `limit`.
pub const DEFAULT_READ_LIMIT: u64 = 2_000;
/// Entries `list_files` returns at most.
pub const MAX_LIST_ENTRIES: usize = 1_000;
/// Matches `search` returns at most.
pub const MAX_SEARCH_MATCHES: usize = 200;
/// Longest a search runs; it then answers with what it found and says where it stopped.
pub const SEARCH_TIME_LIMIT: std::time::Duration = std::time::Duration::from_secs(30);
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
    into_output(args::read(args.clone()).and_then(|a| read(ctx, &a)))
}

/// `read_file` with its arguments parsed.
pub fn read(ctx: &ToolContext, a: &ReadArgs) -> Result<String, String> {
    let (offset, limit) = (a.offset, a.limit);
    let abs = resolve(ctx, &a.path)?;
    let shown = relative(ctx, &abs);
    let mut file: Box<dyn Read> = match super::files::editor_text(ctx, &abs) {
        // the editor's buffer, unsaved changes included
        Some(text) => Box::new(io::Cursor::new(text)),
        None => Box::new(open_regular(&abs, &shown)?),
    };
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
    into_output(args::list(args.clone()).and_then(|a| list(ctx, &a)))
}

/// `list_files` with its arguments parsed.
pub fn list(ctx: &ToolContext, a: &ListArgs) -> Result<String, String> {
    let glob = a.glob.as_deref();
    let abs = resolve(ctx, &a.path)?;
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
    // (a search also ends when the user presses Esc: the agent stops waiting for it, and
    // this limit ends the work itself)
    into_output(args::search(args.clone()).and_then(|a| find(ctx, &a)))
}

/// `search` with its arguments parsed.
pub fn find(ctx: &ToolContext, a: &SearchArgs) -> Result<String, String> {
    let (pattern, glob) = (a.pattern.as_str(), a.glob.as_deref());
    let regex = regex::bytes::RegexBuilder::new(pattern)
        .size_limit(1 << 24)
        .build()
        .map_err(|e| format!("`pattern` is not a valid regular expression: {e}"))?;
    let abs = resolve(ctx, &a.path)?;
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
    // secret-looking files (`[guard] deny_read`) are not searched: their lines would reach
    // the model without the user's approval, which `read_file` asks for
    let before = files.len();
    files.retain(|(_, p)| !super::protected::read_denied(ctx, p));
    let denied = before - files.len();

    let budget = ctx.max_output_bytes.saturating_sub(NOTE_RESERVE).max(200);
    let mut out = String::new();
    let (mut total, mut shown_matches, mut too_large, mut unreadable) =
        (0usize, 0usize, 0usize, walked.unreadable);
    let mut full = false;
    // a heavy pattern over a big tree stops at the time limit with what it found
    let started = std::time::Instant::now();
    let mut searched = 0usize;
    let mut timed_out = false;
    'files: for (rel, p) in &files {
        if started.elapsed() >= ctx.search_time_limit {
            timed_out = true;
            break;
        }
        searched += 1;
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
            if i % 1024 == 1023 && started.elapsed() >= ctx.search_time_limit {
                timed_out = true;
                break 'files;
            }
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
    if timed_out {
        out.push_str(&format!(
            "[stopped after {} s: {searched} of {} files searched. Narrow the search with `path`, `glob` or a simpler pattern]\n",
            ctx.search_time_limit.as_secs(),
            files.len()
        ));
    }
    if denied > 0 {
        out.push_str(&format!(
            "[{denied} secret-looking files (guard.deny_read) were not searched; read_file asks the user for one]\n"
        ));
    }
    out.push_str(&unreadable_note(unreadable));
    Ok(out)
}

mod edit;
pub use edit::{
    Planned, edit_file, plan, plan_edit, plan_write, preview, write_file, write_planned,
};

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
fn read_existing(ctx: &ToolContext, abs: &Path, shown: &str) -> Result<Option<Arc<[u8]>>, String> {
    if fs::symlink_metadata(abs).is_err_and(|e| e.kind() == io::ErrorKind::NotFound) {
        return Ok(None);
    }
    if let Some(text) = super::files::editor_text(ctx, abs) {
        return Ok(Some(text));
    }
    super::on_disk::read_all(&mut open_regular(abs, shown)?)
        .map(Some)
        .map_err(|e| format!("cannot read `{shown}`: {e}"))
}

#[cfg(test)]
mod tests;
