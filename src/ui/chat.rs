//! The chat pane: the transcript laid out entry by entry (each entry's lines cached per
//! width and version), drawn from the bottom up while following the stream, or from an
//! anchored line when the user has scrolled up. Only visible entries are laid out.

use std::rc::Rc;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use unicode_width::UnicodeWidthChar;

use super::markdown::render_markdown;
use crate::app::state::*;
use crate::domain::text::neutralize_controls;

/// The lines of an entry at `width`, from the cache when it is current.
pub fn entry_lines(entry: &Entry, width: u16, s: &State) -> Rc<Vec<Line<'static>>> {
    let expanded = s.view.reasoning_expanded;
    if let Some(c) = entry.cache.borrow().as_ref()
        && c.width == width
        && c.version == entry.version
        && c.reasoning_expanded == expanded
        && c.details == s.view.details_expanded
    {
        return Rc::clone(&c.lines);
    }
    let lines = Rc::new(lay_out(&entry.kind, width.max(1), s));
    *entry.cache.borrow_mut() = Some(LaidOut {
        width,
        version: entry.version,
        reasoning_expanded: expanded,
        details: s.view.details_expanded,
        lines: Rc::clone(&lines),
    });
    lines
}

/// How much of a streaming reply is laid out each frame (its end).
const STREAMING_TAIL_BYTES: usize = 32 * 1024;
/// How much of a finished reply is laid out (its end).
const SHOWN_REPLY_BYTES: usize = 256 * 1024;

/// The end of `text` from a line start, at most about `keep` bytes, and how many bytes
/// come before it.
fn tail_of_text(text: &str, keep: usize) -> (usize, &str) {
    if text.len() <= keep {
        return (0, text);
    }
    let mut cut = text.len() - keep;
    while !text.is_char_boundary(cut) {
        cut += 1;
    }
    if let Some(nl) = text[cut..].find('\n') {
        cut += nl + 1;
    }
    (cut, &text[cut..])
}

fn human_size(bytes: usize) -> String {
    if bytes >= 1024 * 1024 {
        format!("{:.1} MB", bytes as f64 / (1024.0 * 1024.0))
    } else {
        format!("{} KB", bytes.div_ceil(1024))
    }
}

pub fn entry_height(s: &State, index: usize, width: u16) -> usize {
    s.chat
        .entries
        .get(index)
        .map(|e| entry_lines(e, width, s).len())
        .unwrap_or(0)
}

fn lay_out(kind: &EntryKind, width: u16, s: &State) -> Vec<Line<'static>> {
    let (theme, expanded) = (&s.theme, s.view.reasoning_expanded);
    let c = &theme.colors;
    let w = width as usize;
    let mut out = Vec::new();
    match kind {
        EntryKind::User { text, images } => {
            out.push(header("you", theme.style(c.user), None));
            out.extend(wrap_plain(text, w, theme.style(c.fg), ""));
            for (i, img) in images.iter().enumerate() {
                let chip = format!("[image {}: {}]", i + 1, img.label);
                out.extend(wrap_plain(&chip, w, theme.style(c.accent), ""));
                if let Some(t) = &img.preview {
                    out.extend(super::image_preview::half_blocks(t, w, theme));
                }
            }
        }
        EntryKind::Assistant(a) => {
            let stats = match (a.ttft_ms, a.tokens_per_s) {
                (Some(t), Some(r)) => Some(format!(" · first token {t:.0} ms · {r:.0} tok/s")),
                (Some(t), None) => Some(format!(" · first token {t:.0} ms")),
                _ => None,
            };
            let name = if a.model.is_empty() {
                "assistant"
            } else {
                super::status::short_model(&a.model)
            };
            // the speed figures only when they fit on the header line
            let stats = stats.filter(|st| name.chars().count() + st.chars().count() < w);
            out.push(header(
                name,
                theme.style(c.assistant),
                stats.map(|s| Span::styled(s, theme.style(c.dim))),
            ));
            let dim = theme.style(c.reasoning).add_modifier(Modifier::ITALIC);
            if !a.reasoning.is_empty() {
                let n = memchr::memchr_iter(b'\n', a.reasoning.trim_end().as_bytes()).count() + 1;
                if expanded {
                    out.push(Line::from(Span::styled(
                        "▾ thinking (Ctrl+T hides)",
                        theme.style(c.dim),
                    )));
                    let (skipped, shown) = tail_of_text(a.reasoning.trim_end(), SHOWN_REPLY_BYTES);
                    if skipped > 0 {
                        out.push(Line::from(Span::styled(
                            format!("│ … {} earlier not shown here", human_size(skipped)),
                            theme.style(c.dim),
                        )));
                    }
                    out.extend(wrap_plain(shown, w, dim, "│ "));
                } else {
                    let live = if a.status == ReplyStatus::Streaming && a.content.is_empty() {
                        "…"
                    } else {
                        ""
                    };
                    out.push(Line::from(Span::styled(
                        format!(
                            "▸ thinking{live} · {n} line{} (Ctrl+T shows)",
                            if n == 1 { "" } else { "s" }
                        ),
                        theme.style(c.dim),
                    )));
                }
            }
            if !a.content.is_empty() {
                // A huge reply is laid out only from near its end: while it streams (the
                // layout is redone every frame) and once it is done (laid out once per
                // width). The rest stays in the conversation and in /export.
                let keep = if a.status == ReplyStatus::Streaming {
                    STREAMING_TAIL_BYTES
                } else {
                    SHOWN_REPLY_BYTES
                };
                let (skipped, shown) = tail_of_text(&a.content, keep);
                if skipped > 0 {
                    out.push(Line::from(Span::styled(
                        format!(
                            "… {} earlier not shown here (/export writes the whole reply)",
                            human_size(skipped)
                        ),
                        theme.style(c.dim),
                    )));
                }
                out.extend(render_markdown(shown, width, theme));
            } else if a.status == ReplyStatus::Streaming
                && a.reasoning.is_empty()
                && a.tools.is_empty()
            {
                out.push(Line::from(Span::styled(
                    "waiting for the first token…",
                    theme.style(c.dim),
                )));
            }
            for card in &a.tools {
                out.extend(super::cards::tool_card(card, w, s));
            }
            match &a.status {
                ReplyStatus::Interrupted => out.push(Line::from(Span::styled(
                    "⏹ interrupted",
                    theme.style(c.warning),
                ))),
                ReplyStatus::CutShort(why) => out.extend(wrap_plain(
                    &format!("⚠ {why}"),
                    w,
                    theme.style(c.warning),
                    "",
                )),
                ReplyStatus::Streaming | ReplyStatus::Done => {}
            }
        }
        EntryKind::Error {
            title,
            message,
            hint,
        } => {
            let bar = "┃ ";
            let red = theme.style(c.error);
            out.extend(
                wrap_plain(
                    &format!("✗ {title}"),
                    w,
                    red.add_modifier(Modifier::BOLD),
                    bar,
                )
                .into_iter()
                .map(|l| recolor_prefix(l, red)),
            );
            out.extend(
                wrap_plain(message, w, theme.style(c.fg), bar)
                    .into_iter()
                    .map(|l| recolor_prefix(l, red)),
            );
            if !hint.is_empty() {
                out.extend(
                    wrap_plain(&format!("→ {hint}"), w, theme.style(c.dim), bar)
                        .into_iter()
                        .map(|l| recolor_prefix(l, red)),
                );
            }
        }
        EntryKind::Notice(text) => {
            out.extend(wrap_plain(&format!("· {text}"), w, theme.style(c.dim), ""))
        }
    }
    out.push(Line::default());
    out
}

fn header(name: &str, style: Style, extra: Option<Span<'static>>) -> Line<'static> {
    let mut spans = vec![Span::styled(
        format!("▍{}", neutralize_controls(name)),
        style.add_modifier(Modifier::BOLD),
    )];
    spans.extend(extra);
    Line::from(spans)
}

fn recolor_prefix(mut line: Line<'static>, style: Style) -> Line<'static> {
    if let Some(first) = line.spans.first_mut() {
        first.style = style;
    }
    line
}

/// Word-wraps plain text to `width` columns with a prefix on every line; long words are
/// cut; control characters are neutralised.
pub fn wrap_plain(text: &str, width: usize, style: Style, prefix: &str) -> Vec<Line<'static>> {
    let text = neutralize_controls(text);
    let prefix_w: usize = prefix.chars().map(|c| c.width().unwrap_or(0)).sum();
    let avail = width.saturating_sub(prefix_w).max(1);
    let mut out = Vec::new();
    for raw in text.split('\n') {
        let raw = raw.replace('\t', "    ");
        let mut line = String::new();
        let mut line_w = 0;
        let push_line = |line: &mut String, out: &mut Vec<Line<'static>>| {
            let mut spans = Vec::new();
            if !prefix.is_empty() {
                spans.push(Span::styled(prefix.to_owned(), style));
            }
            spans.push(Span::styled(std::mem::take(line), style));
            out.push(Line::from(spans));
        };
        for word in raw.split_inclusive(' ') {
            let ww: usize = word
                .trim_end_matches(' ')
                .chars()
                .map(|c| c.width().unwrap_or(0))
                .sum();
            if line_w > 0 && line_w + ww > avail {
                line.truncate(line.trim_end_matches(' ').len());
                push_line(&mut line, &mut out);
                line_w = 0;
            }
            for ch in word.chars() {
                let cw = ch.width().unwrap_or(0);
                if ch == ' ' && line_w + cw > avail {
                    continue; // a space at the end of a full line
                }
                if line_w > 0 && line_w + cw > avail {
                    push_line(&mut line, &mut out);
                    line_w = 0;
                }
                line.push(ch);
                line_w += cw;
            }
        }
        push_line(&mut line, &mut out);
    }
    out
}

pub fn render(f: &mut Frame, area: Rect, s: &State) {
    let c = &s.theme.colors;
    let focused = s.view.focus == Focus::Chat;
    let mut block = super::panes::pane_block(" chat ".to_owned(), focused, s);
    if s.view.unseen_below {
        block = block.title_bottom(
            Line::from(Span::styled(
                " ↓ new output below · End ",
                s.theme.style(c.accent),
            ))
            .right_aligned(),
        );
    } else if matches!(s.view.scroll, Scroll::Anchored { .. }) {
        block = block.title_bottom(
            Line::from(Span::styled(
                " scrolled · End follows ",
                s.theme.style(c.dim),
            ))
            .right_aligned(),
        );
    }
    let inner = block.inner(area);
    f.render_widget(block, area);
    if s.chat.entries.is_empty() {
        let hello = vec![
            Line::from(Span::styled(
                "cove",
                s.theme.style(c.accent).add_modifier(Modifier::BOLD),
            )),
            Line::from(Span::styled(
                format!("workspace {}", s.workspace.display()),
                s.theme.style(c.dim),
            )),
            Line::default(),
            Line::from(Span::styled(
                "Type a message and press Enter. F1 lists every key.",
                s.theme.style(c.fg),
            )),
        ];
        f.render_widget(Paragraph::new(hello), inner);
        return;
    }
    let lines = visible_lines(s, inner.width, inner.height as usize);
    f.render_widget(Paragraph::new(lines).style(s.theme.style(c.fg)), inner);
}

/// The lines that fill a viewport of `height` rows.
pub fn visible_lines(s: &State, width: u16, height: usize) -> Vec<Line<'static>> {
    let lines_of = |i: usize| entry_lines(&s.chat.entries[i], width, s);
    match crate::app::scroll::anchor_index(s) {
        None => {
            let mut chunks = Vec::new();
            let mut have = 0;
            for i in (0..s.chat.entries.len()).rev() {
                let l = lines_of(i);
                have += l.len();
                chunks.push(l);
                if have >= height {
                    break;
                }
            }
            let mut out: Vec<Line<'static>> = chunks
                .iter()
                .rev()
                .flat_map(|c| c.iter().cloned())
                .collect();
            if out.len() > height {
                out.drain(..out.len() - height);
            }
            out
        }
        Some((entry, line)) => {
            let mut out = Vec::with_capacity(height);
            let mut skip = line;
            for i in entry.min(s.chat.entries.len())..s.chat.entries.len() {
                let l = lines_of(i);
                out.extend(l.iter().skip(skip).take(height - out.len()).cloned());
                skip = 0;
                if out.len() >= height {
                    break;
                }
            }
            out
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(lines: &[Line]) -> Vec<String> {
        lines
            .iter()
            .map(|l| l.spans.iter().map(|s| s.content.as_ref()).collect())
            .collect()
    }

    #[test]
    fn wrap_plain_respects_width_and_prefix() {
        let lines = wrap_plain(
            "the quick brown fox jumps over the lazy dog",
            12,
            Style::default(),
            "│ ",
        );
        for l in texts(&lines) {
            assert!(
                unicode_width::UnicodeWidthStr::width(l.as_str()) <= 12,
                "{l:?}"
            );
            assert!(l.starts_with("│ "));
        }
        let lines = texts(&wrap_plain(
            "日本語のテキスト supercalifragilistic",
            6,
            Style::default(),
            "",
        ));
        assert!(
            lines
                .iter()
                .all(|l| unicode_width::UnicodeWidthStr::width(l.as_str()) <= 6),
            "{lines:?}"
        );
        assert_eq!(
            lines.concat().replace(' ', ""),
            "日本語のテキストsupercalifragilistic"
        );
        assert_eq!(
            texts(&wrap_plain("a\n\nb", 10, Style::default(), "")),
            ["a", "", "b"]
        );
        assert_eq!(
            texts(&wrap_plain("esc\x1b[2J", 20, Style::default(), "")),
            ["esc^[[2J"]
        );
    }
}
