//! `update` for sessions: a loaded session's transcript replaces the chat; the picker's
//! keys.

use super::msg::Command;
use super::state::*;
use crate::protocol::{Op, ToolResultKind, TranscriptItem};
use crossterm::event::{KeyCode, KeyEvent};

/// A session was loaded (or a new one begun): its transcript becomes the chat.
pub fn load(s: &mut State, id: String, transcript: Vec<TranscriptItem>, turns: u64) {
    s.session_id = id;
    // everything about the old session goes; the user's way of looking stays
    s.chat = Conversation::default();
    s.queue = ApprovalQueue::default();
    s.diff = s.diff.for_new_session();
    s.usage = Usage::default();
    s.activity = Activity::Idle;
    s.next_turn = s.next_turn.max(turns.saturating_add(1));
    s.view.scroll = Scroll::Follow;
    s.view.unseen_below = false;
    if matches!(s.overlay, Overlay::ViewAll(_)) {
        s.overlay = Overlay::None;
    }
    s.queue_changed();
    let resumed = !transcript.is_empty();
    for item in transcript {
        let kind = match item {
            TranscriptItem::User {
                text,
                images,
                previews,
            } => EntryKind::User {
                text,
                images: images
                    .into_iter()
                    .enumerate()
                    .map(|(i, label)| SentImage {
                        label,
                        preview: previews.get(i).cloned().flatten(),
                    })
                    .collect(),
            },
            TranscriptItem::Assistant {
                model,
                content,
                reasoning,
                tools,
            } => EntryKind::Assistant(Assistant {
                model,
                content,
                reasoning,
                tools: tools
                    .into_iter()
                    .map(|t| ToolCard {
                        id: t.id,
                        name: t.name,
                        arguments: t.arguments,
                        mended: t.mended,
                        state: match t.result {
                            Some((ToolResultKind::Done, sum)) => ToolState::Done(sum),
                            Some((ToolResultKind::Failed, sum)) => ToolState::Failed(sum),
                            Some((ToolResultKind::Rejected, sum)) => ToolState::Rejected(sum),
                            None => ToolState::Failed("did not finish (the session ended)".into()),
                        },
                        changes: t.changes,
                        edited: t.edited,
                        undone: t.undone,
                        output: t.output,
                    })
                    .collect(),
                status: ReplyStatus::Done,
                ttft_ms: None,
                tokens_per_s: None,
            }),
            TranscriptItem::Notice(text) => EntryKind::Notice(text),
        };
        s.chat.push(kind);
    }
    if resumed {
        let id = s.session_id.clone();
        s.flash(format!("Resumed session {id}"));
    }
}

/// Keys while the session picker is open. Enter resumes the selected session, Esc closes.
pub fn on_key(s: &mut State, key: KeyEvent, cmds: &mut Vec<Command>) {
    let Some(p) = s.overlay.sessions_mut() else {
        return;
    };
    let n = p.sessions.as_ref().map_or(0, Vec::len);
    match key.code {
        KeyCode::Esc | KeyCode::Char('q') => s.overlay = Overlay::None,
        KeyCode::Up | KeyCode::Char('k') => p.selected = p.selected.saturating_sub(1),
        KeyCode::Down | KeyCode::Char('j') => {
            p.selected = (p.selected + 1).min(n.saturating_sub(1));
        }
        KeyCode::Home => p.selected = 0,
        KeyCode::End => p.selected = n.saturating_sub(1),
        KeyCode::Enter => {
            let chosen = p.sessions.as_ref().and_then(|l| l.get(p.selected)).cloned();
            let current = p.current.clone();
            s.overlay = Overlay::None;
            match chosen {
                Some(c) if c.id == current => s.flash("That is the session you are in"),
                Some(c) if s.is_running() => s.flash(format!(
                    "Wait for the reply to finish before resuming {}",
                    c.id
                )),
                Some(c) => {
                    s.activity = Activity::Agent(AgentWork::Resuming(c.id.clone()));
                    cmds.push(Command::Agent(Op::Resume { path: c.path }));
                }
                None => {}
            }
        }
        _ => {}
    }
}
