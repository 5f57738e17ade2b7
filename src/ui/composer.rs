//! The composer: a multi-line `ratatui-textarea` with a border that tells what Enter does.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::app::state::{Focus, State};

pub fn render(f: &mut Frame, area: Rect, s: &State) {
    let c = &s.theme.colors;
    let focused = s.focus == Focus::Input;
    let title = if s.is_running() {
        " reply streaming · Esc interrupts "
    } else {
        " message "
    };
    let block = super::panes::pane_block(title.to_owned(), focused, s);
    let mut inner = block.inner(area);
    f.render_widget(block, area);
    if !s.attachments.is_empty() && inner.height > 1 {
        // the attachments as chips on the first line
        let mut spans = Vec::new();
        for (i, a) in s.attachments.iter().enumerate() {
            spans.push(Span::styled(
                format!("[image {}: {}]", i + 1, a.label),
                s.theme.style(c.accent).add_modifier(Modifier::BOLD),
            ));
            spans.push(Span::raw(" "));
        }
        spans.push(Span::styled(
            "Backspace on empty input removes",
            s.theme.style(c.dim),
        ));
        f.render_widget(
            Paragraph::new(Line::from(spans)),
            Rect { height: 1, ..inner },
        );
        inner = Rect {
            y: inner.y + 1,
            height: inner.height - 1,
            ..inner
        };
    }
    // The textarea's look is set here, on a clone, so `update` owns only its content.
    let mut ta = s.composer.clone();
    ta.set_style(s.theme.style(c.fg));
    ta.set_cursor_line_style(Style::default());
    ta.set_placeholder_style(s.theme.style(c.dim));
    ta.set_cursor_style(if focused {
        Style::default().add_modifier(Modifier::REVERSED)
    } else {
        Style::default()
    });
    f.render_widget(&ta, inner);
}
