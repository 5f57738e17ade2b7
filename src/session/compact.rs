//! Compaction, the pure part: which messages stay word for word, trimming old tool
//! outputs, the text the model summarises, and the conversation that replaces the old one.
//! The agent asks the model for the summary and journals the result.

use super::tokens;
use crate::domain::conversation::{Content, Message, Role};

/// Where the recent part begins: the latest user message such that everything from it
/// on fits `keep` tokens (at least the last user message, so a turn is never split and
/// every tool result stays with its call). `0` when the whole conversation fits.
/// `messages` excludes the system prompt.
pub fn recent_start(messages: &[Message], keep: usize) -> usize {
    let users: Vec<usize> = messages
        .iter()
        .enumerate()
        .filter(|(_, m)| m.role == Role::User)
        .map(|(i, _)| i)
        .collect();
    let Some(&last_user) = users.last() else {
        return 0;
    };
    let mut start = last_user;
    let mut total = tokens::messages(&messages[last_user..]);
    for &u in users.iter().rev().skip(1) {
        let more = tokens::messages(&messages[u..start]);
        if total + more > keep {
            break;
        }
        total += more;
        start = u;
    }
    start
}

/// Cuts tool results in `messages` longer than `max_tokens` to their head and tail, with
/// a note of what was left out. Returns how many were trimmed.
pub fn trim_tool_outputs(messages: &mut [Message], max_tokens: usize) -> usize {
    let mut n = 0;
    for m in messages.iter_mut().filter(|m| m.role == Role::Tool) {
        let Some(Content::Text(text)) = &m.content else {
            continue;
        };
        if tokens::estimate(text) <= max_tokens {
            continue;
        }
        let budget = max_tokens * 7 / 2; // bytes
        let head = floor_boundary(text, budget * 2 / 3);
        let tail = ceil_boundary(text, text.len() - budget / 3);
        let cut = text[head..tail].lines().count();
        let trimmed = format!(
            "{}\n[… {cut} lines of this output were trimmed by cove to save context …]\n{}",
            &text[..head],
            &text[tail..]
        );
        m.content = Some(Content::Text(trimmed));
        n += 1;
    }
    n
}

fn floor_boundary(s: &str, mut i: usize) -> usize {
    i = i.min(s.len());
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn ceil_boundary(s: &str, mut i: usize) -> usize {
    i = i.min(s.len());
    while !s.is_char_boundary(i) {
        i += 1;
    }
    i
}

/// The older messages as a plain transcript for the summariser, at most `max_tokens`
/// (the oldest part is dropped first, with a note).
pub fn transcript(messages: &[Message], max_tokens: usize) -> String {
    let mut parts: Vec<String> = messages
        .iter()
        .map(|m| {
            let text = m.text_content();
            let who = match m.role {
                Role::User => "USER",
                Role::Assistant => "ASSISTANT",
                Role::Tool => "TOOL RESULT",
                Role::System => "SYSTEM",
            };
            let calls: String = m
                .tool_calls
                .iter()
                .map(|c| format!("\n[called {} with {}]", c.name, c.arguments))
                .collect();
            format!("{who}: {}{calls}", text.trim())
        })
        .collect();
    let mut total: usize = parts.iter().map(|p| tokens::estimate(p)).sum();
    let mut dropped = 0;
    while total > max_tokens && parts.len() > 1 {
        total -= tokens::estimate(&parts.remove(0));
        dropped += 1;
    }
    let mut out = String::new();
    if dropped > 0 {
        out.push_str(&format!("[{dropped} earliest messages omitted]\n\n"));
    }
    let joined = parts.join("\n\n");
    // a single message larger than the budget: keep its end
    let limit = max_tokens * 7 / 2;
    if joined.len() > limit {
        out.push_str(&joined[ceil_boundary(&joined, joined.len() - limit)..]);
    } else {
        out.push_str(&joined);
    }
    out
}

/// What the model is asked, to summarise the older part of a session.
pub fn summary_request(transcript: &str, summary_max: usize) -> Vec<Message> {
    vec![
        Message::system(format!(
            "You compress the earlier part of a coding session so the assistant can go on without it. \
             Write at most {} words. Keep: the user's goals and requests, decisions made, files read \
             or changed (with paths) and what changed, commands run and their outcomes, errors still \
             open, and anything the user asked to remember. Drop pleasantries and superseded attempts. \
             Plain text or short bullet points; no preamble.",
            summary_max * 3 / 4
        )),
        Message::user(format!("Summarise this conversation:\n\n{transcript}")),
    ]
}

/// The recent messages with the summary put in front of the first one (a user message),
/// so roles still alternate as strict chat templates require.
pub fn with_summary(summary: &str, mut recent: Vec<Message>) -> Vec<Message> {
    let preface = format!(
        "(Summary of the earlier part of this session, written when cove compacted the context:)\n{}\n\n(The conversation goes on:)\n",
        summary.trim()
    );
    match recent.first_mut() {
        Some(first) if first.role == Role::User => match &mut first.content {
            Some(Content::Text(t)) => t.insert_str(0, &preface),
            Some(Content::Parts(parts)) => {
                parts.insert(0, crate::domain::conversation::ContentPart::Text(preface))
            }
            None => first.content = Some(Content::Text(preface)),
        },
        _ => recent.insert(0, Message::user(preface)),
    }
    recent
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::conversation::ToolCall;

    fn turn(i: usize, size: usize) -> Vec<Message> {
        vec![
            Message::user(format!("question {i}")),
            Message::assistant(
                "",
                vec![ToolCall {
                    id: format!("c{i}"),
                    name: "read_file".into(),
                    arguments: "{}".into(),
                    ..ToolCall::default()
                }],
            ),
            Message::tool_result(format!("c{i}"), "x".repeat(size)),
            Message::assistant(format!("answer {i}"), Vec::new()),
        ]
    }

    #[test]
    fn recent_part_starts_at_a_user_message_and_fits() {
        let ms: Vec<Message> = (0..10).flat_map(|i| turn(i, 3500)).collect();
        let start = recent_start(&ms, 3_000);
        assert_eq!(ms[start].role, Role::User);
        assert!(tokens::messages(&ms[start..]) <= 3_000);
        assert!(start > 0);
        // too small a budget still keeps the last turn whole
        assert_eq!(recent_start(&ms, 10), 36);
        assert_eq!(recent_start(&ms, 1_000_000), 0);
    }

    #[test]
    fn long_tool_outputs_are_trimmed_with_a_note() {
        let mut ms = turn(0, 100_000);
        ms.extend(turn(1, 100));
        assert_eq!(trim_tool_outputs(&mut ms, 500), 1);
        let t = ms[2].text_content();
        assert!(tokens::estimate(&t) < 600, "{}", t.len());
        assert!(t.contains("trimmed by cove"));
        assert_eq!(ms[6].text_content().len(), 100);
    }

    #[test]
    fn transcript_is_bounded() {
        let ms: Vec<Message> = (0..50).flat_map(|i| turn(i, 2000)).collect();
        let t = transcript(&ms, 5_000);
        assert!(tokens::estimate(&t) <= 5_100);
        assert!(t.contains("earliest messages omitted"));
        assert!(t.contains("answer 49"));
    }

    #[test]
    fn summary_goes_in_front_of_the_first_recent_user_message() {
        let ms = with_summary("did things", turn(3, 10));
        assert_eq!(ms.len(), 4);
        let first = ms[0].text_content();
        assert!(first.starts_with("(Summary of the earlier part"));
        assert!(first.ends_with("question 3"));
    }
}
