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
    /// The added lines ended in CRLF in the patch (kept for a file the patch creates).
    pub crlf: bool,
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
    /// From git's `new file mode` / `new mode` line: whether the file is executable
    /// afterwards (`None`: the patch does not say; keep what the file had).
    pub executable: Option<bool>,
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
    #[error(
        "patch line {line}: `{path}` is a binary file (`Binary files … differ` / `GIT binary patch`); apply_patch writes text files only, so nothing was applied"
    )]
    Binary { line: usize, path: String },
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

mod parse;
pub use parse::parse;

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
    // `\ No newline at end of file` after the old side: the hunk ends at the file's end
    if hunk.old_missing_newline {
        let p = n - pattern.len();
        for exact in [true, false] {
            if free(claimed, p, pattern.len()) && matches_at(lines, pattern, p, exact) {
                return Ok(p);
            }
        }
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

fn context_len(h: &Hunk) -> usize {
    h.lines
        .iter()
        .filter(|l| matches!(l, HunkLine::Context(_)))
        .count()
}

/// Applies the hunks of one file to its old content. Either every hunk applies and the
/// new content is returned, or nothing does and every failing hunk is reported.
pub fn apply(old: &str, hunks: &[Hunk]) -> Result<String, Vec<HunkFailure>> {
    let (lines, final_newline) = split_file(old);
    // a new (empty) file takes the patch's own line endings
    let eol = if lines.is_empty() && hunks.iter().any(|h| h.crlf) {
        "\r\n"
    } else {
        dominant_eol(&lines)
    };
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
    // In file order; at one position a pure insertion goes before a hunk that starts
    // there (`@@ -4,0 +5 @@` inserts after line 4, i.e. before line 5), then by hunk order.
    placed.sort_by_key(|&(pos, index)| {
        (
            pos,
            hunks[index].removed() + context_len(&hunks[index]) > 0,
            index,
        )
    });

    let mut out: Vec<(&str, &str)> = Vec::with_capacity(lines.len());
    let mut new_final_newline = final_newline;
    let mut cursor = 0;
    for &(pos, index) in &placed {
        let hunk = &hunks[index];
        if pos < cursor {
            // claimed ranges never overlap, so this cannot happen; refuse rather than panic
            return Err(vec![HunkFailure {
                index,
                header: hunk.display_header(),
                expected: hunk.old_lines().map(str::to_owned).collect(),
                reason: FailureReason::NotFound,
                closest: None,
            }]);
        }
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
    // Lines both texts share at the start and at the end are set aside first (all but
    // `context` of them): a one-line edit of a 200 MB file then diffs a few lines, not
    // 7 million, in time and in memory. Byte-equal lines are always equal lines, so this
    // only ever leaves more to the full diff, never less.
    let (pre, old_end, new_end) = common_ends(old, new);
    let lead = start_of_last_lines(&old[..pre], context);
    let old_trail = end_of_first_lines(old, old_end, context);
    let new_trail = new_end + (old_trail - old_end);
    let skipped_lines = memchr::memchr_iter(b'\n', &old.as_bytes()[..lead]).count();
    let mut hunks = diff_hunks_whole(&old[lead..old_trail], &new[lead..new_trail], context);
    for h in &mut hunks {
        h.old_start += skipped_lines;
        h.new_start += skipped_lines;
    }
    hunks
}

/// Lines added and removed between two texts (the `+N -M` of a summary), with the shared
/// start and end set aside first, so it is cheap on a huge file with a small change.
pub fn line_counts(old: &str, new: &str) -> (usize, usize) {
    let hunks = diff_hunks(old, new, 0);
    (
        hunks.iter().map(Hunk::added).sum(),
        hunks.iter().map(Hunk::removed).sum(),
    )
}

/// (end of the common prefix, at a line start; where the common suffix starts in `old`
/// and in `new`, at line starts, not before the prefix's end).
fn common_ends(old: &str, new: &str) -> (usize, usize, usize) {
    let (o, n) = (old.as_bytes(), new.as_bytes());
    let mut pre = o.iter().zip(n).take_while(|(a, b)| a == b).count();
    // back to the start of the line the first difference is on
    pre = o[..pre]
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    let max_suffix = (o.len() - pre).min(n.len() - pre);
    let mut suf = o
        .iter()
        .rev()
        .zip(n.iter().rev())
        .take(max_suffix)
        .take_while(|(a, b)| a == b)
        .count();
    // forward to a line start in both (the suffix bytes are the same in both)
    let (mut old_end, mut new_end) = (o.len() - suf, n.len() - suf);
    let at_line_start = |bytes: &[u8], at: usize| at == pre || bytes[at - 1] == b'\n';
    if !(at_line_start(o, old_end) && at_line_start(n, new_end)) {
        match o[old_end..].iter().position(|&b| b == b'\n') {
            Some(i) => {
                old_end += i + 1;
                new_end += i + 1;
                suf -= i + 1;
            }
            None => {
                old_end = o.len();
                new_end = n.len();
                suf = 0;
            }
        }
    }
    let _ = suf;
    (pre, old_end, new_end)
}

/// The byte offset where the last `n` lines of `text` (which ends at a line start) begin.
fn start_of_last_lines(text: &str, n: usize) -> usize {
    if n == 0 {
        return text.len();
    }
    let b = text.as_bytes();
    let mut seen = 0;
    let mut i = b.len();
    while i > 0 {
        // the newline ending the line before position i-1
        match b[..i - 1].iter().rposition(|&c| c == b'\n') {
            Some(nl) => {
                seen += 1;
                if seen == n {
                    return nl + 1;
                }
                i = nl + 1;
            }
            None => return 0,
        }
    }
    0
}

/// The byte offset just past the first `n` lines of `text` from `from` (a line start).
fn end_of_first_lines(text: &str, from: usize, n: usize) -> usize {
    let b = text.as_bytes();
    let mut at = from;
    for _ in 0..n {
        match b[at..].iter().position(|&c| c == b'\n') {
            Some(i) => at += i + 1,
            None => return b.len(),
        }
    }
    at
}

fn diff_hunks_whole(old: &str, new: &str, context: usize) -> Vec<Hunk> {
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
mod tests;
