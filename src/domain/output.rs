//! A tool's result as a card shows it: bounded (the head and the tail, with one line
//! between saying how many lines were left out) and safe to put on a terminal (escape
//! sequences and control characters other than newline and tab removed, a carriage
//! return overwriting its line as a terminal would show it, bidi overrides made visible).
//! The live card (`AgentEvent::ToolFinished::output`) and a resumed one
//! (`PastTool::output`) are both made here, so they look the same.

use super::text::{neutralize_controls, strip_controls};

/// Lines kept at most (half from the start, half from the end), besides the marker.
pub const MAX_LINES: usize = 200;
/// Bytes kept at most (half from the start, half from the end).
pub const MAX_BYTES: usize = 32 * 1024;
/// A longer line is cut here, ending in `…` (a 10 MB line of minified code shows its start).
pub const MAX_LINE_CHARS: usize = 1000;

const MARKER_OPEN: &str = "[… ";
const MARKER_CLOSE: &str = " left out …]";

/// `text` bounded for display (see the module). Trailing blank lines are dropped; an
/// empty result stays empty. Linear in the size of `text`, whatever its shape.
pub fn bounded(text: &str) -> String {
    let text = text.trim_end_matches(['\n', '\r', ' ', '\t']);
    if text.is_empty() {
        return String::new();
    }
    let total = text.lines().count();
    let (half_lines, half_bytes) = (MAX_LINES / 2, MAX_BYTES / 2);
    let mut lines = text.lines();
    let mut head: Vec<String> = Vec::new();
    let mut head_bytes = 0;
    // the line the head stopped at: the tail's to take, when it gets that far
    let mut stopped_at = None;
    while head.len() < half_lines {
        let Some(raw) = lines.next() else { break };
        let line = clean_line(raw);
        if head_bytes + line.len() > half_bytes && !head.is_empty() {
            stopped_at = Some(line);
            break;
        }
        head_bytes += line.len() + 1;
        head.push(line);
    }
    let mut tail: Vec<String> = Vec::new();
    let mut tail_bytes = 0;
    while tail.len() < half_lines {
        let line = match lines.next_back() {
            Some(raw) => clean_line(raw),
            None => match stopped_at.take() {
                Some(line) => line,
                None => break,
            },
        };
        if tail_bytes + line.len() > half_bytes && !tail.is_empty() {
            break;
        }
        tail_bytes += line.len() + 1;
        tail.push(line);
    }
    tail.reverse();
    let omitted = total - head.len() - tail.len();
    let mut out = String::with_capacity(head_bytes + tail_bytes + 32);
    for line in &head {
        out.push_str(line);
        out.push('\n');
    }
    if omitted > 0 {
        out.push_str(&marker(omitted));
        out.push('\n');
    }
    for line in &tail {
        out.push_str(line);
        out.push('\n');
    }
    out.pop();
    out
}

/// How cove's note to the model about a call the user changed (`e`, or their own
/// content from `$EDITOR`) begins: it heads the call's result.
pub const EDITED_NOTE: &str = "(The user edited your ";

/// The note that heads the result of a call whose arguments the user edited: `what`
/// (`command`, `arguments`) and exactly what ran. A one-line `ran` is quoted in the
/// note's line; more lines follow it in a fence they cannot close, so that
/// [`tool_output`] finds where the note ends.
pub fn edited_note(what: &str, ran: &str) -> String {
    let ran = ran.trim();
    let head =
        format!("{EDITED_NOTE}{what} before approving; this ran instead of what you proposed:");
    if ran.contains('\n') {
        let fence = super::text::code_fence(ran);
        format!("{head})\n{fence}\n{ran}\n{fence}\n")
    } else {
        format!("{head} {ran})\n")
    }
}

/// A call's result as its card shows it: cove's note about the user's edit left out
/// (the card says "edited by you"), the rest [`bounded`]. The live card and a resumed
/// one are both made by this.
pub fn tool_output(text: &str) -> String {
    bounded(without_note(text))
}

fn without_note(text: &str) -> &str {
    if !text.starts_with(EDITED_NOTE) {
        return text;
    }
    let Some((first, rest)) = text.split_once('\n') else {
        return text;
    };
    if !first.ends_with(')') {
        return text;
    }
    if first.ends_with("proposed:)")
        && let Some((fence, body)) = rest.split_once('\n')
        && fence.len() >= 3
        && fence.bytes().all(|b| b == b'`')
    {
        let mut at = 0;
        for line in body.split_inclusive('\n') {
            at += line.len();
            if line.trim_end_matches('\n') == fence {
                return &body[at..];
            }
        }
        return "";
    }
    rest
}

/// The line that stands for `n` lines left out.
pub fn marker(n: usize) -> String {
    let lines = if n == 1 { "line" } else { "lines" };
    format!("{MARKER_OPEN}{n} {lines}{MARKER_CLOSE}")
}

/// How many lines `line` stands for when it is the marker [`bounded`] puts in.
pub fn left_out(line: &str) -> Option<usize> {
    let inner = line.strip_prefix(MARKER_OPEN)?.strip_suffix(MARKER_CLOSE)?;
    let n = inner
        .strip_suffix(" lines")
        .or_else(|| inner.strip_suffix(" line"))?;
    n.parse().ok()
}

/// One line for the screen: what a terminal would show after its carriage returns, no
/// escape sequences or controls, at most [`MAX_LINE_CHARS`] characters.
fn clean_line(raw: &str) -> String {
    // `10%\r55%\r100%` shows `100%`; a carriage return at the end overwrites nothing
    let raw = raw.trim_end_matches('\r');
    let raw = match raw.rfind('\r') {
        Some(i) => &raw[i + 1..],
        None => raw,
    };
    // a huge line is cleaned only as far as it can be shown (escape sequences take room
    // that is not shown: four times the characters kept, in bytes)
    let cut_at = floor_char(raw, MAX_LINE_CHARS * 4);
    let cut_short = cut_at < raw.len();
    let stripped = strip_controls(&raw[..cut_at]);
    let clean = neutralize_controls(&stripped);
    let mut line = match clean.char_indices().nth(MAX_LINE_CHARS) {
        Some((at, _)) => format!("{}…", &clean[..at]),
        None if cut_short => format!("{clean}…"),
        None => clean.into_owned(),
    };
    // the output's own text cannot pass for the marker (and change the count a card shows)
    if left_out(&line).is_some() {
        line = line.replacen('…', "...", 1);
    }
    line
}

/// The largest char boundary at or below `at`.
fn floor_char(text: &str, at: usize) -> usize {
    let mut end = at.min(text.len());
    while end > 0 && !text.is_char_boundary(end) {
        end -= 1;
    }
    end
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_output_is_kept_whole() {
        assert_eq!(bounded("a\nb\n\tc\n\n"), "a\nb\n\tc");
        assert_eq!(bounded(""), "");
        assert_eq!(bounded("\n\n  \n"), "");
        assert_eq!(bounded("one"), "one");
        let hundred: String = (0..MAX_LINES).map(|i| format!("line {i}\n")).collect();
        assert_eq!(bounded(&hundred), hundred.trim_end());
    }

    #[test]
    fn long_output_keeps_its_head_and_tail_and_says_how_much_is_left_out() {
        let text: String = (1..=1000).map(|i| format!("line {i}\n")).collect();
        let out = bounded(&text);
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), MAX_LINES + 1);
        assert_eq!(lines[0], "line 1");
        assert_eq!(lines[99], "line 100");
        assert_eq!(left_out(lines[100]), Some(800));
        assert_eq!(lines[101], "line 901");
        assert_eq!(lines[200], "line 1000");
        assert_eq!(left_out("line 5"), None);
    }

    #[test]
    fn a_million_lines_stay_bounded() {
        let text = "x\n".repeat(1_000_000);
        let out = bounded(&text);
        assert_eq!(out.lines().count(), MAX_LINES + 1);
        assert!(out.contains(&marker(1_000_000 - MAX_LINES)));
    }

    #[test]
    fn a_ten_megabyte_line_is_cut() {
        let text = "a".repeat(10 * 1024 * 1024);
        let out = bounded(&text);
        assert_eq!(out.chars().count(), MAX_LINE_CHARS + 1);
        assert!(out.ends_with('…'));
        // wide lines in bulk: the byte budget holds
        let text = format!("{}\n", "界".repeat(5000)).repeat(500);
        let out = bounded(&text);
        assert!(
            out.len() <= MAX_BYTES + 2 * 4 * MAX_LINE_CHARS,
            "{}",
            out.len()
        );
        let last = out.lines().last().unwrap_or_default();
        assert!(last.starts_with('界'));
        let n: usize = out.lines().filter_map(left_out).sum();
        assert_eq!(out.lines().count() - 1 + n, 500);
    }

    #[test]
    fn escape_sequences_and_controls_cannot_drive_the_terminal() {
        let text = "\u{1b}[31mred\u{1b}[0m\n\u{1b}]52;c;aGk=\u{7}clip\n\u{1b}]0;title\u{1b}\\t\nbell\u{7}\u{8}\u{0}\n\u{9b}2Jc1\nrtl \u{202e}txt";
        let out = bounded(text);
        assert_eq!(out, "red\nclip\nt\nbell\n2Jc1\nrtl <U+202E>txt");
        assert!(
            !out.chars()
                .any(|c| c.is_control() && c != '\n' && c != '\t')
        );
    }

    #[test]
    fn carriage_returns_overwrite_their_line() {
        assert_eq!(bounded("10%\r55%\r100%\nnext\r\n"), "100%\nnext");
        assert_eq!(bounded("done\r"), "done");
        assert_eq!(bounded("a\r\nb\r\n"), "a\nb");
    }

    #[test]
    fn replacement_characters_of_lossy_decoding_pass() {
        let text = String::from_utf8_lossy(b"ok \xff\xfe bytes\n\xc3");
        assert_eq!(bounded(&text), "ok \u{fffd}\u{fffd} bytes\n\u{fffd}");
    }

    #[test]
    fn the_note_about_an_edit_is_not_on_the_card() {
        let one = format!("{}out\nexit code 0", edited_note("command", "ls -la\n"));
        assert!(one.starts_with("(The user edited your command before approving; this ran instead of what you proposed: ls -la)\n"));
        assert_eq!(tool_output(&one), "out\nexit code 0");
        let ran = "{\n  \"path\": \"a\",\n  \"x\": \"```\"\n}";
        let many = format!("{}done", edited_note("arguments", ran));
        assert!(many.contains(ran));
        assert_eq!(tool_output(&many), "done");
        let content = "(The user edited your proposed change in their editor and applied their version instead.)\nwrote a.txt";
        assert_eq!(tool_output(content), "wrote a.txt");
        assert_eq!(tool_output("plain\nresult"), "plain\nresult");
    }

    #[test]
    fn a_hostile_marker_only_counts_as_text() {
        // the count a card shows comes from the marker line: the output cannot forge it
        let out = bounded(&format!("{}\nreal", marker(5)));
        assert_eq!(out.lines().filter_map(left_out).count(), 0);
        assert_eq!(out, "[... 5 lines left out …]\nreal");
    }
}
