//! Where each pane goes, following what is happening. Wide terminals: the chat alone
//! while nothing else needs the user; a change being written or waiting gets most of the
//! width on the left with the queue as a compact list under it and the chat beside it;
//! otherwise the diff pane and the queue beside the chat. Narrower ones show one pane at a
//! time under a tab bar.

use ratatui::layout::{Constraint, Layout, Rect};

use crate::app::diffs::PaneShows;
pub use crate::app::state::WIDE;
use crate::app::state::{Focus, State};

/// What the wide layout is arranged for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Moment {
    /// Nothing but the conversation needs the screen.
    Chat,
    /// A file change streams in or waits for the user: the diff comes first.
    Change,
    /// Calls, a shown diff or a focused side pane: the side column beside the chat.
    Side,
}

fn moment(s: &State) -> Moment {
    // what the diff pane shows decides: a change being written or waiting comes first
    let change = matches!(s.pane_shows(), PaneShows::Change(_) | PaneShows::Live(_));
    if change {
        Moment::Change
    } else if s.queue.items.is_empty()
        && s.diff.shown.is_none()
        && !matches!(s.view.focus, Focus::Diff | Focus::Approvals)
    {
        Moment::Chat
    } else {
        Moment::Side
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Areas {
    pub tabs: Option<Rect>,
    pub chat: Option<Rect>,
    pub diff: Option<Rect>,
    pub approvals: Option<Rect>,
    pub composer: Rect,
    pub status: Rect,
    /// Where the chat is, or would be when its tab is not shown (for scrolling maths).
    pub chat_slot: Rect,
}

pub fn areas(size: Rect, s: &State) -> Areas {
    let chips = u16::from(super::composer::chip_line(s));
    let composer_lines = (s.composer.area.lines().len() as u16).clamp(1, 8) + chips;
    let composer_h = (composer_lines + 2)
        .min(size.height.saturating_sub(2) / 2)
        .max(3.min(size.height));
    let [main, composer, status] = Layout::vertical([
        Constraint::Min(0),
        Constraint::Length(composer_h),
        Constraint::Length(1),
    ])
    .areas(size);
    if s.diff.zoomed {
        // the diff alone, whatever the width; the chat's slot stays for scrolling maths
        return Areas {
            tabs: None,
            chat: None,
            diff: Some(main),
            approvals: None,
            composer,
            status,
            chat_slot: main,
        };
    }
    if size.width >= WIDE {
        let full = |chat: Rect| Areas {
            tabs: None,
            chat: Some(chat),
            diff: None,
            approvals: None,
            composer,
            status,
            chat_slot: chat,
        };
        match moment(s) {
            Moment::Chat => return full(main),
            Moment::Change => {
                let [work, chat] = change_columns(main);
                // the queue as a compact list sized to its entries, under the diff
                // (an entry can take a second row for its warning; the hint takes two)
                let rows = (s.queue.items.len() as u16 * 2 + 5).min(work.height * 2 / 5);
                let rows = if s.queue.items.is_empty() { 0 } else { rows };
                let [diff, approvals] =
                    Layout::vertical([Constraint::Min(0), Constraint::Length(rows)]).areas(work);
                return Areas {
                    diff: Some(diff),
                    approvals: (rows > 0).then_some(approvals),
                    ..full(chat)
                };
            }
            Moment::Side => {}
        }
        let [chat, side] = beside(main);
        let [diff, approvals] =
            Layout::vertical([Constraint::Percentage(60), Constraint::Percentage(40)]).areas(side);
        return Areas {
            tabs: None,
            chat: Some(chat),
            diff: Some(diff),
            approvals: Some(approvals),
            composer,
            status,
            chat_slot: chat,
        };
    }
    let [tabs, body] = Layout::vertical([Constraint::Length(1), Constraint::Min(0)]).areas(main);
    let mut a = Areas {
        tabs: Some(tabs),
        chat: None,
        diff: None,
        approvals: None,
        composer,
        status,
        chat_slot: body,
    };
    match s.view.main_tab {
        Focus::Diff => a.diff = Some(body),
        // the queue and, under it, what its selected call does: a key decides only what
        // is on screen
        Focus::Approvals if !s.queue.items.is_empty() && body.height >= 10 => {
            let rows = (s.queue.items.len() as u16 * 2 + 5).min(body.height / 2);
            let [list, detail] =
                Layout::vertical([Constraint::Length(rows), Constraint::Min(0)]).areas(body);
            a.approvals = Some(list);
            a.diff = Some(detail);
        }
        Focus::Approvals => a.approvals = Some(body),
        Focus::Chat | Focus::Input => a.chat = Some(body),
    }
    a
}

/// Chat and the side column of the wide layout.
fn beside(main: Rect) -> [Rect; 2] {
    Layout::horizontal([Constraint::Percentage(62), Constraint::Percentage(38)]).areas(main)
}

/// A change first (diff over the queue), the chat beside it.
fn change_columns(main: Rect) -> [Rect; 2] {
    Layout::horizontal([Constraint::Percentage(64), Constraint::Percentage(36)]).areas(main)
}

/// The columns inside the diff pane's border on a `screen`, as `s` is laid out now (the
/// left column while a change is written or waits, beside the chat otherwise, a tab below
/// the wide width).
pub fn diff_inner_width(screen: Rect, s: &State) -> usize {
    let pane = if screen.width < WIDE || s.diff.zoomed {
        screen.width
    } else if moment(s) == Moment::Change {
        change_columns(screen)[0].width
    } else {
        beside(screen)[1].width
    };
    pane.saturating_sub(2) as usize
}

/// The chat's text area inside its border.
pub fn chat_inner(s: &State) -> Rect {
    let (w, h) = s.view.size;
    let slot = areas(Rect::new(0, 0, w, h), s).chat_slot;
    Rect::new(
        slot.x + 1,
        slot.y + 1,
        slot.width.saturating_sub(2),
        slot.height.saturating_sub(2),
    )
}
