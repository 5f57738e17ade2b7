//! Wrapping styled text to a width in terminal columns: word wrap for prose, hard (char
//! level) wrap for code, each with a prefix on the first and on the following lines.
//!
//! Widths come from `unicode-width` (wide CJK and emoji count 2) measured char by char,
//! with one correction so that a line's width is never more than `UnicodeWidthStr` (what
//! ratatui measures) says: a narrow char followed by U+FE0F (emoji presentation) counts
//! 2. Where a char cannot fit at all (a wide char in a 1-column space) it becomes `…`.
//! A prefix wider than the width is cut so that content keeps at least a column. No
//! output line is ever wider than the width.

use ratatui::style::Style;
use ratatui::text::{Line, Span};
use unicode_width::UnicodeWidthChar;

/// Width of `c` on its own; 0 for control characters.
pub fn char_width(c: char) -> usize {
    c.width().unwrap_or(0)
}

/// Width of `s` as this module lays it out (see the module doc).
pub fn text_width(s: &str) -> usize {
    let mut w = 0;
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        w += cell_width(clean(c), chars.peek().copied());
    }
    w
}

/// Width of a line as this module lays it out.
pub fn line_width(line: &Line<'_>) -> usize {
    line.spans.iter().map(|s| text_width(&s.content)).sum()
}

fn cell_width(c: char, next: Option<char>) -> usize {
    let w = char_width(c);
    if w == 1 && next == Some('\u{fe0f}') {
        2
    } else {
        w
    }
}

/// Tabs become spaces and other control characters (other than `\n`) a visible stand-in,
/// so nothing here can reach the terminal as a control.
fn clean(c: char) -> char {
    match c {
        '\t' => ' ',
        '\n' => '\n',
        c if c.is_control() => '\u{fffd}',
        c => c,
    }
}

#[derive(Clone, Copy)]
struct Cell {
    ch: char,
    style: Style,
    w: usize,
}

fn cells(pieces: &[Span<'_>]) -> Vec<Cell> {
    let mut out = Vec::with_capacity(pieces.iter().map(|p| p.content.len()).sum());
    for p in pieces {
        let mut chars = p.content.chars().peekable();
        while let Some(c) = chars.next() {
            let ch = clean(c);
            let w = if ch == '\n' {
                0
            } else {
                cell_width(ch, chars.peek().copied())
            };
            out.push(Cell {
                ch,
                style: p.style,
                w,
            });
        }
    }
    out
}

/// `prefix` cut to at most `max` columns.
pub fn fit_prefix(prefix: &[Span<'static>], max: usize) -> (Vec<Span<'static>>, usize) {
    let mut out = Vec::with_capacity(prefix.len());
    let mut used = 0;
    'spans: for s in prefix {
        let mut text = String::new();
        let mut chars = s.content.chars().peekable();
        while let Some(c) = chars.next() {
            let c = clean(c);
            let w = cell_width(c, chars.peek().copied());
            if c == '\n' || used + w > max {
                if !text.is_empty() {
                    out.push(Span::styled(text, s.style));
                }
                break 'spans;
            }
            used += w;
            text.push(c);
        }
        if !text.is_empty() {
            out.push(Span::styled(text, s.style));
        }
    }
    (out, used)
}

/// The columns left for content after `prefix` at `width` (as the wrappers cut it).
pub fn content_width(prefix: &[Span<'static>], width: usize) -> usize {
    let width = width.max(1);
    width - fit_prefix(prefix, prefix_budget(width)).1
}

/// The widest a prefix may be at `width`: content keeps two columns (one when `width` < 3).
fn prefix_budget(width: usize) -> usize {
    if width >= 3 { width - 2 } else { width - 1 }
}

struct Out {
    width: usize,
    rest: Vec<Span<'static>>,
    rest_w: usize,
    fill: Option<Style>,
    lines: Vec<Line<'static>>,
    cur: Vec<Span<'static>>,
    n_prefix: usize,
    w: usize,
    content: bool,
    replaced: bool,
}

impl Out {
    fn new(
        width: usize,
        first: &[Span<'static>],
        rest: &[Span<'static>],
        fill: Option<Style>,
    ) -> Out {
        let width = width.max(1);
        let (first, first_w) = fit_prefix(first, prefix_budget(width));
        let (rest, rest_w) = fit_prefix(rest, prefix_budget(width));
        Out {
            width,
            rest,
            rest_w,
            fill,
            lines: Vec::new(),
            n_prefix: first.len(),
            cur: first,
            w: first_w,
            content: false,
            replaced: false,
        }
    }

    fn avail_fresh(&self) -> usize {
        self.width - self.rest_w
    }

    fn end_line(&mut self) {
        if let Some(fill) = self.fill
            && self.w < self.width
        {
            self.cur
                .push(Span::styled(" ".repeat(self.width - self.w), fill));
        }
        let spans = std::mem::replace(&mut self.cur, self.rest.clone());
        self.lines.push(Line::from(spans));
        self.n_prefix = self.rest.len();
        self.w = self.rest_w;
        self.content = false;
    }

    fn push(&mut self, cell: Cell) {
        if cell.w == 0 && self.replaced {
            return; // a combining mark or selector of a char that did not fit
        }
        self.replaced = self.w + cell.w > self.width;
        let (ch, w) = if self.replaced {
            ('…', 1) // cannot fit even on a fresh line
        } else {
            (cell.ch, cell.w)
        };
        if self.w + w > self.width {
            return;
        }
        let mergeable = self.cur.len() > self.n_prefix;
        match self.cur.last_mut() {
            Some(last) if mergeable && last.style == cell.style => last.content.to_mut().push(ch),
            _ => self.cur.push(Span::styled(ch.to_string(), cell.style)),
        }
        self.w += w;
        self.content = true;
    }

    fn push_all(&mut self, cells: &[Cell]) {
        for &c in cells {
            self.push(c);
        }
    }

    fn finish(mut self) -> Vec<Line<'static>> {
        self.end_line();
        self.lines
    }
}

/// Word-wraps `pieces` to `width` columns: `first` prefixes the first line, `rest` the
/// others (a hanging indent). `\n` forces a break; runs of spaces where a line breaks are
/// dropped; a word longer than a line is cut; wide chars may break anywhere. Always at
/// least one line.
pub fn wrap_words(
    pieces: &[Span<'_>],
    width: usize,
    first: &[Span<'static>],
    rest: &[Span<'static>],
) -> Vec<Line<'static>> {
    let cells = cells(pieces);
    let mut out = Out::new(width, first, rest, None);
    let n = cells.len();
    let mut pending: Option<(usize, usize)> = None;
    let mut i = 0;
    while i < n {
        let c = cells[i];
        if c.ch == '\n' {
            out.end_line();
            pending = None;
            i += 1;
            continue;
        }
        if c.ch == ' ' {
            let mut j = i;
            while j < n && cells[j].ch == ' ' {
                j += 1;
            }
            if out.content {
                pending = Some((i, j));
            }
            i = j;
            continue;
        }
        let mut j = i + 1;
        if c.w < 2 {
            while j < n && cells[j].ch != ' ' && cells[j].ch != '\n' && cells[j].w < 2 {
                j += 1;
            }
        } else {
            while j < n && cells[j].w == 0 && cells[j].ch != ' ' && cells[j].ch != '\n' {
                j += 1;
            }
        }
        let word = &cells[i..j];
        let ww: usize = word.iter().map(|c| c.w).sum();
        let space = pending.take().map(|(a, b)| &cells[a..b]).unwrap_or(&[]);
        let sw = space.len();
        if out.content && out.w + sw + ww <= out.width {
            out.push_all(space);
            out.push_all(word);
        } else if !out.content && out.w + ww <= out.width {
            out.push_all(word);
        } else if out.content && ww <= out.avail_fresh() {
            out.end_line();
            out.push_all(word);
        } else {
            // Longer than a line: cut it, starting where we are if at least half a line
            // is left.
            if out.content {
                let room = out.width - out.w;
                if room > sw && (room - sw) * 2 >= out.avail_fresh() {
                    out.push_all(space);
                } else {
                    out.end_line();
                }
            }
            for &cell in word {
                if out.content && out.w + cell.w > out.width {
                    out.end_line();
                }
                out.push(cell);
            }
        }
        i = j;
    }
    out.finish()
}

/// Hard-wraps `pieces` at `width` columns, char by char (for code): spaces are kept, `\n`
/// ends a line, `first`/`rest` prefix the first/following lines, and with `fill` every
/// line is padded to the full width with spaces in that style. Always at least one line.
pub fn wrap_chars(
    pieces: &[Span<'_>],
    width: usize,
    first: &[Span<'static>],
    rest: &[Span<'static>],
    fill: Option<Style>,
) -> Vec<Line<'static>> {
    let mut out = Out::new(width, first, rest, fill);
    for cell in cells(pieces) {
        if cell.ch == '\n' {
            out.end_line();
            continue;
        }
        if out.content && out.w + cell.w > out.width {
            out.end_line();
        }
        out.push(cell);
    }
    out.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use unicode_width::UnicodeWidthStr;

    fn texts(lines: &[Line]) -> Vec<String> {
        lines
            .iter()
            .map(|l| l.spans.iter().map(|s| s.content.as_ref()).collect())
            .collect()
    }

    fn plain(s: &str) -> Vec<Span<'static>> {
        vec![Span::raw(s.to_owned())]
    }

    /// A small deterministic generator for "random-ish" text.
    struct Lcg(u64);
    impl Lcg {
        fn next(&mut self) -> usize {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (self.0 >> 33) as usize
        }
    }

    const POOL: &[&str] = &[
        "a",
        "word",
        "supercalifragilisticexpialidocious",
        " ",
        " ",
        "  ",
        "日本語",
        "漢字テキスト",
        "😀",
        "❤️",
        "👨‍👩‍👧",
        "🇫🇷",
        "é",
        "e\u{301}",
        "\u{200b}",
        "，",
        "。",
        "x",
        "\n",
        "\t",
        "한국어",
        "https://example.com/a/very/long/path?with=query&and=more",
        "\u{1b}[31m",
        "ｗｉｄｅ",
    ];

    pub(crate) fn random_text(seed: u64, words: usize) -> String {
        let mut g = Lcg(seed);
        (0..words).map(|_| POOL[g.next() % POOL.len()]).collect()
    }

    #[test]
    fn never_wider_than_width() {
        for seed in 0..40u64 {
            let text = random_text(seed, 60);
            for width in (1..=12).chain([80]) {
                for (first, rest) in [("", ""), ("- ", "  "), ("│ 12. ", "│     ")] {
                    let (f, r) = (plain(first), plain(rest));
                    for lines in [
                        wrap_words(&plain(&text), width, &f, &r),
                        wrap_chars(&plain(&text), width, &f, &r, Some(Style::default())),
                    ] {
                        for l in &lines {
                            let s: String = l.spans.iter().map(|s| s.content.as_ref()).collect();
                            assert!(
                                s.width() <= width && l.width() <= width && line_width(l) <= width,
                                "width {width} seed {seed}: {s:?} is {}",
                                s.width()
                            );
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn keeps_all_text_when_it_fits() {
        let strip = |s: &str| s.chars().filter(|c| !c.is_whitespace()).collect::<String>();
        for seed in 0..20u64 {
            let text = random_text(seed, 40).replace(['\u{1b}', '\t'], "");
            for width in [2, 3, 7, 80] {
                let chars = texts(&wrap_chars(&plain(&text), width, &[], &[], None)).concat();
                assert_eq!(chars, text.replace('\n', ""), "width {width} seed {seed}");
                let words = texts(&wrap_words(&plain(&text), width, &[], &[])).concat();
                assert_eq!(strip(&words), strip(&text), "width {width} seed {seed}");
            }
        }
    }

    #[test]
    fn word_wrap_breaks_at_spaces_with_hanging_indent() {
        let lines = texts(&wrap_words(
            &plain("the quick brown fox jumps over the lazy dog"),
            12,
            &plain("- "),
            &plain("  "),
        ));
        assert_eq!(
            lines,
            [
                "- the quick",
                "  brown fox",
                "  jumps over",
                "  the lazy",
                "  dog"
            ]
        );
        let lines = texts(&wrap_words(&plain("abcdefghij klm"), 4, &[], &[]));
        assert_eq!(lines, ["abcd", "efgh", "ij", "klm"]);
        assert_eq!(
            texts(&wrap_words(&plain("a\n\nb"), 10, &[], &[])),
            ["a", "", "b"]
        );
        assert_eq!(
            texts(&wrap_words(&plain(""), 10, &plain("> "), &[])),
            ["> "]
        );
        // CJK breaks between characters.
        let lines = texts(&wrap_words(&plain("日本語のテキスト"), 6, &[], &[]));
        assert_eq!(lines, ["日本語", "のテキ", "スト"]);
    }

    #[test]
    fn char_wrap_keeps_spaces_and_fills() {
        let fill = Style::default().bg(ratatui::style::Color::Blue);
        let lines = wrap_chars(&plain("  let x = 1;"), 6, &[], &[], Some(fill));
        assert_eq!(texts(&lines), ["  let ", "x = 1;"]);
        let lines = wrap_chars(&plain("ab"), 5, &plain("│"), &plain("│"), Some(fill));
        assert_eq!(texts(&lines), ["│ab  "]);
        assert_eq!(lines[0].spans.last().unwrap().style, fill);
    }

    #[test]
    fn spans_keep_styles_and_merge() {
        let bold = Style::default().add_modifier(ratatui::style::Modifier::BOLD);
        let pieces = vec![
            Span::raw("plain "),
            Span::styled("bold", bold),
            Span::raw(" more"),
        ];
        let lines = wrap_words(&pieces, 80, &[], &[]);
        assert_eq!(lines.len(), 1);
        assert_eq!(lines[0].spans.len(), 3);
        assert_eq!(lines[0].spans[1].content, "bold");
        assert_eq!(lines[0].spans[1].style, bold);
    }
}
