//! `/export`: a session's journal as Markdown, the whole history (compactions noted).

use super::record::Record;
use super::store::format_time;
use crate::domain::conversation::Role;

/// The Markdown of a session. Code fences inside messages are kept; tool output is put in
/// a fence long enough not to be closed by the output itself.
pub fn markdown(records: &[Record]) -> String {
    let mut out = String::new();
    for r in records {
        match r {
            Record::Start {
                id,
                workspace,
                started,
                ..
            } => {
                out.push_str(&format!(
                    "# cove session {id}\n\n- workspace: `{workspace}`\n- started: {} UTC\n\n",
                    format_time(*started)
                ));
            }
            Record::Message {
                message,
                shown,
                model,
                ..
            } => match message.role {
                Role::User => {
                    let text = shown.clone().unwrap_or_else(|| message.text_content());
                    if !text.is_empty() {
                        out.push_str(&format!("## You\n\n{}\n\n", text.trim_end()));
                    }
                }
                Role::Assistant => {
                    let text = message.text_content();
                    let who = model
                        .as_deref()
                        .filter(|m| !m.is_empty())
                        .unwrap_or("model");
                    out.push_str(&format!("## {who}\n\n"));
                    if !text.trim().is_empty() {
                        out.push_str(text.trim_end());
                        out.push_str("\n\n");
                    }
                    for c in &message.tool_calls {
                        out.push_str(&format!(
                            "**Tool call** `{}`\n\n{}\n",
                            c.name,
                            fenced("json", &c.arguments)
                        ));
                    }
                }
                Role::Tool => {
                    out.push_str(&format!(
                        "**Result**\n\n{}\n",
                        fenced("", &message.text_content())
                    ));
                }
                Role::System => {}
            },
            Record::Decision { tool, decision, .. } => {
                out.push_str(&format!("*{tool}: {decision}*\n\n"));
            }
            Record::Change { path, new, .. } => {
                let what = if new.is_none() { "deleted" } else { "changed" };
                out.push_str(&format!("*{what} `{path}`*\n\n"));
            }
            Record::Vision {
                text,
                images,
                model,
                answer,
                ..
            } => {
                out.push_str(&format!(
                    "## You ({})\n\n{}\n\n## {model}\n\n{}\n\n",
                    images.join(", "),
                    text.trim_end(),
                    answer.trim_end()
                ));
            }
            Record::Compacted { report, .. } | Record::Notice { text: report }
                if !report.is_empty() =>
            {
                out.push_str(&format!("> {}\n\n", report.replace('\n', "\n> ")));
            }
            Record::Undo => out.push_str("> The last turn's changes were undone.\n\n"),
            Record::Tool { .. }
            | Record::Git { .. }
            | Record::TurnEnd { .. }
            | Record::Note { .. }
            | Record::Compacted { .. }
            | Record::Notice { .. } => {}
        }
    }
    out
}

/// `text` in a code fence longer than any backtick run inside it.
fn fenced(lang: &str, text: &str) -> String {
    let fence = crate::domain::text::code_fence(text);
    format!("{fence}{lang}\n{}\n{fence}\n", text.trim_end())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::conversation::{Message, ToolCall};

    #[test]
    fn a_session_reads_as_markdown() {
        let records = vec![
            Record::Start {
                version: 1,
                id: "s1".into(),
                workspace: "/w".into(),
                started: 0,
                system_prompt: "sys".into(),
                git: None,
            },
            Record::Message {
                turn: 1,
                message: Message::user("note\n\nfix it"),
                shown: Some("fix it".into()),
                reasoning: None,
                model: None,
            },
            Record::Message {
                turn: 1,
                message: Message::assistant(
                    "Sure.",
                    vec![ToolCall {
                        id: "a".into(),
                        name: "shell".into(),
                        arguments: "{\"command\":\"ls\"}".into(),
                        ..ToolCall::default()
                    }],
                ),
                shown: None,
                reasoning: None,
                model: Some("devstral".into()),
            },
            Record::Message {
                turn: 1,
                message: Message::tool_result("a", "has ``` inside"),
                shown: None,
                reasoning: None,
                model: None,
            },
        ];
        let md = markdown(&records);
        assert!(md.starts_with("# cove session s1"), "{md}");
        assert!(md.contains("## You\n\nfix it\n"), "{md}");
        assert!(!md.contains("note"), "the sent-only note stays out: {md}");
        assert!(md.contains("## devstral\n\nSure."), "{md}");
        assert!(md.contains("````\nhas ``` inside\n````"), "{md}");
    }
}
