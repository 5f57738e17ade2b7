//! `v` on a queued call: everything it will run or write, wrapped, in an overlay over the
//! whole screen (drawn by `ui::view_all`). Arrows, PgUp/PgDn, Home/End scroll; Esc or `v`
//! close; the queue's decisions (y, n, a, e, Y, N) close it and act as in the queue.

use std::cell::RefCell;
use std::rc::Rc;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::text::Line;

use super::msg::Command;
use super::state::*;

/// The overlay: which call, where it is scrolled, and its lines laid out for one width.
#[derive(Debug)]
pub struct ViewAll {
    pub call_id: String,
    /// The first line shown.
    pub scroll: usize,
    /// The wrapped lines for a width (the renderer fills it; a call does not change while
    /// it waits, so only a new width lays it out again).
    pub cache: RefCell<Option<(u16, Rc<Vec<Line<'static>>>)>>,
}

/// Opens the overlay on the selected queued call.
pub fn open(s: &mut State) {
    if let Some(q) = s.selected_approval() {
        s.overlay = Overlay::ViewAll(ViewAll {
            call_id: q.request.call_id.clone(),
            scroll: 0,
            cache: RefCell::new(None),
        });
    }
}

/// The overlay's call left the queue (decided, started, the turn stopped): it closes.
pub fn close_if_gone(s: &mut State) {
    if s.overlay
        .view_all()
        .is_some_and(|v| s.queue.get(&v.call_id).is_none())
    {
        s.overlay = Overlay::None;
    }
}

/// Rows of text the overlay shows at the current size.
fn page(s: &State) -> usize {
    s.measure.view_all_rows(s)
}

/// Moves the view by `by` lines (negative: up), kept within the text as last laid out.
pub fn scroll(s: &mut State, by: isize) {
    let page = page(s);
    let Some(v) = s.overlay.view_all_mut() else {
        return;
    };
    let total = v.cache.borrow().as_ref().map(|(_, l)| l.len());
    let max = total.map_or(usize::MAX, |t| t.saturating_sub(page));
    v.scroll = v.scroll.saturating_add_signed(by).min(max);
}

/// A key while the overlay is open.
pub fn key(s: &mut State, key: KeyEvent, cmds: &mut Vec<Command>) {
    let plain = !key.modifiers.contains(KeyModifiers::CONTROL)
        && !key.modifiers.contains(KeyModifiers::ALT);
    let page = page(s).max(1) as isize;
    match key.code {
        KeyCode::Esc | KeyCode::Char('v') if plain => s.overlay = Overlay::None,
        KeyCode::Up | KeyCode::Char('k') if plain => scroll(s, -1),
        KeyCode::Down | KeyCode::Char('j') if plain => scroll(s, 1),
        KeyCode::PageUp => scroll(s, -page),
        KeyCode::PageDown => scroll(s, page),
        KeyCode::Home | KeyCode::Char('g') => scroll(s, isize::MIN),
        KeyCode::End | KeyCode::Char('G') => scroll(s, isize::MAX),
        KeyCode::Char('y' | 'n' | 'a' | 'e' | 'Y' | 'N') if plain => {
            // decide from here: the call shown is the one decided
            if let Overlay::ViewAll(v) = std::mem::take(&mut s.overlay)
                && let Some(i) = s
                    .queue
                    .items
                    .iter()
                    .position(|q| q.request.call_id == v.call_id)
            {
                if i != s.queue.selected {
                    s.queue.selected = i;
                    s.diff.cursor = 0;
                }
                super::approvals::queue_key(s, key, cmds);
            }
        }
        _ => {}
    }
}
