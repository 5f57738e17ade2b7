//! The help overlay: every key and command, in sections, scrollable.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

use super::chat::wrap_plain;
use crate::app::state::State;

pub const KEYS: &[(&str, &str)] = &[
    ("Enter", "send the message"),
    ("Shift+Enter · Alt+Enter · Ctrl+J", "new line"),
    (
        "Up / Down",
        "previous / next message from history (at the first / last line)",
    ),
    ("Esc", "interrupt the running reply"),
    (
        "Ctrl+C",
        "interrupt; on an idle session clear the input, twice within 2 s quit",
    ),
    (
        "Tab / Shift+Tab",
        "cycle focus: chat, diff, approvals, input",
    ),
    (
        "/",
        "commands: a list that narrows as you type; ↑↓ choose, Tab complete, Enter run",
    ),
    (
        "@",
        "attach a file: fuzzy file picker; @path:10-40 attaches those lines",
    ),
    (
        "!command",
        "run a shell command yourself; the output goes to the model with your next message",
    ),
    ("PgUp / PgDn", "scroll the chat by a page"),
    (
        "Home / End",
        "top / bottom of the chat (chat focused, or with Ctrl)",
    ),
    ("Up / Down · j / k", "scroll by a line (chat focused)"),
    ("mouse wheel", "scroll the chat"),
    (
        "F2",
        "mouse capture on/off (off: select text with the mouse)",
    ),
    ("Ctrl+Y", "copy the last reply (OSC 52, works over SSH)"),
    ("Alt+Y", "copy the last code block of the last reply"),
    ("Ctrl+T", "show / hide the model's reasoning"),
    ("q", "quit (when the input is not focused)"),
    (
        "? · F1",
        "this help (? when the input is empty); j/k/PgUp/PgDn scroll, any other key closes it",
    ),
];

/// Keys of the approval queue (it has focus while calls wait).
pub const APPROVAL_KEYS: &[(&str, &str)] = &[
    ("y", "approve the selected call"),
    (
        "n",
        "reject it (then an optional reason for the model, Enter sends)",
    ),
    (
        "a",
        "approve and allow this tool (shell: this command prefix) for the session",
    ),
    (
        "e",
        "edit the arguments (the command, for shell) before approving",
    ),
    (
        "Y / N",
        "approve / reject everything queued (Y leaves dangerous commands to decide one by one)",
    ),
    (
        "v",
        "everything the selected call will run or write, wrapped, blanks and invisible characters shown (the queue warns when some of it is off screen); ↑↓ PgUp/PgDn scroll, y/n decide, Esc or v closes",
    ),
    ("j / k", "select the next / previous call"),
];

/// Keys of the diff pane (Space, ]/[, s also work in the approval queue).
pub const DIFF_KEYS: &[(&str, &str)] = &[
    ("Space", "take / leave the hunk under the cursor"),
    ("] / [", "next / previous hunk"),
    (
        "y",
        "apply the taken hunks only (all of them when none was left)",
    ),
    ("n", "reject the change"),
    (
        "e",
        "open the proposed file in $VISUAL / $EDITOR; what you save is written",
    ),
    ("s", "unified / side by side"),
    ("Enter", "more of the file around each hunk"),
    ("PgUp / PgDn", "scroll a shown diff"),
    (
        "d (chat)",
        "the change of a tool call, newest first; Esc closes",
    ),
];

/// Keys for images.
pub const IMAGE_KEYS: &[(&str, &str)] = &[
    (
        "Ctrl+V",
        "paste: an image on the clipboard (or a copied image path) is attached, text is pasted",
    ),
    (
        "Backspace",
        "on an empty input: remove the last attached image",
    ),
    (
        "Enter / Esc",
        "after pasting an image file's path: attach it / keep the path as text",
    ),
];

pub fn render(f: &mut Frame, screen: Rect, s: &State) {
    let c = &s.theme.colors;
    let key_w = KEYS
        .iter()
        .map(|(k, _)| k.chars().count())
        .max()
        .unwrap_or(0);
    let w = (screen.width.saturating_sub(4))
        .min(96)
        .max(20.min(screen.width));
    let sections: [(&str, Vec<(&str, &str)>); 5] = [
        ("keys", KEYS.to_vec()),
        ("approval queue", APPROVAL_KEYS.to_vec()),
        ("diff pane", DIFF_KEYS.to_vec()),
        ("images", IMAGE_KEYS.to_vec()),
        (
            "commands (type in the input)",
            crate::app::commands::COMMANDS.to_vec(),
        ),
    ];
    let key_w = sections
        .iter()
        .flat_map(|(_, keys)| keys.iter().map(|(k, _)| k.chars().count()))
        .max()
        .unwrap_or(key_w);
    let entries: usize = sections.iter().map(|(_, k)| k.len() + 2).sum();
    let h = (entries as u16 + 4)
        .min(screen.height.saturating_sub(2))
        .max(3.min(screen.height));
    let area = Rect::new(
        screen.x + (screen.width - w) / 2,
        screen.y + (screen.height - h) / 2,
        w,
        h,
    );
    let mut lines = Vec::new();
    let narrow = (w as usize) < key_w + 40;
    for (title, keys) in &sections {
        if !lines.is_empty() {
            lines.push(Line::default());
        }
        lines.push(Line::from(Span::styled(
            title.to_string(),
            s.theme.style(c.heading).add_modifier(Modifier::BOLD),
        )));
        push_keys(&mut lines, keys, narrow, key_w, w, s);
    }
    let c = &s.theme.colors;
    let inner_h = h.saturating_sub(2);
    let max_scroll = (lines.len() as u16).saturating_sub(inner_h);
    let scroll = s.help_scroll.min(max_scroll);
    let title = if max_scroll == 0 {
        " help · any key closes ".to_owned()
    } else if scroll < max_scroll {
        " help · ↓ more: j / PgDn · other keys close ".to_owned()
    } else {
        " help · ↑ k / PgUp · other keys close ".to_owned()
    };
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(s.theme.style(c.border_focused))
        .title(Span::styled(title, s.theme.style(c.accent)));
    f.render_widget(Clear, area);
    f.render_widget(Paragraph::new(lines).block(block).scroll((scroll, 0)), area);
}

fn push_keys(
    lines: &mut Vec<Line<'static>>,
    keys: &[(&str, &str)],
    narrow: bool,
    key_w: usize,
    w: u16,
    s: &State,
) {
    let c = &s.theme.colors;
    for (k, what) in keys {
        if narrow {
            lines.push(Line::from(Span::styled(
                k.to_string(),
                s.theme.style(c.accent).add_modifier(Modifier::BOLD),
            )));
            lines.extend(wrap_plain(
                what,
                (w as usize).saturating_sub(2),
                s.theme.style(c.fg),
                "  ",
            ));
        } else {
            // the description wraps under itself, the key column stays clear
            let text_w = (w as usize).saturating_sub(key_w + 4).max(8);
            for (i, part) in wrap_plain(what, text_w, s.theme.style(c.fg), "")
                .into_iter()
                .enumerate()
            {
                let key_cell = if i == 0 {
                    format!("{k:<key_w$}  ")
                } else {
                    " ".repeat(key_w + 2)
                };
                let mut spans = vec![Span::styled(
                    key_cell,
                    s.theme.style(c.accent).add_modifier(Modifier::BOLD),
                )];
                spans.extend(part.spans);
                lines.push(Line::from(spans));
            }
        }
    }
}
