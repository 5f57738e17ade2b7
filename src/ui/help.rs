//! The help overlay: every key and command, in sections, scrollable.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

use super::chat::wrap_plain;
use crate::app::state::State;

pub const KEYS: &[(&str, &str)] = &[
    ("{send}", "send the message"),
    ("{newline}", "new line"),
    (
        "Up / Down",
        "previous / next message from history (at the first / last line)",
    ),
    ("{interrupt}", "interrupt the running reply"),
    (
        "{quit}",
        "interrupt; on an idle session clear the input, twice within 2 s quit",
    ),
    (
        "{focus_next} / {focus_prev}",
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
    ("{page_up} / {page_down}", "scroll the chat by a page"),
    (
        "{top} / {bottom}",
        "top / bottom of the chat (Home / End on a pane)",
    ),
    ("{up} / {down}", "scroll by a line (chat focused)"),
    ("mouse wheel", "scroll the chat"),
    (
        "{mouse_capture}",
        "mouse capture on/off (off: select text with the mouse)",
    ),
    (
        "{copy_reply}",
        "copy the last reply (OSC 52, works over SSH)",
    ),
    ("{copy_code}", "copy the last code block of the last reply"),
    ("{reasoning}", "show / hide the model's reasoning"),
    (
        "{details}",
        "show / hide tool calls' raw arguments, as the model sent them",
    ),
    ("{to_input}", "back to the input from a pane"),
    ("{quit_pane}", "quit (when the input is not focused)"),
    (
        "? · {help}",
        "this help (? when the input is empty); j/k/PgUp/PgDn scroll, any other key closes it",
    ),
];

/// Keys of the approval queue (it has focus while calls wait).
pub const APPROVAL_KEYS: &[(&str, &str)] = &[
    ("{approve}", "approve the selected call"),
    (
        "{reject}",
        "reject it (then an optional reason for the model, Enter sends)",
    ),
    (
        "{allow_session}",
        "approve and allow this tool (shell: this command prefix) for the session",
    ),
    (
        "{edit}",
        "edit the arguments (the command, for shell) before approving",
    ),
    (
        "{approve_all} / {reject_all}",
        "approve / reject everything queued ({approve_all} leaves dangerous commands to decide one by one)",
    ),
    (
        "{view_all}",
        "everything the selected call will run or write, wrapped, blanks and invisible characters shown (the queue warns when some of it is off screen); ↑↓ PgUp/PgDn scroll, {approve}/{reject} decide, Esc or {view_all} closes",
    ),
    ("{down} / {up}", "select the next / previous call"),
];

/// Keys of the diff pane (hunk keys also work in the approval queue).
pub const DIFF_KEYS: &[(&str, &str)] = &[
    ("{toggle_hunk}", "take / leave the hunk under the cursor"),
    ("{next_hunk} / {prev_hunk}", "next / previous hunk"),
    (
        "{approve}",
        "apply the taken hunks only (all of them when none was left)",
    ),
    ("{reject}", "reject the change"),
    (
        "{edit}",
        "open the proposed file in $VISUAL / $EDITOR; what you save is written",
    ),
    ("{side_by_side}", "unified / side by side"),
    (
        "{zoom}",
        "the diff alone over the whole screen; {zoom} or Esc returns",
    ),
    ("{expand_diff}", "more of the file around each hunk"),
    (
        "{page_up} / {page_down} · {up} / {down}",
        "scroll a shown diff",
    ),
    (
        "{next_change} (chat)",
        "the change of a tool call, newest first; Esc closes",
    ),
];

/// Keys for images.
pub const IMAGE_KEYS: &[(&str, &str)] = &[
    (
        "{paste}",
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
    let w = (screen.width.saturating_sub(4))
        .min(96)
        .max(20.min(screen.width));
    // `{action}` in a key or a description: the key the user has for it
    let expand = |keys: &[(&str, &str)]| -> Vec<(String, String)> {
        keys.iter()
            .map(|(k, d)| (s.keymap.expand(k), s.keymap.expand(d)))
            .collect()
    };
    let sections: [(&str, Vec<(String, String)>); 5] = [
        ("keys", expand(KEYS)),
        ("approval queue", expand(APPROVAL_KEYS)),
        ("diff pane", expand(DIFF_KEYS)),
        ("images", expand(IMAGE_KEYS)),
        (
            "commands (type in the input)",
            expand(crate::app::commands::COMMANDS),
        ),
    ];
    let key_w = sections
        .iter()
        .flat_map(|(_, keys)| keys.iter().map(|(k, _)| k.chars().count()))
        .max()
        .unwrap_or(0);
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
    let scroll = match s.overlay {
        crate::app::state::Overlay::Help { scroll } => scroll,
        _ => 0,
    }
    .min(max_scroll);
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
    keys: &[(String, String)],
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
