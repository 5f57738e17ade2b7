//! Pure rendering: `render(&State, &mut Frame)`, one file per pane. Nothing here does
//! I/O or changes state (entry layouts are memoised in the entries' caches).

mod cards;
pub mod chat;
mod composer;
mod diff_pane;
pub mod diff_view;
pub mod file_picker;
pub mod help;
pub mod highlight;
mod image_preview;
pub mod layout;
pub mod markdown;
mod panes;
mod popups;
mod status;
pub mod trust_prompt;
pub mod view_all;
pub mod wrap;

use ratatui::Frame;

use crate::app::state::{Layer, State};

pub fn render(f: &mut Frame, s: &State) {
    let areas = layout::areas(f.area(), s);
    if let Some(tabs) = areas.tabs {
        panes::render_tabs(f, tabs, s);
    }
    if let Some(chat) = areas.chat {
        chat::render(f, chat, s);
    }
    if let Some(diff) = areas.diff {
        diff_pane::render(f, diff, s);
    }
    if let Some(approvals) = areas.approvals {
        panes::render_approvals(f, approvals, s);
    }
    composer::render(f, areas.composer, s);
    status::render(f, areas.status, s);
    // the layer that has the keys is the one drawn on top (`State::layer`)
    match s.layer() {
        Layer::Help => help::render(f, f.area(), s),
        Layer::Sessions => popups::render_sessions(f, f.area(), s),
        Layer::ViewAll => view_all::render(f, f.area(), s),
        Layer::Popup => popups::render(f, f.area(), areas.composer, s),
        Layer::ApprovalInput | Layer::PasteOffer | Layer::Main => {}
    }
}

/// The view's answer to "how tall is it once drawn", for scrolling in `app`.
pub struct Measurer;

impl crate::app::measure::Measure for Measurer {
    fn chat_viewport(&self, s: &State) -> (u16, usize) {
        let r = layout::chat_inner(s);
        (r.width, r.height as usize)
    }

    fn entry_height(&self, s: &State, index: usize, width: u16) -> usize {
        chat::entry_height(s, index, width)
    }

    fn view_all_rows(&self, s: &State) -> usize {
        let (w, h) = s.view.size;
        view_all::body(ratatui::layout::Rect::new(0, 0, w, h)).height as usize
    }
}

/// A measurer for `State::new`.
pub fn measurer() -> std::rc::Rc<dyn crate::app::measure::Measure> {
    std::rc::Rc::new(Measurer)
}
