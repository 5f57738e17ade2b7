//! The diff pane: the selected queued call's change (hunks to take or leave), the change a
//! streaming call is writing (live, following its end), or the last change made.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use super::chat::wrap_plain;
use super::diff_view::{self, Look};
use super::panes::pane_block;
use crate::app::diffs::{FileDiff, LiveCall, PaneShows, hunk_ids};
use crate::app::state::{Focus, Queued, State};
use crate::domain::live_edit::LiveView;

pub fn render(f: &mut Frame, area: Rect, s: &State) {
    let focused = s.view.focus == Focus::Diff;
    let width = area.width.saturating_sub(2) as usize;
    let height = area.height.saturating_sub(2) as usize;
    let (title, lines, top) = match s.pane_shows() {
        PaneShows::Change(q) => queued(s, q, width, height),
        PaneShows::Call(q) => call(s, q, width, height),
        PaneShows::Live(live) => live_lines(s, live, width, height),
        PaneShows::Shown(shown) => {
            let above = usize::from(shown.files.len() > 1);
            let total = layout(s, &shown.files, width).map(|(_, t)| t);
            let top = match total {
                Some(t) => s.diff.scroll.min((t + above).saturating_sub(height)),
                None => s.diff.scroll,
            };
            let window = total.map(|_| (top.saturating_sub(above), height));
            let (mut lines, _) = files(s, &shown.files, None, width, window);
            if shown.files.len() > 1 {
                lines.insert(0, file_list(s, &shown.files, width));
            }
            let top = top.min(lines.len().saturating_sub(height));
            (format!(" diff · {} · Esc closes ", shown.title), lines, top)
        }
        PaneShows::Last(changes) => {
            let last: Vec<FileDiff> = changes.iter().map(FileDiff::of).collect();
            let window = layout(s, &last, width).map(|_| (0, height));
            let (lines, _) = files(s, &last, None, width, window);
            (" diff · last change ".to_owned(), lines, 0)
        }
        PaneShows::Nothing => {
            let c = &s.theme.colors;
            let text: Vec<Line<'static>> = [
                "No changes yet.",
                "",
                "When the model writes a file edit, the change shows here as it is written; \
                 before you approve it you can take it hunk by hunk.",
            ]
            .iter()
            .map(|t| Line::from(Span::styled(t.to_string(), s.theme.style(c.dim))))
            .collect();
            let block = pane_block(" diff ".to_owned(), focused, s);
            f.render_widget(
                Paragraph::new(text).wrap(Wrap { trim: false }).block(block),
                area,
            );
            return;
        }
    };
    let block = pane_block(title, focused, s);
    let visible: Vec<Line<'static>> = lines.into_iter().skip(top).take(height).collect();
    f.render_widget(Paragraph::new(visible).block(block), area);
}

/// A queued call that changes no files (a command, an MCP or custom tool): what it would
/// run with, whole, wrapped (arguments pretty-printed), scrolled like a diff.
fn call(s: &State, q: &Queued, width: usize, height: usize) -> (String, Vec<Line<'static>>, usize) {
    use crate::protocol::ApprovalKind;
    let c = &s.theme.colors;
    let text = match &q.request.kind {
        ApprovalKind::Command(cmd) => cmd.clone(),
        ApprovalKind::Commit(msg) => msg.clone(),
        _ => serde_json::from_str::<serde_json::Value>(&q.request.arguments)
            .ok()
            .and_then(|v| serde_json::to_string_pretty(&v).ok())
            .unwrap_or_else(|| q.request.arguments.clone()),
    };
    // a huge argument is laid out only as far as the pane can scroll (`v` shows all)
    const MAX: usize = 64 * 1024;
    let text = match text.char_indices().nth(MAX) {
        Some((cut, _)) => format!(
            "{}\n[… {} more bytes: {} shows everything]",
            &text[..cut],
            text.len() - cut,
            s.keymap.keys(crate::app::keymap::Action::ViewAll)
        ),
        None => text,
    };
    let lines = wrap_plain(&text, width, s.theme.style(c.fg), "");
    let top = s.diff.scroll.min(lines.len().saturating_sub(height));
    (format!(" call · {} ", q.request.tool), lines, top)
}

/// Every file's header and hunks; `declined`/`cursor` for a queued call. Returns the lines
/// and, per flattened hunk, its row.
/// Where each hunk's header falls (counting each file's header line) and how many rows all
/// files take, without drawing anything. `None` with extra context (rows differ then).
fn layout(s: &State, files: &[FileDiff], width: usize) -> Option<(Vec<usize>, usize)> {
    if s.diff.expanded {
        return None;
    }
    let mut rows = Vec::new();
    let mut row = 0;
    for d in files {
        row += 1;
        for h in &d.hunks {
            rows.push(row);
            row += 1 + diff_view::body_rows(h, s.diff.side_by_side, width);
        }
    }
    Some((rows, row))
}

/// Every file's header and hunks; `declined`/`cursor` for a queued call. Only the rows in
/// `window` (first, count) are drawn; the rest are empty placeholders. Returns the lines
/// and, per flattened hunk, its row.
fn files(
    s: &State,
    files: &[FileDiff],
    queued: Option<(&[Vec<bool>], usize)>,
    width: usize,
    window: Option<(usize, usize)>,
) -> (Vec<Line<'static>>, Vec<usize>) {
    let c = &s.theme.colors;
    let mut lines = Vec::new();
    let mut rows = Vec::new();
    let mut flat = 0usize;
    for (fi, d) in files.iter().enumerate() {
        let added: usize = d.hunks.iter().map(|h| h.added()).sum();
        let removed: usize = d.hunks.iter().map(|h| h.removed()).sum();
        let what = if d.new_file {
            " (new file)"
        } else if d.deleted {
            " (deleted)"
        } else {
            ""
        };
        lines.push(Line::from(vec![
            Span::styled(
                format!("{}{what}", d.path),
                s.theme.style(c.heading).add_modifier(Modifier::BOLD),
            ),
            Span::styled(format!("  +{added} -{removed}"), s.theme.style(c.dim)),
        ]));
        let (declined, cursor): (&[bool], Option<usize>) = match queued {
            Some((declined, cursor)) => (
                declined.get(fi).map_or(&[][..], Vec::as_slice),
                cursor.checked_sub(flat).filter(|c| *c < d.hunks.len()),
            ),
            None => (&[], None),
        };
        let body_start = lines.len();
        let window = window.map(|(first, n)| {
            let a = first.saturating_sub(body_start);
            let b = (first + n).saturating_sub(body_start);
            (a, b - a)
        });
        let look = Look {
            side_by_side: s.diff.side_by_side,
            cursor,
            declined,
            expand: if s.diff.expanded { 15 } else { 0 },
            window,
        };
        let drawn = diff_view::draw(&d.path, d.old.as_deref(), &d.hunks, look, width, &s.theme);
        let base = lines.len();
        rows.extend(drawn.hunk_rows.iter().map(|r| base + r));
        lines.extend(drawn.lines);
        flat += d.hunks.len();
    }
    (lines, rows)
}

/// `2 files: a.rs +3 -1 · b.rs (new) +10 -0` for a change that touches several files.
fn file_list(s: &State, files: &[FileDiff], width: usize) -> Line<'static> {
    let parts: Vec<String> = files
        .iter()
        .map(|d| {
            let (a, r): (usize, usize) = (
                d.hunks.iter().map(|h| h.added()).sum(),
                d.hunks.iter().map(|h| h.removed()).sum(),
            );
            let what = if d.new_file {
                " (new)"
            } else if d.deleted {
                " (deleted)"
            } else {
                ""
            };
            format!("{}{what} +{a} -{r}", d.path)
        })
        .collect();
    Line::from(Span::styled(
        diff_view::fit(
            &format!("{} files: {}", files.len(), parts.join(" · ")),
            width,
        ),
        s.theme.style(s.theme.colors.heading),
    ))
}

fn queued(
    s: &State,
    q: &Queued,
    width: usize,
    height: usize,
) -> (String, Vec<Line<'static>>, usize) {
    let c = &s.theme.colors;
    let total = hunk_ids(q).len();
    let cursor = s.diff.cursor.min(total.saturating_sub(1));
    let above = if q.files.len() > 1 { 2 } else { 1 };
    // the rows to draw: from the cursor's hunk when it would be below the fold
    let window = layout(s, &q.files, width).map(|(rows, total_rows)| {
        let row = rows.get(cursor).map_or(0, |r| r + above);
        let top = scrolled(
            cursor_top(row, height) + s.diff.scroll,
            total_rows + above,
            height,
        );
        (top.saturating_sub(above), height)
    });
    let (mut lines, rows) = files(s, &q.files, Some((&q.declined, cursor)), width, window);
    let taken = total - q.declined.iter().flatten().filter(|d| **d).count();
    let hint = s.keymap.expand(
        "{toggle_hunk} take/leave · {next_hunk}/{prev_hunk} hunk · {approve} apply taken · {reject} reject · {side_by_side} side by side · {zoom} zoom",
    );
    let hint = hint.as_str();
    // lines cut here: the hint line says so first
    let code_w = q
        .files
        .iter()
        .map(|d| diff_view::code_width(&d.hunks, s.diff.side_by_side, width))
        .min()
        .unwrap_or(width);
    let hint = if q.unseen.reasons(code_w).is_empty() {
        Span::styled(diff_view::fit(hint, width), s.theme.style(c.dim))
    } else {
        Span::styled(
            diff_view::fit(
                &format!(
                    "⚠ lines cut: {} shows all · {hint}",
                    s.keymap.keys(crate::app::keymap::Action::ViewAll)
                ),
                width,
            ),
            super::panes::warning_style(s, q.unseen.serious(code_w)),
        )
    };
    lines.insert(0, Line::from(hint));
    if q.files.len() > 1 {
        lines.insert(1, file_list(s, &q.files, width));
    }
    // keep the cursor's hunk in view
    let row = rows.get(cursor).map_or(0, |r| r + above);
    let top = scrolled(cursor_top(row, height) + s.diff.scroll, lines.len(), height);
    let title = format!(
        " diff · hunk {}/{total} · {taken} taken · {} ",
        cursor + 1,
        q.request.summary
    );
    (title, lines, top)
}

fn live_lines(
    s: &State,
    live: &LiveCall,
    width: usize,
    height: usize,
) -> (String, Vec<Line<'static>>, usize) {
    let c = &s.theme.colors;
    let path = live.args.get("path").unwrap_or("");
    let mut title = format!(" diff · writing: {} {path} ", live.tool);
    let lines = match &live.view {
        LiveView::Waiting(why) => vec![Line::from(Span::styled(why.clone(), s.theme.style(c.dim)))],
        LiveView::Problem { message, .. } => {
            wrap_plain(message, width, s.theme.style(c.warning), "")
        }
        LiveView::Summary {
            path,
            new_file,
            bytes,
            lines,
            complete,
        } => {
            if *complete {
                title = format!(" diff · written: {} {path} ", live.tool);
            }
            let size = if *bytes >= 1024 * 1024 {
                format!("{:.1} MB", *bytes as f64 / (1024.0 * 1024.0))
            } else {
                format!("{} KB", bytes / 1024)
            };
            let what = if *new_file {
                "new file"
            } else {
                "changed file"
            };
            let text = format!(
                "{what} {path}: {size}, {lines} lines {}. Too large to diff while it streams; \
                 the whole diff shows in the approval queue when it is done.",
                if *complete { "in all" } else { "so far" }
            );
            wrap_plain(&text, width, s.theme.style(c.dim), "")
        }
        LiveView::Draft { what, text } => {
            let mut lines = vec![Line::from(Span::styled(what.clone(), s.theme.style(c.dim)))];
            let add = s.theme.with_bg(s.theme.style(c.fg), c.diff_add_bg);
            lines.extend(
                text.lines().map(|l| {
                    Line::from(Span::styled(diff_view::fit(&format!("+ {l}"), width), add))
                }),
            );
            lines
        }
        LiveView::Patch { text, .. } => text
            .lines()
            .map(|l| {
                let style = match l.chars().next() {
                    Some('+') if !l.starts_with("+++") => {
                        s.theme.with_bg(s.theme.style(c.fg), c.diff_add_bg)
                    }
                    Some('-') if !l.starts_with("---") => {
                        s.theme.with_bg(s.theme.style(c.fg), c.diff_del_bg)
                    }
                    Some('@') => s.theme.style(c.accent),
                    _ => s.theme.style(c.dim),
                };
                Line::from(Span::styled(diff_view::fit(l, width), style))
            })
            .collect(),
        LiveView::Hunks {
            path,
            new_file,
            hunks,
            complete,
        } => {
            if *complete {
                title = format!(" diff · written: {} {path} ", live.tool);
            }
            // only the end is shown: draw (and highlight) just that much of the change
            let d = FileDiff {
                path: path.clone(),
                old: live
                    .base
                    .as_ref()
                    .and_then(|b| b.as_ref().ok().cloned().flatten())
                    .map(Into::into),
                new_file: *new_file,
                deleted: false,
                hunks: diff_view::last_lines(hunks, height * 2 + 8),
            };
            // follow the end: draw only the last screenful
            let one = std::slice::from_ref(&d);
            let window =
                layout(s, one, width).map(|(_, total)| (total.saturating_sub(height), height));
            files(s, one, None, width, window).0
        }
    };
    // follow the end of what is being written
    let top = lines.len().saturating_sub(height);
    (title, lines, top)
}

/// The first row shown so that the cursor's hunk header (at `row`) is in view.
fn cursor_top(row: usize, height: usize) -> usize {
    if row + 3 > height {
        row.saturating_sub(1)
    } else {
        0
    }
}

/// `top` kept so the last screenful is full.
fn scrolled(top: usize, total: usize, height: usize) -> usize {
    top.min(total.saturating_sub(height))
}
