//! Keys of the approval queue: one keystroke decides the selected call.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui_textarea::{CursorMove, TextArea};

use super::keymap::Action;
use super::msg::Command;
use super::state::*;
use crate::protocol::{ApprovalKind, Decision, Op};

/// A decision key on the queue (or on the diff pane, or the "everything" view, while
/// calls wait): it decides the selected call, the one on screen.
pub fn queue_action(s: &mut State, action: Action, cmds: &mut Vec<Command>) {
    let Some(selected) = s.selected_approval().cloned() else {
        return;
    };
    let from_diff = s.view.focus == Focus::Diff && s.overlay.view_all().is_none();
    match action {
        Action::Approve => super::diffs::approve_selected(s, cmds),
        // the diff pane rejects at once; the queue asks for an optional reason
        Action::Reject if from_diff => super::diffs::reject_selected(s, cmds),
        Action::Reject => open_input(s, InputMode::Reason, &selected.request.call_id, ""),
        Action::ViewAll => super::view_all::open(s),
        Action::AllowSession => match &selected.request.session_prefix {
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
        Action::Edit if s.editor && editable_in_editor(&selected) => {
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
        Action::Edit => {
            // the command line of a command, else the arguments (the agent prepared both)
            let initial = selected.request.edit_text.clone();
            open_input(s, InputMode::Edit, &selected.request.call_id, &initial);
        }
        Action::ApproveAll => {
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
                let text = s.keymap.expand(&format!(
                    "{left} dangerous call{} left: decide {} one by one ({{approve}} / {{reject}})",
                    if left == 1 { "" } else { "s" },
                    if left == 1 { "it" } else { "them" }
                ));
                s.flash(text);
            }
        }
        Action::RejectAll => {
            for id in ids(s) {
                decide(s, cmds, &id, Decision::Reject { reason: None });
            }
        }
        _ => {}
    }
}

/// Up / Down on the queue: the selection moves, the diff starts at its first hunk.
pub fn move_selection(s: &mut State, down: bool) {
    s.queue.selected = if down {
        (s.queue.selected + 1).min(s.queue.items.len().saturating_sub(1))
    } else {
        s.queue.selected.saturating_sub(1)
    };
    s.diff.cursor = 0;
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
