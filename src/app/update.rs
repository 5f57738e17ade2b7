//! `update`: the only place state changes. Pure: no I/O, no clock reads (the loop sets
//! `state.now`), side effects returned as `Command`s.

use std::time::Duration;

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseEventKind};
use ratatui_textarea::CursorMove;

use super::attachments;
use super::msg::{Command, Msg};
use super::scroll;
use super::state::*;
use crate::protocol::Op;

pub fn update(s: &mut State, msg: Msg) -> Vec<Command> {
    let mut cmds = Vec::new();
    match msg {
        Msg::Key(key) if key.kind != KeyEventKind::Release => {
            // Esc always closes the "everything" view, wherever interrupt is bound
            if s.overlay.view_all().is_some()
                && key.code == KeyCode::Esc
                && key.modifiers.is_empty()
            {
                s.overlay = Overlay::None;
                s.dirty = true;
                return cmds;
            }
            let cx = super::keymap::KeyContext {
                typing: s.view.focus == Focus::Input && s.overlay.view_all().is_none(),
                // the "everything" view is not modal: the queue's keys decide from it
                modal: !matches!(s.layer(), Layer::Main | Layer::ViewAll),
                queue: (s.view.focus == Focus::Approvals || s.overlay.view_all().is_some())
                    && !s.queue.items.is_empty(),
                diff: s.view.focus == Focus::Diff,
                pending: !s.queue.items.is_empty(),
            };
            match s.keymap.translate(key, cx) {
                Some(key) => on_key(s, key, &mut cmds),
                // the key's action was bound to another key
                None => return cmds,
            }
        }
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

fn on_key(s: &mut State, key: KeyEvent, cmds: &mut Vec<Command>) {
    match s.layer() {
        Layer::Help => help_key(s, key, cmds),
        Layer::Sessions => super::sessions::on_key(s, key, cmds),
        Layer::ViewAll if !ctrl(&key, 'c') => super::view_all::key(s, key, cmds),
        Layer::ViewAll => {
            // Ctrl+C closes it and does what it does everywhere
            s.overlay = Overlay::None;
            main_key(s, key, cmds);
        }
        Layer::ApprovalInput => super::approvals::input_key(s, key, cmds),
        Layer::PasteOffer if attachments::offer_key(s, &key, cmds) => {}
        Layer::PasteOffer | Layer::Popup | Layer::Main => main_key(s, key, cmds),
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
fn main_key(s: &mut State, key: KeyEvent, cmds: &mut Vec<Command>) {
    if s.view.focus == Focus::Approvals
        && !s.queue.items.is_empty()
        && super::approvals::queue_key(s, key, cmds)
    {
        return;
    }
    if ctrl(&key, 'c') {
        if s.can_interrupt() {
            interrupt(s, cmds);
        } else if s
            .quit_armed_at
            .is_some_and(|at| s.now.duration_since(at) < QUIT_WINDOW)
        {
            quit(s, cmds);
        } else {
            if !s.composer.area.is_empty() {
                clear_composer(s);
            }
            s.quit_armed_at = Some(s.now);
            s.flash("Press Ctrl+C again to quit");
        }
        return;
    }
    // `q` twice within the window quits while something runs (one `q` could be a slip)
    let q_armed = s
        .quit_armed_at
        .take()
        .is_some_and(|at| s.now.duration_since(at) < QUIT_WINDOW);
    if s.view.focus == Focus::Input && super::popups::key(s, &key, cmds) {
        return;
    }
    match key.code {
        KeyCode::Esc if s.diff.zoomed => {
            s.diff.zoomed = false;
            return;
        }
        KeyCode::Esc => {
            if s.taking_screenshot {
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
            return;
        }
        KeyCode::F(1) => {
            s.overlay = Overlay::help();
            return;
        }
        KeyCode::Char('?') if s.view.focus != Focus::Input || s.composer.area.is_empty() => {
            s.overlay = Overlay::help();
            return;
        }
        KeyCode::F(2) => {
            s.view.mouse_capture = !s.view.mouse_capture;
            cmds.push(Command::SetMouseCapture(s.view.mouse_capture));
            s.flash(if s.view.mouse_capture {
                "Mouse capture on: wheel scrolls (F2 to select text with the mouse)"
            } else {
                "Mouse capture off: select text with the mouse (F2 to scroll with the wheel again)"
            });
            return;
        }
        KeyCode::Tab => {
            s.view.focus = s.view.focus.next();
            if s.view.focus != Focus::Input {
                s.view.main_tab = s.view.focus;
            }
            return;
        }
        KeyCode::BackTab => {
            s.view.focus = s.view.focus.next().next().next();
            if s.view.focus != Focus::Input {
                s.view.main_tab = s.view.focus;
            }
            return;
        }
        KeyCode::PageUp if s.view.focus == Focus::Diff => {
            s.diff.scroll = s.diff.scroll.saturating_sub(10);
            return;
        }
        KeyCode::PageDown if s.view.focus == Focus::Diff => {
            s.diff.scroll = s.diff.scroll.saturating_add(10);
            return;
        }
        KeyCode::PageUp => return scroll::up(s, scroll::page(s)),
        KeyCode::PageDown => return scroll::down(s, scroll::page(s)),
        KeyCode::Home
            if key.modifiers.contains(KeyModifiers::CONTROL) || s.view.focus == Focus::Chat =>
        {
            return scroll::top(s);
        }
        KeyCode::End
            if key.modifiers.contains(KeyModifiers::CONTROL) || s.view.focus == Focus::Chat =>
        {
            return scroll::bottom(s);
        }
        _ => {}
    }
    if ctrl(&key, 't') {
        s.view.reasoning_expanded = !s.view.reasoning_expanded;
        return;
    }
    if ctrl(&key, 'o') {
        s.view.details_expanded = !s.view.details_expanded;
        return;
    }
    if ctrl(&key, 'y') {
        match last_reply(s) {
            Some(text) => {
                cmds.push(Command::Copy(text));
                s.flash("Copied the last reply");
            }
            None => s.flash("No reply to copy yet"),
        }
        return;
    }
    if key.modifiers.contains(KeyModifiers::ALT) && key.code == KeyCode::Char('y') {
        match last_reply(s).and_then(|t| last_code_block(&t)) {
            Some(code) => {
                cmds.push(Command::Copy(code));
                s.flash("Copied the last code block");
            }
            None => s.flash("No code block in the last reply"),
        }
        return;
    }
    if s.view.focus == Focus::Diff && key.modifiers.is_empty() {
        if super::diffs::diff_key(s, &key) {
            return;
        }
        match key.code {
            KeyCode::Char('y') if !s.queue.items.is_empty() => {
                return super::diffs::approve_selected(s, cmds);
            }
            KeyCode::Char('n') if !s.queue.items.is_empty() => {
                return super::diffs::reject_selected(s, cmds);
            }
            KeyCode::Char('v') if !s.queue.items.is_empty() => {
                return super::view_all::open(s);
            }
            _ => {}
        }
    }
    match s.view.focus {
        Focus::Input => input_key(s, key, cmds),
        Focus::Chat | Focus::Diff | Focus::Approvals => match key.code {
            KeyCode::Char('q') if key.modifiers.is_empty() => {
                if s.is_running() && !q_armed {
                    s.quit_armed_at = Some(s.now);
                    s.flash("Still working: q again stops it and quits");
                } else {
                    quit(s, cmds);
                }
            }
            KeyCode::Up | KeyCode::Char('k') if s.view.focus == Focus::Chat => scroll::up(s, 1),
            KeyCode::Char('d') if s.view.focus != Focus::Approvals => super::diffs::next_card(s),
            KeyCode::Down | KeyCode::Char('j') if s.view.focus == Focus::Chat => scroll::down(s, 1),
            KeyCode::Enter | KeyCode::Char('i') => s.view.focus = Focus::Input,
            KeyCode::Char(c)
                if !key.modifiers.contains(KeyModifiers::CONTROL)
                    && !key.modifiers.contains(KeyModifiers::ALT) =>
            {
                s.view.focus = Focus::Input;
                s.composer.area.insert_char(c);
            }
            _ => {}
        },
    }
}

fn input_key(s: &mut State, key: KeyEvent, cmds: &mut Vec<Command>) {
    let newline = (key.code == KeyCode::Enter
        && (key.modifiers.contains(KeyModifiers::SHIFT)
            || key.modifiers.contains(KeyModifiers::ALT)))
        || ctrl(&key, 'j');
    if newline {
        s.composer.area.insert_newline();
        return;
    }
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
    if ctrl(&key, 'v') {
        cmds.push(Command::ReadClipboard);
        return;
    }
    if key.code == KeyCode::Backspace && attachments::remove_last(s) {
        return;
    }
    match key.code {
        KeyCode::Enter => send(s, cmds),
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
