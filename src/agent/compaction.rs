//! Keeping the conversation inside the model's window: the estimate shown in the status
//! bar, and compaction (old tool outputs trimmed, older turns summarised by the model,
//! recent turns kept word for word). The journal keeps the full history.

use super::*;
use crate::session::{compact, record::Record, tokens};

/// Old tool outputs longer than this (tokens) are trimmed when compacting.
const TRIM_OUTPUTS_TO: usize = 400;

impl Agent {
    /// The size of the next request: the server's count of the last one plus what was
    /// added since, else an estimate of the whole.
    pub(super) fn estimate_next(&self) -> u64 {
        match self.last_usage {
            Some((n, total)) if n <= self.conversation.len() => {
                total + tokens::messages(&self.conversation[n..]) as u64
            }
            _ => (tokens::messages(&self.conversation) + self.tools_tokens) as u64,
        }
    }

    pub(super) fn report_usage(&self) {
        self.send(AgentEvent::ContextUsage {
            tokens: self.estimate_next(),
            window: self.context_window,
        });
    }

    /// Whether the next request would pass `[context] compact_at` of the window.
    pub(super) fn over_threshold(&self) -> bool {
        let Some(window) = self.context_window.filter(|w| *w > 0) else {
            return false;
        };
        self.estimate_next() as f64 > self.settings.context.compact_at() * window as f64
    }

    /// Compacts the conversation. `manual` (`/compact`) always summarises what is older
    /// than the recent turns; otherwise trimming old tool outputs is tried first and is
    /// enough when it brings the request well under the threshold. `Ok` when done, when
    /// there was nothing to do, or when it failed (the user was told); `Err` when stopped
    /// while the model summarised (the conversation is unchanged).
    pub(super) async fn compact(&mut self, manual: bool) -> Result<(), Stop> {
        self.compact_to(manual, None).await
    }

    /// `compact` for a window of `window` tokens (cove's estimate) instead of the one the
    /// conversation runs in: after the server refused a request as too big, the window in
    /// the units cove counts in.
    pub(super) async fn compact_to(
        &mut self,
        manual: bool,
        window: Option<u64>,
    ) -> Result<(), Stop> {
        // estimated the same way as the result, so the two compare (a server's own count
        // may leave out what its template drops, tool schemas say)
        let before = (tokens::messages(&self.conversation) + self.tools_tokens) as u64;
        let cfg = self.settings.context.clone();
        let mut rest: Vec<Message> = self.conversation[1..].to_vec();
        let window = window.or(self.context_window).unwrap_or(32_768) as usize;
        let threshold = cfg.compact_at() * window as f64;
        // what is kept word for word must leave room under the threshold (a 4k window
        // cannot keep 12k tokens)
        let keep = cfg.keep_recent().min((threshold / 2.0) as usize);
        let mut start = compact::recent_start(&rest, keep);
        if start == 0 {
            // everything fits the part kept word for word, yet the request is too big
            // (or the user asked): keep only the last turn
            start = rest
                .iter()
                .rposition(|m| m.role == crate::domain::conversation::Role::User)
                .unwrap_or(0);
        }
        let trimmed = compact::trim_tool_outputs(&mut rest[..start], TRIM_OUTPUTS_TO);
        let fixed = tokens::message(&self.conversation[0]) + self.tools_tokens;
        if start == 0 {
            // everything is one recent turn: only its tool outputs can give
            let n = compact::trim_tool_outputs(&mut rest, TRIM_OUTPUTS_TO * 4);
            let text = if n == 0 {
                "Nothing to compact: the conversation is a single turn.".to_string()
            } else {
                format!("Trimmed {n} long tool output(s) of the current turn to save context.")
            };
            if n > 0 {
                self.replace_conversation(rest, text.clone());
            }
            self.send(AgentEvent::Notice { text });
            return Ok(());
        }
        let after_trim = fixed + tokens::messages(&rest);
        if !manual && trimmed > 0 && (after_trim as f64) < threshold * 0.8 {
            let report = format!(
                "Compacted the context: {trimmed} old tool output(s) trimmed ({before} → {after_trim} tokens). The full history stays in the session journal."
            );
            self.replace_conversation(rest, report.clone());
            self.send(AgentEvent::Notice { text: report });
            return Ok(());
        }
        let (older, recent) = rest.split_at(start);
        let (older, recent) = (older.to_vec(), recent.to_vec());
        self.send(AgentEvent::Notice {
            text: format!(
                "Compacting: summarising {} older message(s) ({window}-token window)…",
                older.len()
            ),
        });
        let budget = (window * 6 / 10)
            .saturating_sub(cfg.summary_max())
            .max(1_000);
        let req = ChatRequest {
            model: self.model.clone().unwrap_or_else(|| "default".into()),
            messages: compact::summary_request(
                &compact::transcript(&older, budget),
                cfg.summary_max(),
            ),
            tools: Vec::new(),
            max_tokens: Some(cfg.summary_max() as u32),
            temperature: Some(0.2),
            num_ctx: self.ollama_num_ctx(),
            stop_when_slow: false,
            purpose: crate::guard::ledger::Purpose::Compaction,
        };
        let cancel = self.cancel.clone();
        let result = {
            let mut ignore = |_ev: StreamEvent| {};
            let stream = self.settings.client.stream_chat(&req, &mut ignore);
            tokio::select! {
                r = stream => Ok(r),
                stop = cancel.cancelled() => Err(stop),
            }
        };
        let summary = match result {
            Ok(Ok(c)) if !c.reply.content.trim().is_empty() => Ok(c.reply.content.clone()),
            Ok(Ok(_)) => Err("the model returned an empty summary".to_string()),
            Ok(Err(e)) => Err(e.to_string()),
            Err(Stop::Shutdown) => return Err(Stop::Shutdown),
            Err(Stop::Interrupted) => {
                self.send(AgentEvent::Notice {
                    text: "Compaction stopped; the conversation is unchanged.".into(),
                });
                return Err(Stop::Interrupted);
            }
        };
        let summary = match summary {
            Ok(s) => cap_tokens(&s, cfg.summary_max()),
            Err(e) => {
                let text = if trimmed > 0 {
                    let text = format!(
                        "Compaction could not summarise ({e}); {trimmed} old tool output(s) were trimmed instead."
                    );
                    self.replace_conversation(rest.clone(), text.clone());
                    text
                } else {
                    format!("Compaction failed: {e}. The conversation is unchanged.")
                };
                self.send(AgentEvent::Notice { text });
                return Ok(());
            }
        };
        let n_older = older.len();
        let n_recent = recent.len();
        let new = compact::with_summary(&summary, recent);
        let after = (fixed + tokens::messages(&new)) as u64;
        let report = format!(
            "Compacted the conversation: {n_older} older message(s) summarised in {} tokens{}; the last {n_recent} message(s) kept word for word. Context {before} → {after} tokens of {window}. The full history stays in the session journal.",
            tokens::estimate(&summary),
            if trimmed > 0 {
                format!(" ({trimmed} tool output(s) trimmed first)")
            } else {
                String::new()
            }
        );
        self.replace_conversation(new, report.clone());
        self.send(AgentEvent::Notice { text: report });
        Ok(())
    }

    /// The conversation after the system prompt becomes `messages`, journaled.
    fn replace_conversation(&mut self, messages: Vec<Message>, report: String) {
        self.log(Record::Compacted {
            messages: messages.clone(),
            report,
        });
        self.conversation.truncate(1);
        self.conversation.extend(messages);
        self.last_usage = None;
    }
}

/// `text` cut to about `max` tokens at a line end.
fn cap_tokens(text: &str, max: usize) -> String {
    let text = text.trim();
    if tokens::estimate(text) <= max {
        return text.to_owned();
    }
    let mut end = (max * 7 / 2).min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let end = text[..end].rfind('\n').unwrap_or(end);
    format!("{}\n[…]", &text[..end])
}

/// Tokens the tool schemas add to every request (worked out again when a turn begins:
/// MCP tools may have been added since).
pub(super) fn tools_tokens(tools: &[crate::domain::conversation::ToolSpec]) -> usize {
    tools
        .iter()
        .map(|t| {
            tokens::estimate(&t.description) + tokens::estimate(&t.parameters.to_string()) + 10
        })
        .sum()
}
