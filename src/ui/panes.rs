//! The approval queue and the tab bar of the narrow layout (the diff pane is `diff_pane`).

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders, Paragraph, Wrap};

use super::chat::wrap_plain;
use crate::app::state::{Focus, InputMode, Queued, State};

/// A bordered pane whose border and title show whether it has focus: a heavy border
/// (visible in every theme, `NO_COLOR` included) and the focus colours.
pub(super) fn pane_block<'a>(title: String, focused: bool, s: &State) -> Block<'a> {
    let c = &s.theme.colors;
    Block::default()
        .borders(Borders::ALL)
        .border_type(if focused {
            BorderType::Thick
        } else {
            BorderType::Plain
        })
        .border_style(
            s.theme
                .style(if focused { c.border_focused } else { c.border }),
        )
        .title(Span::styled(
            title,
            if focused {
                s.theme.style(c.accent).add_modifier(Modifier::BOLD)
            } else {
                s.theme.style(c.dim)
            },
        ))
}

fn dim_lines(s: &State, text: &[&str]) -> Vec<Line<'static>> {
    text.iter()
        .map(|t| {
            Line::from(Span::styled(
                t.to_string(),
                s.theme.style(s.theme.colors.dim),
            ))
        })
        .collect()
}

pub fn render_approvals(f: &mut Frame, area: Rect, s: &State) {
    let c = &s.theme.colors;
    let focused = s.view.focus == Focus::Approvals;
    let block = pane_block(format!(" approvals · {} ", s.queue.items.len()), focused, s);
    if s.queue.items.is_empty() {
        let how = s.keymap.expand(
            "Edits, shell commands and commits the model asks for queue here: {approve} approve · {reject} reject · {allow_session} allow for the session.",
        );
        let text = dim_lines(s, &["Nothing waiting for you.", "", &how]);
        f.render_widget(
            Paragraph::new(text).wrap(Wrap { trim: false }).block(block),
            area,
        );
        return;
    }
    let inner = block.inner(area);
    f.render_widget(block, area);
    let input_h = if s.queue.input.is_some() {
        5.min(inner.height / 2).max(3)
    } else {
        0
    };
    let [list_area, input_area] =
        Layout::vertical([Constraint::Min(0), Constraint::Length(input_h)]).areas(inner);
    let width = list_area.width as usize;
    let mut lines = Vec::new();
    let mut selected_rows = 0..0;
    for (i, q) in s.queue.items.iter().enumerate() {
        let first_row = lines.len();
        let selected = i == s.queue.selected.min(s.queue.items.len() - 1);
        let marker = if selected { "▶ " } else { "  " };
        let style = if selected {
            s.theme.style(c.fg).add_modifier(Modifier::BOLD)
        } else {
            s.theme.style(c.fg)
        };
        lines.extend(wrap_plain(
            &format!("{}{} · {}", marker, q.request.tool, q.request.summary),
            width,
            style,
            "",
        ));
        let (hidden, serious) = unseen(q, f.area(), s);
        if !hidden.is_empty() {
            let text = format!(
                "⚠ not all of it is on screen: {} — press {} to see everything",
                hidden.join("; "),
                s.keymap.keys(crate::app::keymap::Action::ViewAll)
            );
            // indented under the entry; the indent itself stays plain
            lines.extend(
                wrap_plain(&text, width, warning_style(s, serious), "  ")
                    .into_iter()
                    .map(|mut l| {
                        if let Some(indent) = l.spans.first_mut() {
                            indent.style = Style::default();
                        }
                        l
                    }),
            );
        }
        if let Some(d) = &q.request.danger {
            lines.extend(wrap_plain(
                &format!("  ⚠ dangerous: {d}"),
                width,
                s.theme.style(c.error).add_modifier(Modifier::BOLD),
                "",
            ));
        }
        if selected {
            selected_rows = first_row..lines.len();
        }
    }
    lines.push(Line::default());
    lines.extend(wrap_plain(
        &s.keymap.expand(
            "{approve} approve · {reject} reject · {allow_session} allow for session · {edit} edit · {view_all} view all · {approve_all}/{reject_all} all · j/k move",
        ),
        width,
        s.theme.style(c.dim),
        "",
    ));
    // the selected call stays in view (its start, when it is taller than the pane)
    let height = list_area.height as usize;
    let top = if selected_rows.end <= height {
        0
    } else {
        selected_rows.start.min(selected_rows.end - height)
    };
    let visible: Vec<Line<'static>> = lines.into_iter().skip(top).collect();
    f.render_widget(Paragraph::new(visible), list_area);
    if let Some(input) = &s.queue.input {
        let title = match input.mode {
            InputMode::Reason => " reason (Enter rejects · Esc cancels) ",
            InputMode::Edit => " edit (Enter approves · Esc cancels) ",
            InputMode::Prefix => " allow commands starting with (Enter approves · Esc cancels) ",
        };
        let b = Block::default()
            .borders(Borders::ALL)
            .border_style(s.theme.style(c.border_focused))
            .title(Span::styled(title, s.theme.style(c.accent)));
        let inner = b.inner(input_area);
        f.render_widget(b, input_area);
        let mut ta = input.text.clone();
        ta.set_style(s.theme.style(c.fg));
        ta.set_cursor_line_style(Style::default());
        ta.set_cursor_style(Style::default().add_modifier(Modifier::REVERSED));
        f.render_widget(&ta, inner);
    }
}

/// What `q`'s queue entry, card and diff pane leave off a `screen`, in short phrases, and
/// whether it looks hidden on purpose.
pub(super) fn unseen(q: &Queued, screen: Rect, s: &State) -> (Vec<String>, bool) {
    if q.unseen.is_empty() {
        return (Vec::new(), false);
    }
    let pane = super::layout::diff_inner_width(screen, s);
    let code = q
        .files
        .iter()
        .map(|d| super::diff_view::code_width(&d.hunks, s.diff.side_by_side, pane))
        .min()
        .unwrap_or(pane);
    (q.unseen.reasons(code), q.unseen.serious(code))
}

/// The warning that something is not on screen: bold in the error colour (the warning
/// colour for mere long lines), reversed under `NO_COLOR` so it still stands out.
pub(super) fn warning_style(s: &State, serious: bool) -> Style {
    let c = &s.theme.colors;
    let style = s
        .theme
        .style(if serious { c.error } else { c.warning })
        .add_modifier(Modifier::BOLD);
    if s.theme.no_color {
        style.add_modifier(Modifier::REVERSED)
    } else {
        style
    }
}

pub fn render_tabs(f: &mut Frame, area: Rect, s: &State) {
    let c = &s.theme.colors;
    let tab = |name: &str, which: Focus| {
        let active =
            s.view.main_tab == which || (which == Focus::Chat && s.view.main_tab == Focus::Input);
        if active {
            Span::styled(
                format!(" {name} "),
                s.theme
                    .style(c.accent)
                    .add_modifier(Modifier::BOLD | Modifier::REVERSED),
            )
        } else {
            Span::styled(format!(" {name} "), s.theme.style(c.dim))
        }
    };
    let approvals = format!("approvals {}", s.queue.items.len());
    let mut spans = vec![
        tab("chat", Focus::Chat),
        Span::raw("│"),
        tab("diff", Focus::Diff),
        Span::raw("│"),
        tab(&approvals, Focus::Approvals),
    ];
    let used: usize = spans.iter().map(|s| s.content.chars().count()).sum();
    if used + 14 <= area.width as usize {
        spans.push(Span::styled("  Tab switches", s.theme.style(c.dim)));
    }
    f.render_widget(Paragraph::new(Line::from(spans)), area);
}
