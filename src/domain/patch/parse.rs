//! Reading unified diffs, tolerant of what small models get wrong.

use super::*;

// ---------------------------------------------------------------------------------------
// Parsing

/// The patch's lines without their `\n`. When every line ends in `\r` the patch itself
/// travelled with CRLF endings and they are dropped; otherwise a `\r` belongs to the
/// line's content (a CRLF file's lines) and is kept, for `parse_hunk` to read.
fn patch_lines(text: &str) -> Vec<&str> {
    let mut lines: Vec<&str> = text.split('\n').collect();
    if text.ends_with('\n') || text.is_empty() {
        lines.pop();
    }
    let transport_crlf = !lines.is_empty() && lines.iter().all(|l| l.ends_with('\r'));
    if transport_crlf {
        for l in &mut lines {
            *l = l.strip_suffix('\r').unwrap_or(l);
        }
    }
    lines
}

/// A line that is not hunk content, without a `\r` that content lines may keep.
fn bare(l: &str) -> &str {
    l.strip_suffix('\r').unwrap_or(l)
}

fn is_file_header(lines: &[&str], i: usize) -> bool {
    lines[i].starts_with("--- ")
        && lines
            .get(i + 1)
            .is_some_and(|n| n.starts_with("+++ ") || bare(n) == "+++")
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
    /// `new file mode` / `new mode`: executable or not.
    executable: Option<bool>,
}

/// `100755` -> true, `100644` -> false.
fn mode_executable(mode: &str) -> Option<bool> {
    u32::from_str_radix(mode.trim(), 8)
        .ok()
        .map(|m| m & 0o111 != 0)
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
                executable: self.executable,
            }),
            (_, true) => old.map(|o| FilePatch {
                old_path: Some(o),
                new_path: None,
                hunks: vec![],
                executable: None,
            }),
            _ => match (old, new) {
                (Some(o), Some(n)) if o != n => Some(FilePatch {
                    old_path: Some(o),
                    new_path: Some(n),
                    hunks: vec![],
                    executable: self.executable,
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
        let line = bare(lines[i]);
        if line.starts_with("diff --git ") {
            if let Some(done) = git.take().and_then(GitBlock::into_patch) {
                files.push(done);
            }
            git = Some(GitBlock::from_line(line));
            i += 1;
            continue;
        }
        if let Some(block) = git.as_mut() {
            if let Some(mode) = line.strip_prefix("new file mode ") {
                block.new_file = true;
                block.executable = mode_executable(mode);
            } else if let Some(mode) = line.strip_prefix("new mode ") {
                block.executable = mode_executable(mode);
            } else if line.starts_with("Binary files ") || line == "GIT binary patch" {
                let path = block
                    .new
                    .clone()
                    .or(block.old.clone())
                    .unwrap_or_else(|| "(unnamed)".into());
                return Err(PatchError::Binary { line: i + 1, path });
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
            let new = header_path(bare(lines[i + 1]).get(4..).unwrap_or(""), i + 2)?;
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
                executable: git.as_ref().and_then(|b| b.executable),
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
    let header = bare(lines[start]);
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
        let raw = lines[j];
        let l = bare(raw);
        // `--- x` then `+++ y` inside a hunk whose counts say a removed and an added line
        // are still to come is content (`-- x` removed, `++ y` added), not a file header
        let counted_content = left.0.is_some_and(|n| n > 0) && left.1.is_some_and(|n| n > 0);
        if l.starts_with("@@")
            || l.starts_with("diff --git ")
            || (is_file_header(lines, j) && !counted_content)
        {
            break;
        }
        if let Some(rest) = l.strip_prefix(' ') {
            take(&mut hunk, &mut left, HunkLine::Context(rest.to_owned()));
        } else if let Some(rest) = l.strip_prefix('-') {
            take(&mut hunk, &mut left, HunkLine::Remove(rest.to_owned()));
        } else if let Some(rest) = l.strip_prefix('+') {
            if raw.ends_with('\r') {
                hunk.crlf = true;
            }
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
            while k < lines.len() && bare(lines[k]).is_empty() {
                k += 1;
            }
            let more_body =
                k < lines.len() && is_body_line(bare(lines[k])) && !is_file_header(lines, k);
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
