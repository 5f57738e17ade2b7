//! The help overlay: every key.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

use super::chat::wrap_plain;
use crate::app::state::State;

pub const KEYS: &[(&str, &str)] = &[
    ("Enter", "send the message"),
    ("Shift+Enter · Alt+Enter · Ctrl+J", "new line"),
    (
        "Up / Down",
        "previous / next message from history (at the first / last line)",
    ),
    ("Esc", "interrupt the running reply"),
    (
        "Ctrl+C",
        "interrupt; on an idle session clear the input, twice within 2 s quit",
    ),
    (
        "Tab / Shift+Tab",
        "cycle focus: chat, diff, approvals, input",
    ),
    ("PgUp / PgDn", "scroll the chat by a page"),
    (
        "Home / End",
        "top / bottom of the chat (chat focused, or with Ctrl)",
    ),
    ("Up / Down · j / k", "scroll by a line (chat focused)"),
    ("mouse wheel", "scroll the chat"),
    (
        "F2",
        "mouse capture on/off (off: select text with the mouse)",
    ),
    ("Ctrl+Y", "copy the last reply (OSC 52, works over SSH)"),
    ("Alt+Y", "copy the last code block of the last reply"),
    ("Ctrl+T", "show / hide the model's reasoning"),
    ("q", "quit (when the input is not focused)"),
    (
        "? · F1",
        "this help (? when the input is empty); any key closes it",
    ),
];

pub fn render(f: &mut Frame, screen: Rect, s: &State) {
    let c = &s.theme.colors;
    let key_w = KEYS
        .iter()
        .map(|(k, _)| k.chars().count())
        .max()
        .unwrap_or(0);
    let w = (screen.width.saturating_sub(4))
        .min(96)
        .max(20.min(screen.width));
    let h = (KEYS.len() as u16 + 8)
        .min(screen.height.saturating_sub(2))
        .max(3.min(screen.height));
    let area = Rect::new(
        screen.x + (screen.width - w) / 2,
        screen.y + (screen.height - h) / 2,
        w,
        h,
    );
    let mut lines = vec![
        Line::from(Span::styled(
            "keys",
            s.theme.style(c.heading).add_modifier(Modifier::BOLD),
        )),
        Line::default(),
    ];
    let narrow = (w as usize) < key_w + 40;
    for (k, what) in KEYS {
        if narrow {
            lines.push(Line::from(Span::styled(
                k.to_string(),
                s.theme.style(c.accent).add_modifier(Modifier::BOLD),
            )));
            lines.extend(wrap_plain(
                what,
                (w as usize).saturating_sub(2),
                s.theme.style(c.fg),
                "  ",
            ));
        } else {
            // the description wraps under itself, the key column stays clear
            let text_w = (w as usize).saturating_sub(key_w + 4).max(8);
            for (i, part) in wrap_plain(what, text_w, s.theme.style(c.fg), "")
                .into_iter()
                .enumerate()
            {
                let key_cell = if i == 0 {
                    format!("{k:<key_w$}  ")
                } else {
                    " ".repeat(key_w + 2)
                };
                let mut spans = vec![Span::styled(
                    key_cell,
                    s.theme.style(c.accent).add_modifier(Modifier::BOLD),
                )];
                spans.extend(part.spans);
                lines.push(Line::from(spans));
            }
        }
    }
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(s.theme.style(c.border_focused))
        .title(Span::styled(
            " help · any key closes ",
            s.theme.style(c.accent),
        ));
    f.render_widget(Clear, area);
    let max_scroll = (lines.len() as u16).saturating_sub(h.saturating_sub(2));
    f.render_widget(
        Paragraph::new(lines)
            .block(block)
            .scroll((s.help_scroll.min(max_scroll), 0)),
        area,
    );
}
