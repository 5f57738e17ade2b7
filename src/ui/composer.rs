//! The composer: a multi-line `ratatui-textarea` with a border that tells what Enter does.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::app::attachments::PasteOffer;
use crate::app::state::{Activity, Focus, State};
use crate::domain::text::neutralize_controls;

pub fn render(f: &mut Frame, area: Rect, s: &State) {
    let c = &s.theme.colors;
    let focused = s.view.focus == Focus::Input;
    let title = if s.taking_screenshot {
        " taking a screenshot: select a region on your screen · Esc cancels ".to_owned()
    } else if let Activity::Agent(work) = &s.activity {
        format!(" {}… ", work.label())
    } else if matches!(s.activity, Activity::Shell(_)) {
        " command running · Esc stops it ".to_owned()
    } else if let Some(n) = waiting_for_you(s) {
        format!(" waiting for you ({n}) · decide in the queue ")
    } else if s.composer.queued.is_some() {
        format!(
            " message queued: sent when the reply ends · {} interrupts ",
            s.keymap.keys(crate::app::keymap::Action::Interrupt)
        )
    } else if s.is_running() {
        format!(
            " reply streaming · {} interrupts ",
            s.keymap.keys(crate::app::keymap::Action::Interrupt)
        )
    } else {
        " message ".to_owned()
    };
    let block = super::panes::pane_block(title, focused, s);
    let mut inner = block.inner(area);
    f.render_widget(block, area);
    if chip_line(s) && inner.height > 1 {
        let line = match &s.composer.paste_offer {
            Some(offer) => offer_line(s, offer),
            None => chips(s),
        };
        f.render_widget(Paragraph::new(line), Rect { height: 1, ..inner });
        inner = Rect {
            y: inner.y + 1,
            height: inner.height - 1,
            ..inner
        };
    }
    // The textarea's look is set here, on a clone, so `update` owns only its content.
    let mut ta = s.composer.area.clone();
    ta.set_style(s.theme.style(c.fg));
    ta.set_cursor_line_style(Style::default());
    ta.set_placeholder_style(s.theme.style(c.dim));
    ta.set_placeholder_text(s.composer_hint());
    ta.set_cursor_style(if focused {
        Style::default().add_modifier(Modifier::REVERSED)
    } else {
        Style::default()
    });
    f.render_widget(&ta, inner);
}

/// Calls waiting for the user's decision, when there are any.
fn waiting_for_you(s: &State) -> Option<usize> {
    (!s.queue.items.is_empty()).then_some(s.queue.items.len())
}

/// Whether the composer has a line above the text: attachments or a paste offer.
pub fn chip_line(s: &State) -> bool {
    !s.composer.attachments.is_empty() || s.composer.paste_offer.is_some()
}

/// `[image 1: 1920x1080 PNG 412 KB] [image 2: …]  Backspace removes`
fn chips(s: &State) -> Line<'static> {
    let c = &s.theme.colors;
    let mut spans = Vec::new();
    for (i, a) in s.composer.attachments.iter().enumerate() {
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
    Line::from(spans)
}

fn offer_line(s: &State, offer: &PasteOffer) -> Line<'static> {
    let c = &s.theme.colors;
    let name = offer
        .path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| offer.path.display().to_string());
    Line::from(vec![
        Span::styled(
            format!("Attach {} as an image? ", neutralize_controls(&name)),
            s.theme.style(c.accent).add_modifier(Modifier::BOLD),
        ),
        Span::styled(
            "Enter attach · Esc paste the path as text",
            s.theme.style(c.dim),
        ),
    ])
}
