//! Chat scrolling. The view either follows the end or is anchored at a line of an entry
//! (by its id, so entries inserted above keep it in place); moving it measures only the
//! entries it passes, so cost does not grow with the transcript.

use super::state::{Scroll, State};

fn viewport(s: &State) -> (u16, usize) {
    s.measure.chat_viewport(s)
}

fn height(s: &State, index: usize, width: u16) -> usize {
    s.measure.entry_height(s, index, width)
}

pub fn page(s: &State) -> usize {
    viewport(s).1.saturating_sub(2).max(1)
}

/// Where the anchor is now: (entry index, line); `None` when following or when its entry
/// is gone.
pub fn anchor_index(s: &State) -> Option<(usize, usize)> {
    match s.view.scroll {
        Scroll::Follow => None,
        Scroll::Anchored { entry, line } => s.chat.index_of(entry).map(|i| (i, line)),
    }
}

fn anchored(s: &State, index: usize, line: usize) -> Scroll {
    match s.chat.entries.get(index) {
        Some(e) => Scroll::Anchored { entry: e.id, line },
        None => Scroll::Follow,
    }
}

/// The anchor `n` lines above the top of the current view.
pub fn up(s: &mut State, n: usize) {
    if s.chat.is_empty() {
        s.view.scroll = Scroll::Follow;
        return;
    }
    let (width, height) = viewport(s);
    let anchor = match anchor_index(s) {
        None => back_from_end(s, width, height + n),
        Some((entry, line)) => back_from(s, width, entry, line, n),
    };
    let (entry, line) = anchor.unwrap_or((0, 0));
    s.view.scroll = anchored(s, entry, line);
}

pub fn down(s: &mut State, n: usize) {
    let Some((mut entry, mut line)) = anchor_index(s) else {
        if matches!(s.view.scroll, Scroll::Anchored { .. }) {
            // the anchored entry is gone: follow the end
            bottom(s);
        }
        return;
    };
    let (width, view_height) = viewport(s);
    line += n;
    while entry < s.chat.len() {
        let h = height(s, entry, width);
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
    while i < s.chat.len() && below <= view_height {
        below += height(s, i, width).saturating_sub(skip);
        skip = 0;
        i += 1;
    }
    if below <= view_height {
        bottom(s);
    } else {
        s.view.scroll = anchored(s, entry, line);
    }
}

pub fn top(s: &mut State) {
    if !s.chat.is_empty() {
        s.view.scroll = anchored(s, 0, 0);
    }
}

pub fn bottom(s: &mut State) {
    s.view.scroll = Scroll::Follow;
    s.view.unseen_below = false;
}

/// The (entry, line) that is `n` lines above the end, or `None` past the top.
fn back_from_end(s: &State, width: u16, n: usize) -> Option<(usize, usize)> {
    let mut need = n;
    for i in (0..s.chat.len()).rev() {
        let h = height(s, i, width);
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
        let h = height(s, i, width);
        if h >= need {
            return Some((i, h - need));
        }
        need -= h;
    }
    None
}
