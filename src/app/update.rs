//! `update`: the only place state changes. Pure: no I/O, no clock reads (the loop sets
//! `state.now`), side effects returned as `Command`s.

use std::time::Duration;

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseEventKind};
use ratatui_textarea::CursorMove;

use super::attachments;
use super::keymap::{Action, KeyContext, Resolved};
use super::msg::{Command, Msg};
use super::scroll;
use super::state::*;
use crate::protocol::Op;

pub fn update(s: &mut State, msg: Msg) -> Vec<Command> {
    let mut cmds = Vec::new();
    match msg {
        Msg::Key(key) if key.kind != KeyEventKind::Release => on_key(s, key, &mut cmds),
        Msg::Key(_) => return cmds,
        Msg::Paste(text) => attachments::pasted(s, text, &mut cmds),
        Msg::PasteChecked { text, image } => attachments::paste_checked(s, text, image),
        Msg::Mouse(m) => match m.kind {
            MouseEventKind::ScrollUp if s.overlay.view_all().is_some() => {
                super::view_all::scroll(s, -3)
            }
            MouseEventKind::ScrollDown if s.overlay.view_all().is_some() => {
                super::view_all::scroll(s, 3)
            }
            MouseEventKind::ScrollUp => scroll::up(s, 3),
            MouseEventKind::ScrollDown => scroll::down(s, 3),
            _ => return cmds,
        },
        Msg::Resize(w, h) => s.view.size = (w, h),
        Msg::Agent(ev) => {
            super::agent_events::on_agent(s, ev);
            // the turn ended: the message queued meanwhile goes now
            if s.activity == Activity::Idle
                && let Some(text) = s.composer.queued.take()
            {
                start_turn(s, text, None, &mut cmds);
            }
        }
        Msg::Tick => {
            super::diffs::on_tick(s);
            if s.flash
                .as_ref()
                .is_some_and(|(_, at)| s.now.duration_since(*at) >= FLASH_FOR)
            {
                s.flash = None;
            }
            if s.quit_armed_at
                .is_some_and(|at| s.now.duration_since(at) >= QUIT_WINDOW)
            {
                s.quit_armed_at = None;
            }
        }
        Msg::Terminate => quit(s, &mut cmds),
        Msg::AgentGone => super::agent_events::agent_gone(s),
        Msg::Attached(result) => attachments::attached(s, result),
        Msg::Screenshot(result) => attachments::screenshot_taken(s, result),
        Msg::ClipboardText(text) => attachments::clipboard_text(s, &text),
        Msg::FileIndex(paths) => super::popups::index_ready(s, paths),
        Msg::Edited { call_id, result } => super::approvals::edited(s, &call_id, result, &mut cmds),
    }
    super::view_all::close_if_gone(s);
    s.dirty = true;
    cmds
}

fn quit(s: &mut State, cmds: &mut Vec<Command>) {
    if s.is_running() {
        cmds.push(Command::Agent(Op::Interrupt));
    }
    s.should_quit = true;
    cmds.push(Command::Quit);
}

fn ctrl(key: &KeyEvent, c: char) -> bool {
    key.modifiers.contains(KeyModifiers::CONTROL) && key.code == KeyCode::Char(c)
}

/// Where a key arrives, for the keymap.
fn key_context(s: &State) -> KeyContext {
    let layer = s.layer();
    KeyContext {
        typing: s.view.focus == Focus::Input && layer != Layer::ViewAll,
        // the "everything" view, the popups and a paste offer are not modal: the actions
        // work from them (the popups and the offer see raw keys first)
        modal: matches!(layer, Layer::Help | Layer::Sessions | Layer::ApprovalInput),
        queue: (s.view.focus == Focus::Approvals || layer == Layer::ViewAll) && !s.queue.is_empty(),
        diff: s.view.focus == Focus::Diff && layer != Layer::ViewAll,
        pending: !s.queue.is_empty(),
    }
}

fn on_key(s: &mut State, key: KeyEvent, cmds: &mut Vec<Command>) {
    let resolved = s.keymap.resolve(&key, key_context(s));
    match s.layer() {
        Layer::Help => help_key(s, key, cmds),
        Layer::Sessions => super::sessions::on_key(s, key, cmds),
        Layer::ApprovalInput => super::approvals::input_key(s, key, cmds),
        // Esc always closes the "everything" view, wherever interrupt is bound
        Layer::ViewAll if key.code == KeyCode::Esc && key.modifiers.is_empty() => {
            s.overlay = Overlay::None;
        }
        Layer::ViewAll => match resolved {
            Resolved::Action(Action::Quit) => {
                // Ctrl+C closes it and does what it does everywhere
                s.overlay = Overlay::None;
                main_key(s, key, resolved, cmds);
            }
            Resolved::Action(a) => super::view_all::action(s, a, cmds),
            Resolved::Freed => {}
            Resolved::Raw => super::view_all::raw_key(s, key),
        },
        Layer::PasteOffer if attachments::offer_key(s, &key, cmds) => {}
        Layer::PasteOffer | Layer::Popup | Layer::Main => main_key(s, key, resolved, cmds),
    }
}

fn help_key(s: &mut State, key: KeyEvent, cmds: &mut Vec<Command>) {
    let Overlay::Help { scroll } = &mut s.overlay else {
        return;
    };
    match key.code {
        KeyCode::Up | KeyCode::Char('k') => *scroll = scroll.saturating_sub(1),
        KeyCode::Down | KeyCode::Char('j') => *scroll = scroll.saturating_add(1),
        KeyCode::PageUp => *scroll = scroll.saturating_sub(10),
        KeyCode::PageDown => *scroll = scroll.saturating_add(10),
        _ if ctrl(&key, 'c') => {
            s.overlay = Overlay::None;
            on_key(s, key, cmds);
        }
        _ => s.overlay = Overlay::None,
    }
}

/// Keys for the panes, the composer and its popups.
fn main_key(s: &mut State, key: KeyEvent, resolved: Resolved, cmds: &mut Vec<Command>) {
    // an open popup sees raw keys first (its list, Tab, Enter, Esc)
    if s.view.focus == Focus::Input && super::popups::key(s, &key, cmds) {
        return;
    }
    match resolved {
        Resolved::Action(a) => on_action(s, a, cmds),
        Resolved::Freed => {}
        Resolved::Raw => raw_key(s, key, cmds),
    }
}

/// What an action does on the panes and the composer. The one place each action's rule
/// lives; the keys that lead here are the keymap's business.
fn on_action(s: &mut State, action: Action, cmds: &mut Vec<Command>) {
    // `q` twice within the window quits while something runs (one `q` could be a slip)
    let q_armed = s
        .quit_armed_at
        .take()
        .is_some_and(|at| s.now.duration_since(at) < QUIT_WINDOW);
    let pane = s.view.focus != Focus::Input;
    let waiting = !s.queue.is_empty();
    match action {
        Action::Quit => {
            if s.can_interrupt() {
                interrupt(s, cmds);
            } else if q_armed {
                quit(s, cmds);
            } else {
                if !s.composer.area.is_empty() {
                    clear_composer(s);
                }
                s.quit_armed_at = Some(s.now);
                s.flash("Press Ctrl+C again to quit");
            }
        }
        Action::Interrupt => {
            if s.diff.zoomed {
                s.diff.zoomed = false;
            } else if s.taking_screenshot {
                s.taking_screenshot = false;
                cmds.push(Command::StopScreenshot);
                s.flash("Screenshot cancelled");
            } else if s.can_interrupt() {
                interrupt(s, cmds);
            } else if s.diff.shown.take().is_some() {
                s.diff.card_cursor = None;
                s.view.main_tab = Focus::Chat;
                s.view.focus = Focus::Input;
            } else {
                s.view.focus = Focus::Input;
            }
        }
        Action::Help => s.overlay = Overlay::help(),
        Action::MouseCapture => {
            s.view.mouse_capture = !s.view.mouse_capture;
            cmds.push(Command::SetMouseCapture(s.view.mouse_capture));
            s.flash(if s.view.mouse_capture {
                "Mouse capture on: wheel scrolls (F2 to select text with the mouse)"
            } else {
                "Mouse capture off: select text with the mouse (F2 to scroll with the wheel again)"
            });
        }
        Action::FocusNext | Action::FocusPrev => {
            s.view.focus = if action == Action::FocusNext {
                s.view.focus.next()
            } else {
                s.view.focus.next().next().next()
            };
            if s.view.focus != Focus::Input {
                s.view.main_tab = s.view.focus;
            }
        }
        Action::PageUp if s.view.focus == Focus::Diff => {
            s.diff.scroll = s.diff.scroll.saturating_sub(10);
        }
        Action::PageDown if s.view.focus == Focus::Diff => {
            s.diff.scroll = s.diff.scroll.saturating_add(10);
        }
        Action::PageUp => scroll::up(s, scroll::page(s)),
        Action::PageDown => scroll::down(s, scroll::page(s)),
        Action::Top => scroll::top(s),
        Action::Bottom => scroll::bottom(s),
        Action::Up | Action::Down if s.view.focus == Focus::Approvals && waiting => {
            super::approvals::move_selection(s, action == Action::Down);
        }
        Action::Up if s.view.focus == Focus::Diff => {
            s.diff.scroll = s.diff.scroll.saturating_sub(1);
        }
        Action::Down if s.view.focus == Focus::Diff => {
            s.diff.scroll = s.diff.scroll.saturating_add(1);
        }
        Action::Up => scroll::up(s, 1),
        Action::Down => scroll::down(s, 1),
        Action::Reasoning => s.view.reasoning_expanded = !s.view.reasoning_expanded,
        Action::Details => s.view.details_expanded = !s.view.details_expanded,
        Action::CopyReply => match last_reply(s) {
            Some(text) => {
                cmds.push(Command::Copy(text));
                s.flash("Copied the last reply");
            }
            None => s.flash("No reply to copy yet"),
        },
        Action::CopyCode => match last_reply(s).and_then(|t| last_code_block(&t)) {
            Some(code) => {
                cmds.push(Command::Copy(code));
                s.flash("Copied the last code block");
            }
            None => s.flash("No code block in the last reply"),
        },
        Action::Paste => cmds.push(Command::ReadClipboard),
        Action::Send if pane => s.view.focus = Focus::Input,
        Action::Send => send(s, cmds),
        Action::Newline if !pane => {
            s.composer.area.insert_newline();
        }
        Action::Newline => {}
        Action::ToInput => s.view.focus = Focus::Input,
        Action::NextCard if matches!(s.view.focus, Focus::Chat | Focus::Diff) => {
            super::diffs::next_card(s)
        }
        Action::NextCard => {}
        Action::QuitPane if s.view.focus == Focus::Approvals && waiting => {
            // not a quit key while something waits for a decision
            s.flash("Decide the queued calls first (y/n), or Esc to stop the turn")
        }
        Action::QuitPane => {
            if s.is_running() && !q_armed {
                s.quit_armed_at = Some(s.now);
                s.flash("Still working: q again stops it and quits");
            } else {
                quit(s, cmds);
            }
        }
        Action::Approve
        | Action::Reject
        | Action::AllowSession
        | Action::Edit
        | Action::ApproveAll
        | Action::RejectAll
        | Action::ViewAll => super::approvals::queue_action(s, action, cmds),
        Action::ToggleHunk
        | Action::NextHunk
        | Action::PrevHunk
        | Action::SideBySide
        | Action::Zoom
        | Action::ExpandDiff => super::diffs::diff_action(s, action),
    }
}

/// A key no action claims: text for the composer; on a pane, a character starts typing.
fn raw_key(s: &mut State, key: KeyEvent, cmds: &mut Vec<Command>) {
    // `?` on an empty input (or a pane) is help, as in most terminal tools
    if key.code == KeyCode::Char('?')
        && key.modifiers.difference(KeyModifiers::SHIFT).is_empty()
        && (s.view.focus != Focus::Input || s.composer.area.is_empty())
    {
        s.overlay = Overlay::help();
        return;
    }
    if s.view.focus == Focus::Input {
        return input_key(s, key, cmds);
    }
    if let KeyCode::Char(c) = key.code
        && !key.modifiers.contains(KeyModifiers::CONTROL)
        && !key.modifiers.contains(KeyModifiers::ALT)
    {
        s.view.focus = Focus::Input;
        s.composer.area.insert_char(c);
        super::popups::after_edit(s, cmds);
    }
}

fn input_key(s: &mut State, key: KeyEvent, cmds: &mut Vec<Command>) {
    // as in a shell: Ctrl+U to the start of the line, Ctrl+W a word back, Ctrl+A / Ctrl+E
    // start / end, Ctrl+K to the end
    if key.modifiers == KeyModifiers::CONTROL {
        let done = match key.code {
            KeyCode::Char('u') => s.composer.area.delete_line_by_head(),
            KeyCode::Char('w') => s.composer.area.delete_word(),
            KeyCode::Char('k') => s.composer.area.delete_line_by_end(),
            KeyCode::Char('a') => {
                s.composer.area.move_cursor(CursorMove::Head);
                true
            }
            KeyCode::Char('e') => {
                s.composer.area.move_cursor(CursorMove::End);
                true
            }
            _ => false,
        };
        if done || matches!(key.code, KeyCode::Char('u' | 'w' | 'k')) {
            super::popups::after_edit(s, cmds);
            return;
        }
    }
    if key.code == KeyCode::Backspace && attachments::remove_last(s) {
        return;
    }
    match key.code {
        KeyCode::Up if s.composer.area.cursor().0 == 0 => {
            let current = s.composer_text();
            if let Some(text) = s.composer.history.older(&current) {
                set_composer(s, &text, false);
            }
        }
        KeyCode::Down
            if s.composer.area.cursor().0 + 1 >= s.composer.area.lines().len()
                && s.composer.history.is_walking() =>
        {
            if let Some(text) = s.composer.history.newer() {
                set_composer(s, &text, true);
            }
        }
        _ => {
            s.composer.area.input(key);
        }
    }
    super::popups::after_edit(s, cmds);
}

fn clear_composer(s: &mut State) {
    s.composer.clear();
}

fn set_composer(s: &mut State, text: &str, cursor_at_end: bool) {
    s.composer.set(text, cursor_at_end);
}

fn send(s: &mut State, cmds: &mut Vec<Command>) {
    let text = s.composer_text();
    if text.trim().is_empty() && s.composer.attachments.is_empty() {
        return;
    }
    if super::commands::run(s, &text, cmds) {
        s.composer.history.push(&text);
        cmds.insert(0, Command::SaveHistory(text.clone()));
        clear_composer(s);
        return;
    }
    // typed while a reply streams: sent when the turn ends (Esc puts it back)
    if s.turn().is_some()
        && s.composer.attachments.is_empty()
        && !text.trim_start().starts_with('!')
    {
        s.composer.history.push(&text);
        cmds.push(Command::SaveHistory(text.clone()));
        s.composer.queued = Some(match s.composer.queued.take() {
            Some(earlier) => format!("{earlier}\n\n{text}"),
            None => text,
        });
        clear_composer(s);
        s.flash("Queued: sent when this reply ends");
        return;
    }
    if s.is_running() {
        s.flash("A reply is still streaming: Esc interrupts it");
        return;
    }
    // `!command` runs in the workspace as the user typed it
    if let Some(command) = text.trim_start().strip_prefix('!')
        && !command.trim().is_empty()
        && s.composer.attachments.is_empty()
    {
        s.composer.history.push(&text);
        cmds.push(Command::SaveHistory(text.clone()));
        let id = s.next_turn;
        s.next_turn += 1;
        s.activity = Activity::Shell(id);
        s.flash(format!("Running {}…", command.trim()));
        cmds.push(Command::Agent(Op::UserShell {
            turn: id,
            command: command.trim().to_owned(),
        }));
        clear_composer(s);
        s.view.scroll = Scroll::Follow;
        return;
    }
    // `//text` sends `/text`
    let text = if text.trim_start().starts_with("//") {
        text.replacen("//", "/", 1)
    } else {
        text
    };
    s.composer.history.push(&text);
    cmds.push(Command::SaveHistory(text.clone()));
    start_turn(s, text, None, cmds);
}

/// Starts a turn with `text` for the model; the chat shows `shown` when given.
pub fn start_turn(s: &mut State, text: String, shown: Option<String>, cmds: &mut Vec<Command>) {
    if s.is_running() {
        s.flash("A reply is still streaming: Esc interrupts it");
        return;
    }
    let images = s
        .composer
        .attachments
        .iter()
        .map(|a| SentImage {
            label: a.label.clone(),
            preview: a.preview.clone(),
        })
        .collect();
    s.chat.push(EntryKind::User {
        text: shown.unwrap_or_else(|| text.clone()),
        images,
    });
    let reply = s.chat.push(EntryKind::Assistant(Assistant::streaming(
        s.server.model.clone(),
    )));
    let id = s.next_turn;
    s.next_turn += 1;
    s.activity = Activity::Turn(RunningTurn {
        id,
        started: s.now,
        entry: Some(reply),
        steps: 0,
        waited: Duration::ZERO,
        waiting_since: None,
    });
    clear_composer(s);
    s.diff.shown = None;
    s.diff.card_cursor = None;
    s.view.scroll = Scroll::Follow;
    s.view.unseen_below = false;
    cmds.push(Command::Agent(Op::UserTurn {
        turn: id,
        text,
        images: std::mem::take(&mut s.composer.attachments),
    }));
}

fn interrupt(s: &mut State, cmds: &mut Vec<Command>) {
    cmds.push(Command::Agent(Op::Interrupt));
    s.flash("Interrupting…");
    // a message queued for after the reply is not sent into a stopped turn: back to the input
    if let Some(queued) = s.composer.queued.take() {
        let typed = s.composer_text();
        let text = if typed.trim().is_empty() {
            queued
        } else {
            format!("{queued}\n{typed}")
        };
        set_composer(s, &text, true);
    }
}

fn last_reply(s: &State) -> Option<String> {
    s.chat.last_reply().map(str::to_owned)
}

/// The body of the last fenced code block in markdown text.
pub fn last_code_block(text: &str) -> Option<String> {
    let mut blocks = Vec::new();
    let mut current: Option<Vec<&str>> = None;
    for line in text.lines() {
        let fence = line.trim_start().starts_with("```");
        match (&mut current, fence) {
            (None, true) => current = Some(Vec::new()),
            (Some(lines), true) => {
                blocks.push(lines.join("\n"));
                current = None;
            }
            (Some(lines), false) => lines.push(line),
            (None, false) => {}
        }
    }
    if let Some(lines) = current {
        blocks.push(lines.join("\n"));
    }
    blocks.pop()
}
