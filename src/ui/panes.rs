//! The diff pane and the approval queue (their helpful empty states until the tools
//! arrive), and the tab bar of the narrow layout.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};

use crate::app::state::{Focus, State};

fn pane_block<'a>(title: &'a str, focused: bool, s: &State) -> Block<'a> {
    let c = &s.theme.colors;
    Block::default()
        .borders(Borders::ALL)
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

fn empty_state(f: &mut Frame, area: Rect, s: &State, title: &str, focused: bool, text: &[&str]) {
    let block = pane_block(title, focused, s);
    let lines: Vec<Line> = text
        .iter()
        .map(|t| {
            Line::from(Span::styled(
                t.to_string(),
                s.theme.style(s.theme.colors.dim),
            ))
        })
        .collect();
    f.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(block),
        area,
    );
}

pub fn render_diff(f: &mut Frame, area: Rect, s: &State) {
    empty_state(
        f,
        area,
        s,
        " diff ",
        s.focus == Focus::Diff,
        &[
            "No changes yet.",
            "",
            "When the model proposes a file edit, the change shows here as a live, highlighted diff while it is written.",
        ],
    );
}

pub fn render_approvals(f: &mut Frame, area: Rect, s: &State) {
    let title = format!(" approvals · {} ", s.pending_approvals);
    empty_state(
        f,
        area,
        s,
        &title,
        s.focus == Focus::Approvals,
        &[
            "Nothing waiting for you.",
            "",
            "Edits, shell commands and commits the model asks for queue here: y approve · n reject · a allow for the session.",
        ],
    );
}

pub fn render_tabs(f: &mut Frame, area: Rect, s: &State) {
    let c = &s.theme.colors;
    let tab = |name: &str, which: Focus| {
        let active = s.main_tab == which || (which == Focus::Chat && s.main_tab == Focus::Input);
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
    let approvals = format!("approvals {}", s.pending_approvals);
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
    let line = Line::from(spans);
    f.render_widget(Paragraph::new(line), area);
}
