//! Making untrusted text (model output, server messages) safe to put on a terminal.

use std::borrow::Cow;

/// Replaces what could drive the terminal instead of being read: escape sequences and
/// other control characters (a model or server could otherwise set the clipboard with
/// OSC 52, rewrite the title, or hide text behind a carriage return), and the bidi
/// override characters behind "Trojan Source" code. Newlines and tabs stay; CRLF becomes
/// LF; the rest become visible stand-ins (`^[`, `^M`, `<U+202E>`).
pub fn neutralize_controls(s: &str) -> Cow<'_, str> {
    if !s.chars().any(needs_escape) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' if chars.peek() == Some(&'\n') => {}
            c if !needs_escape(c) => out.push(c),
            c if (c as u32) < 0x20 => {
                out.push('^');
                out.push(char::from(b'@' + c as u8));
            }
            '\u{7f}' => out.push_str("^?"),
            c => out.push_str(&format!("<U+{:04X}>", c as u32)),
        }
    }
    Cow::Owned(out)
}

/// `text` without ANSI escape sequences (CSI, OSC and two-byte ones) and control
/// characters other than newline and tab; a carriage return starts the line over, as a
/// terminal would show it (progress bars).
pub fn strip_controls(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut line_start = 0;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\u{1b}' => match chars.next() {
                Some('[') => {
                    // parameters and intermediates up to a final byte @..~
                    for c in chars.by_ref() {
                        if ('@'..='~').contains(&c) {
                            break;
                        }
                    }
                }
                Some(']') => {
                    // up to BEL or ST (ESC \)
                    while let Some(c) = chars.next() {
                        if c == '\u{7}' {
                            break;
                        }
                        if c == '\u{1b}' && chars.peek() == Some(&'\\') {
                            chars.next();
                            break;
                        }
                    }
                }
                _ => {}
            },
            '\n' => {
                out.push('\n');
                line_start = out.len();
            }
            '\r' => {
                if chars.peek() != Some(&'\n') {
                    out.truncate(line_start);
                }
            }
            '\t' => out.push('\t'),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// `~/x` → `$HOME/x`; anything else as given.
pub fn expand_home(path: &str) -> std::path::PathBuf {
    match (path.strip_prefix("~/"), std::env::var_os("HOME")) {
        (Some(rest), Some(home)) => std::path::PathBuf::from(home).join(rest),
        _ => std::path::PathBuf::from(path),
    }
}

/// A path the model named, as an approval shows it: newlines, tabs and other controls
/// escaped (`\n`, `\t`, `\u{1b}`), bidi controls named, and a warning appended when it holds
/// characters that pass for ASCII letters (Cyrillic `а` in `mаin.rs`, Greek, full-width
/// forms) or are invisible, so what the user approves is what gets written.
pub fn shown_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    let mut lookalikes: Vec<char> = Vec::new();
    for c in path.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c if invisible(c) || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}') => {
                out.push_str(&format!("<U+{:04X}>", c as u32));
                lookalikes.push(c);
            }
            c => {
                if lookalike(c) {
                    lookalikes.push(c);
                }
                out.push(c);
            }
        }
    }
    if !lookalikes.is_empty() {
        lookalikes.dedup();
        let named: Vec<String> = lookalikes
            .iter()
            .take(4)
            .map(|c| format!("U+{:04X}", *c as u32))
            .collect();
        out.push_str(&format!(
            " (⚠ look-alike or invisible characters: {})",
            named.join(", ")
        ));
    }
    out
}

/// Letters from scripts that pass for Latin ones, and full-width forms.
fn lookalike(c: char) -> bool {
    matches!(c as u32, 0x0370..=0x03FF | 0x0400..=0x052F | 0x13A0..=0x13FF | 0xFF00..=0xFFEF | 0x2100..=0x214F)
}

fn invisible(c: char) -> bool {
    matches!(c as u32, 0x200B..=0x200F | 0x2060..=0x2064 | 0xFEFF | 0x00AD | 0x180E)
}

fn needs_escape(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t')
        || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// A Markdown code fence longer than any run of backticks in `text` (at least three), so
/// the text cannot close it.
pub fn code_fence(text: &str) -> String {
    let (mut longest, mut run) = (0, 0);
    for c in text.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    "`".repeat(longest.max(2) + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_are_stripped() {
        assert_eq!(
            strip_controls("\u{1b}[31merror\u{1b}[0m: x\r\n 10%\r100%\nok\u{7}\u{1b}]0;title\u{7}"),
            "error: x\n100%\nok"
        );
    }

    #[test]
    fn paths_show_controls_and_lookalikes() {
        assert_eq!(shown_path("src/main.rs"), "src/main.rs");
        assert_eq!(shown_path("a\nb\tc"), "a\\nb\\tc");
        assert_eq!(shown_path("a\x1b[2Jb"), "a\\u{1b}[2Jb");
        let cyr = shown_path("src/m\u{430}in.rs");
        assert!(cyr.starts_with("src/m\u{430}in.rs (⚠"), "{cyr}");
        assert!(cyr.contains("U+0430"), "{cyr}");
        let zw = shown_path("a\u{200b}b");
        assert!(zw.starts_with("a<U+200B>b"), "{zw}");
        // ordinary non-ASCII names are left alone
        assert_eq!(shown_path("docs/café.md"), "docs/café.md");
    }

    #[test]
    fn plain_text_is_borrowed_and_unchanged() {
        assert!(matches!(
            neutralize_controls("fn main() {\n\tok\n}"),
            Cow::Borrowed(_)
        ));
    }

    #[test]
    fn escapes_controls_and_bidi_overrides_become_visible() {
        assert_eq!(
            neutralize_controls("a\x1b]52;c;ZXZpbA==\x07b"),
            "a^[]52;c;ZXZpbA==^Gb"
        );
        assert_eq!(
            neutralize_controls("line\r\nnext\rover"),
            "line\nnext^Mover"
        );
        assert_eq!(neutralize_controls("x\u{7f}\u{9b}31m"), "x^?<U+009B>31m");
        assert_eq!(
            neutralize_controls("if admin\u{202e} {"),
            "if admin<U+202E> {"
        );
    }
}
