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

/// `~/x` → `$HOME/x`; anything else as given.
pub fn expand_home(path: &str) -> std::path::PathBuf {
    match (path.strip_prefix("~/"), std::env::var_os("HOME")) {
        (Some(rest), Some(home)) => std::path::PathBuf::from(home).join(rest),
        _ => std::path::PathBuf::from(path),
    }
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
