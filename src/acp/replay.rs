//! `session/load`: a journaled session's transcript as the `session/update`s that would
//! have shown it live (user and agent messages, reasoning, tool calls with their results).

use serde_json::{Value, json};

use super::wire::tool_kind;
use crate::protocol::{ToolResultKind, TranscriptItem};

fn text(kind: &str, text: &str) -> Value {
    json!({"sessionUpdate": kind, "content": {"type": "text", "text": text}})
}

/// The updates that replay `items`, in order.
pub(super) fn transcript_updates(items: &[TranscriptItem]) -> Vec<Value> {
    let mut out = Vec::new();
    for item in items {
        match item {
            TranscriptItem::User {
                text: t, images, ..
            } => {
                let mut shown = t.clone();
                for label in images {
                    shown.push_str(&format!("\n[image: {label}]"));
                }
                out.push(text("user_message_chunk", &shown));
            }
            TranscriptItem::Assistant {
                content,
                reasoning,
                tools,
                ..
            } => {
                if !reasoning.is_empty() {
                    out.push(text("agent_thought_chunk", reasoning));
                }
                if !content.is_empty() {
                    out.push(text("agent_message_chunk", content));
                }
                for tool in tools {
                    let (status, result) = match &tool.result {
                        Some((ToolResultKind::Done, r)) => ("completed", r.as_str()),
                        Some((_, r)) => ("failed", r.as_str()),
                        None => ("failed", "the session ended before this call finished"),
                    };
                    // as the call showed live: its output (bounded), else its summary
                    let result = match tool.result {
                        Some(_) if !tool.output.is_empty() => tool.output.as_str(),
                        _ => result,
                    };
                    let raw_input =
                        serde_json::from_str::<Value>(&tool.arguments).unwrap_or(Value::Null);
                    out.push(json!({
                        "sessionUpdate": "tool_call",
                        "toolCallId": tool.id,
                        "title": tool.name,
                        "kind": tool_kind(&tool.name),
                        "status": status,
                        "rawInput": raw_input,
                        "content": [{"type": "content", "content": {"type": "text", "text": result}}],
                    }));
                }
            }
            TranscriptItem::Notice(n) => {
                out.push(text("agent_message_chunk", &format!("\n> {n}\n")))
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::PastTool;

    #[test]
    fn a_transcript_replays_in_order_with_tool_results() {
        let items = vec![
            TranscriptItem::User {
                text: "fix it".into(),
                images: vec!["shot.png".into()],
                previews: vec![None],
            },
            TranscriptItem::Assistant {
                model: "m".into(),
                content: "Done.".into(),
                reasoning: "thinking".into(),
                tools: vec![
                    PastTool {
                        id: "c1".into(),
                        name: "write_file".into(),
                        arguments: r#"{"path":"a.txt","content":"x"}"#.into(),
                        result: Some((ToolResultKind::Done, "wrote a.txt".into())),
                        ..PastTool::default()
                    },
                    PastTool {
                        id: "c2".into(),
                        name: "shell".into(),
                        arguments: "not json".into(),
                        ..PastTool::default()
                    },
                    PastTool {
                        id: "c3".into(),
                        name: "shell".into(),
                        arguments: r#"{"command":"rm -rf build"}"#.into(),
                        edited: true,
                        result: Some((ToolResultKind::Done, "removed".into())),
                        output: "removed\nexit code 0".into(),
                        ..PastTool::default()
                    },
                ],
            },
        ];
        let u = transcript_updates(&items);
        let kinds: Vec<&str> = u
            .iter()
            .map(|v| v["sessionUpdate"].as_str().unwrap())
            .collect();
        assert_eq!(
            kinds,
            [
                "user_message_chunk",
                "agent_thought_chunk",
                "agent_message_chunk",
                "tool_call",
                "tool_call",
                "tool_call"
            ]
        );
        assert_eq!(u[0]["content"]["text"], "fix it\n[image: shot.png]");
        assert_eq!(u[3]["status"], "completed");
        assert_eq!(u[3]["kind"], "edit");
        assert_eq!(u[3]["rawInput"]["path"], "a.txt");
        assert_eq!(u[4]["status"], "failed");
        assert_eq!(u[4]["rawInput"], Value::Null);
        // what ran (the user's edit), and the output the call gave
        assert_eq!(u[5]["rawInput"]["command"], "rm -rf build");
        assert_eq!(
            u[5]["content"][0]["content"]["text"],
            "removed\nexit code 0"
        );
    }
}
