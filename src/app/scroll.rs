//! Chat scrolling. The view either follows the end or is anchored at a line; moving it
//! measures only the entries it passes, so cost does not grow with the transcript.

use super::state::{Scroll, State};
use crate::ui::chat::entry_height;
use crate::ui::layout::chat_inner;

fn viewport(s: &State) -> (u16, usize) {
    let r = chat_inner(s);
    (r.width, r.height as usize)
}

pub fn page(s: &State) -> usize {
    viewport(s).1.saturating_sub(2).max(1)
}

/// The anchor `n` lines above the top of the current view.
pub fn up(s: &mut State, n: usize) {
    let (width, height) = viewport(s);
    let anchor = match s.scroll {
        Scroll::Follow => back_from_end(s, width, height + n),
        Scroll::Anchored { entry, line } => back_from(s, width, entry, line, n),
    };
    match anchor {
        Some((entry, line)) => s.scroll = Scroll::Anchored { entry, line },
        None => s.scroll = Scroll::Anchored { entry: 0, line: 0 },
    }
    if s.transcript.is_empty() {
        s.scroll = Scroll::Follow;
    }
}

pub fn down(s: &mut State, n: usize) {
    let Scroll::Anchored {
        mut entry,
        mut line,
    } = s.scroll
    else {
        return;
    };
    let (width, height) = viewport(s);
    line += n;
    while entry < s.transcript.len() {
        let h = entry_height(s, entry, width);
        if line < h {
            break;
        }
        line -= h;
        entry += 1;
    }
    // Within a screen of the end: follow again.
    let mut below = 0;
    let mut i = entry;
    let mut skip = line;
    while i < s.transcript.len() && below <= height {
        below += entry_height(s, i, width).saturating_sub(skip);
        skip = 0;
        i += 1;
    }
    if below <= height {
        bottom(s);
    } else {
        s.scroll = Scroll::Anchored { entry, line };
    }
}

pub fn top(s: &mut State) {
    if !s.transcript.is_empty() {
        s.scroll = Scroll::Anchored { entry: 0, line: 0 };
    }
}

pub fn bottom(s: &mut State) {
    s.scroll = Scroll::Follow;
    s.unseen_below = false;
}

/// The (entry, line) that is `n` lines above the end, or `None` past the top.
fn back_from_end(s: &State, width: u16, n: usize) -> Option<(usize, usize)> {
    let mut need = n;
    for i in (0..s.transcript.len()).rev() {
        let h = entry_height(s, i, width);
        if h >= need {
            return Some((i, h - need));
        }
        need -= h;
    }
    None
}

fn back_from(s: &State, width: u16, entry: usize, line: usize, n: usize) -> Option<(usize, usize)> {
    if line >= n {
        return Some((entry, line - n));
    }
    let mut need = n - line;
    for i in (0..entry).rev() {
        let h = entry_height(s, i, width);
        if h >= need {
            return Some((i, h - need));
        }
        need -= h;
    }
    None
}
