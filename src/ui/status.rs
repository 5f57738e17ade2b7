//! The one-line status bar: model and endpoint (reachable or not), a spinner and elapsed
//! time while a turn runs, the last reply's speed, context use, pending approvals.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use unicode_width::UnicodeWidthStr;

use crate::app::state::State;
use crate::domain::text::neutralize_controls;

const SPINNER: [&str; 10] = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

pub fn render(f: &mut Frame, area: Rect, s: &State) {
    let c = &s.theme.colors;
    let base = s.theme.style(c.status_fg).bg(if s.theme.no_color {
        ratatui::style::Color::Reset
    } else {
        c.status_bg
    });
    let (dot, dot_style) = if s.probing {
        ("…", s.theme.style(c.dim))
    } else if s.server.reachable {
        ("●", s.theme.style(c.success))
    } else {
        ("○", s.theme.style(c.error))
    };
    let model = if s.server.model.is_empty() {
        "model?".to_string()
    } else {
        neutralize_controls(short_model(&s.server.model)).into_owned()
    };
    let profile = s
        .profile
        .as_deref()
        .map(|p| format!("{p}: "))
        .unwrap_or_default();
    let endpoint = short_endpoint(&s.server.endpoint);
    let mut left = vec![
        Span::styled(
            format!(" {dot} "),
            dot_style.bg(base.bg.unwrap_or_default()),
        ),
        Span::styled(
            format!("{profile}{model}"),
            base.add_modifier(Modifier::BOLD),
        ),
    ];
    let mut optional_left = vec![Span::styled(format!(" @ {endpoint}"), base)];
    if !s.probing && !s.server.reachable {
        optional_left.push(Span::styled(
            " unreachable",
            s.theme.style(c.error).bg(base.bg.unwrap_or_default()),
        ));
    }
    if let Some(w) = &s.sandbox_warning {
        optional_left.push(Span::styled(
            format!(" {w}"),
            s.theme.style(c.error).bg(base.bg.unwrap_or_default()),
        ));
    }
    // (priority, text): what does not fit goes, lowest priority first
    let mut items: Vec<(u8, String)> = Vec::new();
    if let Some(t) = s.turn() {
        let working = t.working(s.now);
        if s.queue.items.is_empty() {
            let frame = (working.as_millis() / 100) as usize % SPINNER.len();
            items.push((
                9,
                format!("{} {:.1}s", SPINNER[frame], working.as_secs_f64()),
            ));
        } else {
            // the user's time deciding is not counted, and nothing spins meanwhile (the
            // pending count, which says it too, goes last)
            items.push((7, format!("⏸ {:.1}s", working.as_secs_f64())));
        }
    } else if let Some((text, _)) = &s.flash {
        items.push((9, text.clone()));
    }
    if let Some(t) = s.usage.last.ttft_ms {
        items.push((1, format!("ttft {t:.0}ms")));
    }
    if let Some(r) = s.usage.last.tokens_per_s {
        items.push((2, format!("{r:.0} tok/s")));
    }
    match (s.usage.context_used, s.server.context_window) {
        (Some(u), Some(w)) => items.push((
            4,
            format!(
                "ctx {}/{} ({:.0}%)",
                human(u),
                human(w),
                u as f64 * 100.0 / w.max(1) as f64
            ),
        )),
        (Some(u), None) => items.push((4, format!("ctx {}", human(u)))),
        (None, Some(w)) => items.push((4, format!("ctx 0/{}", human(w)))),
        (None, None) => {}
    }
    // waiting approvals are what the user must not miss
    let pending = if s.queue.items.is_empty() { 0 } else { 8 };
    items.push((pending, format!("{} pending", s.queue.items.len())));
    if s.turn().is_some()
        && let Some((text, _)) = &s.flash
    {
        items.insert(1.min(items.len()), (7, text.clone()));
    }
    items.push((5, "F1 help ".into()));

    let width = area.width as usize;
    let left_w = |spans: &[Span]| spans.iter().map(|s| s.content.width()).sum::<usize>();
    let right_text = |items: &[(u8, String)]| {
        items
            .iter()
            .map(|(_, t)| t.as_str())
            .collect::<Vec<_>>()
            .join(" · ")
    };
    while left_w(&left) + left_w(&optional_left) + right_text(&items).width() + 2 > width
        && !optional_left.is_empty()
    {
        // the endpoint goes before "unreachable"
        optional_left.remove(0);
    }
    while left_w(&left) + right_text(&items).width() + 2 > width && items.len() > 1 {
        let lowest = items
            .iter()
            .enumerate()
            .min_by_key(|(i, (p, _))| (*p, usize::MAX - i))
            .map_or(0, |(i, _)| i);
        items.remove(lowest);
    }
    left.extend(optional_left);
    let used = left_w(&left);
    let rt = right_text(&items);
    let gap = width.saturating_sub(used + rt.width());
    let mut spans = left;
    spans.push(Span::styled(" ".repeat(gap), base));
    spans.push(Span::styled(rt, base));
    f.render_widget(Paragraph::new(Line::from(spans)).style(base), area);
}

/// A model's name as shown: llama-server reports the GGUF file's path
/// (`/models/qwen2.5-coder-7b-instruct-q4_k_m.gguf`), which says the file name.
pub(super) fn short_model(name: &str) -> &str {
    let looks_like_path = name.starts_with('/')
        || name.starts_with("~/")
        || name.contains('\\')
        || name.to_ascii_lowercase().ends_with(".gguf");
    if !looks_like_path {
        return name;
    }
    let file = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let stem = file
        .len()
        .checked_sub(5)
        .filter(|&at| file.is_char_boundary(at) && file[at..].eq_ignore_ascii_case(".gguf"))
        .map_or(file, |at| &file[..at]);
    if stem.is_empty() { name } else { stem }
}

fn short_endpoint(url: &str) -> String {
    let u = url
        .trim_start_matches("http://")
        .trim_start_matches("https://");
    u.strip_suffix("/v1").unwrap_or(u).to_owned()
}

fn human(n: u64) -> String {
    if n >= 10_000 {
        format!("{:.0}k", n as f64 / 1000.0)
    } else if n >= 1000 {
        format!("{:.1}k", n as f64 / 1000.0)
    } else {
        n.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::short_model;

    #[test]
    fn a_gguf_path_is_shown_as_its_file_name() {
        assert_eq!(
            short_model("/models/qwen2.5-coder-7b-instruct-q4_k_m.gguf"),
            "qwen2.5-coder-7b-instruct-q4_k_m"
        );
        assert_eq!(short_model("C:\\models\\tiny.GGUF"), "tiny");
        assert_eq!(short_model("qwen2.5-coder:7b"), "qwen2.5-coder:7b");
        // an Ollama or Hugging Face name with a slash is a name, not a path
        assert_eq!(
            short_model("Qwen/Qwen2.5-Coder-7B"),
            "Qwen/Qwen2.5-Coder-7B"
        );
        assert_eq!(short_model("/"), "/");
    }
}
