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
/// whitespace, without trailing punctuation; `@"a path with spaces"` (optionally
/// followed by `:10-40`) for names with spaces. `@@` and a lone `@` are not references.
pub fn refs(text: &str) -> Vec<FileRef> {
    let mut out: Vec<FileRef> = Vec::new();
    let mut prev_space = true;
    // the end of a quoted reference: nothing inside it is looked at again
    let mut skip_to = 0;
    for (i, ch) in text.char_indices() {
        if i < skip_to {
            continue;
        }
        if ch == '@' && prev_space {
            let rest = &text[i + 1..];
            if let Some(quoted) = rest.strip_prefix('"')
                && let Some(close) = quoted.find('"')
            {
                let path = &quoted[..close];
                skip_to = i + 2 + close + 1;
                let after = &quoted[close + 1..];
                let end = after.find(char::is_whitespace).unwrap_or(after.len());
                let suffix = after[..end].trim_end_matches(['.', ',', ';', ')', '!', '?']);
                let r = match suffix
                    .strip_prefix(':')
                    .and_then(|range| parse_ref(&format!("x:{range}")))
                {
                    Some(FileRef { lines, .. }) if !path.is_empty() => Some(FileRef {
                        path: path.to_owned(),
                        lines,
                    }),
                    _ => (!path.is_empty()).then(|| FileRef {
                        path: path.to_owned(),
                        lines: None,
                    }),
                };
                if let Some(r) = r
                    && !out.contains(&r)
                {
                    out.push(r);
                }
                prev_space = false;
                continue;
            }
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
    attach_guarded(root, text, max_bytes, &|_| None)
}

/// `attach`, leaving out the files `denied` names a reason for (`[guard] deny_read`:
/// secret-looking files reach the model only through `read_file`, which asks first).
pub fn attach_guarded(
    root: &Path,
    text: &str,
    max_bytes: usize,
    denied: &dyn Fn(&Path) -> Option<String>,
) -> Attached {
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
        if let Some(why) = denied(&path) {
            out.problems.push(format!(
                "@{}: not attached, it {why}; ask for it to be read and you will be asked to approve",
                r.path
            ));
            continue;
        }
        if let Some((a, b)) = r.lines {
            match read_lines(&path, a, b, max_bytes) {
                Ok(Lines::Found { body, cut, last }) => {
                    let label = format!("{} (lines {a}-{last})", r.path);
                    push_block(&mut out, &r.path, &label, &body, cut.then_some(max_bytes));
                }
                Ok(Lines::Short(n)) => out
                    .problems
                    .push(format!("@{}:{a}-{b}: the file has only {n} lines", r.path)),
                Ok(Lines::Binary) => out
                    .problems
                    .push(format!("@{}: a binary file, not attached", r.path)),
                Err(e) => out.problems.push(format!("@{}: {e}", r.path)),
            }
            continue;
        }
        // the whole file, up to the cap (a little more is read to find a line end)
        let bytes = match read_prefix(&path, max_bytes.saturating_add(1)) {
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
        let (body, cut) = cut_at_line(all.trim_end_matches('\n'), max_bytes);
        let cut = cut || (meta.len() as usize) > bytes.len();
        push_block(&mut out, &r.path, &r.path, &body, cut.then_some(max_bytes));
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

/// Lines `a..=b` of a file, read up to line `b` only.
enum Lines {
    Found {
        body: String,
        cut: bool,
        last: usize,
    },
    /// The file ends before line `a`: its line count.
    Short(usize),
    Binary,
}

fn read_lines(path: &Path, a: usize, b: usize, max_bytes: usize) -> std::io::Result<Lines> {
    use std::io::BufRead;
    let mut reader = std::io::BufReader::new(std::fs::File::open(path)?);
    let mut buf = Vec::new();
    let mut body: Vec<u8> = Vec::new();
    // lines finished so far; the line being read is `n + 1`
    let (mut n, mut last, mut cut, mut in_line) = (0usize, 0usize, false, false);
    let chunk = max_bytes.saturating_add(1).min(1 << 20) as u64;
    loop {
        buf.clear();
        // read in pieces, so that one huge line (a minified file) is never held whole
        let got = std::io::Read::take(&mut reader, chunk).read_until(b'\n', &mut buf)?;
        if got == 0 {
            // a last line without a newline counts
            if in_line {
                n += 1;
            }
            break;
        }
        if buf.contains(&0) {
            return Ok(Lines::Binary);
        }
        let line_no = n + 1;
        if line_no >= a && line_no <= b && !cut {
            let room = max_bytes.saturating_sub(body.len());
            if buf.len() > room {
                body.extend_from_slice(&buf[..room]);
                cut = true;
            } else {
                body.extend_from_slice(&buf);
            }
            last = line_no;
        }
        if buf.ends_with(b"\n") {
            n += 1;
            in_line = false;
            if n >= b || cut {
                break;
            }
        } else {
            in_line = true;
        }
    }
    if last == 0 {
        return Ok(Lines::Short(n));
    }
    let body = String::from_utf8_lossy(&body);
    Ok(Lines::Found {
        body: body.trim_end_matches('\n').to_owned(),
        cut,
        last,
    })
}

/// One attached file as a fenced block, with a note when it was cut at `cut_at` bytes.
fn push_block(out: &mut Attached, path: &str, label: &str, body: &str, cut_at: Option<usize>) {
    let lang = Path::new(path)
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("");
    let fence = crate::domain::text::code_fence(body);
    let note = cut_at.map_or(String::new(), |max| {
        format!("\n[… cut: the attachment is limited to {max} bytes. Use read_file for the rest.]")
    });
    out.text.push_str(&format!(
        "\n\nAttached file `{label}`:\n{fence}{lang}\n{body}\n{fence}{note}"
    ));
    out.labels.push(label.to_owned());
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
    fn long_lines_count_once_and_are_cut() {
        let dir = tempfile::tempdir().unwrap();
        let text = format!("{}\nsecond\nthird", "x".repeat(5000));
        std::fs::write(dir.path().join("min.js"), &text).unwrap();
        let a = attach(dir.path(), "@min.js:2-3", 100);
        assert!(a.text.contains("```js\nsecond\nthird\n```"), "{a:?}");
        let a = attach(dir.path(), "@min.js:1-1", 100);
        assert!(a.text.contains(&"x".repeat(100)), "{a:?}");
        assert!(a.text.contains("[… cut"), "{a:?}");
        let a = attach(dir.path(), "@min.js:4-9", 100);
        assert!(a.problems[0].contains("only 3 lines"), "{a:?}");
        let a = attach(dir.path(), "@min.js:1-18446744073709551615", usize::MAX);
        assert!(a.text.contains("third"), "{a:?}");
    }

    #[test]
    fn quoted_references_may_hold_spaces() {
        assert_eq!(
            refs(r#"@"my @notes.md""#),
            vec![FileRef {
                path: "my @notes.md".into(),
                lines: None
            }]
        );
        assert_eq!(
            refs(r#"read @"docs/My Notes.md" and @"a b.rs":2-3, ok"#),
            vec![
                FileRef {
                    path: "docs/My Notes.md".into(),
                    lines: None
                },
                FileRef {
                    path: "a b.rs".into(),
                    lines: Some((2, 3))
                },
            ]
        );
    }

    #[test]
    fn a_range_deep_in_a_big_file_is_found() {
        let dir = tempfile::tempdir().unwrap();
        let text: String = (1..=100_000)
            .map(|i| format!("line number {i}\n"))
            .collect();
        std::fs::write(dir.path().join("big.txt"), &text).unwrap();
        let a = attach(dir.path(), "@big.txt:99990-99991", 1000);
        assert!(
            a.text.contains("line number 99990\nline number 99991\n```"),
            "{a:?}"
        );
        let a = attach(dir.path(), "@big.txt:200000-200001", 1000);
        assert!(a.problems[0].contains("only 100000 lines"), "{a:?}");
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
