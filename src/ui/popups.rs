//! Popups over the composer: the `/` command list, the `@` file picker, and the session
//! picker (centred).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

use crate::app::popups::{PICKER_ROWS, command_matches};
use crate::app::state::State;

/// Draws whichever composer popup is open, just above `composer`.
pub fn render(f: &mut Frame, screen: Rect, composer: Rect, s: &State) {
    if let Some(picker) = &s.composer.file_picker {
        let paths: &[String] = s
            .composer
            .file_index
            .as_deref()
            .map_or(&[], |v| v.as_slice());
        let rows = picker.total_matches().clamp(1, PICKER_ROWS) as u16;
        let area = above(screen, composer, rows + 2, 90);
        super::file_picker::render(f, area, picker, paths, &s.theme, s.composer.indexing);
        return;
    }
    let matches = command_matches(s);
    if matches.is_empty() {
        return;
    }
    let c = &s.theme.colors;
    let sel = s.composer.command_selected.min(matches.len() - 1);
    let name_w = matches.iter().map(|(n, _)| n.len()).max().unwrap_or(0);
    let area = above(screen, composer, matches.len() as u16 + 2, 100);
    let text_w = (area.width as usize).saturating_sub(name_w + 5);
    let lines: Vec<Line> = matches
        .iter()
        .enumerate()
        .map(|(i, (name, what))| {
            let what: String = what.chars().take(text_w).collect();
            let mut line = Line::from(vec![
                Span::styled(
                    format!(" {name:<name_w$}  "),
                    s.theme.style(c.accent).add_modifier(Modifier::BOLD),
                ),
                Span::styled(what, s.theme.style(c.dim)),
            ]);
            if i == sel {
                line = line.style(selected(s));
            }
            line
        })
        .collect();
    let title = Span::styled(
        " commands · ↑↓ choose · Tab complete · Enter run · Esc close ",
        s.theme.style(c.dim),
    );
    framed(f, area, title, lines, s);
}

/// A box `height` rows tall (at most `max_w` wide) sitting on top of `composer`.
fn above(screen: Rect, composer: Rect, height: u16, max_w: u16) -> Rect {
    let h = height.min(composer.y.saturating_sub(screen.y)).max(1);
    let w = composer.width.min(max_w);
    Rect::new(composer.x, composer.y.saturating_sub(h), w, h)
}

/// The session picker, centred.
pub fn render_sessions(f: &mut Frame, screen: Rect, s: &State) {
    let Some(p) = s.overlay.sessions() else {
        return;
    };
    let c = &s.theme.colors;
    let w = screen
        .width
        .saturating_sub(4)
        .clamp(20.min(screen.width), 110);
    let mut lines: Vec<Line> = Vec::new();
    match &p.sessions {
        None => lines.push(Line::from(Span::styled(" listing…", s.theme.style(c.dim)))),
        Some(list) if list.is_empty() => lines.push(Line::from(Span::styled(
            " No sessions in this workspace yet.",
            s.theme.style(c.dim),
        ))),
        Some(list) => {
            let inner_h = screen.height.saturating_sub(6) as usize;
            let first = p.selected.saturating_sub(inner_h.saturating_sub(1));
            for (i, x) in list.iter().enumerate().skip(first).take(inner_h.max(1)) {
                let current = if x.id == p.current { "•" } else { " " };
                let meta = format!(
                    "{current} {}  {:>3} turn{} {:>3} file{}  ",
                    x.started,
                    x.turns,
                    if x.turns == 1 { " " } else { "s" },
                    x.files_changed,
                    if x.files_changed == 1 { " " } else { "s" },
                );
                let room = (w as usize).saturating_sub(meta.chars().count() + 2);
                let prompt: String = crate::domain::text::neutralize_controls(&x.first_prompt)
                    .chars()
                    .take(room)
                    .collect();
                let mut line = Line::from(vec![
                    Span::styled(meta, s.theme.style(c.dim)),
                    Span::styled(prompt, s.theme.style(c.fg)),
                ]);
                if i == p.selected {
                    line = line.style(selected(s));
                }
                lines.push(line);
            }
        }
    }
    let h = (lines.len() as u16 + 2).min(screen.height);
    let area = Rect::new(
        screen.x + (screen.width - w) / 2,
        screen.y + (screen.height - h) / 2,
        w,
        h,
    );
    let title = Span::styled(
        " sessions · ↑↓ choose · Enter resume · Esc close ",
        s.theme.style(c.accent),
    );
    framed(f, area, title, lines, s);
}

/// `lines` in a focused frame titled `title`, over whatever was drawn in `area`.
fn framed(f: &mut Frame, area: Rect, title: Span<'_>, lines: Vec<Line<'_>>, s: &State) {
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(s.theme.style(s.theme.colors.border_focused))
        .title(title);
    f.render_widget(Clear, area);
    f.render_widget(Paragraph::new(lines).block(block), area);
}

/// The selected row: the theme's selection colour, reversed under `NO_COLOR`.
fn selected(s: &State) -> ratatui::style::Style {
    let c = &s.theme.colors;
    if s.theme.no_color {
        s.theme.style(c.fg).add_modifier(Modifier::REVERSED)
    } else {
        s.theme.with_bg(s.theme.style(c.fg), c.selection)
    }
}
