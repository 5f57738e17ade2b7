//! `@path` and `@path:10-40` in a message: the files' contents go to the model with it.
//! Paths are confined to the workspace like every tool's; a word that is not an
//! existing file (an e-mail address, a decorator) is left alone.

use std::path::Path;

/// One `@` reference in a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileRef {
    pub path: String,
    /// 1-based inclusive line range.
    pub lines: Option<(usize, usize)>,
}

/// The `@` references in `text`: an `@` at the start or after whitespace, up to the next
/// whitespace, without trailing punctuation. `@@` and a lone `@` are not references.
pub fn refs(text: &str) -> Vec<FileRef> {
    let mut out: Vec<FileRef> = Vec::new();
    let mut prev_space = true;
    for (i, ch) in text.char_indices() {
        if ch == '@' && prev_space {
            let rest = &text[i + 1..];
            let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
            let word = rest[..end].trim_end_matches(['.', ',', ';', ')', '!', '?', '"', '\'', '`']);
            if let Some(r) = parse_ref(word)
                && !out.contains(&r)
            {
                out.push(r);
            }
        }
        prev_space = ch.is_whitespace();
    }
    out
}

fn parse_ref(word: &str) -> Option<FileRef> {
    if word.is_empty() || word.starts_with('@') {
        return None;
    }
    if let Some((path, range)) = word.rsplit_once(':')
        && let Some((a, b)) = range.split_once('-').or(Some((range, range)))
        && let (Ok(a), Ok(b)) = (a.parse::<usize>(), b.parse::<usize>())
        && !path.is_empty()
    {
        let (a, b) = (a.max(1), b.max(a.max(1)));
        return Some(FileRef {
            path: path.to_owned(),
            lines: Some((a, b)),
        });
    }
    let word = word.trim_end_matches(':');
    (!word.is_empty()).then(|| FileRef {
        path: word.to_owned(),
        lines: None,
    })
}

/// The files a message refers to, read and formatted for the model.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Attached {
    /// Text to append to the message (empty: nothing attached).
    pub text: String,
    /// One label per file for the user: `src/main.rs (lines 10-40)`.
    pub labels: Vec<String>,
    /// References that name a file that cannot be attached, and why.
    pub problems: Vec<String>,
}

/// Reads each reference in `text` that is a file inside `root`, at most `max_bytes` each.
pub fn attach(root: &Path, text: &str, max_bytes: usize) -> Attached {
    let mut out = Attached::default();
    for r in refs(text) {
        let Ok(path) = crate::domain::paths::resolve_in_root(root, &r.path) else {
            // outside the workspace or not a path at all: leave the word alone
            continue;
        };
        let Ok(meta) = std::fs::metadata(&path) else {
            continue;
        };
        if !meta.is_file() {
            continue;
        }
        let bytes = match read_prefix(&path, max_bytes.saturating_mul(4).max(max_bytes)) {
            Ok(b) => b,
            Err(e) => {
                out.problems.push(format!("@{}: {e}", r.path));
                continue;
            }
        };
        if bytes.contains(&0) {
            out.problems
                .push(format!("@{}: a binary file, not attached", r.path));
            continue;
        }
        let all = String::from_utf8_lossy(&bytes);
        let total_lines = all.lines().count();
        let (body, label) = match r.lines {
            Some((a, b)) => {
                let b = b.min(total_lines);
                if a > total_lines {
                    out.problems.push(format!(
                        "@{}:{a}-{b}: the file has only {total_lines} lines",
                        r.path
                    ));
                    continue;
                }
                let body: Vec<&str> = all.lines().skip(a - 1).take(b + 1 - a).collect();
                (body.join("\n"), format!("{} (lines {a}-{b})", r.path))
            }
            None => (all.trim_end_matches('\n').to_owned(), r.path.clone()),
        };
        let (body, cut) = cut_at_line(&body, max_bytes);
        let whole_read = (meta.len() as usize) <= bytes.len();
        let note = if cut || (r.lines.is_none() && !whole_read) {
            format!(
                "\n[… cut: the attachment is limited to {max_bytes} bytes; the file is {} bytes. Use read_file for the rest.]",
                meta.len()
            )
        } else {
            String::new()
        };
        let lang = Path::new(&r.path)
            .extension()
            .and_then(|e| e.to_str())
            .unwrap_or("");
        let fence = "`".repeat(longest_backticks(&body).max(2) + 1);
        out.text.push_str(&format!(
            "\n\nAttached file `{label}`:\n{fence}{lang}\n{body}\n{fence}{note}"
        ));
        out.labels.push(label);
    }
    out
}

fn read_prefix(path: &Path, max: usize) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut buf = Vec::new();
    std::fs::File::open(path)?
        .take(max as u64)
        .read_to_end(&mut buf)?;
    Ok(buf)
}

/// `text` cut to at most `max` bytes at a line end; whether it was cut.
fn cut_at_line(text: &str, max: usize) -> (String, bool) {
    if text.len() <= max {
        return (text.to_owned(), false);
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let end = text[..end].rfind('\n').unwrap_or(end);
    (text[..end].to_owned(), true)
}

fn longest_backticks(text: &str) -> usize {
    let (mut best, mut run) = (0, 0);
    for c in text.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        best = best.max(run);
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_references_and_ranges() {
        let r = refs("look at @src/main.rs, and @lib.rs:10-40. mail a@b.c @@x @ @f:3");
        assert_eq!(
            r,
            vec![
                FileRef {
                    path: "src/main.rs".into(),
                    lines: None
                },
                FileRef {
                    path: "lib.rs".into(),
                    lines: Some((10, 40))
                },
                FileRef {
                    path: "f".into(),
                    lines: Some((3, 3))
                },
            ]
        );
    }

    #[test]
    fn attaches_files_ranges_and_caps() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let text: String = (1..=100).map(|i| format!("line {i}\n")).collect();
        std::fs::write(root.join("a.rs"), &text).unwrap();
        std::fs::write(root.join("big.txt"), "x\n".repeat(10_000)).unwrap();
        std::fs::write(root.join("bin"), [0u8, 1, 2]).unwrap();
        let a = attach(
            root,
            "see @a.rs:10-12 and @big.txt and @bin and @missing and @../etc/passwd",
            1000,
        );
        assert_eq!(a.labels, vec!["a.rs (lines 10-12)", "big.txt"]);
        assert!(
            a.text.contains("```rs\nline 10\nline 11\nline 12\n```"),
            "{}",
            a.text
        );
        assert!(
            a.text
                .contains("[… cut: the attachment is limited to 1000 bytes")
        );
        assert!(a.text.len() < 1500, "capped: {}", a.text.len());
        assert_eq!(a.problems.len(), 1, "{:?}", a.problems);
        assert!(a.problems[0].contains("binary"));
    }
}
