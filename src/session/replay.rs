//! A journal's records back into a session: the conversation to continue, the transcript
//! to show, the undo steps and each changed file's state before the session.

use std::path::PathBuf;

use super::record::{Blob, Record};
use crate::domain::conversation::{ContentPart, Message, Role};
use crate::protocol::{PastTool, ToolResultKind, TranscriptItem};

/// A file change as the journal recorded it (path relative to the workspace).
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub path: String,
    pub old: Option<std::sync::Arc<[u8]>>,
    pub new: Option<std::sync::Arc<[u8]>>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Resumed {
    pub id: String,
    pub path: PathBuf,
    pub started: u64,
    pub system_prompt: String,
    pub git: Option<String>,
    /// The conversation to go on with, system prompt first (compactions applied).
    pub messages: Vec<Message>,
    pub transcript: Vec<TranscriptItem>,
    /// Finished turns' changes, oldest first; `/undo` takes the last.
    pub undo: Vec<Vec<Change>>,
    /// Each changed file as it was before the session first changed it.
    pub base: Vec<(String, Option<std::sync::Arc<[u8]>>)>,
    /// What cove had yet to tell the model.
    pub note: Option<String>,
    pub turns: u64,
    pub warnings: Vec<String>,
    /// The images of user messages, by transcript index, for thumbnails.
    pub images: Vec<(usize, Vec<String>)>,
}

/// Rebuilds a session from its records (the first must be `start`).
pub fn replay(
    records: Vec<Record>,
    path: PathBuf,
    warnings: Vec<String>,
) -> Result<Resumed, String> {
    let mut it = records.into_iter();
    let Some(Record::Start {
        id,
        started,
        system_prompt,
        git,
        ..
    }) = it.next()
    else {
        return Err(format!(
            "{} does not start with a session record",
            path.display()
        ));
    };
    let mut s = Resumed {
        id,
        path,
        started,
        messages: vec![Message::system(system_prompt.clone())],
        system_prompt,
        git,
        warnings,
        ..Resumed::default()
    };
    let mut open: Vec<Change> = Vec::new();
    // the changes of the call running now (journaled before its result), and the calls
    // with changes of the open undo step, and of each step
    let mut call_changes: Vec<Change> = Vec::new();
    let mut step_calls: Vec<String> = Vec::new();
    let mut undo_calls: Vec<Vec<String>> = Vec::new();
    // tool results not yet matched with their call's `tool` record (id, text)
    let mut results: Vec<(String, String)> = Vec::new();
    for r in it {
        match r {
            Record::Start { .. } => s.warnings.push("a second start record was ignored".into()),
            Record::Message {
                turn,
                message,
                shown,
                reasoning,
                model,
            } => {
                s.turns = s.turns.max(turn);
                match message.role {
                    Role::User => {
                        s.note = None;
                        let urls: Vec<String> = match &message.content {
                            Some(crate::domain::conversation::Content::Parts(p)) => p
                                .iter()
                                .filter_map(|p| match p {
                                    ContentPart::ImageUrl(u) => Some(u.clone()),
                                    ContentPart::Text(_) => None,
                                })
                                .collect(),
                            _ => Vec::new(),
                        };
                        let images: Vec<String> =
                            (1..=urls.len()).map(|i| format!("image {i}")).collect();
                        // an empty `shown`: a message cove wrote for the user (vision hand-over)
                        if shown.as_deref() != Some("") {
                            if !urls.is_empty() {
                                s.images.push((s.transcript.len(), urls));
                            }
                            s.transcript.push(TranscriptItem::User {
                                text: shown.unwrap_or_else(|| message.text_content()),
                                previews: vec![None; images.len()],
                                images,
                            });
                        }
                    }
                    Role::Assistant => s.transcript.push(TranscriptItem::Assistant {
                        model: model.unwrap_or_default(),
                        content: message.text_content(),
                        reasoning: reasoning.unwrap_or_default(),
                        tools: message
                            .tool_calls
                            .iter()
                            .map(|c| PastTool {
                                id: c.id.clone(),
                                name: c.name.clone(),
                                arguments: c.arguments.clone(),
                                mended: c.mended(),
                                ..PastTool::default()
                            })
                            .collect(),
                    }),
                    Role::Tool => {
                        // for the card, when the call's `tool` record comes
                        if let Some(id) = &message.tool_call_id {
                            results.push((id.clone(), message.text_content()));
                        }
                    }
                    Role::System => {}
                }
                s.messages.push(message);
            }
            Record::Tool {
                call_id,
                name,
                arguments,
                edited,
                kind,
                summary,
                ..
            } => {
                let output = match results.iter().rposition(|(id, _)| *id == call_id) {
                    Some(i) => crate::domain::output::tool_output(&results.swap_remove(i).1),
                    None => String::new(),
                };
                if edited {
                    // the model's message with the call holds what ran (as it did live)
                    let call = s
                        .messages
                        .iter_mut()
                        .rev()
                        .filter(|m| m.role == Role::Assistant)
                        .find_map(|m| m.tool_calls.iter_mut().find(|c| c.id == call_id));
                    if let Some(c) = call {
                        c.arguments = arguments.clone();
                    }
                }
                let kind = match kind.as_str() {
                    "done" => ToolResultKind::Done,
                    "rejected" => ToolResultKind::Rejected,
                    _ => ToolResultKind::Failed,
                };
                let card = past_tool(&mut s.transcript, &call_id);
                let changes = shown_changes(&call_changes);
                call_changes.clear();
                if !changes.is_empty() {
                    step_calls.push(call_id.clone());
                }
                match card {
                    Some(c) => {
                        c.result = Some((kind, summary));
                        c.changes = changes;
                        c.output = output;
                        if edited {
                            c.arguments = arguments;
                            c.edited = true;
                        }
                    }
                    // a call refused before it reached the conversation
                    None => s.transcript.push(TranscriptItem::Assistant {
                        model: String::new(),
                        content: String::new(),
                        reasoning: String::new(),
                        tools: vec![PastTool {
                            id: call_id,
                            name,
                            arguments,
                            edited,
                            result: Some((kind, summary)),
                            output,
                            changes,
                            ..PastTool::default()
                        }],
                    }),
                }
            }
            Record::Change { path, old, new, .. } => {
                let old = old.as_ref().and_then(Blob::to_bytes);
                let new = new.as_ref().and_then(|b| b.to_bytes_after(old.as_deref()));
                if !s.base.iter().any(|(p, _)| *p == path) {
                    s.base.push((path.clone(), old.clone()));
                }
                call_changes.push(Change {
                    path: path.clone(),
                    old: old.clone(),
                    new: new.clone(),
                });
                open.push(Change { path, old, new });
            }
            Record::TurnEnd { .. } => {
                results.clear();
                if !open.is_empty() {
                    s.undo.push(std::mem::take(&mut open));
                    undo_calls.push(std::mem::take(&mut step_calls));
                }
            }
            Record::Undo => {
                s.undo.pop();
                for id in undo_calls.pop().unwrap_or_default() {
                    if let Some(c) = past_tool(&mut s.transcript, &id) {
                        c.undone = true;
                    }
                }
            }
            Record::Note { text } => s.note = (!text.is_empty()).then_some(text),
            Record::Git { summary } => s.git = summary,
            Record::Compacted { messages, report } => {
                s.messages.truncate(1);
                s.messages.extend(messages);
                if !report.is_empty() {
                    s.transcript.push(TranscriptItem::Notice(report));
                }
            }
            Record::Notice { text } => s.transcript.push(TranscriptItem::Notice(text)),
            Record::Vision {
                turn,
                text,
                images,
                model,
                answer,
            } => {
                s.turns = s.turns.max(turn);
                s.transcript.push(TranscriptItem::User {
                    text,
                    previews: vec![None; images.len()],
                    images,
                });
                s.transcript.push(TranscriptItem::Assistant {
                    model,
                    content: answer,
                    reasoning: String::new(),
                    tools: Vec::new(),
                });
            }
            Record::Decision { .. } => {}
        }
    }
    // a turn cut off by a crash still had its changes made
    if !open.is_empty() {
        s.undo.push(open);
    }
    answer_dangling_calls(&mut s.messages);
    answer_dangling_users(&mut s.messages);
    Ok(s)
}

/// The past call `id`, newest first.
fn past_tool<'a>(transcript: &'a mut [TranscriptItem], id: &str) -> Option<&'a mut PastTool> {
    transcript.iter_mut().rev().find_map(|t| match t {
        TranscriptItem::Assistant { tools, .. } => tools.iter_mut().find(|c| c.id == id),
        _ => None,
    })
}

/// A call's changes as the transcript shows them: text files up to `PAST_CHANGE_MAX` a
/// side (a binary or huge file stays in the journal only).
fn shown_changes(changes: &[Change]) -> Vec<crate::protocol::ProposedChange> {
    let text = |b: &Option<std::sync::Arc<[u8]>>| -> Option<Option<std::sync::Arc<str>>> {
        match b {
            None => Some(None),
            Some(bytes) if bytes.len() <= crate::protocol::PAST_CHANGE_MAX => {
                std::str::from_utf8(bytes).ok().map(|t| Some(t.into()))
            }
            Some(_) => None,
        }
    };
    changes
        .iter()
        .filter_map(|c| {
            Some(crate::protocol::ProposedChange {
                path: c.path.clone(),
                old: text(&c.old)?,
                new: text(&c.new)?,
            })
        })
        .collect()
}

/// A crash between a tool call and its result leaves a call without an answer, which
/// strict chat templates refuse: each such call gets a result saying so.
fn answer_dangling_calls(messages: &mut Vec<Message>) {
    let mut i = 0;
    while i < messages.len() {
        let calls: Vec<String> = messages[i]
            .tool_calls
            .iter()
            .map(|c| c.id.clone())
            .collect();
        i += 1;
        if calls.is_empty() {
            continue;
        }
        let mut answered = Vec::new();
        while i < messages.len() && messages[i].role == Role::Tool {
            answered.extend(messages[i].tool_call_id.clone());
            i += 1;
        }
        for id in calls.into_iter().filter(|id| !answered.contains(id)) {
            messages.insert(
                i,
                Message::tool_result(
                    id,
                    "(cove stopped before this call finished; whether it ran is unknown: check before relying on it)",
                ),
            );
            i += 1;
        }
    }
}

/// A user message without a reply, or tool results the model never answered (a crash
/// while the model answered or a tool ran), get a placeholder reply, so roles alternate.
fn answer_dangling_users(messages: &mut Vec<Message>) {
    let mut i = 0;
    while i < messages.len() {
        let unanswered = matches!(messages[i].role, Role::User | Role::Tool)
            && messages
                .get(i + 1)
                .is_none_or(|next| next.role == Role::User);
        i += 1;
        if unanswered {
            messages.insert(
                i,
                Message::assistant(
                    "(no reply: cove stopped before the model answered)",
                    Vec::new(),
                ),
            );
            i += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::conversation::ToolCall;

    fn start() -> Record {
        Record::Start {
            version: 1,
            id: "s".into(),
            workspace: "/w".into(),
            started: 0,
            system_prompt: "sys".into(),
            git: None,
        }
    }

    fn msg(turn: u64, message: Message) -> Record {
        Record::Message {
            turn,
            message,
            shown: None,
            reasoning: None,
            model: None,
        }
    }

    #[test]
    fn a_journal_of_an_earlier_version_without_edit_marks_still_loads() {
        // lines as version 1 wrote them: a `tool` record without `edited`
        let journal = [
            r#"{"type":"start","version":1,"id":"s","workspace":"/w","started":0,"system_prompt":"sys"}"#,
            r#"{"type":"message","turn":1,"message":{"role":"user","content":{"text":"go"}}}"#,
            r#"{"type":"message","turn":1,"message":{"role":"assistant","content":{"text":""},"tool_calls":[{"id":"c1","name":"shell","arguments":"{\"command\":\"ls\"}"}]}}"#,
            r#"{"type":"message","turn":1,"message":{"role":"tool","content":{"text":"a.txt\nexit code 0"},"tool_call_id":"c1"}}"#,
            r#"{"type":"tool","turn":1,"call_id":"c1","name":"shell","arguments":"{\"command\":\"ls\"}","kind":"done","summary":"a.txt"}"#,
        ];
        let records: Vec<Record> = journal
            .iter()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let r = replay(records, "/s.jsonl".into(), vec![]).unwrap();
        let TranscriptItem::Assistant { tools, .. } = &r.transcript[1] else {
            panic!("{:?}", r.transcript)
        };
        assert!(!tools[0].edited);
        assert_eq!(tools[0].arguments, r#"{"command":"ls"}"#);
        assert_eq!(tools[0].output, "a.txt\nexit code 0");
        // and an edited call's record is written so that it reads back the same
        let edited = Record::Tool {
            turn: 1,
            call_id: "c1".into(),
            name: "shell".into(),
            arguments: r#"{"command":"ls -a"}"#.into(),
            edited: true,
            kind: "done".into(),
            summary: ".".into(),
        };
        let line = serde_json::to_string(&edited).unwrap();
        assert!(line.contains(r#""edited":true"#), "{line}");
        assert_eq!(serde_json::from_str::<Record>(&line).unwrap(), edited);
        let mut records: Vec<Record> = journal[..4]
            .iter()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        records.push(edited);
        let r = replay(records, "/s.jsonl".into(), vec![]).unwrap();
        let TranscriptItem::Assistant { tools, .. } = &r.transcript[1] else {
            panic!("{:?}", r.transcript)
        };
        assert!(tools[0].edited);
        assert_eq!(tools[0].arguments, r#"{"command":"ls -a"}"#);
        assert_eq!(
            r.messages[2].tool_calls[0].arguments,
            r#"{"command":"ls -a"}"#
        );
    }

    #[test]
    fn a_crash_mid_turn_leaves_a_conversation_strict_templates_accept() {
        let call = ToolCall {
            id: "c1".into(),
            name: "shell".into(),
            arguments: "{}".into(),
            ..ToolCall::default()
        };
        let records = vec![
            start(),
            msg(1, Message::user("one")),
            // crashed while the model answered
            msg(2, Message::user("two")),
            msg(2, Message::assistant("", vec![call])),
            // crashed while the call ran
            msg(3, Message::user("three")),
        ];
        let r = replay(records, "/s.jsonl".into(), vec![]).unwrap();
        let roles: Vec<Role> = r.messages.iter().map(|m| m.role).collect();
        assert_eq!(
            roles,
            vec![
                Role::System,
                Role::User,
                Role::Assistant,
                Role::User,
                Role::Assistant,
                Role::Tool,
                Role::Assistant,
                Role::User,
                Role::Assistant
            ]
        );
        assert_eq!(r.messages[5].tool_call_id.as_deref(), Some("c1"));
        assert_eq!(r.turns, 3);
        // the transcript shows what happened: no placeholders there
        assert_eq!(r.transcript.len(), 4);
    }

    #[test]
    fn past_calls_carry_their_changes_and_undo_marks_them() {
        let call = |id: &str| ToolCall {
            id: id.into(),
            name: "write_file".into(),
            arguments: "{}".into(),
            ..ToolCall::default()
        };
        let change = |path: &str, new: &[u8]| Record::Change {
            turn: 1,
            path: path.into(),
            old: None,
            new: Some(Blob::of(&std::sync::Arc::from(new))),
        };
        let tool = |id: &str| Record::Tool {
            turn: 1,
            call_id: id.into(),
            name: "write_file".into(),
            arguments: "{}".into(),
            kind: "done".into(),
            summary: "wrote".into(),
            edited: false,
        };
        let records = vec![
            start(),
            msg(1, Message::user("one")),
            msg(1, Message::assistant("", vec![call("c1"), call("c2")])),
            change("a.txt", b"hello\n"),
            tool("c1"),
            // binary: in the journal for undo, not shown again
            change("b.bin", &[0xff, 0xfe, 0]),
            tool("c2"),
            Record::TurnEnd { turn: 1 },
            msg(2, Message::user("two")),
            msg(2, Message::assistant("", vec![call("c3")])),
            change("c.txt", b"c\n"),
            tool("c3"),
            Record::TurnEnd { turn: 2 },
            Record::Undo,
        ];
        let r = replay(records, "/s.jsonl".into(), vec![]).unwrap();
        let tools: Vec<&PastTool> = r
            .transcript
            .iter()
            .filter_map(|t| match t {
                TranscriptItem::Assistant { tools, .. } => Some(tools.iter()),
                _ => None,
            })
            .flatten()
            .collect();
        assert_eq!(tools.len(), 3);
        assert_eq!(tools[0].changes.len(), 1);
        assert_eq!(tools[0].changes[0].path, "a.txt");
        assert_eq!(tools[0].changes[0].new.as_deref(), Some("hello\n"));
        assert!(tools[0].changes[0].old.is_none());
        assert!(tools[1].changes.is_empty(), "binary changes are not shown");
        assert!(!tools[0].undone && !tools[1].undone);
        assert_eq!(tools[2].changes[0].path, "c.txt");
        assert!(tools[2].undone, "the undone step's call is marked");
        assert_eq!(r.undo.len(), 1);
    }
}
