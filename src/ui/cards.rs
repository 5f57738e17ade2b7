//! Tool cards in the chat, in a person's words: `Edit src/main.rs +2 -1` with the changed
//! lines, `$ ls -la`, `Patch 3 files` with the list, `Read src/lib.rs`. The raw arguments
//! only on request (the `details` key), and what a waiting card leaves out said in words.

use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};

use super::chat::wrap_plain;
use crate::app::keymap::Action;
use crate::app::state::{State, ToolCard, ToolState};
use crate::domain::partial_json::PartialObject;
use crate::domain::patch::{HunkLine, diff_hunks};
use crate::domain::text::neutralize_controls;

/// Lines of a card's body (changed lines, the start of a file, files of a patch).
const BODY_LINES: usize = 6;
/// Raw arguments shown with `details` on (lines).
const RAW_LINES: usize = 200;
/// How much of the arguments is read for the summary: a 10 MB argument streaming in is
/// summarised from its start, not re-read whole on every frame.
const READ_UP_TO: usize = 64 * 1024;
/// Lines of a command's output shown from its start and from its end (the rest with
/// `details`).
const OUTPUT_ENDS: usize = 3;
/// Old and new strings up to this size are diffed for the card's lines and counts.
const DIFF_UP_TO: usize = 16 * 1024;

/// What the card says a call does.
struct Summary {
    /// `Edit src/main.rs`, `$ ls -la`.
    title: String,
    /// `+2 -1`, `(40 lines)`.
    counts: Option<String>,
    body: Vec<BodyLine>,
    /// Lines of the body not shown.
    more: usize,
}

enum BodyLine {
    Add(String),
    Remove(String),
    Plain(String),
}

pub fn tool_card(card: &ToolCard, w: usize, s: &State) -> Vec<Line<'static>> {
    let theme = &s.theme;
    let c = &theme.colors;
    let (state, color, result) = match &card.state {
        ToolState::Streaming => ("writing…", c.dim, None),
        ToolState::Proposed => ("proposed", c.dim, None),
        ToolState::Waiting => ("waiting for your decision", c.warning, None),
        ToolState::Approved => ("approved", c.success, None),
        ToolState::Running => ("running…", c.accent, None),
        ToolState::Done(r) => ("done", c.success, Some(r)),
        ToolState::Failed(r) => ("failed", c.error, Some(r)),
        ToolState::Rejected(r) => ("declined", c.warning, Some(r)),
    };
    let sum = summarise(card);
    let mut head = format!("⚙ {}", sum.title);
    if let Some(counts) = &sum.counts {
        head.push_str(&format!("  {counts}"));
    }
    head.push_str(&format!(" · {state}"));
    if let Some(m) = &card.mended {
        head.push_str(&format!(" · {m}"));
    }
    if card.edited {
        head.push_str(" · edited by you");
    }
    if card.undone {
        head.push_str(" · undone (/undo)");
    }
    let mut out = wrap_plain(
        &head,
        w,
        theme.style(color).add_modifier(Modifier::BOLD),
        "",
    );
    let add = Style::default().bg(c.diff_add_bg).fg(c.fg);
    let del = Style::default().bg(c.diff_del_bg).fg(c.fg);
    let (add, del) = if theme.no_color {
        (Style::default(), Style::default())
    } else {
        (add, del)
    };
    for line in &sum.body {
        let (mark, text, style) = match line {
            BodyLine::Add(t) => ("  + ", t, add),
            BodyLine::Remove(t) => ("  - ", t, del),
            BodyLine::Plain(t) => ("    ", t, theme.style(c.dim)),
        };
        out.push(Line::from(vec![
            Span::styled(mark, style),
            Span::styled(cut(&neutralize_controls(text), w.saturating_sub(4)), style),
        ]));
    }
    let details = s.view.details_expanded;
    // a command's output under it (its ends; all that was kept with `details`); other
    // tools' output (reads, searches: long) only with `details`, after their result
    let finished = matches!(card.state, ToolState::Done(_) | ToolState::Failed(_));
    let command_output = card.name == "shell" && finished && !card.output.is_empty();
    let output_lines = |out: &mut Vec<Line<'static>>| {
        let hint = s.keymap.keys(Action::Details);
        out.extend(output_body(
            &card.output,
            w,
            details,
            &hint,
            theme.style(c.dim),
        ));
    };
    if sum.more > 0 {
        let plural = if sum.more == 1 { "" } else { "s" };
        let more = sum.more;
        // while it waits, what is cut is what the user is about to approve
        out.extend(if card.state == ToolState::Waiting {
            wrap_plain(
                &format!(
                    "… {more} more line{plural} hidden, {} in the queue shows all",
                    s.keymap.keys(Action::ViewAll)
                ),
                w,
                theme.style(c.warning).add_modifier(Modifier::BOLD),
                "  ",
            )
        } else {
            wrap_plain(
                &format!("… {more} more line{plural}"),
                w,
                theme.style(c.dim),
                "  ",
            )
        });
    }
    if command_output {
        output_lines(&mut out);
    }
    if details {
        // the call as the model sent it
        let text = card.arguments.as_str();
        let head = &text[..floor_char(text, READ_UP_TO)];
        let raw = wrap_plain(head, w, theme.style(c.dim), "  │ ");
        let total = raw.len();
        out.extend(raw.into_iter().take(RAW_LINES));
        if total > RAW_LINES || head.len() < text.len() {
            out.push(Line::from(Span::styled(
                "  │ … (the rest in the session journal; /export writes it)",
                theme.style(c.dim),
            )));
        }
    }
    if let Some(r) = result.filter(|r| !r.is_empty() && !command_output) {
        out.extend(wrap_plain(&format!("→ {r}"), w, theme.style(c.fg), "  "));
        if details && !command_output && !card.output.is_empty() && card.output != *r {
            output_lines(&mut out);
        }
    }
    out
}

/// A call's output (already bounded and free of controls: `domain::output`), dimmed and
/// indented, each line cut to the width (never wrapped into a wall): all of it with
/// `details`, else its first and last lines with how many are between.
fn output_body(
    output: &str,
    w: usize,
    details: bool,
    hint: &str,
    style: Style,
) -> Vec<Line<'static>> {
    use crate::domain::output::left_out;
    let lines: Vec<&str> = output.lines().collect();
    let row = |l: &str| {
        Line::from(vec![
            Span::styled("    ", style),
            Span::styled(cut(&neutralize_controls(l), w.saturating_sub(4)), style),
        ])
    };
    // one line saying "1 more line" would hide nothing
    if details || lines.len() <= 2 * OUTPUT_ENDS + 1 {
        return lines.into_iter().map(row).collect();
    }
    let (head, rest) = lines.split_at(OUTPUT_ENDS);
    let (hidden, tail) = rest.split_at(rest.len() - OUTPUT_ENDS);
    // the lines left out when the output was bounded count too
    let more: usize = hidden.iter().map(|l| left_out(l).unwrap_or(1)).sum();
    let mut out: Vec<Line<'static>> = head.iter().copied().map(row).collect();
    let plural = if more == 1 { "" } else { "s" };
    let hint = if hint.is_empty() {
        String::new()
    } else {
        format!(" ({hint})")
    };
    out.push(Line::from(Span::styled(
        cut(&format!("    … {more} more line{plural}{hint}"), w),
        style,
    )));
    out.extend(tail.iter().copied().map(row));
    out
}

/// The largest char boundary at or below `at`.
fn floor_char(text: &str, at: usize) -> usize {
    let mut end = at.min(text.len());
    while end > 0 && !text.is_char_boundary(end) {
        end -= 1;
    }
    end
}

/// `text` cut to `w` columns (one row), ending in `…` when cut.
fn cut(text: &str, w: usize) -> String {
    use unicode_width::UnicodeWidthChar;
    let text = text.replace('\t', "    ");
    let width = |ch: char| ch.width().unwrap_or(0);
    if text.chars().map(width).sum::<usize>() <= w {
        return text;
    }
    let mut out = String::new();
    let mut used = 0;
    for ch in text.chars() {
        if used + width(ch) + 1 > w {
            break;
        }
        out.push(ch);
        used += width(ch);
    }
    if w > 0 {
        out.push('…');
    }
    out
}

fn summarise(card: &ToolCard) -> Summary {
    let text = card.arguments.as_str();
    let mut args = PartialObject::new();
    args.feed(&text[..floor_char(text, READ_UP_TO)]);
    let get = |k: &str| args.get(k).map(str::to_owned);
    let path = get("path").map(|p| neutralize_controls(&p).into_owned());
    let plain = |title: String| Summary {
        title,
        counts: None,
        body: Vec::new(),
        more: 0,
    };
    match card.name.as_str() {
        "edit_file" => {
            let title = format!("Edit {}", path.unwrap_or_else(|| "…".into()));
            match (get("old_string"), get("new_string")) {
                (Some(old), Some(new)) if old.len() + new.len() <= DIFF_UP_TO => {
                    edit_summary(title, &old, &new)
                }
                (old, new) => Summary {
                    counts: Some(format!(
                        "+{} -{}",
                        new.as_deref().map_or(0, count_lines),
                        old.as_deref().map_or(0, count_lines)
                    )),
                    ..plain(title)
                },
            }
        }
        "write_file" => {
            let content = get("content").unwrap_or_default();
            let lines: Vec<&str> = content.lines().collect();
            let n = lines.len();
            Summary {
                title: format!("Write {}", path.unwrap_or_else(|| "…".into())),
                counts: Some(format!("{n} line{}", if n == 1 { "" } else { "s" })),
                body: lines
                    .iter()
                    .take(BODY_LINES)
                    .map(|l| BodyLine::Plain((*l).to_owned()))
                    .collect(),
                more: n.saturating_sub(BODY_LINES),
            }
        }
        "apply_patch" => patch_summary(&get("patch").unwrap_or_default()),
        "shell" => {
            let command = get("command").unwrap_or_default();
            let mut lines = command.lines();
            let first = lines.next().unwrap_or("").to_owned();
            let rest: Vec<&str> = lines.collect();
            Summary {
                title: format!("$ {}", neutralize_controls(&first)),
                counts: None,
                body: rest
                    .iter()
                    .take(BODY_LINES)
                    .map(|l| BodyLine::Plain((*l).to_owned()))
                    .collect(),
                more: rest.len().saturating_sub(BODY_LINES),
            }
        }
        "read_file" => {
            let mut title = format!("Read {}", path.unwrap_or_else(|| "…".into()));
            if let Some(off) = number(text, "offset") {
                title.push_str(&format!(" from line {off}"));
            }
            if let Some(limit) = number(text, "limit") {
                title.push_str(&format!(" ({limit} lines)"));
            }
            plain(title)
        }
        "list_files" => {
            let mut title = format!("List {}", path.unwrap_or_else(|| ".".into()));
            if let Some(g) = get("glob") {
                title.push_str(&format!(" {}", neutralize_controls(&g)));
            }
            plain(title)
        }
        "search" => {
            let mut title = format!(
                "Search {}",
                neutralize_controls(&get("pattern").unwrap_or_default())
            );
            if let Some(p) = path {
                title.push_str(&format!(" in {p}"));
            }
            if let Some(g) = get("glob") {
                title.push_str(&format!(" ({})", neutralize_controls(&g)));
            }
            plain(title)
        }
        "git_status" => plain("git status".into()),
        "git_diff" => plain(
            format!("git diff {}", path.unwrap_or_default())
                .trim_end()
                .to_owned(),
        ),
        "git_commit" => {
            let message = get("message").unwrap_or_default();
            let first = message.lines().next().unwrap_or("").to_owned();
            plain(format!("Commit: {}", neutralize_controls(&first)))
        }
        // MCP and custom tools: their string arguments as `key: value`
        name => {
            let body: Vec<BodyLine> = args
                .fields()
                .iter()
                .filter_map(|f| {
                    let v = args.get(&f.key)?;
                    Some(BodyLine::Plain(format!(
                        "{}: {}",
                        f.key,
                        v.lines().next().unwrap_or("")
                    )))
                })
                .collect();
            let n = body.len();
            Summary {
                title: neutralize_controls(name).into_owned(),
                counts: None,
                body: body.into_iter().take(BODY_LINES).collect(),
                more: n.saturating_sub(BODY_LINES),
            }
        }
    }
}

fn count_lines(s: &str) -> usize {
    s.lines().count()
}

/// A number argument, read from the JSON when it is whole.
fn number(text: &str, key: &str) -> Option<u64> {
    serde_json::from_str::<serde_json::Value>(text)
        .ok()?
        .get(key)?
        .as_u64()
}

fn edit_summary(title: String, old: &str, new: &str) -> Summary {
    let mut body = Vec::new();
    let (mut added, mut removed) = (0, 0);
    for hunk in diff_hunks(old, new, 0) {
        for line in hunk.lines {
            match line {
                HunkLine::Add(t) => {
                    added += 1;
                    body.push(BodyLine::Add(t));
                }
                HunkLine::Remove(t) => {
                    removed += 1;
                    body.push(BodyLine::Remove(t));
                }
                HunkLine::Context(_) => {}
            }
        }
    }
    let more = body.len().saturating_sub(BODY_LINES);
    body.truncate(BODY_LINES);
    Summary {
        title,
        counts: Some(format!("+{added} -{removed}")),
        body,
        more,
    }
}

/// `Patch 3 files +10 -4` and each file with its counts.
fn patch_summary(patch: &str) -> Summary {
    let mut files: Vec<(String, usize, usize)> = Vec::new();
    for line in patch.lines() {
        if let Some(p) = line.strip_prefix("+++ ") {
            let p = p.trim();
            let p = p.strip_prefix("b/").unwrap_or(p);
            files.push((neutralize_controls(p).into_owned(), 0, 0));
        } else if let Some(p) = line.strip_prefix("--- ") {
            // a deletion names the file only here (`+++ /dev/null`)
            let _ = p;
        } else if let Some(f) = files.last_mut() {
            if line.starts_with('+') {
                f.1 += 1;
            } else if line.starts_with('-') {
                f.2 += 1;
            }
        }
    }
    let (added, removed) = files.iter().fold((0, 0), |(a, r), f| (a + f.1, r + f.2));
    let n = files.len();
    let body: Vec<BodyLine> = files
        .iter()
        .map(|(p, a, r)| BodyLine::Plain(format!("{p}  +{a} -{r}")))
        .collect();
    Summary {
        title: format!("Patch {n} file{}", if n == 1 { "" } else { "s" }),
        counts: Some(format!("+{added} -{removed}")),
        more: n.saturating_sub(BODY_LINES),
        body: body.into_iter().take(BODY_LINES).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn card(name: &str, args: &str) -> ToolCard {
        ToolCard {
            id: "c1".into(),
            name: name.into(),
            arguments: args.into(),
            mended: None,
            state: ToolState::Proposed,
            changes: Vec::new(),
            edited: false,
            undone: false,
            output: String::new(),
        }
    }

    #[test]
    fn calls_are_summarised_in_words() {
        let s = summarise(&card(
            "edit_file",
            r#"{"path":"src/main.rs","old_string":"a\nb\n","new_string":"a\nB\nc\n"}"#,
        ));
        assert_eq!(s.title, "Edit src/main.rs");
        assert_eq!(s.counts.as_deref(), Some("+2 -1"));
        assert!(matches!(&s.body[0], BodyLine::Remove(t) if t == "b"));
        let s = summarise(&card("shell", r#"{"command":"ls -la"}"#));
        assert_eq!(s.title, "$ ls -la");
        let patch = "--- a/x.rs\n+++ b/x.rs\n@@ -1 +1 @@\n-a\n+b\n--- a/y.rs\n+++ b/y.rs\n@@ -1 +1,2 @@\n a\n+c\n--- a/z.rs\n+++ b/z.rs\n@@ -1 +0,0 @@\n-z\n";
        let args = serde_json::json!({ "patch": patch }).to_string();
        let s = summarise(&card("apply_patch", &args));
        assert_eq!(s.title, "Patch 3 files");
        assert_eq!(s.counts.as_deref(), Some("+2 -2"));
        assert_eq!(s.body.len(), 3);
        // streaming: the path is read before the JSON is whole
        let s = summarise(&card(
            "write_file",
            r#"{"path":"notes.md","content":"one\ntw"#,
        ));
        assert_eq!(s.title, "Write notes.md");
        let s = summarise(&card("my_server__lookup", r#"{"query":"rust tui"}"#));
        assert_eq!(s.title, "my_server__lookup");
        assert!(matches!(&s.body[0], BodyLine::Plain(t) if t == "query: rust tui"));
    }

    fn plain(lines: &[Line<'_>]) -> Vec<String> {
        lines
            .iter()
            .map(|l| l.spans.iter().map(|s| s.content.as_ref()).collect())
            .collect()
    }

    fn rendered(card: &ToolCard, w: usize, details: bool) -> Vec<String> {
        let theme = crate::config::theme::Theme::builtin("dark").expect("built-in theme");
        let mut s = State::new(
            "/w".into(),
            "s".into(),
            theme,
            crate::app::history::InputHistory::default(),
            crate::ui::measurer(),
        );
        s.view.details_expanded = details;
        plain(&tool_card(card, w, &s))
    }

    fn finished(name: &str, args: &str, output: &str) -> ToolCard {
        ToolCard {
            state: ToolState::Done(output.lines().next().unwrap_or("").into()),
            output: crate::domain::output::bounded(output),
            ..card(name, args)
        }
    }

    #[test]
    fn a_command_shows_the_head_and_tail_of_its_output() {
        let output: String = (1..=50).map(|i| format!("line {i}\n")).collect();
        let c = finished("shell", r#"{"command":"cargo test"}"#, &output);
        let lines = rendered(&c, 60, false);
        assert_eq!(
            lines,
            [
                "⚙ $ cargo test · done",
                "    line 1",
                "    line 2",
                "    line 3",
                "    … 44 more lines (Ctrl+O)",
                "    line 48",
                "    line 49",
                "    line 50",
            ]
        );
        // short output: all of it, and no `→` line repeating its first line
        let c = finished("shell", r#"{"command":"ls"}"#, "a\nb\nexit code 0");
        assert_eq!(
            rendered(&c, 60, false),
            ["⚙ $ ls · done", "    a", "    b", "    exit code 0"]
        );
    }

    #[test]
    fn details_show_all_the_output_that_was_kept() {
        let output: String = (1..=50).map(|i| format!("line {i}\n")).collect();
        let c = finished("shell", r#"{"command":"cargo test"}"#, &output);
        let lines = rendered(&c, 60, true);
        for i in 1..=50 {
            assert!(lines.contains(&format!("    line {i}")), "{lines:?}");
        }
        assert!(!lines.iter().any(|l| l.contains("more line")));
        // output bounded when it came: the count says what it left out
        let output: String = (1..=1000).map(|i| format!("line {i}\n")).collect();
        let c = finished("shell", r#"{"command":"seq"}"#, &output);
        let lines = rendered(&c, 60, false);
        assert!(
            lines.contains(&"    … 994 more lines (Ctrl+O)".to_string()),
            "{lines:?}"
        );
        let lines = rendered(&c, 60, true);
        assert!(lines.contains(&"    [… 800 lines left out …]".to_string()));
    }

    #[test]
    fn long_output_lines_are_cut_not_wrapped() {
        let c = finished("shell", r#"{"command":"cat min.js"}"#, &"x".repeat(5000));
        let lines = rendered(&c, 40, false);
        assert_eq!(lines.len(), 2, "{lines:?}");
        assert!(lines[1].ends_with('…'));
        assert!(lines[1].chars().count() <= 40);
    }

    #[test]
    fn other_tools_show_output_only_with_details() {
        let c = finished("read_file", r#"{"path":"a.rs"}"#, "fn main() {}\n// end");
        assert_eq!(
            rendered(&c, 60, false),
            ["⚙ Read a.rs · done", "  → fn main() {}"]
        );
        let lines = rendered(&c, 60, true);
        assert!(lines.contains(&"    // end".to_string()), "{lines:?}");
        // a declined command: its reason, no output block
        let c = ToolCard {
            state: ToolState::Rejected("The user declined this call.".into()),
            output: "The user declined this call.".into(),
            ..card("shell", r#"{"command":"rm -rf /"}"#)
        };
        assert_eq!(
            rendered(&c, 60, false),
            [
                "⚙ $ rm -rf / · declined",
                "  → The user declined this call."
            ]
        );
    }

    #[test]
    fn cut_fits_the_width() {
        assert_eq!(cut("hello", 10), "hello");
        assert_eq!(cut("hello world", 6), "hello…");
        assert_eq!(cut("", 3), "");
    }
}
