//! Unified diffs: parsing (tolerant of what small models write), applying with
//! relocation and whitespace tolerance, and producing hunks from two texts. Pure: no I/O.
//!
//! Line numbers in hunk headers are only a hint. A hunk is located by its context and
//! removed lines: at the stated line first, then anywhere in the file when that match is
//! unique (or, among several, the nearest one within [`NEARBY`] lines of the stated line).
//! Exact matches are tried before matches that ignore trailing whitespace. A hunk that
//! matches nowhere, or ambiguously, fails; nothing is ever half-applied.
//!
//! Line endings are the file's: lines the patch keeps keep their own ending, added lines
//! take the file's dominant ending (CRLF files stay CRLF). Whether the file ends with a
//! newline only changes when the patch says so with `\ No newline at end of file`.

use std::fmt;

use thiserror::Error;

/// Among several matches of a hunk, the nearest one is taken only when it lies within this
/// many lines of where the header says the hunk goes; otherwise the hunk is ambiguous.
pub const NEARBY: usize = 30;

/// One line of a hunk, without its `' '`/`-`/`+` prefix and without its line ending.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HunkLine {
    Context(String),
    Remove(String),
    Add(String),
}

impl HunkLine {
    pub fn text(&self) -> &str {
        match self {
            HunkLine::Context(s) | HunkLine::Remove(s) | HunkLine::Add(s) => s,
        }
    }

    /// The line is in the old file (context or removed).
    pub fn in_old(&self) -> bool {
        !matches!(self, HunkLine::Add(_))
    }

    /// The line is in the new file (context or added).
    pub fn in_new(&self) -> bool {
        !matches!(self, HunkLine::Remove(_))
    }

    fn prefix(&self) -> char {
        match self {
            HunkLine::Context(_) => ' ',
            HunkLine::Remove(_) => '-',
            HunkLine::Add(_) => '+',
        }
    }
}

/// One `@@` hunk.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Hunk {
    /// The header's old start line (1-based; for a hunk with no old lines, the line after
    /// which it inserts, 0 = at the top). Only a hint; see `has_line_numbers`.
    pub old_start: usize,
    /// The header's new start line (informational).
    pub new_start: usize,
    /// The header carried line numbers (`@@ -l,n +l,n @@`); a bare `@@` does not.
    pub has_line_numbers: bool,
    /// The header line as written, for error messages (empty for generated hunks).
    pub header: String,
    pub lines: Vec<HunkLine>,
    /// `\ No newline at end of file` after the hunk's last old-side line.
    pub old_missing_newline: bool,
    /// `\ No newline at end of file` after the hunk's last new-side line.
    pub new_missing_newline: bool,
}

impl Hunk {
    /// The lines the hunk expects in the old file (context and removed), in order.
    pub fn old_lines(&self) -> impl Iterator<Item = &str> {
        self.lines.iter().filter(|l| l.in_old()).map(HunkLine::text)
    }

    /// The lines the hunk leaves in the new file (context and added), in order.
    pub fn new_lines(&self) -> impl Iterator<Item = &str> {
        self.lines.iter().filter(|l| l.in_new()).map(HunkLine::text)
    }

    pub fn added(&self) -> usize {
        self.lines
            .iter()
            .filter(|l| matches!(l, HunkLine::Add(_)))
            .count()
    }

    pub fn removed(&self) -> usize {
        self.lines
            .iter()
            .filter(|l| matches!(l, HunkLine::Remove(_)))
            .count()
    }

    /// `@@ -l,n +l,n @@` with the counts taken from the lines themselves.
    pub fn computed_header(&self) -> String {
        let old_count = self.lines.iter().filter(|l| l.in_old()).count();
        let new_count = self.lines.iter().filter(|l| l.in_new()).count();
        format!(
            "@@ -{},{} +{},{} @@",
            self.old_start, old_count, self.new_start, new_count
        )
    }

    /// The header as written, or the computed one for generated hunks.
    pub fn display_header(&self) -> String {
        if self.header.trim().is_empty() {
            self.computed_header()
        } else {
            self.header.clone()
        }
    }
}

/// Everything a patch does to one file. `None` is `/dev/null`: `old_path: None` creates
/// the file, `new_path: None` deletes it. Paths are as written, minus `a/`/`b/` prefixes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FilePatch {
    pub old_path: Option<String>,
    pub new_path: Option<String>,
    pub hunks: Vec<Hunk>,
}

impl FilePatch {
    /// The path the patch is about: the new one, or the old one for a deletion.
    pub fn path(&self) -> &str {
        self.new_path
            .as_deref()
            .or(self.old_path.as_deref())
            .unwrap_or("")
    }

    pub fn added(&self) -> usize {
        self.hunks.iter().map(Hunk::added).sum()
    }

    pub fn removed(&self) -> usize {
        self.hunks.iter().map(Hunk::removed).sum()
    }
}

/// Why a patch text could not be read. Line numbers are 1-based lines of the patch text.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PatchError {
    #[error(
        "the patch has no file headers: each file needs `--- a/PATH` then `+++ b/PATH` before its `@@` hunks"
    )]
    NoFiles,
    #[error(
        "patch line {line}: an `@@` hunk comes before any `--- a/PATH` / `+++ b/PATH` file header"
    )]
    HunkWithoutFile { line: usize },
    #[error("patch line {line}: `---` header is not followed by a `+++` header")]
    MissingNewHeader { line: usize },
    #[error("patch line {line}: both `---` and `+++` are /dev/null")]
    BothDevNull { line: usize },
    #[error("patch line {line}: empty path in a file header")]
    EmptyPath { line: usize },
    #[error("patch line {line}: the hunk `{header}` has no lines")]
    EmptyHunk { line: usize, header: String },
    #[error("the section for `{path}` has no `@@` hunks")]
    NoHunks { path: String },
}

/// Why one hunk could not be placed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FailureReason {
    /// The hunk's context and removed lines are nowhere in the file.
    NotFound,
    /// They are in several places (1-based line numbers) and none is clearly meant.
    Ambiguous(Vec<usize>),
    /// The hunk has no context or removed lines and no line number to place it by.
    NoAnchor,
}

/// A hunk that does not apply: which one, what it expected, and the nearest thing found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HunkFailure {
    /// 0-based index of the hunk within its file's hunks.
    pub index: usize,
    pub header: String,
    /// The context and removed lines the hunk expects, in order.
    pub expected: Vec<String>,
    pub reason: FailureReason,
    /// The most similar stretch of the file: 1-based first line, and the lines.
    pub closest: Option<(usize, Vec<String>)>,
}

impl fmt::Display for HunkFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.index + 1;
        match &self.reason {
            FailureReason::NotFound => write!(
                f,
                "hunk #{n} `{}` does not match the file. It expects these lines:",
                self.header
            )?,
            FailureReason::Ambiguous(at) => {
                let at: Vec<String> = at.iter().take(10).map(usize::to_string).collect();
                write!(
                    f,
                    "hunk #{n} `{}` matches at several places (lines {}); add context lines so it matches only one. It expects:",
                    self.header,
                    at.join(", ")
                )?
            }
            FailureReason::NoAnchor => {
                return write!(
                    f,
                    "hunk #{n} `{}` has no context or removed lines and no line numbers, so its place is unknown; add context lines",
                    self.header
                );
            }
        }
        for line in self.expected.iter().take(40) {
            write!(f, "\n    |{line}")?;
        }
        if self.expected.len() > 40 {
            write!(f, "\n    … ({} more lines)", self.expected.len() - 40)?;
        }
        if let (FailureReason::NotFound, Some((at, lines))) = (&self.reason, &self.closest) {
            write!(f, "\n  The closest lines in the file (from line {at}) are:")?;
            for line in lines.iter().take(40) {
                write!(f, "\n    |{line}")?;
            }
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------
// Parsing

fn patch_lines(text: &str) -> Vec<&str> {
    let mut lines: Vec<&str> = text
        .split('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .collect();
    if text.ends_with('\n') || text.is_empty() {
        lines.pop();
    }
    lines
}

fn is_file_header(lines: &[&str], i: usize) -> bool {
    lines[i].starts_with("--- ")
        && lines
            .get(i + 1)
            .is_some_and(|n| n.starts_with("+++ ") || *n == "+++")
}

fn is_body_line(l: &str) -> bool {
    l.starts_with([' ', '-', '+', '\\'])
}

/// A header path: timestamp after a tab dropped, quotes removed, `a/`/`b/` and `./`
/// prefixes dropped. `None` for /dev/null.
fn header_path(raw: &str, line: usize) -> Result<Option<String>, PatchError> {
    let raw = raw.split('\t').next().unwrap_or("").trim();
    let unquoted = if raw.len() >= 2 && raw.starts_with('"') && raw.ends_with('"') {
        unquote(&raw[1..raw.len() - 1])
    } else {
        raw.to_owned()
    };
    if unquoted == "/dev/null" {
        return Ok(None);
    }
    let mut p = unquoted.as_str();
    for prefix in ["a/", "b/"] {
        if let Some(rest) = p.strip_prefix(prefix) {
            p = rest;
            break;
        }
    }
    while let Some(rest) = p.strip_prefix("./") {
        p = rest;
    }
    if p.trim().is_empty() {
        return Err(PatchError::EmptyPath { line });
    }
    Ok(Some(p.to_owned()))
}

fn unquote(s: &str) -> String {
    // Git quotes names with C escapes, non-ASCII bytes as octal (`\303\244`).
    let mut out: Vec<u8> = Vec::with_capacity(s.len());
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        i += 1;
        if b != b'\\' {
            out.push(b);
            continue;
        }
        let octal = bytes[i..]
            .iter()
            .take(3)
            .take_while(|c| (b'0'..=b'7').contains(c))
            .count();
        if octal == 3 {
            let v = bytes[i..i + 3]
                .iter()
                .fold(0u32, |acc, c| acc * 8 + u32::from(c - b'0'));
            out.push(v as u8);
            i += 3;
            continue;
        }
        match bytes.get(i) {
            Some(b'n') => out.push(b'\n'),
            Some(b't') => out.push(b'\t'),
            Some(&other) => out.push(other),
            None => out.push(b'\\'),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `@@ -l[,n] +l[,n] @@ …` -> (old_start, old_count, new_start, new_count); `None` when
/// the header carries no (readable) numbers.
fn hunk_numbers(header: &str) -> Option<(usize, Option<usize>, usize, Option<usize>)> {
    let rest = header.trim_start_matches('@').trim_start();
    let rest = rest.strip_prefix('-')?;
    let (old_start, old_count, rest) = range(rest)?;
    let rest = rest.trim_start().strip_prefix('+')?;
    let (new_start, new_count, _) = range(rest)?;
    Some((old_start, old_count, new_start, new_count))
}

fn range(s: &str) -> Option<(usize, Option<usize>, &str)> {
    let end = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let start = s[..end].parse().ok()?;
    let rest = &s[end..];
    if let Some(after) = rest.strip_prefix(',') {
        let end = after
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(after.len());
        let count = after[..end].parse().ok();
        return Some((start, count, &after[end..]));
    }
    Some((start, None, rest))
}

#[derive(Default)]
struct GitBlock {
    old: Option<String>,
    new: Option<String>,
    new_file: bool,
    deleted: bool,
    rename_from: Option<String>,
    rename_to: Option<String>,
    has_headers: bool,
}

impl GitBlock {
    fn from_line(l: &str) -> GitBlock {
        let rest = l.trim_start_matches("diff --git ").trim();
        let (old, new) = match rest.split_once(" b/") {
            Some((a, b)) if a.starts_with("a/") && !b.contains(" b/") => {
                (Some(a[2..].to_owned()), Some(b.to_owned()))
            }
            _ => (None, None),
        };
        GitBlock {
            old,
            new,
            ..Default::default()
        }
    }

    /// A git section without `---`/`+++` lines: an empty file created or deleted, or a
    /// pure rename. Mode changes alone give nothing.
    fn into_patch(self) -> Option<FilePatch> {
        if self.has_headers {
            return None;
        }
        let old = self.rename_from.or(self.old);
        let new = self.rename_to.or(self.new);
        match (self.new_file, self.deleted) {
            (true, _) => new.map(|n| FilePatch {
                old_path: None,
                new_path: Some(n),
                hunks: vec![],
            }),
            (_, true) => old.map(|o| FilePatch {
                old_path: Some(o),
                new_path: None,
                hunks: vec![],
            }),
            _ => match (old, new) {
                (Some(o), Some(n)) if o != n => Some(FilePatch {
                    old_path: Some(o),
                    new_path: Some(n),
                    hunks: vec![],
                }),
                _ => None,
            },
        }
    }
}

/// Reads a unified diff touching one or more files. Tolerates `diff --git`, `index` and
/// mode lines, prose and Markdown fences around the diff, missing `a/`/`b/` prefixes, and
/// hunk headers whose counts are wrong or missing (the lines themselves are counted).
pub fn parse(text: &str) -> Result<Vec<FilePatch>, PatchError> {
    let lines = patch_lines(text);
    let mut files: Vec<FilePatch> = Vec::new();
    let mut git: Option<GitBlock> = None;
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        if line.starts_with("diff --git ") {
            if let Some(done) = git.take().and_then(GitBlock::into_patch) {
                files.push(done);
            }
            git = Some(GitBlock::from_line(line));
            i += 1;
            continue;
        }
        if let Some(block) = git.as_mut() {
            if line.starts_with("new file mode") {
                block.new_file = true;
            } else if line.starts_with("deleted file mode") {
                block.deleted = true;
            } else if let Some(p) = line.strip_prefix("rename from ") {
                block.rename_from = Some(p.trim().to_owned());
            } else if let Some(p) = line.strip_prefix("rename to ") {
                block.rename_to = Some(p.trim().to_owned());
            }
        }
        if is_file_header(&lines, i) {
            let old = header_path(&line[4..], i + 1)?;
            let new = header_path(lines[i + 1].get(4..).unwrap_or(""), i + 2)?;
            if old.is_none() && new.is_none() {
                return Err(PatchError::BothDevNull { line: i + 1 });
            }
            if let Some(block) = git.as_mut() {
                block.has_headers = true;
            }
            files.push(FilePatch {
                old_path: old,
                new_path: new,
                hunks: Vec::new(),
            });
            i += 2;
            continue;
        }
        if line.starts_with("--- ") && lines.get(i + 1).is_some_and(|n| n.starts_with("@@")) {
            return Err(PatchError::MissingNewHeader { line: i + 1 });
        }
        if line.starts_with("@@") {
            let Some(file) = files.last_mut() else {
                return Err(PatchError::HunkWithoutFile { line: i + 1 });
            };
            let (hunk, next) = parse_hunk(&lines, i);
            if hunk.lines.is_empty() {
                return Err(PatchError::EmptyHunk {
                    line: i + 1,
                    header: line.to_owned(),
                });
            }
            file.hunks.push(hunk);
            i = next;
            continue;
        }
        i += 1;
    }
    if let Some(done) = git.take().and_then(GitBlock::into_patch) {
        files.push(done);
    }
    if files.is_empty() {
        return Err(PatchError::NoFiles);
    }
    for f in &files {
        if f.hunks.is_empty() && f.old_path.is_some() && f.old_path == f.new_path {
            return Err(PatchError::NoHunks {
                path: f.path().to_owned(),
            });
        }
    }
    Ok(files)
}

/// Lines a hunk header says are still to come: (old side, new side), if it had counts.
struct Left(Option<usize>, Option<usize>);

impl Left {
    /// How many more lines could be context lines (they count on both sides).
    fn both(&self) -> usize {
        self.0.unwrap_or(0).min(self.1.unwrap_or(0))
    }
}

/// Reads the hunk whose header is `lines[start]`; returns it and the index of the first
/// line after it.
fn parse_hunk(lines: &[&str], start: usize) -> (Hunk, usize) {
    let header = lines[start];
    let numbers = hunk_numbers(header);
    let mut hunk = Hunk {
        header: header.trim_end().to_owned(),
        ..Default::default()
    };
    // Counts from the header (lines still expected on each side) are only used to decide
    // about lines that are ambiguous on their own: blank lines at the end and lines
    // missing their prefix.
    let mut left = Left(None, None);
    if let Some((os, oc, ns, nc)) = numbers {
        hunk.old_start = os;
        hunk.new_start = ns;
        hunk.has_line_numbers = true;
        left = Left(Some(oc.unwrap_or(1)), Some(nc.unwrap_or(1)));
    }
    let take = |hunk: &mut Hunk, left: &mut Left, line: HunkLine| {
        if line.in_old() {
            left.0 = left.0.map(|n| n.saturating_sub(1));
        }
        if line.in_new() {
            left.1 = left.1.map(|n| n.saturating_sub(1));
        }
        hunk.lines.push(line);
    };
    let mut j = start + 1;
    while j < lines.len() {
        let l = lines[j];
        if l.starts_with("@@") || l.starts_with("diff --git ") || is_file_header(lines, j) {
            break;
        }
        if let Some(rest) = l.strip_prefix(' ') {
            take(&mut hunk, &mut left, HunkLine::Context(rest.to_owned()));
        } else if let Some(rest) = l.strip_prefix('-') {
            take(&mut hunk, &mut left, HunkLine::Remove(rest.to_owned()));
        } else if let Some(rest) = l.strip_prefix('+') {
            take(&mut hunk, &mut left, HunkLine::Add(rest.to_owned()));
        } else if l.starts_with('\\') {
            match hunk.lines.last() {
                Some(HunkLine::Context(_)) => {
                    hunk.old_missing_newline = true;
                    hunk.new_missing_newline = true;
                }
                Some(HunkLine::Remove(_)) => hunk.old_missing_newline = true,
                Some(HunkLine::Add(_)) => hunk.new_missing_newline = true,
                None => {}
            }
        } else if l.is_empty() {
            // A blank context line whose leading space was stripped, or the end of the hunk.
            let mut k = j;
            while k < lines.len() && lines[k].is_empty() {
                k += 1;
            }
            let more_body = k < lines.len() && is_body_line(lines[k]) && !is_file_header(lines, k);
            if more_body {
                for _ in j..k {
                    take(&mut hunk, &mut left, HunkLine::Context(String::new()));
                }
                j = k;
                continue;
            }
            let wanted = left.both().min(k - j);
            for _ in 0..wanted {
                take(&mut hunk, &mut left, HunkLine::Context(String::new()));
            }
            j += wanted;
            break;
        } else if left.both() > 0 && !l.starts_with("```") {
            // A context line that lost its leading space, while the header says more follow.
            take(&mut hunk, &mut left, HunkLine::Context(l.to_owned()));
        } else {
            break;
        }
        j += 1;
    }
    (hunk, j)
}

// ---------------------------------------------------------------------------------------
// Applying

#[derive(Debug, Clone, Copy)]
struct Line<'a> {
    text: &'a str,
    eol: &'a str,
}

/// Splits a text into lines without endings, and whether it ends with a newline (an empty
/// text counts as ending with one).
fn split_file(s: &str) -> (Vec<Line<'_>>, bool) {
    let mut lines = Vec::new();
    for piece in s.split_inclusive('\n') {
        let line = if let Some(t) = piece.strip_suffix("\r\n") {
            Line {
                text: t,
                eol: "\r\n",
            }
        } else if let Some(t) = piece.strip_suffix('\n') {
            Line { text: t, eol: "\n" }
        } else {
            Line {
                text: piece,
                eol: "",
            }
        };
        lines.push(line);
    }
    (lines, s.is_empty() || s.ends_with('\n'))
}

fn dominant_eol(lines: &[Line<'_>]) -> &'static str {
    let crlf = lines.iter().filter(|l| l.eol == "\r\n").count();
    let lf = lines.iter().filter(|l| l.eol == "\n").count();
    if crlf > lf { "\r\n" } else { "\n" }
}

fn loose(s: &str) -> &str {
    s.trim_start_matches('\u{feff}').trim_end()
}

fn matches_at(lines: &[Line<'_>], pattern: &[&str], pos: usize, exact: bool) -> bool {
    pos + pattern.len() <= lines.len()
        && pattern.iter().zip(&lines[pos..]).all(|(p, l)| {
            if exact {
                *p == l.text
            } else {
                loose(p) == loose(l.text)
            }
        })
}

/// Whether `[pos, pos+len)` is free of the ranges already claimed by other hunks.
fn free(claimed: &[(usize, usize)], pos: usize, len: usize) -> bool {
    claimed.iter().all(|&(s, e)| {
        if len == 0 {
            !(s < pos && pos < e)
        } else if s == e {
            !(pos < s && s < pos + len)
        } else {
            pos + len <= s || e <= pos
        }
    })
}

fn clamp_pos(stated: usize, offset: i128, max: usize) -> usize {
    let p = (stated as i128).saturating_add(offset);
    p.clamp(0, max as i128) as usize
}

/// Where a hunk goes: the line index its old lines start at.
fn locate(
    lines: &[Line<'_>],
    hunk: &Hunk,
    pattern: &[&str],
    offset: i128,
    claimed: &[(usize, usize)],
) -> Result<usize, FailureReason> {
    let n = lines.len();
    if pattern.is_empty() {
        if !hunk.has_line_numbers && n > 0 {
            return Err(FailureReason::NoAnchor);
        }
        let pos = if hunk.has_line_numbers {
            clamp_pos(hunk.old_start, offset, n)
        } else {
            0
        };
        return if free(claimed, pos, 0) {
            Ok(pos)
        } else {
            Err(FailureReason::NotFound)
        };
    }
    if pattern.len() > n {
        return Err(FailureReason::NotFound);
    }
    // Where the header says the hunk starts, shifted as far as earlier hunks were; it may
    // lie outside the file when the header is wrong.
    let preferred = hunk
        .has_line_numbers
        .then(|| (hunk.old_start.saturating_sub(1) as i128).saturating_add(offset));
    for exact in [true, false] {
        if let Some(p) = preferred
            && p >= 0
            && p as usize <= n - pattern.len()
            && free(claimed, p as usize, pattern.len())
            && matches_at(lines, pattern, p as usize, exact)
        {
            return Ok(p as usize);
        }
        let all: Vec<usize> = (0..=n - pattern.len())
            .filter(|&p| free(claimed, p, pattern.len()) && matches_at(lines, pattern, p, exact))
            .collect();
        match all.as_slice() {
            [] => continue,
            [only] => return Ok(*only),
            _ => {
                if let Some(pref) = preferred {
                    let mut by_distance: Vec<(u128, usize)> = all
                        .iter()
                        .map(|&p| ((p as i128).abs_diff(pref), p))
                        .collect();
                    by_distance.sort_unstable();
                    if by_distance[0].0 <= NEARBY as u128 && by_distance[0].0 < by_distance[1].0 {
                        return Ok(by_distance[0].1);
                    }
                }
                return Err(FailureReason::Ambiguous(
                    all.iter().map(|p| p + 1).collect(),
                ));
            }
        }
    }
    Err(FailureReason::NotFound)
}

/// The stretch of the file most like `pattern`: most lines equal ignoring trailing
/// whitespace, position by position.
fn closest(lines: &[Line<'_>], pattern: &[&str]) -> Option<(usize, Vec<String>)> {
    if pattern.is_empty()
        || lines.is_empty()
        || lines.len().saturating_mul(pattern.len()) > 20_000_000
    {
        return None;
    }
    let len = pattern.len().min(lines.len());
    let mut best = (0usize, 0usize);
    for pos in 0..=lines.len() - len {
        let score = pattern
            .iter()
            .zip(&lines[pos..pos + len])
            .filter(|(p, l)| loose(p) == loose(l.text))
            .count();
        if score > best.0 {
            best = (score, pos);
        }
    }
    (best.0 > 0).then(|| {
        (
            best.1 + 1,
            lines[best.1..best.1 + len]
                .iter()
                .map(|l| l.text.to_owned())
                .collect(),
        )
    })
}

/// Applies the hunks of one file to its old content. Either every hunk applies and the
/// new content is returned, or nothing does and every failing hunk is reported.
pub fn apply(old: &str, hunks: &[Hunk]) -> Result<String, Vec<HunkFailure>> {
    let (lines, final_newline) = split_file(old);
    let eol = dominant_eol(&lines);
    let mut claimed: Vec<(usize, usize)> = Vec::new();
    let mut placed: Vec<(usize, usize)> = Vec::new(); // (position, hunk index)
    let mut failures = Vec::new();
    let mut offset: i128 = 0;
    for (index, hunk) in hunks.iter().enumerate() {
        let pattern: Vec<&str> = hunk.old_lines().collect();
        match locate(&lines, hunk, &pattern, offset, &claimed) {
            Ok(pos) => {
                if hunk.has_line_numbers {
                    let stated = if pattern.is_empty() {
                        hunk.old_start
                    } else {
                        hunk.old_start.saturating_sub(1)
                    };
                    offset = pos as i128 - stated as i128;
                }
                claimed.push((pos, pos + pattern.len()));
                placed.push((pos, index));
            }
            Err(reason) => failures.push(HunkFailure {
                index,
                header: hunk.display_header(),
                expected: pattern.iter().map(|s| (*s).to_owned()).collect(),
                closest: if reason == FailureReason::NotFound {
                    closest(&lines, &pattern)
                } else {
                    None
                },
                reason,
            }),
        }
    }
    if !failures.is_empty() {
        return Err(failures);
    }
    placed.sort();

    let mut out: Vec<(&str, &str)> = Vec::with_capacity(lines.len());
    let mut new_final_newline = final_newline;
    let mut cursor = 0;
    for &(pos, index) in &placed {
        let hunk = &hunks[index];
        out.extend(lines[cursor..pos].iter().map(|l| (l.text, l.eol)));
        let mut k = pos;
        for line in &hunk.lines {
            match line {
                HunkLine::Context(_) => {
                    out.push((lines[k].text, lines[k].eol));
                    k += 1;
                }
                HunkLine::Remove(_) => k += 1,
                HunkLine::Add(t) => out.push((t.as_str(), eol)),
            }
        }
        if k == lines.len() && (hunk.old_missing_newline || hunk.new_missing_newline) {
            new_final_newline = !hunk.new_missing_newline;
        }
        cursor = k;
    }
    out.extend(lines[cursor..].iter().map(|l| (l.text, l.eol)));

    let mut result = String::with_capacity(old.len() + 64);
    let last = out.len().saturating_sub(1);
    for (i, (text, line_eol)) in out.iter().enumerate() {
        result.push_str(text);
        // Every line but the last ends with a newline; the last one only if the file does.
        if i < last || new_final_newline {
            result.push_str(if line_eol.is_empty() { eol } else { line_eol });
        }
    }
    Ok(result)
}

// ---------------------------------------------------------------------------------------
// Diffing and rendering

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct Key<'a> {
    text: &'a str,
    /// The file's last line, without a newline after it.
    missing_newline: bool,
}

fn keys<'a>(lines: &[Line<'a>], final_newline: bool) -> Vec<Key<'a>> {
    let last = lines.len().saturating_sub(1);
    lines
        .iter()
        .enumerate()
        .map(|(i, l)| Key {
            text: l.text,
            missing_newline: i == last && !final_newline,
        })
        .collect()
}

/// The hunks that turn `old` into `new`, with `context` lines of context. Lines are
/// compared without their endings, so a change of line endings alone gives no hunks;
/// a change of the final newline does.
pub fn diff_hunks(old: &str, new: &str, context: usize) -> Vec<Hunk> {
    let (old_lines, old_nl) = split_file(old);
    let (new_lines, new_nl) = split_file(new);
    let old_keys = keys(&old_lines, old_nl);
    let new_keys = keys(&new_lines, new_nl);
    let deadline = std::time::Instant::now().checked_add(std::time::Duration::from_secs(2));
    let ops = similar::capture_diff_slices_deadline(
        similar::Algorithm::Myers,
        &old_keys,
        &new_keys,
        deadline,
    );
    let mut hunks = Vec::new();
    for group in similar::group_diff_ops(ops, context) {
        let Some(first) = group.first() else { continue };
        let mut hunk = Hunk {
            has_line_numbers: true,
            ..Default::default()
        };
        let (old_from, new_from) = (first.old_range().start, first.new_range().start);
        for op in &group {
            let (tag, old_range, new_range) = op.as_tag_tuple();
            if tag == similar::DiffTag::Equal {
                for i in old_range {
                    let k = old_keys[i];
                    hunk.lines.push(HunkLine::Context(k.text.to_owned()));
                    if k.missing_newline {
                        hunk.old_missing_newline = true;
                        hunk.new_missing_newline = true;
                    }
                }
                continue;
            }
            for i in old_range {
                hunk.lines
                    .push(HunkLine::Remove(old_keys[i].text.to_owned()));
                hunk.old_missing_newline |= old_keys[i].missing_newline;
            }
            for i in new_range {
                hunk.lines.push(HunkLine::Add(new_keys[i].text.to_owned()));
                hunk.new_missing_newline |= new_keys[i].missing_newline;
            }
        }
        let old_count = hunk.lines.iter().filter(|l| l.in_old()).count();
        let new_count = hunk.lines.iter().filter(|l| l.in_new()).count();
        hunk.old_start = if old_count == 0 {
            old_from
        } else {
            old_from + 1
        };
        hunk.new_start = if new_count == 0 {
            new_from
        } else {
            new_from + 1
        };
        hunks.push(hunk);
    }
    hunks
}

/// The hunks as unified-diff text (headers computed from the lines), each line ending
/// with `\n`, with `\ No newline at end of file` markers where they belong.
pub fn render(hunks: &[Hunk]) -> String {
    let mut out = String::new();
    for hunk in hunks {
        out.push_str(&hunk.computed_header());
        out.push('\n');
        let last_old = hunk.lines.iter().rposition(HunkLine::in_old);
        let last_new = hunk.lines.iter().rposition(HunkLine::in_new);
        for (i, line) in hunk.lines.iter().enumerate() {
            out.push(line.prefix());
            out.push_str(line.text());
            out.push('\n');
            let marker = (hunk.old_missing_newline && Some(i) == last_old)
                || (hunk.new_missing_newline && Some(i) == last_new);
            if marker {
                out.push_str("\\ No newline at end of file\n");
            }
        }
    }
    out
}

/// One file's section: `--- a/old` / `+++ b/new` (or /dev/null) and its hunks.
pub fn render_file(patch: &FilePatch) -> String {
    let side = |p: &Option<String>, prefix: &str| {
        p.as_ref()
            .map_or_else(|| "/dev/null".to_owned(), |p| format!("{prefix}{p}"))
    };
    format!(
        "--- {}\n+++ {}\n{}",
        side(&patch.old_path, "a/"),
        side(&patch.new_path, "b/"),
        render(&patch.hunks)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn one(text: &str) -> FilePatch {
        let mut files = parse(text).unwrap();
        assert_eq!(files.len(), 1, "{files:?}");
        files.remove(0)
    }

    #[test]
    fn parses_git_diff_with_several_files() {
        let text = "diff --git a/src/a.rs b/src/a.rs\nindex 123..456 100644\n--- a/src/a.rs\n+++ b/src/a.rs\n@@ -1,3 +1,3 @@ fn x\n one\n-two\n+TWO\n three\ndiff --git a/new.txt b/new.txt\nnew file mode 100644\n--- /dev/null\n+++ b/new.txt\n@@ -0,0 +1,2 @@\n+hello\n+world\n--- a/gone.txt\n+++ /dev/null\n@@ -1 +0,0 @@\n-bye\n";
        let files = parse(text).unwrap();
        assert_eq!(files.len(), 3);
        assert_eq!(files[0].old_path.as_deref(), Some("src/a.rs"));
        assert_eq!(files[0].new_path.as_deref(), Some("src/a.rs"));
        assert_eq!(files[0].hunks[0].old_start, 1);
        assert_eq!(files[0].hunks[0].header, "@@ -1,3 +1,3 @@ fn x");
        assert_eq!(files[0].hunks[0].lines[1], HunkLine::Remove("two".into()));
        assert_eq!(files[1].old_path, None);
        assert_eq!(files[1].new_path.as_deref(), Some("new.txt"));
        assert_eq!(files[1].hunks[0].added(), 2);
        assert_eq!(files[2].new_path, None);
        assert_eq!(files[2].hunks[0].removed(), 1);
    }

    #[test]
    fn tolerates_missing_prefixes_wrong_counts_fences_and_stripped_blank_lines() {
        let text = "Here is the fix:\n```diff\n--- src/x.rs\n+++ src/x.rs\n@@ -10,2 +10,2 @@\n fn a() {\n-    1\n+    2\n\n }\n```\nThat should do it.\n";
        let f = one(text);
        assert_eq!(f.path(), "src/x.rs");
        let h = &f.hunks[0];
        assert_eq!(
            h.lines,
            vec![
                HunkLine::Context("fn a() {".into()),
                HunkLine::Remove("    1".into()),
                HunkLine::Add("    2".into()),
                HunkLine::Context(String::new()),
                HunkLine::Context("}".into()),
            ]
        );
        let old = "fn a() {\n    1\n\n}\n";
        assert_eq!(apply(old, &f.hunks).unwrap(), "fn a() {\n    2\n\n}\n");
    }

    #[test]
    fn bare_hunk_headers_and_sql_comment_lines() {
        let f = one("--- a/q.sql\n+++ b/q.sql\n@@\n select 1;\n--- old comment\n+-- new comment\n");
        assert!(!f.hunks[0].has_line_numbers);
        assert_eq!(
            f.hunks[0].lines[1],
            HunkLine::Remove("-- old comment".into())
        );
        assert_eq!(
            apply("x\nselect 1;\n-- old comment\n", &f.hunks).unwrap(),
            "x\nselect 1;\n-- new comment\n"
        );
    }

    #[test]
    fn parse_errors_are_specific() {
        assert_eq!(parse("just some prose"), Err(PatchError::NoFiles));
        assert_eq!(
            parse("@@ -1 +1 @@\n-a\n+b\n"),
            Err(PatchError::HunkWithoutFile { line: 1 })
        );
        assert_eq!(
            parse("--- /dev/null\n+++ /dev/null\n@@ -0,0 +1 @@\n+a\n"),
            Err(PatchError::BothDevNull { line: 1 })
        );
        assert!(matches!(
            parse("--- a/x\n+++ b/x\n@@ -1 +1 @@\n"),
            Err(PatchError::EmptyHunk { .. })
        ));
        assert!(matches!(
            parse("--- a/x\n+++ b/x\n"),
            Err(PatchError::NoHunks { .. })
        ));
        assert!(matches!(
            parse("--- a/x\n@@ -1 +1 @@\n-a\n+b\n"),
            Err(PatchError::MissingNewHeader { line: 1 })
        ));
    }

    #[test]
    fn quoted_paths_and_timestamps() {
        let f = one(
            "--- \"a/d\\303\\244 x.txt\"\t2024-01-01 00:00:00\n+++ \"b/d\\303\\244 x.txt\"\n@@ -1 +1 @@\n-a\n+b\n",
        );
        assert_eq!(f.old_path.as_deref(), Some("d\u{e4} x.txt"));
        assert_eq!(f.new_path.as_deref(), Some("d\u{e4} x.txt"));
    }

    #[test]
    fn git_empty_file_creation_and_deletion() {
        let files = parse("diff --git a/e b/e\nnew file mode 100644\nindex 0000000..e69de29\ndiff --git a/f b/f\ndeleted file mode 100644\n").unwrap();
        assert_eq!(
            files,
            vec![
                FilePatch {
                    old_path: None,
                    new_path: Some("e".into()),
                    hunks: vec![]
                },
                FilePatch {
                    old_path: Some("f".into()),
                    new_path: None,
                    hunks: vec![]
                },
            ]
        );
    }

    #[test]
    fn relocates_moved_hunks_and_tolerates_trailing_whitespace() {
        let f = one("--- a/f\n+++ b/f\n@@ -1,3 +1,3 @@\n b\n-c\n+C\n d\n");
        let old = "x\ny\nz\na\nb  \nc\nd\ne\n";
        assert_eq!(apply(old, &f.hunks).unwrap(), "x\ny\nz\na\nb  \nC\nd\ne\n");
    }

    #[test]
    fn ambiguous_and_missing_hunks_fail_with_details() {
        let f = one(
            "--- a/f\n+++ b/f\n@@ -100,2 +100,2 @@\n x\n-y\n+Y\n@@ -200,2 +200,2 @@\n q\n-nothing\n+r\n",
        );
        let old = "x\ny\n1\n2\nx\ny\nq\nnothin\n";
        let err = apply(old, &f.hunks).unwrap_err();
        assert_eq!(err.len(), 2);
        assert_eq!(err[0].index, 0);
        assert_eq!(err[0].reason, FailureReason::Ambiguous(vec![1, 5]));
        assert_eq!(err[1].index, 1);
        assert_eq!(err[1].reason, FailureReason::NotFound);
        assert_eq!(err[1].expected, vec!["q", "nothing"]);
        assert_eq!(
            err[1].closest,
            Some((7, vec!["q".to_owned(), "nothin".to_owned()]))
        );
        let shown = err[1].to_string();
        assert!(shown.contains("hunk #2 `@@ -200,2 +200,2 @@`"), "{shown}");
        assert!(
            shown.contains("|nothing") && shown.contains("from line 7"),
            "{shown}"
        );
        // With a line number near one of them, the nearest wins.
        let near = one("--- a/f\n+++ b/f\n@@ -4,2 +4,2 @@\n x\n-y\n+Y\n");
        assert_eq!(
            apply(old, &near.hunks).unwrap(),
            "x\ny\n1\n2\nx\nY\nq\nnothin\n"
        );
    }

    #[test]
    fn keeps_crlf_and_missing_final_newline() {
        let f = one("--- a/f\n+++ b/f\n@@ -1,2 +1,3 @@\n a\n+new\n b\n");
        assert_eq!(
            apply("a\r\nb\r\nc\r\n", &f.hunks).unwrap(),
            "a\r\nnew\r\nb\r\nc\r\n"
        );
        assert_eq!(apply("a\nb", &f.hunks).unwrap(), "a\nnew\nb");
        // A CRLF patch on an LF file.
        let g = one("--- a/f\r\n+++ b/f\r\n@@ -1,2 +1,2 @@\r\n a\r\n-b\r\n+B\r\n");
        assert_eq!(apply("a\nb\n", &g.hunks).unwrap(), "a\nB\n");
    }

    #[test]
    fn no_newline_markers_change_the_final_newline() {
        let add =
            one("--- a/f\n+++ b/f\n@@ -1 +1,2 @@\n-a\n\\ No newline at end of file\n+a\n+b\n");
        assert_eq!(apply("a", &add.hunks).unwrap(), "a\nb\n");
        let drop = one("--- a/f\n+++ b/f\n@@ -1 +1 @@\n-a\n+a\n\\ No newline at end of file\n");
        assert_eq!(apply("a\n", &drop.hunks).unwrap(), "a");
    }

    #[test]
    fn creation_and_deletion_against_empty_text() {
        let create = one("--- /dev/null\n+++ b/n\n@@ -0,0 +1,2 @@\n+x\n+y\n");
        assert_eq!(apply("", &create.hunks).unwrap(), "x\ny\n");
        let delete = one("--- a/n\n+++ /dev/null\n@@ -1,2 +0,0 @@\n-x\n-y\n");
        assert_eq!(apply("x\ny\n", &delete.hunks).unwrap(), "");
        // Without line numbers, an insertion into a non-empty file has no anchor.
        let bare = one("--- a/n\n+++ b/n\n@@\n+x\n");
        assert_eq!(
            apply("a\n", &bare.hunks).unwrap_err()[0].reason,
            FailureReason::NoAnchor
        );
    }

    #[test]
    fn out_of_order_hunks_apply() {
        let f = one("--- a/f\n+++ b/f\n@@ -5,1 +5,1 @@\n-e\n+E\n@@ -1,1 +1,1 @@\n-a\n+A\n");
        assert_eq!(
            apply("a\nb\nc\nd\ne\n", &f.hunks).unwrap(),
            "A\nb\nc\nd\nE\n"
        );
    }

    #[test]
    fn render_round_trips_through_parse() {
        let old = "a\nb\nc\nd\ne\nf\ng\nh\ni\nj";
        let new = "a\nB\nc\nd\ne\nf\ng\nh\ni\nj\nk\n";
        let patch = FilePatch {
            old_path: Some("x".into()),
            new_path: Some("x".into()),
            hunks: diff_hunks(old, new, 3),
        };
        let text = render_file(&patch);
        assert!(text.contains("\\ No newline at end of file"), "{text}");
        let back = one(&text);
        assert_eq!(
            back.hunks
                .iter()
                .map(|h| h.lines.clone())
                .collect::<Vec<_>>(),
            patch
                .hunks
                .iter()
                .map(|h| h.lines.clone())
                .collect::<Vec<_>>()
        );
        assert_eq!(apply(old, &back.hunks).unwrap(), new);
    }

    fn text_strategy() -> impl Strategy<Value = String> {
        (
            prop::collection::vec(
                prop::sample::select(vec!["a", "b", "c", "fn x() {", "}", "", "    let y = 1;"]),
                0..30,
            ),
            any::<bool>(),
        )
            .prop_map(|(lines, final_newline)| {
                let mut s = lines.join("\n");
                if final_newline && !lines.is_empty() {
                    s.push('\n');
                }
                s
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

        #[test]
        fn applying_a_diff_gives_the_new_text(old in text_strategy(), new in text_strategy(), context in 0usize..4) {
            let hunks = diff_hunks(&old, &new, context);
            prop_assert_eq!(apply(&old, &hunks).unwrap(), new.clone());
            // And through the text form.
            let text = render_file(&FilePatch { old_path: Some("f".into()), new_path: Some("f".into()), hunks });
            match parse(&text) {
                Ok(files) => prop_assert_eq!(apply(&old, &files[0].hunks).unwrap(), new),
                Err(e) => prop_assert!(old == new, "{e}: {text}"),
            }
        }

        #[test]
        fn crlf_files_stay_crlf(old in text_strategy(), new in text_strategy()) {
            // An empty or one-line file without a newline has no line ending to keep.
            prop_assume!(old.contains('\n'));
            let hunks = diff_hunks(&old, &new, 3);
            let crlf = |s: &str| s.replace('\n', "\r\n");
            prop_assert_eq!(apply(&crlf(&old), &hunks).unwrap(), crlf(&new));
        }

        #[test]
        fn a_mismatched_base_is_an_error(old in text_strategy(), new in text_strategy(), pick in any::<prop::sample::Index>()) {
            let hunks = diff_hunks(&old, &new, 3);
            let removed: Vec<&str> = hunks.iter().flat_map(|h| h.lines.iter()).filter_map(|l| match l { HunkLine::Remove(t) => Some(t.as_str()), _ => None }).collect();
            prop_assume!(!removed.is_empty());
            let victim = removed[pick.index(removed.len())];
            // Change every copy of that line, so no other place can match instead.
            let changed = format!("{victim}#changed");
            let mismatched: String = old.split_inclusive('\n').map(|l| {
                let (text, end) = l.strip_suffix('\n').map_or((l, ""), |t| (t, "\n"));
                if text == victim { format!("{changed}{end}") } else { l.to_owned() }
            }).collect();
            let failures = apply(&mismatched, &hunks).unwrap_err();
            prop_assert!(!failures.is_empty());
        }

        #[test]
        fn arbitrary_patch_text_never_panics(
            text in prop::collection::vec(prop::sample::select(vec![
                "--- a/x", "+++ b/x", "--- /dev/null", "+++ /dev/null", "@@ -1,2 +1,3 @@", "@@", "@@ -0,0 +1 @@",
                "@@ -99999999999999999999999,1 +1 @@", " a", "-a", "+b", "", "\\ No newline at end of file",
                "diff --git a/x b/x", "new file mode 100644", "deleted file mode 100644", "b", "---", "+++", "-", "+", " ",
            ]), 0..40),
            base in text_strategy(),
            junk in ".{0,60}",
        ) {
            let mut text = text.join("\n");
            text.push_str(&junk);
            if let Ok(files) = parse(&text) {
                for f in files {
                    let _ = apply(&base, &f.hunks);
                    let _ = render_file(&f);
                }
            }
        }
    }
}
