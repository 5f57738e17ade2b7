//! `update` for what the agent reports: the streaming reply, tool calls and their
//! results, the approval queue, the end of a turn.

use super::state::*;
use crate::protocol::{AgentEvent, StreamEvent, ToolResultKind, TurnOutcome};

pub fn on_agent(s: &mut State, ev: AgentEvent) {
    match ev {
        AgentEvent::Server(status) => {
            s.server = status;
            s.probing = false;
            let model = s.server.model.clone();
            if let Some(Entry {
                kind: EntryKind::Assistant(a),
                ..
            }) = s.current_entry_mut()
                && a.model.is_empty()
            {
                a.model = model;
            }
        }
        AgentEvent::SessionLoaded {
            id,
            transcript,
            turns,
        } => super::sessions::load(s, id, transcript, turns),
        AgentEvent::SessionStarted { id } => s.session_id = id,
        AgentEvent::Ready => {
            if matches!(s.activity, Activity::Agent(ref w) if *w != AgentWork::Gone) {
                s.activity = Activity::Idle;
            }
        }
        AgentEvent::Sessions { sessions, current } => {
            // the user closed the picker before the list came
            let Some(picker) = s.overlay.sessions_mut() else {
                return;
            };
            picker.selected = sessions.iter().position(|x| x.id == current).unwrap_or(0);
            picker.sessions = Some(sessions);
            picker.current = current;
        }
        AgentEvent::ShellDone {
            turn,
            command,
            output,
            ok,
        } => {
            if s.activity == Activity::Shell(turn) {
                s.activity = Activity::Idle;
            }
            let status = if ok { "" } else { " (failed)" };
            s.chat.entries.push(Entry::new(EntryKind::Notice(format!(
                "$ {command}{status}\n{}",
                output.trim_end()
            ))));
            if matches!(s.view.scroll, Scroll::Anchored { .. }) {
                s.view.unseen_below = true;
            }
        }
        AgentEvent::ContextUsage { tokens, window } => {
            s.usage.context_used = Some(tokens);
            if window.is_some() {
                s.server.context_window = window;
            }
        }
        AgentEvent::Undone { .. } => {
            // what the pane showed of the undone changes is no longer true
            s.diff.shown = None;
            s.chat.mark_last_turn_undone();
        }
        AgentEvent::SessionDiff { changes } => {
            if changes.is_empty() {
                // a diff shown before (undone since) is not left on screen
                s.diff.shown = None;
                s.flash("cove has changed no files in this session");
            } else {
                let n = changes.len();
                super::diffs::show(
                    s,
                    format!(
                        "session: {n} file{} changed by cove",
                        if n == 1 { "" } else { "s" }
                    ),
                    &changes,
                );
            }
        }
        AgentEvent::Stream { turn, event } => {
            if is_current(s, turn) {
                super::diffs::on_stream(s, turn, &event);
            }
            on_stream(s, turn, event)
        }
        AgentEvent::LiveBase {
            turn, index, text, ..
        } => super::diffs::on_base(s, turn, index, text),
        AgentEvent::Responder { turn, model } => {
            if is_current(s, turn)
                && let Some(entry) = s.current_entry_mut()
                && let EntryKind::Assistant(a) = &mut entry.kind
            {
                a.model = model;
                entry.touch();
            }
        }
        AgentEvent::Notice { text } => {
            // before a reply that has not begun (files attached, compaction): above it
            let waiting = s.turn().and_then(|t| t.entry).filter(|&id| {
                s.chat.get(id).is_some_and(|e| matches!(&e.kind,
                    EntryKind::Assistant(a) if a.content.is_empty() && a.reasoning.is_empty() && a.tools.is_empty()))
            });
            match waiting {
                Some(id) => {
                    s.chat.insert_before(id, EntryKind::Notice(text));
                }
                None => {
                    s.chat.push(EntryKind::Notice(text));
                }
            }
            if matches!(s.view.scroll, Scroll::Anchored { .. }) {
                s.view.unseen_below = true;
            }
        }
        AgentEvent::StepDone { turn, outcome } => {
            if is_current(s, turn) {
                s.diff.live = None;
                finish_entry(s, &outcome);
                if let Some(t) = s.turn_mut() {
                    t.entry = None;
                    t.steps += 1;
                }
            }
        }
        AgentEvent::ApprovalNeeded { turn, request } => {
            if !is_current(s, turn) {
                return;
            }
            set_card(s, &request.call_id, ToolState::Waiting);
            let (files, declined) = super::diffs::queued(&request);
            let unseen = super::unseen::scan(&request, &files);
            s.queue.items.push(Queued {
                turn,
                request,
                files,
                declined,
                unseen,
            });
            if s.queue.items.len() == 1 {
                s.queue.selected = 0;
                s.diff.cursor = 0;
            }
            // one keystroke decides: the queue takes focus (the composer keeps its text)
            s.view.focus = Focus::Approvals;
            s.view.main_tab = Focus::Approvals;
            s.queue_changed();
        }
        AgentEvent::ToolStarted { turn, call_id } => {
            if is_current(s, turn) {
                dequeue(s, &call_id);
                set_card(s, &call_id, ToolState::Running);
            }
        }
        AgentEvent::ToolFinished {
            turn,
            call_id,
            kind,
            summary,
            output,
            changes,
        } => {
            if !is_current(s, turn) {
                return;
            }
            dequeue(s, &call_id);
            let state = match kind {
                ToolResultKind::Done => ToolState::Done(summary),
                ToolResultKind::Failed => ToolState::Failed(summary),
                ToolResultKind::Rejected => ToolState::Rejected(summary),
            };
            s.chat.update_card(&call_id, |card| {
                card.state = state;
                card.changes = changes;
                card.output = output;
            });
        }
        AgentEvent::TurnDone { turn, outcome } => {
            if !is_current(s, turn) {
                return;
            }
            finish_entry(s, &outcome);
            if outcome.ttft_ms.is_some() || outcome.tokens_per_s.is_some() {
                s.usage.last = LastStats {
                    ttft_ms: outcome.ttft_ms,
                    tokens_per_s: outcome.tokens_per_s,
                };
            }
            if outcome.interrupted {
                s.flash("Interrupted");
            }
            end_turn(s);
        }
        // `cove exec`'s; the TUI sends no tasks
        AgentEvent::TaskTurn { .. } | AgentEvent::Checked { .. } | AgentEvent::TaskDone(_) => {}
        AgentEvent::Busy { op, turn } => {
            // the UI holds ops back while the agent works, so this is a race (an op sent
            // just as a turn began): say what was not done, and end what waited for it
            if let Some(turn) = turn
                && s.activity == Activity::Shell(turn)
            {
                s.activity = Activity::Idle;
            }
            if let Some(turn) = turn.filter(|&t| is_current(s, t)) {
                on_agent(
                    s,
                    AgentEvent::TurnFailed {
                        turn,
                        error: "cove was busy with other work; this message was not sent".into(),
                        hint: "Send it again once the current work has finished.".into(),
                    },
                );
                return;
            }
            s.flash(format!(
                "cove was busy: {op} was not done; try again when it is idle"
            ));
        }
        AgentEvent::TurnFailed { turn, error, hint } => {
            if !is_current(s, turn) {
                return;
            }
            if let Some(i) = s
                .turn()
                .and_then(|t| t.entry)
                .and_then(|id| s.chat.index_of(id))
            {
                let empty = matches!(&s.chat.entries[i].kind,
                    EntryKind::Assistant(a) if a.content.is_empty() && a.reasoning.is_empty() && a.tools.is_empty());
                if empty {
                    s.chat.entries.remove(i);
                } else if let EntryKind::Assistant(a) = &mut s.chat.entries[i].kind {
                    a.status = ReplyStatus::CutShort(error.clone());
                    s.chat.entries[i].touch();
                }
            }
            // the agent's own stops (max_iterations, a model going round in circles) say
            // "stopped …": nothing failed, cove ended the turn
            let title = if error.starts_with("stopped") {
                "cove stopped the turn"
            } else {
                "The request failed"
            };
            s.chat.entries.push(Entry::new(EntryKind::Error {
                title: title.into(),
                message: error,
                hint,
            }));
            if matches!(s.view.scroll, Scroll::Anchored { .. }) {
                s.view.unseen_below = true;
            }
            end_turn(s);
        }
    }
}

/// The agent's task is gone: say so, keep everything on screen, and take no more input
/// for it (the journal has the session; `cove --continue` picks it up).
pub(super) fn agent_gone(s: &mut State) {
    if s.turn().is_some() {
        end_turn(s);
    }
    s.chat.entries.push(Entry::new(EntryKind::Error {
        title: "cove's agent stopped".into(),
        message: "An internal error stopped the part of cove that talks to the model and runs tools.                   Everything up to here is in the session journal."
            .into(),
        hint: "Quit (Ctrl+C twice) and run `cove --continue` to go on.".into(),
    }));
    s.activity = Activity::Agent(AgentWork::Gone);
}

fn is_current(s: &State, turn: u64) -> bool {
    s.turn().is_some_and(|t| t.id == turn)
}

fn end_turn(s: &mut State) {
    s.activity = Activity::Idle;
    s.diff.live = None;
    // the diff tab came forward for a change being written: the reply is what to see now
    s.queue.items.clear();
    s.queue.input = None;
    s.queue_changed();
}

fn on_stream(s: &mut State, turn: u64, event: StreamEvent) {
    if !is_current(s, turn) {
        return;
    }
    if let StreamEvent::Notice { message } = &event {
        match s.turn().and_then(|t| t.entry) {
            Some(id) => s.chat.insert_before(id, EntryKind::Notice(message.clone())),
            None => s.chat.push(EntryKind::Notice(message.clone())),
        };
        return;
    }
    if s.turn().is_some_and(|t| t.entry.is_none()) {
        // the next model response of this turn, after its tool calls ran
        let id = s.chat.push(EntryKind::Assistant(Assistant::streaming(
            s.server.model.clone(),
        )));
        if let Some(t) = s.turn_mut() {
            t.entry = Some(id);
        }
    }
    let anchored = matches!(s.view.scroll, Scroll::Anchored { .. });
    let Some(entry) = s.current_entry_mut() else {
        return;
    };
    let EntryKind::Assistant(a) = &mut entry.kind else {
        return;
    };
    match event {
        StreamEvent::Content { text } => a.content.push_str(&text),
        StreamEvent::Reasoning { text } => a.reasoning.push_str(&text),
        StreamEvent::ToolCallStart { id, name, .. } => a.tools.push(ToolCard {
            changes: Vec::new(),
            id,
            name,
            arguments: String::new(),
            mended: None,
            edited: false,
            undone: false,
            output: String::new(),
            state: ToolState::Streaming,
        }),
        StreamEvent::ToolCallArgs { index, fragment } => {
            if let Some(card) = a.tools.get_mut(index) {
                card.arguments.push_str(&fragment);
            }
        }
        StreamEvent::Notice { .. } => {}
    }
    entry.touch();
    if anchored {
        s.view.unseen_below = true;
    }
}

fn finish_entry(s: &mut State, o: &TurnOutcome) {
    if o.context_tokens.is_some() {
        s.usage.context_used = o.context_tokens;
    }
    let Some(entry) = s.current_entry_mut() else {
        return;
    };
    let EntryKind::Assistant(a) = &mut entry.kind else {
        return;
    };
    a.status = if o.interrupted {
        ReplyStatus::Interrupted
    } else if let Some(why) = &o.cut_short {
        ReplyStatus::CutShort(why.clone())
    } else {
        ReplyStatus::Done
    };
    if let Some(content) = &o.final_content {
        a.content = content.clone();
    }
    if !o.tool_calls.is_empty() {
        // the final list (ids as sent, calls recovered from text included)
        a.tools = o
            .tool_calls
            .iter()
            .map(|t| ToolCard {
                changes: Vec::new(),
                id: t.id.clone(),
                name: t.name.clone(),
                arguments: t.arguments.clone(),
                mended: t.mended.clone(),
                edited: false,
                undone: false,
                output: String::new(),
                state: ToolState::Proposed,
            })
            .collect();
    }
    for card in &mut a.tools {
        if card.state == ToolState::Streaming {
            card.state = ToolState::Proposed;
        }
    }
    a.ttft_ms = o.ttft_ms;
    a.tokens_per_s = o.tokens_per_s;
    entry.touch();
}

/// The user approved `call_id` with arguments they edited: its card shows what runs (for
/// `shell` the edited text is the command; for other tools the arguments' JSON).
pub(super) fn set_card_edited(s: &mut State, call_id: &str, edited: &str) {
    s.chat.update_card(call_id, |card| {
        card.arguments = if card.name == "shell" {
            let mut args = serde_json::from_str::<serde_json::Value>(&card.arguments)
                .ok()
                .filter(serde_json::Value::is_object)
                .unwrap_or_else(|| serde_json::json!({}));
            args["command"] = serde_json::Value::String(edited.trim().to_owned());
            args.to_string()
        } else {
            edited.to_owned()
        };
        card.edited = true;
    });
}

/// Finds the card of `call_id` (newest first) and sets its state.
pub(super) fn set_card(s: &mut State, call_id: &str, state: ToolState) {
    s.chat.update_card(call_id, |card| card.state = state);
}

fn dequeue(s: &mut State, call_id: &str) {
    s.queue.remove(call_id);
    s.queue_changed();
}
