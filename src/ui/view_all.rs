//! The "everything" overlay (`v` in the queue): all a queued call will run or write,
//! wrapped instead of cut, with runs of blanks, tabs and invisible characters made visible
//! (`app::unseen::marked`). A file change is shown as its hunks with line numbers; any
//! other call as its arguments, string values line by line. Laid out once per width (the
//! call does not change while it waits) into the overlay's cache.

use std::rc::Rc;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

use super::chat::wrap_plain;
use super::wrap::wrap_chars;
use crate::app::state::{Queued, State};
use crate::app::unseen::{Piece, marked};
use crate::domain::patch::HunkLine;
use crate::domain::text::{neutralize_controls, shown_path};

/// The overlay's frame: the whole screen.
fn frame_area(screen: Rect) -> Rect {
    screen
}

/// Where the text goes (inside the frame's border).
pub fn body(screen: Rect) -> Rect {
    let f = frame_area(screen);
    Rect::new(
        f.x + 1,
        f.y + 1,
        f.width.saturating_sub(2),
        f.height.saturating_sub(2),
    )
}

pub fn render(f: &mut Frame, screen: Rect, s: &State) {
    let Some(v) = s.overlay.view_all() else {
        return;
    };
    let Some(q) = s
        .queue
        .items
        .iter()
        .find(|q| q.request.call_id == v.call_id)
    else {
        return;
    };
    let c = &s.theme.colors;
    let area = frame_area(screen);
    let inner = body(screen);
    let lines = {
        let cached = v
            .cache
            .borrow()
            .as_ref()
            .filter(|(w, _)| *w == inner.width)
            .map(|(_, l)| Rc::clone(l));
        match cached {
            Some(l) => l,
            None => {
                let l = Rc::new(lay_out(q, inner.width as usize, screen, s));
                *v.cache.borrow_mut() = Some((inner.width, Rc::clone(&l)));
                l
            }
        }
    };
    let height = inner.height as usize;
    let top = v.scroll.min(lines.len().saturating_sub(height));
    let shown: Vec<Line<'static>> = lines.iter().skip(top).take(height).cloned().collect();
    let title = super::diff_view::fit(
        &s.keymap.expand(
            " everything this call will run or write · ↑↓ PgUp/PgDn Home/End scroll · Esc or {view_all} closes ",
        ),
        area.width.saturating_sub(2) as usize,
    );
    let place = if lines.len() <= height {
        format!(" all {} lines ", lines.len())
    } else {
        format!(
            " lines {}–{} of {} ",
            top + 1,
            (top + height).min(lines.len()),
            lines.len()
        )
    };
    let bottom = super::diff_view::fit(
        &s.keymap.expand(&format!(
            " {{approve}} approve · {{reject}} reject ·{place}"
        )),
        area.width.saturating_sub(2) as usize,
    );
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(s.theme.style(c.border_focused))
        .title(Span::styled(
            title,
            s.theme.style(c.accent).add_modifier(Modifier::BOLD),
        ))
        .title_bottom(Line::from(Span::styled(bottom, s.theme.style(c.dim))).right_aligned());
    f.render_widget(Clear, area);
    f.render_widget(Paragraph::new(shown).block(block), area);
}

/// Every line of the overlay at `width` columns.
fn lay_out(q: &Queued, width: usize, screen: Rect, s: &State) -> Vec<Line<'static>> {
    let c = &s.theme.colors;
    let width = width.max(1);
    let mut out = wrap_plain(
        &format!("{} · {}", q.request.tool, q.request.summary),
        width,
        s.theme.style(c.fg).add_modifier(Modifier::BOLD),
        "",
    );
    if let Some(d) = &q.request.danger {
        out.extend(wrap_plain(
            &format!("⚠ dangerous: {d}"),
            width,
            s.theme.style(c.error).add_modifier(Modifier::BOLD),
            "",
        ));
    }
    let (reasons, serious) = super::panes::unseen(q, screen, s);
    if !reasons.is_empty() {
        let style = super::panes::warning_style(s, serious);
        out.extend(wrap_plain(
            "⚠ not on screen in the queue or the diff pane, all of it here:",
            width,
            style,
            "",
        ));
        for r in &reasons {
            out.extend(wrap_plain(r, width, style, "  • "));
        }
    }
    out.extend(wrap_plain(
        "· blanks in a run · → tab · ^[ <U+…> control and invisible characters · ┆ the line goes on",
        width,
        s.theme.style(c.dim),
        "",
    ));
    out.push(Line::default());
    let file_tool = matches!(q.request.kind, crate::protocol::ApprovalKind::Files { .. });
    if file_tool && !q.files.is_empty() {
        files(q, width, s, &mut out);
    } else {
        arguments(&q.request.arguments, width, s, &mut out);
    }
    out
}

/// A file change: per file, its hunks with new (or old) line numbers.
fn files(q: &Queued, width: usize, s: &State, out: &mut Vec<Line<'static>>) {
    let c = &s.theme.colors;
    for (fi, d) in q.files.iter().enumerate() {
        if fi > 0 {
            out.push(Line::default());
        }
        let what = if d.new_file {
            " (new file)"
        } else if d.deleted {
            " (deleted)"
        } else {
            ""
        };
        let added: usize = d.hunks.iter().map(|h| h.added()).sum();
        let removed: usize = d.hunks.iter().map(|h| h.removed()).sum();
        out.extend(wrap_plain(
            &format!("{}{what}  +{added} -{removed}", shown_path(&d.path)),
            width,
            s.theme.style(c.heading).add_modifier(Modifier::BOLD),
            "",
        ));
        let max_no = d
            .hunks
            .iter()
            .map(|h| h.old_start.max(h.new_start) + h.lines.len())
            .max()
            .unwrap_or(1);
        let num_w = max_no.to_string().len();
        for (hi, h) in d.hunks.iter().enumerate() {
            out.push(Line::from(Span::styled(
                format!("hunk {} {}", hi + 1, h.computed_header()),
                s.theme.style(c.accent),
            )));
            let (mut old_no, mut new_no) = (h.old_start.max(1), h.new_start.max(1));
            for l in &h.lines {
                let (sign, no, style) = match l {
                    HunkLine::Context(_) => {
                        old_no += 1;
                        new_no += 1;
                        (' ', new_no - 1, s.theme.style(c.dim))
                    }
                    HunkLine::Remove(_) => {
                        old_no += 1;
                        ('-', old_no - 1, s.theme.style(c.error))
                    }
                    HunkLine::Add(_) => {
                        new_no += 1;
                        ('+', new_no - 1, s.theme.style(c.success))
                    }
                };
                let gutter = format!("{sign}{no:>num_w$} │ ");
                numbered(l.text(), &gutter, style, width, s, out);
            }
        }
    }
}

/// Any other call: its arguments; a string value line by line, numbered.
fn arguments(raw: &str, width: usize, s: &State, out: &mut Vec<Line<'static>>) {
    let c = &s.theme.colors;
    let parsed = serde_json::from_str::<serde_json::Value>(raw).ok();
    let Some(obj) = parsed.as_ref().and_then(|v| v.as_object()) else {
        out.extend(wrap_plain(
            "arguments (as sent):",
            width,
            s.theme.style(c.dim),
            "",
        ));
        text_lines(raw, width, s, out);
        return;
    };
    for (k, v) in obj {
        match v {
            serde_json::Value::String(text) => {
                let n = text.trim_end_matches('\n').split('\n').count();
                out.extend(wrap_plain(
                    &format!(
                        "{}: {n} line{}",
                        neutralize_controls(k),
                        if n == 1 { "" } else { "s" }
                    ),
                    width,
                    s.theme.style(c.heading).add_modifier(Modifier::BOLD),
                    "",
                ));
                text_lines(text, width, s, out);
            }
            other => {
                let head = format!("{}: ", neutralize_controls(k));
                numbered(
                    &other.to_string(),
                    &head,
                    s.theme.style(c.heading),
                    width,
                    s,
                    out,
                );
            }
        }
    }
}

/// `text` line by line, numbered.
fn text_lines(text: &str, width: usize, s: &State, out: &mut Vec<Line<'static>>) {
    let lines: Vec<&str> = text.trim_end_matches('\n').split('\n').collect();
    let num_w = lines.len().to_string().len();
    for (i, l) in lines.iter().enumerate() {
        let gutter = format!("{:>num_w$} │ ", i + 1);
        numbered(l, &gutter, s.theme.style(s.theme.colors.dim), width, s, out);
    }
}

/// One line of content after `gutter`, wrapped; following rows carry `┆` under the bar.
fn numbered(
    text: &str,
    gutter: &str,
    gutter_style: Style,
    width: usize,
    s: &State,
    out: &mut Vec<Line<'static>>,
) {
    let c = &s.theme.colors;
    let mark = if s.theme.no_color {
        Style::default().add_modifier(Modifier::BOLD)
    } else {
        s.theme.style(c.warning).add_modifier(Modifier::BOLD)
    };
    let pieces: Vec<Span<'static>> = marked(text)
        .into_iter()
        .map(|p| match p {
            Piece::Text(t) => Span::styled(t, s.theme.style(c.fg)),
            Piece::Mark(m) => Span::styled(m, mark),
        })
        .collect();
    let gw = super::wrap::text_width(gutter);
    let rest = format!("{}┆ ", " ".repeat(gw.saturating_sub(2)));
    out.extend(wrap_chars(
        &pieces,
        width,
        &[Span::styled(gutter.to_owned(), gutter_style)],
        &[Span::styled(rest, s.theme.style(c.dim))],
        None,
    ));
}
