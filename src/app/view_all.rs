//! `v` on a queued call: everything it will run or write, wrapped, in an overlay over the
//! whole screen (drawn by `ui::view_all`). Arrows, PgUp/PgDn, Home/End scroll; Esc or `v`
//! close; the queue's decisions (y, n, a, e, Y, N) close it and act as in the queue.

use std::cell::RefCell;
use std::rc::Rc;

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::text::Line;

use super::keymap::Action;
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

/// An action while the overlay is open: it scrolls, closes, or decides the call shown.
pub fn action(s: &mut State, action: Action, cmds: &mut Vec<Command>) {
    let page = page(s).max(1) as isize;
    match action {
        Action::Interrupt | Action::ViewAll => s.overlay = Overlay::None,
        Action::Up => scroll(s, -1),
        Action::Down => scroll(s, 1),
        Action::PageUp => scroll(s, -page),
        Action::PageDown => scroll(s, page),
        Action::Top => scroll(s, isize::MIN),
        Action::Bottom => scroll(s, isize::MAX),
        Action::Approve
        | Action::Reject
        | Action::AllowSession
        | Action::Edit
        | Action::ApproveAll
        | Action::RejectAll => {
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
                super::approvals::queue_action(s, action, cmds);
            }
        }
        _ => {}
    }
}

/// Keys no action claims: `g` / `G` as in a pager.
pub fn raw_key(s: &mut State, key: KeyEvent) {
    match key.code {
        KeyCode::Char('g') => scroll(s, isize::MIN),
        KeyCode::Char('G') => scroll(s, isize::MAX),
        _ => {}
    }
}
