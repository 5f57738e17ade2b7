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

/// Whether a line of code may break after `c`: after blanks, and after punctuation that
/// ends or opens a part of an expression (`f(a, b)` breaks after `(` or `,`).
fn code_break_after(c: char) -> bool {
    c == ' '
        || matches!(
            c,
            ',' | ';'
                | '('
                | '['
                | '{'
                | ')'
                | ']'
                | '}'
                | '.'
                | ':'
                | '='
                | '|'
                | '&'
                | '+'
                | '-'
                | '>'
        )
}

/// Wraps code at `width` columns, one source line per `\n`: a line that does not fit
/// breaks after a blank or punctuation in the last third of the row when there is one
/// (else it is cut at the width), and each continuation row starts with `rest`, then the
/// line's own indentation and `cont` (a marker), so it reads as the same line. Styles go
/// across a break unchanged; widths are display widths (wide chars count 2, and never
/// split). With `fill` every row is padded to the width in that style. Linear in the
/// length of the text. Always at least one line.
pub fn wrap_code(
    pieces: &[Span<'_>],
    width: usize,
    first: &[Span<'static>],
    rest: &[Span<'static>],
    cont: &[Span<'static>],
    fill: Option<Style>,
) -> Vec<Line<'static>> {
    let all = cells(pieces);
    let cont = cells(cont);
    let cont_w: usize = cont.iter().map(|c| c.w).sum();
    let mut out = Out::new(width, first, rest, fill);
    let mut start = 0;
    let mut first_line = true;
    while start <= all.len() {
        let end = all[start..]
            .iter()
            .position(|c| c.ch == '\n')
            .map_or(all.len(), |i| start + i);
        if !first_line {
            out.end_line();
        }
        first_line = false;
        code_line(&mut out, &all[start..end], &cont, cont_w);
        start = end + 1;
    }
    out.finish()
}

/// One source line of [`wrap_code`], from the start of a row of `out`.
fn code_line(out: &mut Out, line: &[Cell], cont: &[Cell], cont_w: usize) {
    let fresh = out.avail_fresh();
    // the continuation's lead: the line's indentation and the marker, when they leave at
    // least half a row; else the marker alone; else nothing
    let indent = line.iter().take_while(|c| c.ch == ' ').count();
    let lead: Vec<Cell> = if indent + cont_w <= fresh / 2 {
        line[..indent].iter().chain(cont).copied().collect()
    } else if cont_w <= fresh / 2 {
        cont.to_vec()
    } else {
        Vec::new()
    };
    let mut pos = 0;
    let mut first_row = true;
    while first_row || pos < line.len() {
        if !first_row {
            out.end_line();
            out.push_all(&lead);
            // a continuation does not start with blanks (the lead indents it)
            while pos < line.len() && line[pos].ch == ' ' {
                pos += 1;
            }
            if pos == line.len() {
                break;
            }
        }
        first_row = false;
        let avail = out.width.saturating_sub(out.w);
        // the cells that fit
        let (mut cut, mut used) = (pos, 0);
        while cut < line.len() && used + line[cut].w <= avail {
            used += line[cut].w;
            cut += 1;
        }
        if cut == line.len() {
            out.push_all(&line[pos..]);
            return;
        }
        // the last place to break in the row's last third
        let mut at = cut;
        let mut w_at = used;
        let mut brk = None;
        while at > pos && w_at * 3 >= avail * 2 {
            if code_break_after(line[at - 1].ch) && line[at].w > 0 {
                brk = Some(at);
                break;
            }
            at -= 1;
            w_at -= line[at].w;
        }
        let mut end = brk.unwrap_or(cut);
        if end == pos {
            // not even one char fits (a wide char in one column): `Out` shows `…`
            end = pos + 1;
            while end < line.len() && line[end].w == 0 {
                end += 1;
            }
        }
        out.push_all(&line[pos..end]);
        pos = end;
    }
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

    fn code(s: &str, width: usize) -> Vec<String> {
        texts(&wrap_code(&plain(s), width, &[], &[], &plain("↪ "), None))
    }

    #[test]
    fn code_wraps_after_a_comma_at_its_indentation() {
        let line = "    let total = compute_everything(first_argument, second_argument, third);";
        assert_eq!(
            code(line, 60),
            [
                "    let total = compute_everything(first_argument, ",
                "    ↪ second_argument, third);",
            ]
        );
        // the break keeps to the last third of the row: no break there, a cut
        assert_eq!(
            code("f(a, bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", 20),
            [
                "f(a, bbbbbbbbbbbbbbb",
                "↪ bbbbbbbbbbbbbbbbbb",
                "↪ bbbbbbbbbbbbbbbb"
            ]
        );
    }

    #[test]
    fn a_token_longer_than_the_width_is_cut_at_the_width() {
        let token = "x".repeat(500);
        let lines = code(&token, 40);
        assert_eq!(lines[0], "x".repeat(40));
        assert!(lines[1..].iter().all(|l| l.starts_with("↪ ")));
        assert!(lines.iter().all(|l| l.width() <= 40));
        let kept: usize = lines.iter().map(|l| l.matches('x').count()).sum();
        assert_eq!(kept, 500);
    }

    #[test]
    fn a_line_exactly_the_width_does_not_wrap() {
        let line = "a".repeat(30);
        assert_eq!(code(&line, 30), std::slice::from_ref(&line));
        assert_eq!(code("", 30), [""]);
        assert_eq!(code(&format!("{line},b"), 30).len(), 2);
    }

    #[test]
    fn wide_characters_count_two_and_are_never_split() {
        let line = "let 名前 = 日本語のテキストを表示する関数(引数一, 引数二);";
        for width in [7, 10, 16, 23, 40] {
            let lines = code(line, width);
            assert!(
                lines.iter().all(|l| l.width() <= width),
                "{width}: {lines:?}"
            );
            let joined: String = lines
                .iter()
                .enumerate()
                .map(|(i, l)| {
                    if i == 0 {
                        l.as_str()
                    } else {
                        l.trim_start_matches("↪ ")
                    }
                })
                .collect();
            assert_eq!(joined.replace(' ', ""), line.replace(' ', ""), "{width}");
        }
        assert_eq!(code("f(日本語, 漢字)", 12), ["f(日本語, ", "↪ 漢字)"]);
    }

    #[test]
    fn code_keeps_styles_across_a_break_and_fills_rows() {
        let kw = Style::default().fg(ratatui::style::Color::Magenta);
        let fill = Style::default().bg(ratatui::style::Color::Blue);
        let pieces = vec![Span::styled("return", kw), Span::raw(" foo(alpha, beta)")];
        let lines = wrap_code(
            &pieces,
            16,
            &plain("│"),
            &plain("│"),
            &plain("↪ "),
            Some(fill),
        );
        assert_eq!(texts(&lines), ["│return foo(    ", "│↪ alpha, beta) "]);
        assert_eq!(lines[0].spans[1].style, kw);
        assert!(lines.iter().all(|l| l.width() == 16));
    }

    #[test]
    fn code_wrap_is_linear() {
        // a 2 MB line of commas and a 2 MB line without a break: both quick
        for line in [", ".repeat(1 << 20), "y".repeat(2 << 20)] {
            let t = std::time::Instant::now();
            let lines = code(&line, 80);
            assert!(lines.len() > 20_000);
            assert!(
                t.elapsed() < std::time::Duration::from_secs(2),
                "{:?}",
                t.elapsed()
            );
        }
    }
}
