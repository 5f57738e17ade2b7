//! A file change while the model is still writing it: from the partial arguments of an
//! `edit_file`, `write_file` or `apply_patch` call and the file as it is on disk, the change
//! so far. Pure; the caller reads the file.
//!
//! Work per fragment stays proportional to the edit, not to the file: an `edit_file` is
//! diffed only over the lines around its `old_string` (line numbers kept), and a partial
//! `write_file` only over the lines written so far.

use super::partial_json::PartialObject;
use super::patch::{Hunk, diff_hunks};

/// Past this many bytes (the file, or what is being written), a streaming change is shown
/// as a running summary instead of a diff: the full diff comes with the approval.
pub const LIVE_DIFF_MAX_BYTES: usize = 512 * 1024;
/// Lines of a draft or patch shown while it streams (its end).
const TAIL_LINES: usize = 400;

/// The tools whose calls change files and can be previewed as they stream.
pub fn previews(tool: &str) -> bool {
    matches!(tool, "edit_file" | "write_file" | "apply_patch")
}

/// What the change looks like so far.
#[derive(Debug, Clone, PartialEq)]
pub enum LiveView {
    /// Not enough has arrived (no path yet, `old_string` still coming).
    Waiting(String),
    /// Hunks against the file on disk; `complete` once the arguments are whole.
    Hunks {
        path: String,
        new_file: bool,
        hunks: Vec<Hunk>,
        complete: bool,
    },
    /// Text of the change arriving before the path it belongs to (arguments in another
    /// order): shown as it comes, without line numbers.
    Draft { what: String, text: String },
    /// `apply_patch`: the patch text as written so far.
    Patch { text: String, complete: bool },
    /// The change cannot apply (e.g. `old_string` is not in the file).
    Problem { path: String, message: String },
    /// Too large to diff while it streams: how much has been written.
    Summary {
        path: String,
        new_file: bool,
        bytes: usize,
        lines: usize,
        complete: bool,
    },
}

/// The last `TAIL_LINES` lines of `text` (all of it when shorter), and how many came before.
fn tail(text: &str) -> (usize, String) {
    let mut cut = text.len();
    let mut seen = 0;
    for (i, _) in text.rmatch_indices('\n') {
        if i + 1 == text.len() {
            continue;
        }
        seen += 1;
        if seen == TAIL_LINES {
            cut = i + 1;
            break;
        }
    }
    if seen < TAIL_LINES {
        return (0, text.to_owned());
    }
    (
        memchr::memchr_iter(b'\n', &text.as_bytes()[..cut]).count(),
        text[cut..].to_owned(),
    )
}

/// The change so far. `base` is the file's current text (`None` = it does not exist) once
/// read; `None` while the caller has not read it yet.
pub fn view(tool: &str, args: &PartialObject, base: Option<Option<&str>>) -> LiveView {
    if tool == "apply_patch" {
        let (before, text) = tail(args.get("patch").unwrap_or(""));
        return LiveView::Patch {
            text: if before > 0 {
                format!("… {before} earlier lines\n{text}")
            } else {
                text
            },
            complete: args.complete("patch"),
        };
    }
    let Some(path) = args.get("path").filter(|_| args.complete("path")) else {
        let key = if tool == "write_file" {
            "content"
        } else {
            "new_string"
        };
        return match args.get(key) {
            Some(text) if !text.is_empty() => {
                let (before, text) = tail(text);
                LiveView::Draft {
                    what: if before > 0 {
                        format!(
                            "{key} (the path has not arrived yet; {before} earlier lines not shown)"
                        )
                    } else {
                        format!("{key} (the path has not arrived yet)")
                    },
                    text,
                }
            }
            _ => LiveView::Waiting("waiting for the path…".into()),
        };
    };
    let Some(base) = base else {
        return LiveView::Waiting(format!("reading {path}…"));
    };
    match tool {
        "write_file" => write_view(path, base, args),
        "edit_file" => edit_view(path, base, args),
        _ => LiveView::Waiting(String::new()),
    }
}

fn write_view(path: &str, base: Option<&str>, args: &PartialObject) -> LiveView {
    let content = args.get("content").unwrap_or("");
    let complete = args.complete("content");
    let old = base.unwrap_or("");
    if content.len() > LIVE_DIFF_MAX_BYTES || old.len() > LIVE_DIFF_MAX_BYTES {
        return LiveView::Summary {
            path: path.to_owned(),
            new_file: base.is_none(),
            bytes: content.len(),
            lines: memchr::memchr_iter(b'\n', content.as_bytes()).count(),
            complete,
        };
    }
    let hunks = if complete {
        diff_hunks(old, content, 3)
    } else {
        // only the whole lines written so far, against as many lines of the old file
        let written = &content[..content.rfind('\n').map_or(0, |i| i + 1)];
        let lines = written.matches('\n').count();
        let old_part = &old[..nth_line_end(old, lines)];
        diff_hunks(old_part, written, 3)
    };
    LiveView::Hunks {
        path: path.to_owned(),
        new_file: base.is_none(),
        hunks,
        complete,
    }
}

fn edit_view(path: &str, base: Option<&str>, args: &PartialObject) -> LiveView {
    let problem = |message: String| LiveView::Problem {
        path: path.to_owned(),
        message,
    };
    let Some(old) = base else {
        return problem(format!("{path} does not exist"));
    };
    if !args.complete("old_string") {
        return LiveView::Waiting("reading old_string…".into());
    }
    let find = args.get("old_string").unwrap_or("");
    if find.is_empty() {
        return problem("old_string is empty".into());
    }
    let replace_all = args
        .field("replace_all")
        .is_some_and(|f| !f.is_string && f.complete && f.value == "true");
    // a file with CRLF endings matches an old_string written with LF, as the tool does
    let crlf;
    let find = if !old.contains(find) && old.contains("\r\n") && find.contains('\n') {
        crlf = find.replace("\r\n", "\n").replace('\n', "\r\n");
        crlf.as_str()
    } else {
        find
    };
    let Some(at) = old.find(find) else {
        return problem(format!("old_string is not in {path}"));
    };
    if !replace_all && old[at + find.len()..].contains(find) {
        let n = old.matches(find).count();
        return problem(format!(
            "old_string matches {n} places in {path}; it must match exactly one"
        ));
    }
    let with = args.get("new_string").unwrap_or("");
    let complete = args.complete("new_string");
    if with.len() > LIVE_DIFF_MAX_BYTES || (replace_all && old.len() > LIVE_DIFF_MAX_BYTES) {
        return LiveView::Summary {
            path: path.to_owned(),
            new_file: false,
            bytes: with.len(),
            lines: memchr::memchr_iter(b'\n', with.as_bytes()).count(),
            complete,
        };
    }
    let hunks = if replace_all {
        diff_hunks(old, &old.replace(find, with), 3)
    } else {
        region_hunks(old, at, find.len(), with)
    };
    LiveView::Hunks {
        path: path.to_owned(),
        new_file: false,
        hunks,
        complete,
    }
}

/// Hunks for replacing `old[at..at + len]` with `with`, diffing only the lines the edit
/// touches (plus context) and numbering them as in the whole file.
fn region_hunks(old: &str, at: usize, len: usize, with: &str) -> Vec<Hunk> {
    const CONTEXT: usize = 3;
    let start_line = old[..at].matches('\n').count();
    let end_line = start_line + old[at..at + len].matches('\n').count();
    let from_line = start_line.saturating_sub(CONTEXT);
    let from = nth_line_end(old, from_line);
    let to = nth_line_end(old, end_line + 1 + CONTEXT);
    let old_region = &old[from..to];
    let mut new_region = String::with_capacity(old_region.len() + with.len());
    new_region.push_str(&old[from..at]);
    new_region.push_str(with);
    new_region.push_str(&old[(at + len).min(to)..to]);
    let mut hunks = diff_hunks(old_region, &new_region, CONTEXT);
    for h in &mut hunks {
        h.old_start += from_line;
        h.new_start += from_line;
    }
    hunks
}

/// The byte offset just past the `n`th newline (the start of line `n`, 0-based); the end
/// of the text when it has fewer lines.
fn nth_line_end(text: &str, n: usize) -> usize {
    if n == 0 {
        return 0;
    }
    text.match_indices('\n')
        .nth(n - 1)
        .map_or(text.len(), |(i, _)| i + 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::patch::HunkLine;

    fn args(json: &str) -> PartialObject {
        let mut p = PartialObject::new();
        p.feed(json);
        p
    }

    fn file(n: usize) -> String {
        (1..=n).map(|i| format!("line {i}\n")).collect()
    }

    #[test]
    fn an_edit_in_a_big_file_is_numbered_as_in_the_file() {
        let old = file(10_000);
        let a = args(
            r#"{"path":"big.txt","old_string":"line 5000\nline 5001\n","new_string":"LINE 5000\nline 5001\nnew li"#,
        );
        let LiveView::Hunks {
            hunks, complete, ..
        } = view("edit_file", &a, Some(Some(&old)))
        else {
            panic!()
        };
        assert!(!complete);
        assert_eq!(hunks.len(), 1);
        let h = &hunks[0];
        assert_eq!(h.old_start, 4997, "context starts three lines before");
        assert!(h.lines.contains(&HunkLine::Remove("line 5000".into())));
        assert!(h.lines.contains(&HunkLine::Add("LINE 5000".into())));
        // the partial last line shows as written so far, joined to what follows it
        assert!(h.lines.contains(&HunkLine::Add("new liline 5002".into())));
        assert!(h.lines.contains(&HunkLine::Remove("line 5002".into())));
    }

    #[test]
    fn edits_that_cannot_apply_say_why() {
        let old = "a\nb\na\n";
        let v = view(
            "edit_file",
            &args(r#"{"path":"f","old_string":"a\n","new_string":"x"}"#),
            Some(Some(old)),
        );
        assert!(matches!(v, LiveView::Problem { message, .. } if message.contains("2 places")));
        let v = view(
            "edit_file",
            &args(r#"{"path":"f","old_string":"zz","new_string":"x"}"#),
            Some(Some(old)),
        );
        assert!(matches!(v, LiveView::Problem { message, .. } if message.contains("not in")));
        let v = view(
            "edit_file",
            &args(r#"{"path":"f","old_string":"a\n","new_string":"x\n","replace_all":true}"#),
            Some(Some(old)),
        );
        assert!(matches!(v, LiveView::Hunks { hunks, .. } if hunks.len() == 1));
        let a = args(r#"{"path":"f","old_string":"a\n","new_string":"x\n","replace_all":false}"#);
        let v = view("edit_file", &a, Some(Some(old)));
        assert!(
            matches!(v, LiveView::Problem { .. }),
            "replace_all false is not true"
        );
        let a = args(r#"{"path":"f","old_string":"a\nb","new_string":"A\nB"}"#);
        let v = view("edit_file", &a, Some(Some("a\r\nb\r\n")));
        assert!(
            matches!(v, LiveView::Hunks { .. }),
            "CRLF file, LF old_string: {v:?}"
        );
        let v = view(
            "edit_file",
            &args(r#"{"path":"f","old_str"#),
            Some(Some(old)),
        );
        assert!(matches!(v, LiveView::Waiting(_)));
    }

    #[test]
    fn a_file_being_written_grows_line_by_line() {
        let old = "one\ntwo\nthree\n";
        let v = view(
            "write_file",
            &args(r#"{"path":"f","content":"one\nTWO\nthr"#),
            Some(Some(old)),
        );
        let LiveView::Hunks {
            hunks,
            complete,
            new_file,
            ..
        } = v
        else {
            panic!()
        };
        assert!(!complete && !new_file);
        let added: Vec<&str> = hunks
            .iter()
            .flat_map(|h| h.lines.iter())
            .filter(|l| matches!(l, HunkLine::Add(_)))
            .map(HunkLine::text)
            .collect();
        assert_eq!(
            added,
            ["TWO"],
            "only whole lines, against as many old lines"
        );
        let v = view(
            "write_file",
            &args(r#"{"path":"new.rs","content":"fn main() {}\n"}"#),
            Some(None),
        );
        assert!(matches!(
            v,
            LiveView::Hunks {
                new_file: true,
                complete: true,
                ..
            }
        ));
        assert!(matches!(
            view("write_file", &args(r#"{"path":"f"}"#), None),
            LiveView::Waiting(_)
        ));
    }
}
