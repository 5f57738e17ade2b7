//! Keys of the approval queue: one keystroke decides the selected call.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui_textarea::{CursorMove, TextArea};

use super::msg::Command;
use super::state::*;
use crate::protocol::{ApprovalKind, Decision, Op};

/// Handles a key while the queue has focus; false when the key is not the queue's.
pub fn queue_key(s: &mut State, key: KeyEvent, cmds: &mut Vec<Command>) -> bool {
    if key.modifiers.contains(KeyModifiers::CONTROL) || key.modifiers.contains(KeyModifiers::ALT) {
        return false;
    }
    let Some(selected) = s.selected_approval().cloned() else {
        return false;
    };
    match key.code {
        KeyCode::Char('y') => super::diffs::approve_selected(s, cmds),
        KeyCode::Char(' ' | ']' | '[' | 's' | 'z') => {
            super::diffs::diff_key(s, &key);
        }
        KeyCode::Char('a') => match &selected.request.session_prefix {
            // a command: the user sees, and may narrow, the prefix that will stop asking
            Some(p) if matches!(selected.request.kind, ApprovalKind::Command(_)) => {
                open_input(s, InputMode::Prefix, &selected.request.call_id, p);
            }
            _ => {
                decide(
                    s,
                    cmds,
                    &selected.request.call_id,
                    Decision::ApproveForSession,
                );
                s.flash(format!(
                    "Allowed `{}` for this session (/permissions to revoke)",
                    selected.request.tool
                ));
            }
        },
        KeyCode::Char('n') => open_input(s, InputMode::Reason, &selected.request.call_id, ""),
        KeyCode::Char('v') => super::view_all::open(s),
        KeyCode::Char('e') if s.editor && editable_in_editor(&selected) => {
            let change = &selected.request.changes[0];
            let name = change
                .path
                .rsplit('/')
                .next()
                .unwrap_or(&change.path)
                .to_owned();
            cmds.push(Command::EditInEditor {
                call_id: selected.request.call_id.clone(),
                name,
                content: change.new.as_deref().unwrap_or_default().to_owned(),
            });
        }
        KeyCode::Char('e') => {
            // the command line of a command, else the arguments (the agent prepared both)
            let initial = selected.request.edit_text.clone();
            open_input(s, InputMode::Edit, &selected.request.call_id, &initial);
        }
        KeyCode::Char('Y') => {
            // a dangerous command is approved on its own, with `y`, never in a batch
            let all: Vec<(String, Decision)> = s
                .queue
                .items
                .iter()
                .filter(|q| q.request.danger.is_none())
                .map(|q| (q.request.call_id.clone(), super::diffs::approval(q)))
                .collect();
            let left = s.queue.items.len() - all.len();
            for (id, decision) in all {
                decide(s, cmds, &id, decision);
            }
            if left > 0 {
                s.flash(format!(
                    "{left} dangerous call{} left: decide {} one by one (y / n)",
                    if left == 1 { "" } else { "s" },
                    if left == 1 { "it" } else { "them" }
                ));
            }
        }
        KeyCode::Char('N') => {
            for id in ids(s) {
                decide(s, cmds, &id, Decision::Reject { reason: None });
            }
        }
        KeyCode::Char('j') | KeyCode::Down => {
            s.queue.selected = (s.queue.selected + 1).min(s.queue.items.len() - 1);
            s.diff.cursor = 0;
        }
        KeyCode::Char('k') | KeyCode::Up => {
            s.queue.selected = s.queue.selected.saturating_sub(1);
            s.diff.cursor = 0;
        }
        // not a quit key while something waits for a decision
        KeyCode::Char('q') => {
            s.flash("Decide the queued calls first (y/n), or Esc to stop the turn")
        }
        _ => return false,
    }
    true
}

/// Keys while typing a rejection reason or editing arguments.
pub fn input_key(s: &mut State, key: KeyEvent, cmds: &mut Vec<Command>) {
    let Some(input) = s.queue.input.as_mut() else {
        return;
    };
    let submit = key.code == KeyCode::Enter
        && (input.mode != InputMode::Edit
            || !(key.modifiers.contains(KeyModifiers::SHIFT)
                || key.modifiers.contains(KeyModifiers::ALT)));
    let newline = input.mode == InputMode::Edit
        && ((key.code == KeyCode::Enter
            && (key.modifiers.contains(KeyModifiers::SHIFT)
                || key.modifiers.contains(KeyModifiers::ALT)))
            || (key.code == KeyCode::Char('j') && key.modifiers.contains(KeyModifiers::CONTROL)));
    if key.code == KeyCode::Esc {
        s.queue.input = None;
        return;
    }
    if newline {
        input.text.insert_newline();
        return;
    }
    if !submit {
        input.text.input(key);
        return;
    }
    let Some(input) = s.queue.input.take() else {
        return;
    };
    let text = input.text.lines().join("\n");
    let decision = match input.mode {
        InputMode::Reason => Decision::Reject {
            reason: Some(text.trim().to_owned()).filter(|r| !r.is_empty()),
        },
        InputMode::Edit => Decision::ApproveEdited(text),
        InputMode::Prefix => match text.trim() {
            "" => Decision::Approve,
            p => {
                s.flash(format!(
                    "Allowed shell commands starting `{p}` for this session (/permissions to revoke)"
                ));
                Decision::AllowPrefix(p.to_owned())
            }
        },
    };
    decide(s, cmds, &input.call_id, decision);
}

fn open_input(s: &mut State, mode: InputMode, call_id: &str, initial: &str) {
    let mut text = if initial.is_empty() {
        TextArea::default()
    } else {
        TextArea::new(initial.split('\n').map(str::to_owned).collect())
    };
    text.move_cursor(CursorMove::Bottom);
    text.move_cursor(CursorMove::End);
    text.set_placeholder_text(match mode {
        InputMode::Reason => "why not? (optional) · Enter rejects · Esc cancels",
        InputMode::Edit => "Enter approves the edited version · Esc cancels",
        InputMode::Prefix => "a command prefix · Enter approves and allows it · Esc cancels",
    });
    s.queue.input = Some(ApprovalInput {
        mode,
        call_id: call_id.to_owned(),
        text,
    });
}

/// A one-file edit or write: its new content can be edited as a whole file.
fn editable_in_editor(q: &Queued) -> bool {
    matches!(q.request.kind, ApprovalKind::Files { in_editor: true })
        && q.request.changes.len() == 1
        && q.request.changes[0].new.is_some()
}

/// The editor closed: a changed content approves the call with it.
pub fn edited(
    s: &mut State,
    call_id: &str,
    result: Result<String, String>,
    cmds: &mut Vec<Command>,
) {
    let Some(q) = s.queue.items.iter().find(|q| q.request.call_id == call_id) else {
        return;
    };
    let proposed = q.request.changes.first().and_then(|c| c.new.clone());
    match result {
        Err(e) => s.flash(e),
        Ok(text) if proposed.as_deref() == Some(text.as_str()) => {
            let text = s.keymap.expand(
                "Nothing changed in the editor: {approve} approves the model's version, {reject} rejects",
            );
            s.flash(text)
        }
        Ok(text) => {
            decide(s, cmds, call_id, Decision::ApproveContent(text));
            s.flash("Applying your edited version");
        }
    }
}

fn ids(s: &State) -> Vec<String> {
    s.queue
        .items
        .iter()
        .map(|q| q.request.call_id.clone())
        .collect()
}

pub(super) fn decide(s: &mut State, cmds: &mut Vec<Command>, call_id: &str, decision: Decision) {
    if let Decision::ApproveEdited(text) = &decision {
        super::agent_events::set_card_edited(s, call_id, text);
    }
    // the card says the decision at once, not when the agent gets to the call
    let state = match &decision {
        Decision::Reject { reason } => ToolState::Rejected(match reason {
            Some(r) => format!("declined by you: {r}"),
            None => "declined by you".into(),
        }),
        _ => ToolState::Approved,
    };
    super::agent_events::set_card(s, call_id, state);
    cmds.push(Command::Agent(Op::Decide {
        call_id: call_id.to_owned(),
        decision,
    }));
    s.queue.items.retain(|q| q.request.call_id != call_id);
    s.diff.cursor = 0;
    s.queue_changed();
}
