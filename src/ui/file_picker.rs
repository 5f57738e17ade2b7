//! The `@` file picker popup: the best matches, matched characters highlighted, the
//! selected row marked, a count of matches in the border. The caller places it (just above
//! the composer).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};
use unicode_width::UnicodeWidthChar;

use crate::app::file_picker::FilePicker;
use crate::config::theme::Theme;

/// Draws the picker over `area`. `indexing`: the file list is still being built.
pub fn render(
    frame: &mut Frame,
    area: Rect,
    picker: &FilePicker,
    paths: &[String],
    theme: &Theme,
    indexing: bool,
) {
    let c = &theme.colors;
    let count = if indexing {
        " indexing… ".to_owned()
    } else {
        format!(" {} of {} ", picker.total_matches(), paths.len())
    };
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.style(c.border_focused))
        .title(Span::styled(
            " @ files ",
            theme.style(c.accent).add_modifier(Modifier::BOLD),
        ))
        .title_top(Line::from(Span::styled(count, theme.style(c.dim))).right_aligned());
    let inner = block.inner(area);
    frame.render_widget(Clear, area);
    frame.render_widget(block, area);
    let rows = usize::from(inner.height);
    if rows == 0 || inner.width == 0 {
        return;
    }
    // keep the selected row in view: it sits on the last row when it is further down
    let offset = (picker.selected() + 1).saturating_sub(rows);
    let shown = picker.visible(paths, offset + rows);
    if shown.is_empty() {
        let note = if indexing && paths.is_empty() {
            "indexing…"
        } else {
            "no matching files"
        };
        frame.render_widget(
            Paragraph::new(Line::from(Span::styled(note, theme.style(c.dim)))),
            inner,
        );
        return;
    }
    let lines: Vec<Line> = shown
        .iter()
        .enumerate()
        .skip(offset)
        .map(|(i, (path, matched))| {
            row(
                path,
                matched,
                usize::from(inner.width),
                i == picker.selected(),
                theme,
            )
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), inner);
}

/// One path, cut at the left with `…` when it is wider than `width` (the file name
/// matters most), matched characters bold in the accent colour.
fn row(path: &str, matched: &[u32], width: usize, selected: bool, theme: &Theme) -> Line<'static> {
    let c = &theme.colors;
    let mut base = theme.style(c.fg);
    let mut hit = theme.style(c.accent).add_modifier(Modifier::BOLD);
    if selected {
        base = selected_style(base, theme);
        hit = selected_style(hit, theme);
    }
    // control and bidi characters would move the cursor or reorder the line
    let chars: Vec<(char, usize)> = path
        .chars()
        .map(|ch| {
            let ch = if ch.is_control()
                || matches!(ch, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
            {
                '?'
            } else {
                ch
            };
            (ch, ch.width().unwrap_or(0))
        })
        .collect();
    let total: usize = chars.iter().map(|(_, w)| w).sum();
    let mut spans = Vec::new();
    let mut used = 0;
    let mut start = 0;
    if total > width {
        // drop characters from the left until the rest and the `…` fit
        let mut dropped = 0;
        while start < chars.len() && total - dropped + 1 > width {
            dropped += chars[start].1;
            start += 1;
        }
        spans.push(Span::styled("…", base));
        used = 1;
    }
    let mut run = String::new();
    let mut run_hit = false;
    for (i, &(ch, w)) in chars.iter().enumerate().skip(start) {
        if used + w > width {
            break;
        }
        let is_hit = u32::try_from(i).is_ok_and(|i| matched.binary_search(&i).is_ok());
        if is_hit != run_hit && !run.is_empty() {
            spans.push(Span::styled(
                std::mem::take(&mut run),
                if run_hit { hit } else { base },
            ));
        }
        run_hit = is_hit;
        run.push(ch);
        used += w;
    }
    if !run.is_empty() {
        spans.push(Span::styled(run, if run_hit { hit } else { base }));
    }
    if selected && used < width {
        spans.push(Span::styled(" ".repeat(width - used), base));
    }
    Line::from(spans)
}

fn selected_style(style: Style, theme: &Theme) -> Style {
    if theme.no_color {
        style.add_modifier(Modifier::REVERSED)
    } else {
        theme.with_bg(style, theme.colors.selection)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;

    fn draw(
        picker: &FilePicker,
        paths: &[String],
        theme: &Theme,
        indexing: bool,
        w: u16,
        h: u16,
    ) -> (Vec<String>, ratatui::buffer::Buffer) {
        let mut t = Terminal::new(TestBackend::new(w, h)).expect("terminal");
        t.draw(|f| render(f, f.area(), picker, paths, theme, indexing))
            .expect("draw");
        let buf = t.backend().buffer().clone();
        let lines = (0..h)
            .map(|y| {
                (0..w)
                    .map(|x| buf[(x, y)].symbol().to_owned())
                    .collect::<String>()
                    .trim_end()
                    .to_owned()
            })
            .collect();
        (lines, buf)
    }

    fn list() -> Vec<String> {
        let mut v: Vec<String> = [
            "Cargo.toml",
            "src/main.rs",
            "src/app/mod.rs",
            "src/a/very/deep/directory/with/a/long/name/main_file.rs",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        v.sort();
        v
    }

    #[test]
    fn rows_count_and_highlights() {
        let theme = Theme::builtin("dark").expect("dark");
        let paths = list();
        let mut p = FilePicker::new();
        p.set_query("main", &paths);
        let (lines, buf) = draw(&p, &paths, &theme, false, 40, 5);
        assert!(lines[0].contains(" @ files "), "{lines:?}");
        assert!(lines[0].contains(" 2 of 4 "), "{lines:?}");
        assert_eq!(lines[1], "│src/main.rs                           │");
        assert!(lines[2].starts_with("│…"), "{lines:?}");
        assert!(lines[2].ends_with("name/main_file.rs│"), "{lines:?}");
        // "main" bold, "src/" not; the selected row has the selection background
        assert!(buf[(5, 1)].modifier.contains(Modifier::BOLD));
        assert!(!buf[(1, 1)].modifier.contains(Modifier::BOLD));
        assert_eq!(buf[(30, 1)].bg, theme.colors.selection);
        assert_ne!(buf[(30, 2)].bg, theme.colors.selection);
    }

    #[test]
    fn selection_scrolls_into_view() {
        let theme = Theme::monochrome();
        let paths = list();
        let mut p = FilePicker::new();
        p.set_query("", &paths);
        p.move_selection(3);
        let (lines, buf) = draw(&p, &paths, &theme, false, 30, 4);
        // two rows: the selected (4th) one is the last shown
        assert!(lines[2].contains("main_file.rs"), "{lines:?}");
        assert!(buf[(5, 2)].modifier.contains(Modifier::REVERSED));
    }

    #[test]
    fn empty_states() {
        let theme = Theme::builtin("dark").expect("dark");
        let p = FilePicker::new();
        let (lines, _) = draw(&p, &[], &theme, true, 30, 4);
        assert!(lines[0].contains("indexing…"), "{lines:?}");
        assert!(lines[1].contains("indexing…"), "{lines:?}");
        let paths = list();
        let mut p = FilePicker::new();
        p.set_query("zzz", &paths);
        let (lines, _) = draw(&p, &paths, &theme, false, 30, 4);
        assert!(lines[1].contains("no matching files"), "{lines:?}");
        assert!(lines[0].contains(" 0 of 4 "), "{lines:?}");
        // too small to draw rows: no panic
        draw(&p, &paths, &theme, false, 2, 2);
    }

    #[test]
    fn control_characters_are_neutralised() {
        let theme = Theme::builtin("dark").expect("dark");
        let paths = vec!["a\u{1b}[2Jb.rs".to_owned()];
        let mut p = FilePicker::new();
        p.set_query("b.rs", &paths);
        let (lines, _) = draw(&p, &paths, &theme, false, 30, 3);
        assert_eq!(lines[1], "│a?[2Jb.rs                   │");
    }
}
