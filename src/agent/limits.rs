//! The server's real limits, inside a turn: a request refused because it does not fit
//! the context window (compact and ask once more, or ask for a shorter reply), the window
//! the refusal names, a reply streaming too slowly (noticed; with `retry_slow`, asked
//! once more at a lower temperature). Every recovery is a notice, journaled.

use super::*;
use crate::llm::SlowStream;
use crate::llm::overflow::Overflow;
use crate::llm::probe::{ServerKind, WindowSource};
use crate::session::{record::Record, tokens};

/// A reply smaller than this is not worth asking for: below it, compact instead.
const MIN_REPLY_ROOM: u64 = 256;

/// What was already tried for the request being sent (each recovery happens once).
#[derive(Debug, Default)]
pub(super) struct Retries {
    overflow: bool,
    slow: bool,
    /// `max_tokens` lowered to what the window leaves for the reply.
    pub max_tokens: Option<u32>,
    /// The temperature of a retry after a slow stream.
    pub temperature: Option<f64>,
}

/// What came of sending a request, recoveries included.
// one per request, moved straight into the turn: no boxing
#[allow(clippy::large_enum_variant)]
pub(super) enum Sent {
    /// How the request ended (the reply, an error, an interrupt) and what streamed.
    Reply(super::turn::Step),
    /// Send it again (compacted, with a smaller `max_tokens` or a lower temperature).
    Again,
    /// It does not fit even after compacting: the turn fails with this.
    Failed { error: String, hint: String },
    /// Stopped while compacting to make it fit.
    Stopped(Stop),
}

/// What a turn does after a recovery was considered.
pub(super) enum Next {
    /// Send the request again.
    Retry,
    /// Give up: the turn fails with this error and hint.
    Fail {
        error: String,
        hint: String,
    },
    Stopped(Stop),
}

/// Half the temperature, at most 0.2 (0.2 when none is configured): a stream that was
/// too slow is asked for again with less room to wander.
pub(super) fn lower_temperature(configured: Option<f64>) -> f64 {
    configured.map_or(0.2, |t| (t / 2.0).clamp(0.0, 0.2))
}

impl Agent {
    /// A notice the user sees and the journal keeps.
    pub(super) fn tell(&mut self, text: String) {
        self.log(Record::Notice { text: text.clone() });
        self.send(AgentEvent::Notice { text });
    }

    /// `options.num_ctx` for an Ollama server whose window is known.
    pub(super) fn ollama_num_ctx(&self) -> Option<u64> {
        (self.server_kind == Some(ServerKind::Ollama))
            .then_some(self.context_window)
            .flatten()
    }

    /// Whether the next request should be stopped when it streams too slowly (to ask again).
    pub(super) fn stop_when_slow(&self, retries: &Retries) -> bool {
        self.settings.model.retry_slow == Some(true) && !retries.slow
    }

    /// The window a server's refusal names becomes the one cove works with.
    fn adopt_window(&mut self, window: u64) {
        if window == 0 || self.context_window == Some(window) {
            return;
        }
        let was = match (self.context_window, self.window_source) {
            (Some(w), Some(src)) => format!(" instead of {w} ({src})"),
            _ => String::new(),
        };
        self.context_window = Some(window);
        self.window_source = Some(WindowSource::Overflow);
        self.status.context_window = Some(window);
        self.send(AgentEvent::Server(self.status.clone()));
        self.tell(format!(
            "The server's context window is {window} tokens (from its refusal); cove uses that from now on{was}."
        ));
    }

    /// Looks at what came of a request: a refusal as too big for the window or a stream
    /// stopped as too slow is recovered from (once each); anything else is the reply.
    pub(super) async fn recover(
        &mut self,
        turn: u64,
        step: super::turn::Step,
        retries: &mut Retries,
    ) -> Sent {
        use super::turn::StepEnd;
        match &step.end {
            StepEnd::Failed(LlmError::ContextOverflow { overflow, .. })
                if step.streamed.is_empty() =>
            {
                let found = *overflow;
                match self.after_overflow(&found, retries).await {
                    Next::Retry => Sent::Again,
                    Next::Fail { error, hint } => Sent::Failed { error, hint },
                    Next::Stopped(stop) => Sent::Stopped(stop),
                }
            }
            StepEnd::Done(c) => match c.slow {
                Some(slow) if self.after_slow(&slow, retries) => {
                    // what streamed stays on screen as a step cut short; the conversation
                    // gets only the reply asked for again
                    self.send(AgentEvent::StepDone {
                        turn,
                        outcome: super::turn::outcome(c, &step.streamed),
                    });
                    Sent::Again
                }
                _ => Sent::Reply(step),
            },
            _ => Sent::Reply(step),
        }
    }

    /// The server refused the request being sent as too big for its window: ask for a
    /// shorter reply when only `max_tokens` is too much, else compact and ask once more;
    /// a second refusal fails the turn with the numbers.
    pub(super) async fn after_overflow(&mut self, found: &Overflow, retries: &mut Retries) -> Next {
        let estimate = (tokens::messages(&self.conversation) + self.tools_tokens) as u64;
        if let Some(w) = found.window {
            self.adopt_window(w);
        }
        let numbers = found.numbers().unwrap_or_else(|| {
            format!(
                "the server gave no numbers; cove estimates the request at {estimate} tokens{}",
                self.context_window
                    .map(|w| format!(" for a {w}-token window"))
                    .unwrap_or_default()
            )
        });
        if retries.overflow {
            return Next::Fail {
                error: format!(
                    "The conversation does not fit the model's context window, even after compacting: {numbers}."
                ),
                hint: overflow_hint(self.server_kind.as_ref()),
            };
        }
        retries.overflow = true;
        if let (Some(room), Some(p), Some(r)) =
            (found.reply_room(), found.prompt_tokens, found.reply_tokens)
            && room >= MIN_REPLY_ROOM
        {
            retries.max_tokens = Some(room.min(u64::from(u32::MAX)) as u32);
            self.tell(format!(
                "The server's window leaves {room} tokens for the reply after this {p}-token request, fewer than the {r} asked for (model.max_tokens); asking again for {room}."
            ));
            return Next::Retry;
        }
        self.tell(format!(
            "The server refused the request: it does not fit the context window ({numbers}). Compacting and asking once more."
        ));
        // the window in cove's own units: the server counts with the real tokenizer,
        // cove estimates, and compaction works with the estimate
        let target = match (found.prompt_tokens, found.window) {
            (Some(p), Some(w)) if p > 0 => (w as f64 * estimate as f64 / p as f64) as u64,
            (_, Some(w)) => w.min(estimate * 3 / 4),
            (_, None) => self
                .context_window
                .unwrap_or(u64::MAX)
                .min(estimate * 3 / 4),
        };
        if let Err(stop) = self.compact_to(true, Some(target.max(1))).await {
            return Next::Stopped(stop);
        }
        let after = (tokens::messages(&self.conversation) + self.tools_tokens) as u64;
        if after >= estimate {
            return Next::Fail {
                error: format!(
                    "The request does not fit the model's context window and there is nothing left to compact: {numbers}."
                ),
                hint: overflow_hint(self.server_kind.as_ref()),
            };
        }
        self.report_usage();
        Next::Retry
    }

    /// A reply streamed too slowly: journaled; `true` when it was stopped to be asked for
    /// again (once, at a lower temperature).
    pub(super) fn after_slow(&mut self, slow: &SlowStream, retries: &mut Retries) -> bool {
        // the live notice came with the stream; the journal gets it here
        self.log(Record::Notice {
            text: slow.notice(),
        });
        if !slow.stopped || retries.slow {
            return false;
        }
        retries.slow = true;
        let t = lower_temperature(self.settings.model.temperature);
        retries.temperature = Some(t);
        self.tell(format!(
            "Asking again at temperature {t} (model.retry_slow); this time the reply is kept however slowly it comes."
        ));
        true
    }

    /// After a turn: a window assumed for Ollama (the model was not loaded at start) is
    /// replaced by the one the loaded model runs with.
    pub(super) async fn refresh_window(&mut self) {
        if self.window_source != Some(WindowSource::OllamaDefault) {
            return;
        }
        let Some(model) = self.model.clone() else {
            return;
        };
        if let Ok(Some(n)) = probe::ollama_loaded_context(&self.settings.client, &model).await
            && n > 0
        {
            self.context_window = Some(n);
            self.window_source = Some(WindowSource::OllamaPs);
            self.status.context_window = Some(n);
            self.send(AgentEvent::Server(self.status.clone()));
            self.report_usage();
        }
    }
}

/// What the user can do about a conversation that does not fit.
pub(super) fn overflow_hint(kind: Option<&ServerKind>) -> String {
    let raise = match kind {
        Some(ServerKind::LlamaCpp) => {
            "restart llama-server with a larger -c (--ctx-size), or fewer --parallel slots"
        }
        Some(ServerKind::Vllm) => "restart vLLM with a larger --max-model-len",
        Some(ServerKind::Ollama) => {
            "raise Ollama's context (OLLAMA_CONTEXT_LENGTH, or PARAMETER num_ctx in a Modelfile)"
        }
        _ => "raise the server's context size",
    };
    format!(
        "Start a new session (/clear), leave out large @files, images or tool outputs, or {raise}."
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lower_temperatures() {
        assert_eq!(lower_temperature(None), 0.2);
        assert_eq!(lower_temperature(Some(0.8)), 0.2);
        assert_eq!(lower_temperature(Some(0.3)), 0.15);
        assert_eq!(lower_temperature(Some(0.0)), 0.0);
    }

    #[test]
    fn hints_name_the_server_setting() {
        assert!(overflow_hint(Some(&ServerKind::LlamaCpp)).contains("--ctx-size"));
        assert!(overflow_hint(Some(&ServerKind::Vllm)).contains("--max-model-len"));
        assert!(overflow_hint(Some(&ServerKind::Ollama)).contains("OLLAMA_CONTEXT_LENGTH"));
        assert!(overflow_hint(None).contains("/clear"));
    }
}
