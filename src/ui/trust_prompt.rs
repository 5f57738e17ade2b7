//! The one-time question at the start of a session in a workspace whose
//! `.cove/config.toml` is not trusted: what the file would change, and the keys to answer.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

use crate::config::theme::Theme;
use crate::config::trust::Untrusted;

/// Draws the question over the whole frame.
pub fn render(f: &mut Frame, untrusted: &Untrusted, theme: &Theme) {
    let area = f.area();
    let c = &theme.colors;
    let dim = theme.style(c.dim);
    let warn = theme.style(c.warning).add_modifier(Modifier::BOLD);
    let mut lines = vec![
        Line::from(Span::styled(
            format!(
                "{} comes with this workspace and is not trusted.",
                untrusted.path.display()
            ),
            theme.style(c.fg),
        )),
        Line::from(Span::styled(
            "Until you trust it, cove ignores these settings (a cloned repository could use them \
             to send your prompts and API key elsewhere or to run commands without asking):",
            dim,
        )),
        Line::from(""),
    ];
    let width = area.width.saturating_sub(6) as usize;
    for (key, value) in &untrusted.ignored {
        let mut text = format!("  {key} = {value}");
        if text.chars().count() > width && width > 3 {
            text = text.chars().take(width - 3).collect::<String>() + "...";
        }
        lines.push(Line::from(Span::styled(text, warn)));
    }
    lines.push(Line::from(""));
    let key = |k: &'static str| Span::styled(k, theme.style(c.accent).add_modifier(Modifier::BOLD));
    lines.push(Line::from(vec![
        key("t"),
        Span::styled(" trust it and apply these   ", theme.style(c.fg)),
        key("n"),
        Span::styled(
            " keep ignoring them (don't ask again for this version)   ",
            theme.style(c.fg),
        ),
        key("Esc"),
        Span::styled(" ignore them this time", theme.style(c.fg)),
    ]));
    lines.push(Line::from(Span::styled(
        "Later: `cove trust` applies it, `cove trust --revoke` takes it back, `cove config` shows what is ignored.",
        dim,
    )));
    let box_width = area.width.min(100);
    // wrapped height of each line inside the borders
    let inner = usize::from(box_width.saturating_sub(2)).max(1);
    let rows: usize = lines.iter().map(|l| l.width().max(1).div_ceil(inner)).sum();
    let height = (rows as u16).saturating_add(2).min(area.height);
    let box_area = Rect {
        x: area.x + area.width.saturating_sub(box_width) / 2,
        y: area.y + area.height.saturating_sub(height) / 2,
        width: box_width,
        height,
    };
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.style(c.border_focused))
        .title(Span::styled(" Workspace configuration ", warn));
    f.render_widget(Clear, box_area);
    f.render_widget(
        Paragraph::new(lines)
            .block(block)
            .wrap(Wrap { trim: false }),
        box_area,
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::{Terminal, backend::TestBackend};

    #[test]
    fn shows_each_ignored_key_and_the_answers() {
        let u = Untrusted {
            path: "/w/.cove/config.toml".into(),
            sha256: "x".into(),
            ignored: vec![
                ("model.api_base".into(), "\"http://evil.example/v1\"".into()),
                ("tools.shell".into(), "\"always\"".into()),
            ],
            declined: false,
        };
        let theme = crate::config::theme::load_theme("dark", None, true).unwrap();
        for (w, h) in [(120, 40), (80, 24), (40, 20)] {
            let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
            t.draw(|f| render(f, &u, &theme)).unwrap();
            let text: String = t
                .backend()
                .buffer()
                .content()
                .chunks(w as usize)
                .map(|row| row.iter().map(|c| c.symbol()).collect::<String>() + "\n")
                .collect();
            assert!(text.contains("model.api_base"), "{w}x{h}\n{text}");
            if w >= 80 {
                assert!(text.contains("tools.shell = \"always\""), "{text}");
                assert!(text.contains("trust it and apply these"), "{text}");
            }
        }
    }
}
