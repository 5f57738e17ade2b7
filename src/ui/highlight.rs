//! Syntax highlighting of code blocks with syntect and bat's syntax collection (via
//! two-face), into ratatui lines coloured by the theme's syntect theme (foregrounds only,
//! so the interface can lay its own background under them).
//!
//! Loading the syntax set costs tens of milliseconds and a few MiB: [`global`] loads it on
//! first use, and the TUI calls [`warm_up`] on a background thread once the user starts
//! typing (never before the first frame, never in a session that shows no code). Progress on recent blocks is remembered, so a
//! block drawn again, or growing while a reply streams in, is not highlighted again from
//! its start (syntect takes ~0.05 ms a line in release builds, ten times that in debug).

use std::collections::VecDeque;
use std::hash::{Hash, Hasher};
use std::sync::{Mutex, OnceLock};

use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use syntect::highlighting::{
    FontStyle, HighlightIterator, HighlightState, Highlighter as SynHighlighter,
};
use syntect::parsing::{ParseState, ScopeStack, SyntaxReference, SyntaxSet};
use syntect::util::LinesWithEndings;

use super::wrap::text_width;
use crate::config::theme::Theme;
use crate::domain::text::neutralize_controls;

/// Lines after this many are left plain.
pub const MAX_LINES: usize = 5_000;
/// Highlighting stops (the rest is plain) at a line longer than this, or once this many
/// bytes have been highlighted: syntect's time grows with both.
pub const MAX_LINE_BYTES: usize = 4_096;
pub const MAX_BYTES: usize = 512 * 1024;
const TAB: usize = 4;
/// How many blocks' progress is remembered, and how much code in all.
const REMEMBERED_BLOCKS: usize = 512;
const MAX_REMEMBERED: usize = 2 * 1024 * 1024;

pub struct Highlighter {
    syntaxes: SyntaxSet,
    /// Blocks highlighted lately, most recent first, to resume from (see [`Progress`]).
    recent: Mutex<VecDeque<Progress>>,
}

/// How far a block has been highlighted: its whole lines so far (`done`, each ending in
/// `\n`), their lines, and the syntect state after them. A block that grows (streams) or
/// is drawn again resumes here instead of starting over.
struct Progress {
    key: u64,
    done: String,
    lines: Vec<Line<'static>>,
    /// `None` once highlighting stopped (a limit or a syntect error): the rest is plain.
    state: Option<(ParseState, HighlightState)>,
    budget: usize,
}

static GLOBAL: OnceLock<Highlighter> = OnceLock::new();

/// The shared highlighter, loaded on first use.
pub fn global() -> &'static Highlighter {
    GLOBAL.get_or_init(Highlighter::new)
}

/// Loads the shared highlighter (and the most common grammar) ahead of first use; call it
/// on a background thread.
pub fn warm_up() {
    let h = global();
    if let Some(theme) = Theme::builtin("dark") {
        let _ = h.highlight("fn main() {}\n", "rust", &theme);
    }
}

/// Common fence names syntect does not know by token or extension.
const ALIASES: &[(&str, &str)] = &[
    ("shell", "sh"),
    ("console", "sh"),
    ("shell-session", "sh"),
    ("zsh", "sh"),
    ("ksh", "sh"),
    ("terminal", "sh"),
    ("python3", "py"),
    ("py3", "py"),
    ("golang", "go"),
    ("c++", "cpp"),
    ("cplusplus", "cpp"),
    ("c#", "cs"),
    ("csharp", "cs"),
    ("f#", "fs"),
    ("javascript", "js"),
    ("node", "js"),
    ("typescript", "ts"),
    ("typescriptreact", "tsx"),
    ("patch", "diff"),
    ("docker", "dockerfile"),
    ("containerfile", "dockerfile"),
    ("jsonc", "json"),
    ("json5", "json"),
    ("yml", "yaml"),
    ("objective-c", "m"),
    ("objc", "m"),
    ("make", "makefile"),
    ("cmake", "cmake"),
    ("hcl", "tf"),
    ("terraform", "tf"),
    ("ps", "ps1"),
    ("powershell", "ps1"),
    ("pwsh", "ps1"),
    ("vim", "vim"),
    ("viml", "vim"),
    ("proto", "proto"),
    ("protobuf", "proto"),
    ("kt", "kt"),
    ("kotlin", "kt"),
    ("ex", "ex"),
    ("elixir", "ex"),
    ("htm", "html"),
    ("xhtml", "html"),
    ("rb", "rb"),
    ("ruby", "rb"),
];

/// The first token of a fence info string, lower-cased: "```rust,ignore" → "rust",
/// "```{.python}" → "python", "```ts title=x" → "ts".
pub fn lang_token(info: &str) -> String {
    info.trim()
        .trim_start_matches('{')
        .trim_start_matches('.')
        .split(|c: char| c.is_whitespace() || matches!(c, ',' | '{' | '}' | '='))
        .next()
        .unwrap_or("")
        .to_ascii_lowercase()
}

impl Highlighter {
    pub fn new() -> Highlighter {
        Highlighter {
            syntaxes: two_face::syntax::extra_newlines(),
            recent: Mutex::new(VecDeque::new()),
        }
    }

    /// The grammar for a fence info string, if there is one (plain text is `None`).
    pub fn find_syntax(&self, lang: &str) -> Option<&SyntaxReference> {
        let token = lang_token(lang);
        if token.is_empty() || matches!(token.as_str(), "text" | "txt" | "plain" | "plaintext") {
            return None;
        }
        let token = ALIASES
            .iter()
            .find(|(a, _)| *a == token)
            .map(|(_, t)| (*t).to_owned())
            .unwrap_or(token);
        let ss = &self.syntaxes;
        ss.find_syntax_by_token(&token)
            .or_else(|| ss.find_syntax_by_extension(&token))
            .or_else(|| {
                // "foo.rs" or "path/Dockerfile" as the info string.
                let name = token.rsplit('/').next().unwrap_or(&token);
                let ext = name.rsplit_once('.').map(|(_, e)| e).unwrap_or(name);
                ss.find_syntax_by_extension(ext)
            })
            .or_else(|| {
                ss.syntaxes()
                    .iter()
                    .find(|s| s.name.eq_ignore_ascii_case(&token))
            })
            .filter(|s| s.name != "Plain Text")
    }

    /// One line per source line (a trailing newline adds none), styled with the theme's
    /// syntax colours; plain `colors.fg` for unknown languages or without a syntax theme.
    /// Tabs are expanded and control characters neutralised. Never panics.
    pub fn highlight(&self, code: &str, lang: &str, theme: &Theme) -> Vec<Line<'static>> {
        let code = neutralize_controls(code);
        let plain = theme.style(theme.colors.fg);
        let (syntax, syn_theme) = match (&theme.syntax, theme.no_color) {
            (Some(t), false) => match self.find_syntax(lang) {
                Some(s) => (s, t),
                None => return plain_lines(&code, plain),
            },
            _ => return plain_lines(&code, plain),
        };
        let key = {
            let mut h = std::collections::hash_map::DefaultHasher::new();
            syntax.name.hash(&mut h);
            theme.name.hash(&mut h);
            syn_theme.name.hash(&mut h);
            h.finish()
        };
        let highlighter = SynHighlighter::new(syn_theme);
        let mut progress = self.take_progress(key, &code).unwrap_or_else(|| Progress {
            key,
            done: String::new(),
            lines: Vec::new(),
            state: Some((
                ParseState::new(syntax),
                HighlightState::new(&highlighter, ScopeStack::new()),
            )),
            budget: MAX_BYTES,
        });
        let rest = &code[progress.done.len()..];
        let mut partial = None;
        for line in LinesWithEndings::from(rest) {
            if line.ends_with('\n') {
                let l = self.line(&mut progress, line, &highlighter, plain);
                progress.lines.push(l);
                progress.done.push_str(line);
            } else {
                // The last line of a block still being written: highlight it on a copy of
                // the state, to be done again once it is whole.
                let mut copy = Progress {
                    key,
                    done: String::new(),
                    lines: Vec::new(),
                    state: progress.state.clone(),
                    budget: progress.budget,
                };
                partial =
                    Some(self.line_at(&mut copy, progress.lines.len(), line, &highlighter, plain));
            }
        }
        let mut lines = progress.lines.clone();
        lines.extend(partial);
        if progress.done.len() <= MAX_REMEMBERED
            && let Ok(mut recent) = self.recent.lock()
        {
            recent.push_front(progress);
            let mut total = 0;
            let keep = recent
                .iter()
                .take(REMEMBERED_BLOCKS)
                .take_while(|p| {
                    total += p.done.len();
                    total <= MAX_REMEMBERED
                })
                .count()
                .max(1);
            recent.truncate(keep);
        }
        lines
    }

    /// The remembered progress on `code` that got furthest, taken out of the list.
    fn take_progress(&self, key: u64, code: &str) -> Option<Progress> {
        let mut recent = self.recent.lock().ok()?;
        let best = recent
            .iter()
            .enumerate()
            .filter(|(_, p)| p.key == key && code.starts_with(p.done.as_str()))
            .max_by_key(|(_, p)| p.done.len())
            .map(|(i, _)| i)?;
        recent.remove(best)
    }

    fn line(
        &self,
        p: &mut Progress,
        line: &str,
        highlighter: &SynHighlighter<'_>,
        plain: Style,
    ) -> Line<'static> {
        let n = p.lines.len();
        self.line_at(p, n, line, highlighter, plain)
    }

    /// Highlights line number `n` (`line` may end in `\n`) with `p`'s state, or plainly
    /// once a limit is reached or syntect fails.
    fn line_at(
        &self,
        p: &mut Progress,
        n: usize,
        line: &str,
        highlighter: &SynHighlighter<'_>,
        plain: Style,
    ) -> Line<'static> {
        if n >= MAX_LINES || line.len() > MAX_LINE_BYTES || line.len() > p.budget {
            p.state = None;
        }
        p.budget = p.budget.saturating_sub(line.len());
        let text = line.strip_suffix('\n').unwrap_or(line);
        let mut spans = Vec::new();
        let mut col = 0;
        let ops = p
            .state
            .as_mut()
            .and_then(|(ps, _)| ps.parse_line(line, &self.syntaxes).ok());
        match (ops, p.state.as_mut()) {
            (Some(ops), Some((_, hs))) => {
                for (style, piece) in HighlightIterator::new(hs, &ops, line, highlighter) {
                    let piece = piece.strip_suffix('\n').unwrap_or(piece);
                    push_text(&mut spans, &mut col, piece, span_style(style));
                }
            }
            _ => {
                p.state = None;
                push_text(&mut spans, &mut col, text, plain);
            }
        }
        if spans.is_empty() {
            spans.push(Span::styled(String::new(), plain));
        }
        Line::from(spans)
    }
}

fn plain_lines(code: &str, plain: Style) -> Vec<Line<'static>> {
    LinesWithEndings::from(code)
        .map(|line| {
            let text = line.strip_suffix('\n').unwrap_or(line);
            let mut spans = Vec::new();
            push_text(&mut spans, &mut 0, text, plain);
            if spans.is_empty() {
                spans.push(Span::styled(String::new(), plain));
            }
            Line::from(spans)
        })
        .collect()
}

impl Default for Highlighter {
    fn default() -> Self {
        Self::new()
    }
}

/// Appends `text` as a span, expanding tabs to the next multiple of [`TAB`] columns.
fn push_text(spans: &mut Vec<Span<'static>>, col: &mut usize, text: &str, style: Style) {
    if text.is_empty() {
        return;
    }
    let s = if text.contains('\t') {
        let mut s = String::with_capacity(text.len() + 8);
        for c in text.chars() {
            if c == '\t' {
                let n = TAB - (*col % TAB);
                s.extend(std::iter::repeat_n(' ', n));
                *col += n;
            } else {
                s.push(c);
                *col += text_width(c.encode_utf8(&mut [0; 4]));
            }
        }
        s
    } else {
        *col += text_width(text);
        text.to_owned()
    };
    match spans.last_mut() {
        Some(last) if last.style == style => last.content.to_mut().push_str(&s),
        _ => spans.push(Span::styled(s, style)),
    }
}

/// A syntect style as a ratatui style: foreground and font style, never a background.
fn span_style(s: syntect::highlighting::Style) -> Style {
    let mut style = Style::default();
    if let Some(fg) = convert_color(s.foreground) {
        style = style.fg(fg);
    }
    if s.font_style.contains(FontStyle::BOLD) {
        style = style.add_modifier(Modifier::BOLD);
    }
    if s.font_style.contains(FontStyle::ITALIC) {
        style = style.add_modifier(Modifier::ITALIC);
    }
    if s.font_style.contains(FontStyle::UNDERLINE) {
        style = style.add_modifier(Modifier::UNDERLINED);
    }
    style
}

/// bat's convention for terminal-palette themes: alpha 0 means "ANSI colour `r`", alpha 1
/// means "the terminal's default"; anything else is RGB.
fn convert_color(c: syntect::highlighting::Color) -> Option<Color> {
    match c.a {
        0 => Some(match c.r {
            0 => Color::Black,
            1 => Color::Red,
            2 => Color::Green,
            3 => Color::Yellow,
            4 => Color::Blue,
            5 => Color::Magenta,
            6 => Color::Cyan,
            7 => Color::Gray,
            n => Color::Indexed(n),
        }),
        1 => None,
        _ => Some(Color::Rgb(c.r, c.g, c.b)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dark() -> Theme {
        Theme::builtin("dark").unwrap()
    }

    fn text(lines: &[Line]) -> Vec<String> {
        lines
            .iter()
            .map(|l| l.spans.iter().map(|s| s.content.as_ref()).collect())
            .collect()
    }

    /// The distinct foreground colours used.
    fn colours(lines: &[Line]) -> std::collections::HashSet<Color> {
        lines
            .iter()
            .flat_map(|l| l.spans.iter())
            .filter(|s| !s.content.trim().is_empty())
            .filter_map(|s| s.style.fg)
            .collect()
    }

    #[test]
    fn highlights_common_languages_in_several_colours() {
        let h = global();
        let cases = [
            (
                "rust",
                "fn main() {\n    let x: u32 = 42; // answer\n    println!(\"{x}\");\n}\n",
            ),
            ("rs", "pub struct A { b: String }\n"),
            ("toml", "[package]\nname = \"cove\"\nversion = 1\n"),
            (
                "typescript",
                "const x: number = 1;\nexport function f(a: string) { return a; }\n",
            ),
            ("ts", "interface A { b: string }\n"),
            ("tsx", "const A = () => <div className=\"x\">hi</div>;\n"),
            (
                "dockerfile",
                "FROM rust:1.88\nRUN cargo build --release\nCOPY . /app\n",
            ),
            ("python", "def f(x):\n    return x + 1  # comment\n"),
            ("bash", "for f in *.rs; do echo \"$f\"; done\n"),
            ("sh", "export A=1 # c\n"),
            ("json", "{\"a\": 1, \"b\": [true, null]}\n"),
            ("yaml", "a: 1\nb:\n  - \"x\"\n"),
            ("diff", "--- a\n+++ b\n@@ -1 +1 @@\n-old\n+new\n"),
            ("rust,ignore", "let a = 1;\n"),
            ("src/main.rs", "let a = 1;\n"),
        ];
        for (lang, code) in cases {
            assert!(h.find_syntax(lang).is_some(), "{lang} is known");
            let lines = h.highlight(code, lang, &dark());
            assert_eq!(
                text(&lines),
                code.lines().collect::<Vec<_>>(),
                "{lang} keeps text"
            );
            assert!(colours(&lines).len() >= 2, "{lang}: {:?}", colours(&lines));
            for l in &lines {
                assert!(
                    l.spans.iter().all(|s| s.style.bg.is_none()),
                    "{lang} sets no background"
                );
            }
        }
    }

    #[test]
    fn unknown_language_or_no_colour_is_plain() {
        let h = global();
        let theme = dark();
        for lang in ["", "nosuchlang", "text"] {
            let lines = h.highlight("a b\nc", lang, &theme);
            assert_eq!(text(&lines), ["a b", "c"]);
            assert_eq!(colours(&lines), [theme.colors.fg].into());
        }
        let lines = h.highlight("fn main() {}", "rust", &Theme::monochrome());
        assert_eq!(text(&lines), ["fn main() {}"]);
        assert!(colours(&lines).is_empty());
        let mut no_syntax = dark();
        no_syntax.syntax = None;
        assert_eq!(
            colours(&h.highlight("fn main() {}", "rust", &no_syntax)),
            [theme.colors.fg].into()
        );
    }

    #[test]
    fn odd_input_never_panics_and_is_neutralised() {
        let h = global();
        let theme = dark();
        let nasty = "\u{1b}]52;c;eHh4\u{7}\r\n\"unterminated\n\t\tx\u{202e}y\n\0\u{9b}\n";
        for lang in ["rust", "python", "json", "html", "", "diff"] {
            let lines = h.highlight(nasty, lang, &theme);
            for l in text(&lines) {
                assert!(!l.chars().any(|c| c.is_control()), "{lang}: {l:?}");
            }
        }
        let lines = h.highlight("\tx\ta", "rust", &theme);
        assert_eq!(text(&lines), ["    x   a"]);
        assert!(h.highlight("", "rust", &theme).is_empty());
        assert_eq!(text(&h.highlight("\n", "rust", &theme)), [""]);
    }

    #[test]
    fn long_blocks_stop_highlighting_but_keep_text() {
        let h = global();
        let theme = dark();
        let code = "let x = \"s\";\n".repeat(MAX_LINES + 10);
        let lines = h.highlight(&code, "rust", &theme);
        assert_eq!(lines.len(), MAX_LINES + 10);
        assert!(colours(&lines[..10]).len() >= 2);
        assert_eq!(colours(&lines[MAX_LINES..]), [theme.colors.fg].into());
        let long = format!(
            "let s = \"{}\";\nlet y = 1;\n",
            "a".repeat(MAX_LINE_BYTES * 2)
        );
        let lines = h.highlight(&long, "rust", &theme);
        assert_eq!(lines.len(), 2);
        assert_eq!(text(&lines)[1], "let y = 1;");
    }

    #[test]
    fn growing_blocks_resume_and_match_a_fresh_run() {
        let theme = dark();
        let code = "/* a comment\n spanning */ fn f() -> &'static str {\n    \"multi\n line\"\n}\n";
        let fresh = Highlighter::new().highlight(code, "rust", &theme);
        let h = Highlighter::new();
        for end in (0..=code.len()).filter(|&i| code.is_char_boundary(i)) {
            let lines = h.highlight(&code[..end], "rust", &theme);
            assert_eq!(lines.len(), code[..end].lines().count(), "at {end}");
            if code[..end].ends_with('\n') {
                assert_eq!(lines, fresh[..lines.len()], "at {end}");
            }
        }
        assert_eq!(h.highlight(code, "rust", &theme), fresh);
        // Another block and an edited one do not disturb it.
        h.highlight("let x = 1;\n", "rust", &theme);
        let edited = code.replace("multi", "MULTI");
        assert_eq!(
            text(&h.highlight(&edited, "rust", &theme))[2],
            "    \"MULTI"
        );
        assert_eq!(h.highlight(code, "rust", &theme), fresh);
    }
}
