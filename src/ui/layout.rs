//! Where each pane goes. Wide terminals put the diff pane and approval queue beside the
//! chat; narrower ones show one of them at a time under a tab bar.

use ratatui::layout::{Constraint, Layout, Rect};

use crate::app::state::{Focus, State};

/// From this width on, chat and the side panes sit side by side.
pub const WIDE: u16 = 100;

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
    let composer_lines = (s.composer.lines().len() as u16).clamp(1, 8) + chips;
    let composer_h = (composer_lines + 2)
        .min(size.height.saturating_sub(2) / 2)
        .max(3.min(size.height));
    let [main, composer, status] = Layout::vertical([
        Constraint::Min(0),
        Constraint::Length(composer_h),
        Constraint::Length(1),
    ])
    .areas(size);
    if size.width >= WIDE {
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
    match s.main_tab {
        Focus::Diff => a.diff = Some(body),
        Focus::Approvals => a.approvals = Some(body),
        Focus::Chat | Focus::Input => a.chat = Some(body),
    }
    a
}

/// Chat and the side column of the wide layout.
fn beside(main: Rect) -> [Rect; 2] {
    Layout::horizontal([Constraint::Percentage(62), Constraint::Percentage(38)]).areas(main)
}

/// The columns inside the diff pane's border on a `screen` (beside the chat when wide, a
/// tab below that).
pub fn diff_inner_width(screen: Rect) -> usize {
    let pane = if screen.width >= WIDE {
        beside(screen)[1].width
    } else {
        screen.width
    };
    pane.saturating_sub(2) as usize
}

/// The chat's text area inside its border.
pub fn chat_inner(s: &State) -> Rect {
    let (w, h) = s.size;
    let slot = areas(Rect::new(0, 0, w, h), s).chat_slot;
    Rect::new(
        slot.x + 1,
        slot.y + 1,
        slot.width.saturating_sub(2),
        slot.height.saturating_sub(2),
    )
}
