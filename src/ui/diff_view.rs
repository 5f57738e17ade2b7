//! One file's hunks as screen lines: a header per hunk (with the enclosing function or
//! heading when one is found above it), old and new line numbers, syntax highlighting by
//! file type under the diff colours, and the changed words inside a changed line marked.
//! Unified or side by side. Only the hunks handed in are highlighted; a hunk's sides are
//! highlighted as whole blocks, which the highlighter caches, so a growing hunk costs only
//! its new lines.

use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use unicode_width::UnicodeWidthStr;

use super::highlight;
use crate::config::theme::Theme;
use crate::domain::patch::{Hunk, HunkLine};

/// How to draw the hunks.
#[derive(Debug, Clone, Copy, Default)]
pub struct Look<'a> {
    pub side_by_side: bool,
    /// The hunk the cursor is on.
    pub cursor: Option<usize>,
    /// Per hunk: declined by the user (drawn struck through). Empty = no selection shown.
    pub declined: &'a [bool],
    /// Extra lines of the old file shown around each hunk (Enter in the diff pane).
    pub expand: usize,
    /// Only rows `first..first + count` are drawn (highlighted); the others are empty
    /// placeholders, so row numbers stay true. Ignored with `expand`.
    pub window: Option<(usize, usize)>,
}

/// Rows a hunk's body takes (without its header), when not expanded.
pub fn body_rows(h: &Hunk, side_by_side: bool, width: usize) -> usize {
    if !(side_by_side && width >= 40) {
        return h.lines.len();
    }
    let (mut rows, mut dels, mut adds) = (0, 0, 0);
    for l in &h.lines {
        match l {
            HunkLine::Context(_) => {
                rows += dels.max(adds) + 1;
                (dels, adds) = (0, 0);
            }
            HunkLine::Remove(_) if adds > 0 => {
                rows += dels.max(adds);
                (dels, adds) = (1, 0);
            }
            HunkLine::Remove(_) => dels += 1,
            HunkLine::Add(_) => adds += 1,
        }
    }
    rows + dels.max(adds)
}

/// The part of `h` from line `from` on, numbered as in the whole hunk.
fn tail_of(h: &Hunk, from: usize, to: usize) -> Hunk {
    let before = &h.lines[..from];
    let old_before = before.iter().filter(|l| l.in_old()).count();
    let new_before = before.iter().filter(|l| l.in_new()).count();
    Hunk {
        old_start: h.old_start + old_before,
        new_start: h.new_start + new_before,
        lines: h.lines[from..to].to_vec(),
        // not `..h.clone()`: that would copy every line of a huge hunk to keep a few
        header: h.header.clone(),
        has_line_numbers: h.has_line_numbers,
        old_missing_newline: h.old_missing_newline,
        new_missing_newline: h.new_missing_newline,
        crlf: h.crlf,
    }
}

/// The last `n` lines of `hunks` (whole hunks, and the end of the one that is cut),
/// numbered as in the whole change: what a view that follows the end draws, without
/// laying out or highlighting everything before it.
pub fn last_lines(hunks: &[Hunk], n: usize) -> Vec<Hunk> {
    let mut out = Vec::new();
    let mut left = n;
    for h in hunks.iter().rev() {
        if left == 0 {
            break;
        }
        if h.lines.len() <= left {
            left -= h.lines.len();
            out.push(h.clone());
        } else {
            out.push(tail_of(h, h.lines.len() - left, h.lines.len()));
            left = 0;
        }
    }
    out.reverse();
    out
}

/// The lines, and the index of each hunk's header among them.
pub struct Drawn {
    pub lines: Vec<Line<'static>>,
    pub hunk_rows: Vec<usize>,
}

/// The columns a line's code gets when `hunks` are drawn `width` wide (after the line
/// numbers and the sign; per side, side by side).
pub fn code_width(hunks: &[Hunk], side_by_side: bool, width: usize) -> usize {
    let max_no = hunks
        .iter()
        .map(|h| h.old_start.max(h.new_start) + h.lines.len())
        .max()
        .unwrap_or(1);
    let num_w = max_no.to_string().len();
    if side_by_side && width >= 40 {
        (width.saturating_sub(1) / 2).saturating_sub(num_w + 2)
    } else {
        width.saturating_sub(2 * num_w + 4)
    }
}

pub fn draw(
    path: &str,
    old: Option<&str>,
    hunks: &[Hunk],
    look: Look<'_>,
    width: usize,
    theme: &Theme,
) -> Drawn {
    let max_no = hunks
        .iter()
        .map(|h| h.old_start.max(h.new_start) + h.lines.len())
        .max()
        .unwrap_or(1);
    let num_w = max_no.to_string().len();
    let mut out = Drawn {
        lines: Vec::new(),
        hunk_rows: Vec::new(),
    };
    let old_lines: Vec<&str> = match (look.expand, old) {
        (0, _) | (_, None) => Vec::new(),
        (_, Some(o)) => o.lines().collect(),
    };
    let mut prev_end = 0usize; // old lines (0-based, exclusive) already shown
    let window = look.window.filter(|_| look.expand == 0);
    let visible = |row: usize| window.is_none_or(|(first, n)| row >= first && row < first + n);
    for (i, h) in hunks.iter().enumerate() {
        out.hunk_rows.push(out.lines.len());
        let declined = look.declined.get(i).copied();
        if let Some((first, n)) = window {
            // outside the window: placeholders; a long hunk cut to it (plus lines before it
            // to start the highlighter in the right state)
            let head = out.lines.len();
            let body = body_rows(h, look.side_by_side, width);
            out.lines.push(if visible(head) {
                header(h, i, old, declined, look.cursor == Some(i), width, theme)
            } else {
                Line::default()
            });
            let (b0, b1) = (head + 1, head + 1 + body);
            if b1 <= first || b0 >= first + n {
                out.lines.extend(std::iter::repeat_n(Line::default(), body));
                continue;
            }
            let unified = !(look.side_by_side && width >= 40);
            if unified && body > 2 * n {
                let a = first.saturating_sub(b0);
                let b = (first + n - b0).min(body);
                let warm = a.saturating_sub(40);
                let part = tail_of(h, warm, b);
                let rows = hunk_rows(&part, path, theme);
                out.lines.extend(std::iter::repeat_n(Line::default(), a));
                let mut drawn = Vec::new();
                unified_rows(&mut drawn, &rows[a - warm..], num_w, width, theme, declined);
                out.lines.extend(drawn);
                out.lines
                    .extend(std::iter::repeat_n(Line::default(), body - b));
                continue;
            }
            let rows = hunk_rows(h, path, theme);
            if look.side_by_side && width >= 40 {
                side_by_side(&mut out.lines, &rows, num_w, width, theme, declined);
            } else {
                unified_rows(&mut out.lines, &rows, num_w, width, theme, declined);
            }
            continue;
        }
        out.lines.push(header(
            h,
            i,
            old,
            declined,
            look.cursor == Some(i),
            width,
            theme,
        ));
        let mut rows = hunk_rows(h, path, theme);
        if !old_lines.is_empty() {
            let old_count = h.old_lines().count();
            let start = if old_count == 0 {
                h.old_start
            } else {
                h.old_start - 1
            };
            let end = start + old_count;
            let next_start = hunks
                .get(i + 1)
                .map_or(old_lines.len(), |n| n.old_start.saturating_sub(1));
            let before = start.saturating_sub(look.expand).max(prev_end);
            let after = (end + look.expand).min(next_start).min(old_lines.len());
            // the first new line of the hunk, and the new line just after it
            let new_count = h.new_lines().count();
            let new_first = if new_count == 0 {
                h.new_start + 1
            } else {
                h.new_start
            };
            let new_after = new_first + new_count;
            let extra = |k: usize, new_no: usize| Row {
                kind: Kind::Same,
                old_no: Some(k + 1),
                new_no: Some(new_no),
                code: Line::from(Span::styled(
                    old_lines[k].replace('\t', "    "),
                    theme.style(theme.colors.dim),
                )),
            };
            let head: Vec<Row> = (before..start.min(old_lines.len()))
                .map(|k| extra(k, (new_first + k).saturating_sub(start).max(1)))
                .collect();
            let tail: Vec<Row> = (end..after)
                .map(|k| extra(k, new_after + k - end))
                .collect();
            prev_end = after;
            rows.splice(0..0, head);
            rows.extend(tail);
        }
        if look.side_by_side && width >= 40 {
            side_by_side(&mut out.lines, &rows, num_w, width, theme, declined);
        } else {
            unified_rows(&mut out.lines, &rows, num_w, width, theme, declined);
        }
    }
    out
}

/// One line of a hunk, ready to draw.
struct Row {
    kind: Kind,
    old_no: Option<usize>,
    new_no: Option<usize>,
    code: Line<'static>,
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Same,
    Del,
    Add,
}

fn hunk_rows(h: &Hunk, path: &str, theme: &Theme) -> Vec<Row> {
    let lang = path.rsplit('/').next().unwrap_or(path);
    let side = |lines: Vec<&str>| -> Vec<Line<'static>> {
        let mut text = lines.join("\n");
        text.push('\n');
        highlight::global().highlight(&text, lang, theme)
    };
    let old_hl = side(h.old_lines().collect());
    let new_hl = side(h.new_lines().collect());
    let (mut o, mut n) = (0usize, 0usize);
    let (mut old_no, mut new_no) = (h.old_start.max(1), h.new_start.max(1));
    if h.old_lines().count() == 0 {
        old_no = h.old_start + 1;
    }
    if h.new_lines().count() == 0 {
        new_no = h.new_start + 1;
    }
    let mut rows = Vec::with_capacity(h.lines.len());
    for l in &h.lines {
        let row = match l {
            HunkLine::Context(_) => {
                let r = Row {
                    kind: Kind::Same,
                    old_no: Some(old_no),
                    new_no: Some(new_no),
                    code: new_hl.get(n).cloned().unwrap_or_default(),
                };
                o += 1;
                n += 1;
                old_no += 1;
                new_no += 1;
                r
            }
            HunkLine::Remove(_) => {
                let r = Row {
                    kind: Kind::Del,
                    old_no: Some(old_no),
                    new_no: None,
                    code: old_hl.get(o).cloned().unwrap_or_default(),
                };
                o += 1;
                old_no += 1;
                r
            }
            HunkLine::Add(_) => {
                let r = Row {
                    kind: Kind::Add,
                    old_no: None,
                    new_no: Some(new_no),
                    code: new_hl.get(n).cloned().unwrap_or_default(),
                };
                n += 1;
                new_no += 1;
                r
            }
        };
        rows.push(row);
    }
    mark_changed_words(&mut rows, theme);
    rows
}

/// Pairs each run of removed lines with the added lines after it and marks, in each pair,
/// the words that differ.
fn mark_changed_words(rows: &mut [Row], theme: &Theme) {
    let c = &theme.colors;
    let mut i = 0;
    while i < rows.len() {
        if rows[i].kind != Kind::Del {
            i += 1;
            continue;
        }
        let dels = i;
        while i < rows.len() && rows[i].kind == Kind::Del {
            i += 1;
        }
        let adds = i;
        while i < rows.len() && rows[i].kind == Kind::Add {
            i += 1;
        }
        let olds: Vec<String> = (dels..adds).map(|r| plain(&rows[r].code)).collect();
        let news: Vec<String> = (adds..i).map(|r| plain(&rows[r].code)).collect();
        for (d, a) in pair_by_similarity(&olds, &news) {
            let (old, new) = (&olds[d], &news[a]);
            let (d, a) = (dels + d, adds + a);
            if old.len() + new.len() > 4_000 {
                continue;
            }
            let diff = similar::TextDiff::from_words(old.as_str(), new.as_str());
            let (mut oi, mut ni) = (0usize, 0usize);
            let (mut old_marks, mut new_marks) = (Vec::new(), Vec::new());
            for ch in diff.iter_all_changes() {
                let len = ch.value().len();
                match ch.tag() {
                    similar::ChangeTag::Equal => {
                        oi += len;
                        ni += len;
                    }
                    similar::ChangeTag::Delete => {
                        old_marks.push((oi, oi + len));
                        oi += len;
                    }
                    similar::ChangeTag::Insert => {
                        new_marks.push((ni, ni + len));
                        ni += len;
                    }
                }
            }
            // a line changed all over is not helped by marking all of it
            let all = |marks: &[(usize, usize)], n: usize| {
                marks.iter().map(|(a, b)| b - a).sum::<usize>() * 10 >= n.max(1) * 9
            };
            if !all(&old_marks, old.len()) {
                paint(&mut rows[d].code, &old_marks, c.diff_del_word_bg, theme);
            }
            if !all(&new_marks, new.len()) {
                paint(&mut rows[a].code, &new_marks, c.diff_add_word_bg, theme);
            }
        }
    }
}

/// Which removed line became which added line: each removed line (in order) goes with the
/// most similar added line after the previous pair's, when they share at least half
/// their characters; a line split in two is then paired with the half it resembles,
/// not with whatever came first. Past 64 candidate pairs, line by line in order.
fn pair_by_similarity(olds: &[String], news: &[String]) -> Vec<(usize, usize)> {
    if olds.len() * news.len() > 64 {
        return (0..olds.len().min(news.len())).map(|k| (k, k)).collect();
    }
    let mut out = Vec::new();
    let mut next = 0;
    for (d, old) in olds.iter().enumerate() {
        let mut best: Option<(usize, f32)> = None;
        for (a, new) in news.iter().enumerate().skip(next) {
            if old.len() + new.len() > 4_000 {
                continue;
            }
            let ratio = similar::TextDiff::from_chars(old.as_str(), new.as_str()).ratio();
            if ratio >= 0.5 && best.is_none_or(|(_, r)| ratio > r) {
                best = Some((a, ratio));
            }
        }
        if let Some((a, _)) = best {
            out.push((d, a));
            next = a + 1;
        }
    }
    out
}

fn plain(line: &Line<'_>) -> String {
    line.spans.iter().map(|s| s.content.as_ref()).collect()
}

/// Sets the background of the byte ranges `marks` of `line`'s text, splitting spans.
fn paint(
    line: &mut Line<'static>,
    marks: &[(usize, usize)],
    bg: ratatui::style::Color,
    theme: &Theme,
) {
    if marks.is_empty() {
        return;
    }
    let mut spans = Vec::new();
    let mut at = 0usize;
    for span in line.spans.drain(..) {
        let text = span.content.to_string();
        let (start, end) = (at, at + text.len());
        let mut cuts = vec![0, text.len()];
        for &(a, b) in marks {
            for x in [a, b] {
                if x > start && x < end && text.is_char_boundary(x - start) {
                    cuts.push(x - start);
                }
            }
        }
        cuts.sort_unstable();
        cuts.dedup();
        for w in cuts.windows(2) {
            let piece = &text[w[0]..w[1]];
            let mid = start + w[0];
            let marked = marks.iter().any(|&(a, b)| mid >= a && mid < b);
            let style = if marked {
                theme
                    .with_bg(span.style, bg)
                    .add_modifier(if theme.no_color {
                        Modifier::UNDERLINED
                    } else {
                        Modifier::empty()
                    })
            } else {
                span.style
            };
            spans.push(Span::styled(piece.to_owned(), style));
        }
        at = end;
    }
    line.spans = spans;
}

fn header(
    h: &Hunk,
    index: usize,
    old: Option<&str>,
    declined: Option<bool>,
    cursor: bool,
    width: usize,
    theme: &Theme,
) -> Line<'static> {
    let c = &theme.colors;
    let mut text = String::new();
    if let Some(d) = declined {
        text.push_str(if d { "[ ] " } else { "[x] " });
    }
    text.push_str(&format!("hunk {} {}", index + 1, h.computed_header()));
    if let Some(f) = old.and_then(|o| enclosing(o, h.old_start)) {
        text.push(' ');
        text.push_str(&f);
    }
    let mut style = theme.style(c.accent).add_modifier(Modifier::BOLD);
    if cursor {
        style = style.add_modifier(Modifier::REVERSED);
    }
    Line::from(Span::styled(fit(&text, width), style))
}

/// The nearest line above `line` (1-based) that opens a function, type or section. Only the
/// text above the hunk is read, backwards from it.
fn enclosing(old: &str, line: usize) -> Option<String> {
    if line <= 1 {
        return None;
    }
    let start = memchr::memchr_iter(b'\n', old.as_bytes())
        .nth(line - 2)
        .map_or(old.len(), |i| i + 1);
    old[..start]
        .lines()
        .rev()
        .take(3_000)
        .find(|l| opens_scope(l))
        .map(|l| fit(l.trim(), 48))
}

fn opens_scope(line: &str) -> bool {
    let t = line.trim_start();
    if t.starts_with('#') && t.trim_start_matches('#').starts_with(' ') && line.starts_with('#') {
        return true; // a Markdown heading
    }
    let first = t
        .split(|c: char| !c.is_alphanumeric() && c != '_')
        .next()
        .unwrap_or("");
    const OPENERS: &[&str] = &[
        "fn",
        "pub",
        "impl",
        "struct",
        "enum",
        "trait",
        "mod",
        "def",
        "class",
        "func",
        "function",
        "interface",
        "module",
        "async",
        "export",
        "public",
        "private",
        "protected",
        "static",
        "type",
        "macro_rules",
    ];
    OPENERS.contains(&first) && !t.ends_with(';') && t.len() > first.len()
}

pub fn fit(text: &str, width: usize) -> String {
    if text.width() <= width {
        return text.to_owned();
    }
    let mut out = String::new();
    for ch in text.chars() {
        if out.width() + 2 > width {
            break;
        }
        out.push(ch);
    }
    out.push('…');
    out
}

fn bg_for(kind: Kind, theme: &Theme) -> Option<ratatui::style::Color> {
    match kind {
        Kind::Same => None,
        Kind::Del => Some(theme.colors.diff_del_bg),
        Kind::Add => Some(theme.colors.diff_add_bg),
    }
}

/// `code` cut to `width` cells, on the row's background. A cut says how many columns it
/// leaves out (`›+412`, bold in the warning colour), so text pushed out of view by a run
/// of spaces cannot pass for the end of the line; a bare `›` where the count has no room.
fn code_spans(
    code: &Line<'static>,
    width: usize,
    bg: Option<ratatui::style::Color>,
    theme: &Theme,
    struck: bool,
) -> Vec<Span<'static>> {
    let mut out = Vec::new();
    let mut used = 0usize;
    let total: usize = code.spans.iter().map(|s| s.content.width()).sum();
    // columns kept for the marker of a cut: `›+` and the count (at most `total`'s digits)
    let marker_w = match total.checked_sub(width) {
        None | Some(0) => 0,
        // the count where it leaves the code most of the row
        Some(_) if width >= 2 + total.to_string().len() + 20 => 2 + total.to_string().len(),
        Some(_) => 1,
    };
    let room = width.saturating_sub(marker_w);
    for s in &code.spans {
        let mut style = match bg {
            Some(b) if s.style.bg.is_none() => theme.with_bg(s.style, b),
            _ => s.style,
        };
        if struck {
            style = style.add_modifier(Modifier::CROSSED_OUT | Modifier::DIM);
        }
        let mut piece = String::new();
        for ch in s.content.chars() {
            let cw = ch.to_string().width();
            if used + cw > room {
                break;
            }
            piece.push(ch);
            used += cw;
        }
        let cut = piece.len() < s.content.len();
        out.push(Span::styled(piece, style));
        if cut {
            break;
        }
    }
    if total > width && width > 0 {
        let marker = if marker_w > 1 {
            format!("›+{}", total - used)
        } else {
            "›".to_owned()
        };
        let mut style = theme
            .style(theme.colors.warning)
            .add_modifier(Modifier::BOLD);
        if theme.no_color {
            style = style.add_modifier(Modifier::REVERSED);
        } else if let Some(b) = bg {
            style = theme.with_bg(style, b);
        }
        used += marker.width();
        out.push(Span::styled(marker, style));
    }
    // the row's colour runs to the edge
    if let Some(b) = bg {
        out.push(Span::styled(
            " ".repeat(width.saturating_sub(used)),
            theme.with_bg(Style::default(), b),
        ));
    }
    out
}

fn number(n: Option<usize>, w: usize) -> String {
    match n {
        Some(n) => format!("{n:>w$}"),
        None => " ".repeat(w),
    }
}

fn unified_rows(
    out: &mut Vec<Line<'static>>,
    rows: &[Row],
    num_w: usize,
    width: usize,
    theme: &Theme,
    declined: Option<bool>,
) {
    let dim = theme.style(theme.colors.dim);
    let struck = declined == Some(true);
    for r in rows {
        let sign = match r.kind {
            Kind::Same => ' ',
            Kind::Del => '-',
            Kind::Add => '+',
        };
        let gutter = format!(
            "{} {} {sign}",
            number(r.old_no, num_w),
            number(r.new_no, num_w)
        );
        let code_w = width.saturating_sub(gutter.width() + 1);
        let bg = bg_for(r.kind, theme);
        let mut spans = vec![Span::styled(gutter, dim), Span::raw(" ")];
        spans.extend(code_spans(
            &r.code,
            code_w,
            bg,
            theme,
            struck && r.kind != Kind::Same,
        ));
        out.push(Line::from(spans));
    }
}

fn side_by_side(
    out: &mut Vec<Line<'static>>,
    rows: &[Row],
    num_w: usize,
    width: usize,
    theme: &Theme,
    declined: Option<bool>,
) {
    let dim = theme.style(theme.colors.dim);
    let struck = declined == Some(true);
    let half = (width.saturating_sub(1)) / 2;
    // pair rows: context on both sides; a run of removals beside the additions after it
    let mut pairs: Vec<(Option<&Row>, Option<&Row>)> = Vec::new();
    let mut i = 0;
    while i < rows.len() {
        if rows[i].kind == Kind::Same {
            pairs.push((Some(&rows[i]), Some(&rows[i])));
            i += 1;
            continue;
        }
        let dels: Vec<&Row> = rows[i..]
            .iter()
            .take_while(|r| r.kind == Kind::Del)
            .collect();
        i += dels.len();
        let adds: Vec<&Row> = rows[i..]
            .iter()
            .take_while(|r| r.kind == Kind::Add)
            .collect();
        i += adds.len();
        for k in 0..dels.len().max(adds.len()) {
            pairs.push((dels.get(k).copied(), adds.get(k).copied()));
        }
    }
    for (l, r) in pairs {
        let mut spans = half_row(l, l.and_then(|x| x.old_no), num_w, half, theme, struck);
        spans.push(Span::styled("│", dim));
        spans.extend(half_row(
            r,
            r.and_then(|x| x.new_no),
            num_w,
            half,
            theme,
            struck,
        ));
        out.push(Line::from(spans));
    }
}

/// One side of a side-by-side row, exactly `half` cells wide.
fn half_row(
    row: Option<&Row>,
    no: Option<usize>,
    num_w: usize,
    half: usize,
    theme: &Theme,
    struck: bool,
) -> Vec<Span<'static>> {
    let code_w = half.saturating_sub(num_w + 2);
    let sign = match row.map(|r| r.kind) {
        Some(Kind::Del) => '-',
        Some(Kind::Add) => '+',
        _ => ' ',
    };
    let mut spans = vec![Span::styled(
        format!("{}{sign} ", number(no, num_w)),
        theme.style(theme.colors.dim),
    )];
    if let Some(row) = row {
        spans.extend(code_spans(
            &row.code,
            code_w,
            bg_for(row.kind, theme),
            theme,
            struck && row.kind != Kind::Same,
        ));
    }
    let used: usize = spans.iter().map(|s| s.content.width()).sum();
    if used < half {
        spans.push(Span::raw(" ".repeat(half - used)));
    }
    spans
}

#[cfg(test)]
mod tests {
    use super::pair_by_similarity;

    fn lines(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn changed_lines_pair_with_the_line_they_resemble() {
        // a line removed above the changed one: the change pairs with its own line
        let olds = lines(&["fn helper() {}", "let total = price * qty;"]);
        let news = lines(&["let total = price * qty + tax;"]);
        assert_eq!(pair_by_similarity(&olds, &news), [(1, 0)]);
        // a line split in two pairs with the half it resembles
        let olds = lines(&["let total = compute_price(items, discount) + shipping;"]);
        let news = lines(&[
            "let base = 1;",
            "let total = compute_price(items, discount);",
        ]);
        assert_eq!(pair_by_similarity(&olds, &news), [(0, 1)]);
        // nothing alike: no pair, no marks
        assert!(pair_by_similarity(&lines(&["abc"]), &lines(&["xyz 123"])).is_empty());
    }
}
