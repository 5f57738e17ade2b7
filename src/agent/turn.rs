//! One turn: stream a response, hand its tool calls to `calls`, go on until the model
//! answers without calls; the vision model's turn.

use std::path::PathBuf;

use super::limits::Sent;
use super::*;
use crate::session::record::Record;

/// How one model request ended.
// one per request, matched at once: no boxing
#[allow(clippy::large_enum_variant)]
pub(super) enum StepEnd {
    /// The reply, complete or cut short (`Completion::end` says which).
    Done(Completion),
    Failed(LlmError),
    Interrupted,
    Shutdown,
}

/// A model request's end and the visible text that streamed before it.
pub(super) struct Step {
    pub end: StepEnd,
    pub streamed: String,
}

/// How a turn ended.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum TurnEnd {
    /// The model answered without (more) tool calls. `cut_short`: its reply ended early,
    /// why, and the exit code a script gets for it (4 an error frame, 5 a cut stream).
    Answered {
        cut_short: Option<(String, u8)>,
    },
    /// A request failed (or did not fit the window even after compacting).
    Failed {
        error: String,
        code: u8,
    },
    /// cove stopped the turn after `tools.max_iterations` model requests.
    StepLimit,
    /// cove stopped the turn: the model repeated its calls.
    Repeating,
    Interrupted,
    Shutdown,
}

impl From<Stop> for TurnEnd {
    fn from(stop: Stop) -> Self {
        match stop {
            Stop::Interrupted => TurnEnd::Interrupted,
            Stop::Shutdown => TurnEnd::Shutdown,
        }
    }
}

impl Agent {
    /// Roles must alternate for strict chat templates: a turn that ends without the
    /// model's closing reply (interrupted, failed, cut off, after tool results) gets a
    /// placeholder one, so the next user message follows an assistant message.
    pub(super) fn ensure_reply(&mut self, turn: u64, placeholder: &str) {
        use crate::domain::conversation::Role;
        if self
            .conversation
            .last()
            .is_some_and(|m| matches!(m.role, Role::User | Role::Tool))
        {
            self.push_reply(turn, Message::assistant(placeholder, Vec::new()), None);
        }
    }

    /// The turn was interrupted: close it for the model, then tell the UI.
    fn end_interrupted(&mut self, turn: u64, placeholder: &str) {
        self.ensure_reply(turn, placeholder);
        self.send(AgentEvent::TurnDone {
            turn,
            outcome: TurnOutcome {
                interrupted: true,
                ..TurnOutcome::default()
            },
        });
    }

    /// Adds a reply of the model to the conversation and the journal.
    fn push_reply(&mut self, turn: u64, message: Message, reasoning: Option<String>) {
        self.log(Record::Message {
            turn,
            message: message.clone(),
            shown: None,
            reasoning,
            model: self.model.clone(),
        });
        self.conversation.push(message);
    }

    /// After a panic inside a turn: the user is shown an error card, the journal keeps
    /// what they wrote, and the conversation is left so the next message can go on.
    pub(super) fn turn_panicked(&mut self, turn: u64, text: &str, message: &str) {
        tracing::error!("turn {turn} panicked: {message}");
        let user_logged = self.conversation.iter().rev().any(|m| {
            m.role == crate::domain::conversation::Role::User && m.text_content().contains(text)
        });
        if !user_logged {
            self.log(Record::Notice {
                text: format!("This message could not be sent (internal error): {text}"),
            });
        }
        // tool calls of the last reply that got no result: answered, so the next request
        // is one the server accepts
        use crate::domain::conversation::Role;
        if let Some(at) = self
            .conversation
            .iter()
            .rposition(|m| m.role == Role::Assistant)
        {
            let answered: Vec<String> = self.conversation[at + 1..]
                .iter()
                .filter_map(|m| m.tool_call_id.clone())
                .collect();
            let missing: Vec<String> = self.conversation[at]
                .tool_calls
                .iter()
                .map(|c| c.id.clone())
                .filter(|id| !answered.contains(id))
                .collect();
            for id in missing {
                let m = Message::tool_result(id, "not run: cove hit an internal error");
                self.log(Record::Message {
                    turn,
                    message: m.clone(),
                    shown: None,
                    reasoning: None,
                    model: None,
                });
                self.conversation.push(m);
            }
        }
        self.ensure_reply(turn, "(this turn ended with an internal error)");
        self.send(AgentEvent::TurnFailed {
            turn,
            error: format!("cove hit an internal error during this turn: {message}"),
            hint: "This is a bug in cove. Your session is intact: send the message again or go on;                    the log (COVE_LOG=debug) has the details."
                .into(),
        });
    }

    /// The model went round in circles: its calls are answered without running, the turn
    /// ends with the reason, and the model hears of it with the next message.
    fn stop_repeating(&mut self, turn: u64, calls: &[ToolCall], why: &str) {
        for call in calls {
            let m = Message::tool_result(
                call.id.clone(),
                format!(
                    "not run: you made {why}. cove stopped the turn; use the results you already have."
                ),
            );
            self.send(AgentEvent::ToolFinished {
                turn,
                call_id: call.id.clone(),
                kind: crate::protocol::ToolResultKind::Rejected,
                summary: "not run: the same call again".into(),
                output: String::new(),
                changes: Vec::new(),
            });
            self.log(Record::Message {
                turn,
                message: m.clone(),
                shown: None,
                reasoning: None,
                model: None,
            });
            self.conversation.push(m);
        }
        self.ensure_reply(turn, "(stopped: the same calls again)");
        let note = format!(
            "(cove stopped your previous turn: you made {why}. Do not repeat a call whose result you already have; if you are stuck, say what blocks you.)"
        );
        let note = match self.pending_note.take() {
            Some(earlier) => format!("{earlier}\n\n{note}"),
            None => note,
        };
        self.set_note(Some(note));
        self.send(AgentEvent::TurnFailed {
            turn,
            error: format!("stopped: the model repeated itself ({why})"),
            hint: "Send a message to steer it (say what it missed), or raise tools.repeat_limit."
                .into(),
        });
    }

    /// Runs one turn: model response, tool calls (approved by the user or allowed by
    /// policy), results back to the model, until it answers without tool calls, the
    /// iteration limit, an error, or an interrupt.
    pub(super) async fn turn(
        &mut self,
        turn: u64,
        text: String,
        shown: Option<String>,
        images: Vec<ImageAttachment>,
    ) -> TurnEnd {
        // `[guard] deny_prompt`: the message is not sent, nor kept for later requests
        let guard = self.settings.client.guard().clone();
        if let Some(rule) = guard.denied_prompt(&text) {
            guard.event("deny_prompt", rule.clone());
            let error = format!("not sent: the message matches {rule}");
            self.send(AgentEvent::TurnFailed {
                turn,
                error: error.clone(),
                hint: "Reword the message, or change [guard] deny_prompt.".into(),
            });
            return TurnEnd::Failed { error, code: 2 };
        }
        if self.model.is_none() {
            self.probe().await;
        }
        let message = user_message(text.clone(), &images);
        self.conversation.push(message.clone());
        self.log(Record::Message {
            turn,
            message,
            shown,
            reasoning: None,
            model: None,
        });
        if let Some(text) = self.attached_notice.take() {
            self.log(Record::Notice { text });
        }
        crate::tools::isolate::fault_point("turn");
        self.sync_mcp().await;
        let tools = self.settings.registry.offered();
        self.tools_tokens = super::compaction::tools_tokens(&tools);
        let max_steps = self.settings.tools.max_iterations.unwrap_or(25).max(1);
        let mut changed: Vec<PathBuf> = Vec::new();
        let mut repeats = super::repeats::Repeats::default();
        let repeat_limit = self
            .settings
            .tools
            .repeat_limit
            .unwrap_or(super::repeats::DEFAULT_REPEAT_LIMIT);
        for step in 1..=max_steps {
            if self.over_threshold()
                && let Err(stop) = self.compact(false).await
            {
                if stop == Stop::Interrupted {
                    self.end_interrupted(turn, "(interrupted before replying)");
                }
                return stop.into();
            }
            // a refusal as too big for the window, or a stream too slow, is asked again
            // once (see `limits`)
            let mut retries = super::limits::Retries::default();
            let Step { end, streamed } = loop {
                let req = ChatRequest {
                    model: self.model.clone().unwrap_or_else(|| "default".into()),
                    messages: self.conversation.clone(),
                    tools: tools.clone(),
                    max_tokens: retries.max_tokens.or(self.settings.model.max_tokens),
                    temperature: retries.temperature.or(self.settings.model.temperature),
                    num_ctx: self.ollama_num_ctx(),
                    stop_when_slow: self.stop_when_slow(&retries),
                    purpose: crate::guard::ledger::Purpose::Turn,
                };
                let sent = self.stream_step(&self.settings.client, turn, &req).await;
                match self.recover(turn, sent, &mut retries).await {
                    Sent::Reply(step) => break step,
                    Sent::Again => continue,
                    Sent::Failed { error, hint } => {
                        self.ensure_reply(turn, "(no reply: the request did not fit)");
                        self.send(AgentEvent::TurnFailed {
                            turn,
                            error: error.clone(),
                            hint,
                        });
                        return TurnEnd::Failed { error, code: 4 };
                    }
                    Sent::Stopped(stop) => {
                        if stop == Stop::Interrupted {
                            self.end_interrupted(turn, "(interrupted before replying)");
                        }
                        return stop.into();
                    }
                }
            };
            let user_at = self
                .conversation
                .iter()
                .rposition(|m| m.role == crate::domain::conversation::Role::User)
                .unwrap_or(0);
            let c = match end {
                StepEnd::Interrupted | StepEnd::Shutdown => {
                    if !streamed.is_empty() {
                        self.push_reply(turn, Message::assistant(streamed, Vec::new()), None);
                    }
                    self.end_interrupted(turn, "(interrupted before replying)");
                    return if matches!(end, StepEnd::Shutdown) {
                        TurnEnd::Shutdown
                    } else {
                        TurnEnd::Interrupted
                    };
                }
                StepEnd::Failed(e) => {
                    let nothing_came = streamed.is_empty();
                    if !nothing_came {
                        self.push_reply(turn, Message::assistant(streamed, Vec::new()), None);
                    }
                    let mut hint = hint_for(&e);
                    if step == 1 && !images.is_empty() && nothing_came {
                        // Servers refuse images their model cannot see; keep the text so
                        // the conversation can go on without resending them.
                        let note = format!(
                            "({} image(s) were attached, but the model server refused them.)",
                            images.len()
                        );
                        without_images(&mut self.conversation[user_at], &note);
                        // the journal must not send them again on resume either
                        self.log(Record::Compacted {
                            messages: self.conversation[1..].to_vec(),
                            report: String::new(),
                        });
                        hint = format!(
                            "This model may not take images: point [vision] at a vision model (e.g. Qwen3-VL), or serve this one with its vision projector (llama.cpp --mmproj). The images are left out of the conversation. {hint}"
                        );
                    }
                    self.ensure_reply(turn, "(no reply: the request failed)");
                    self.send(AgentEvent::TurnFailed {
                        turn,
                        error: e.to_string(),
                        hint,
                    });
                    // after the turn (`settle_turn`): this event is the turn's last
                    self.reprobe = matches!(e, LlmError::Unreachable(_));
                    return TurnEnd::Failed {
                        error: e.to_string(),
                        code: e.exit_code() as u8,
                    };
                }
                StepEnd::Done(c) => c,
            };
            self.answered_from(&c.endpoint);
            let calls = c.reply.tool_calls.clone();
            let outcome = outcome(&c, &streamed);
            // Calls of a reply that was cut short are not run, so they stay out of the
            // conversation: a call without a result is refused by strict chat templates.
            let complete = c.end == StreamEnd::Complete;
            let kept = if complete { calls.clone() } else { Vec::new() };
            if !c.reply.content.is_empty() || !kept.is_empty() {
                let reasoning = Some(c.reply.reasoning.clone()).filter(|r| !r.is_empty());
                self.push_reply(
                    turn,
                    Message::assistant(c.reply.content.clone(), kept),
                    reasoning,
                );
            }
            self.count_usage(c.reply.usage.as_ref());
            if let Some(u) = c.reply.usage {
                self.last_usage = Some((self.conversation.len(), u.total_tokens));
            }
            self.report_usage();
            if calls.is_empty() || !complete {
                self.ensure_reply(turn, "(the reply was cut off before any text)");
                let cut_short = outcome.cut_short.clone().map(|why| {
                    let code = match c.end {
                        StreamEnd::ServerError(_) => 4,
                        _ => 5,
                    };
                    (why, code)
                });
                self.send(AgentEvent::TurnDone { turn, outcome });
                return TurnEnd::Answered { cut_short };
            }
            self.send(AgentEvent::StepDone { turn, outcome });
            if let Some(why) = repeats.check(&calls, repeat_limit) {
                self.stop_repeating(turn, &calls, &why);
                return TurnEnd::Repeating;
            }
            match self.run_calls(turn, &calls, &mut changed).await {
                Ok(None) => {}
                // a tool that cannot go on (its server went away): the model has the
                // error as the call's result, the user sees why the turn ended
                Ok(Some(error)) => {
                    self.ensure_reply(turn, "(stopped: a tool failed)");
                    self.send(AgentEvent::TurnFailed {
                        turn,
                        error: error.clone(),
                        hint: "The calls after it were not run. Send a message to go on without that tool.".into(),
                    });
                    return TurnEnd::Failed { error, code: 1 };
                }
                Err(stop) => {
                    if stop == Stop::Interrupted {
                        self.end_interrupted(turn, "(interrupted)");
                    }
                    return stop.into();
                }
            }
            if step == max_steps {
                self.ensure_reply(turn, "(stopped: too many steps in one turn)");
                self.send(AgentEvent::TurnFailed {
                    turn,
                    error: format!("stopped after {max_steps} model requests in one turn (tools.max_iterations)"),
                    hint: "Send a message to let the model continue, or raise tools.max_iterations.".into(),
                });
                return TurnEnd::StepLimit;
            }
        }
        TurnEnd::StepLimit
    }

    /// A message with images for a separate vision model: its answer streams into the
    /// chat under its name and reaches the coding model as text with the next message.
    pub(super) async fn vision_turn(
        &mut self,
        turn: u64,
        text: String,
        images: Vec<ImageAttachment>,
    ) -> TurnEnd {
        let Some((mc, client)) = self.settings.vision.clone() else {
            return TurnEnd::Answered { cut_short: None };
        };
        let fail = |e: &LlmError, model: &str| AgentEvent::TurnFailed {
            turn,
            error: e.to_string(),
            hint: format!(
                "{} (vision model `{model}`: check [vision] in the config, or set [model] vision = true to send images to the main model)",
                hint_for(e)
            ),
        };
        let model = match probe::resolve_model(&client, mc.name.as_deref()).await {
            Ok(m) => m,
            Err(e) => {
                self.send(fail(&e, "unnamed"));
                return TurnEnd::Failed {
                    error: e.to_string(),
                    code: e.exit_code() as u8,
                };
            }
        };
        self.send(AgentEvent::Responder {
            turn,
            model: model.clone(),
        });
        let req = ChatRequest {
            model: model.clone(),
            messages: vec![
                Message::system(VISION_PROMPT),
                user_message(text.clone(), &images),
            ],
            tools: Vec::new(),
            max_tokens: mc.max_tokens,
            temperature: mc.temperature,
            num_ctx: None,
            stop_when_slow: false,
            purpose: crate::guard::ledger::Purpose::Vision,
        };
        let Step { end, streamed } = self.stream_step(&client, turn, &req).await;
        let stopped = match &end {
            StepEnd::Interrupted => Some(TurnEnd::Interrupted),
            StepEnd::Shutdown => Some(TurnEnd::Shutdown),
            _ => None,
        };
        let (answer, done) = match end {
            StepEnd::Interrupted | StepEnd::Shutdown => {
                let interrupted = TurnOutcome {
                    interrupted: true,
                    ..TurnOutcome::default()
                };
                (streamed, Err(interrupted))
            }
            StepEnd::Done(c) => (c.reply.content.clone(), Ok(outcome(&c, &streamed))),
            StepEnd::Failed(e) => {
                self.send(fail(&e, &model));
                return TurnEnd::Failed {
                    error: e.to_string(),
                    code: e.exit_code() as u8,
                };
            }
        };
        let labels: Vec<&str> = images.iter().map(|i| i.label.as_str()).collect();
        self.log(Record::Vision {
            turn,
            text: text.clone(),
            images: labels.iter().map(|l| l.to_string()).collect(),
            model: model.clone(),
            answer: answer.clone(),
        });
        let note = (!answer.trim().is_empty()).then(|| {
            format!(
                "(The user attached {} and asked: \"{}\". The vision model `{model}` described it as follows.)\n{}",
                labels.join(", "),
                text.trim(),
                answer.trim()
            )
        });
        match (done, note) {
            // the user asked for a change: the coding model goes on in the same turn
            (Ok(outcome), Some(note)) if asks_for_action(&text) => {
                self.send(AgentEvent::StepDone { turn, outcome });
                let model = self.model.clone().unwrap_or_default();
                self.send(AgentEvent::Responder { turn, model });
                let earlier = self
                    .pending_note
                    .take()
                    .map_or(String::new(), |n| format!("{n}\n\n"));
                let go_on = format!(
                    "{earlier}{note}\n\nNow act on the user's request using that description."
                );
                Box::pin(self.turn(turn, go_on, Some(String::new()), Vec::new())).await
            }
            (done, note) => {
                let outcome = done.unwrap_or_else(|o| o);
                self.send(AgentEvent::TurnDone { turn, outcome });
                let note = match (self.pending_note.take(), note) {
                    (Some(a), Some(b)) => Some(format!("{a}\n\n{b}")),
                    (a, b) => a.or(b),
                };
                self.set_note(note);
                stopped.unwrap_or(TurnEnd::Answered { cut_short: None })
            }
        }
    }

    /// Streams one model response, until it ends or the work is cancelled.
    pub(super) async fn stream_step(&self, client: &Client, turn: u64, req: &ChatRequest) -> Step {
        let events = self.events.clone();
        let cancel = self.cancel.clone();
        let mut streamed = String::new();
        let root = self.settings.ctx.root.clone();
        let mut bases = crate::tools::live_base::BaseWatcher::default();
        // increments go out as they come while the UI keeps up, merged while it is behind
        // (see `protocol::events`); a timer sends what is held once the UI catches up
        let out = std::sync::Mutex::new(crate::protocol::StreamCoalescer::default());
        let result = {
            let mut on_event = |ev: StreamEvent| {
                if let StreamEvent::Content { text } = &ev {
                    streamed.push_str(text);
                }
                let base = bases.see(&root, &ev);
                let Ok(mut out) = out.lock() else { return };
                out.push(&events, turn, ev);
                if let Some((index, path, text)) = base {
                    // after the call's own increments, so the UI knows the call
                    out.flush(&events, turn);
                    let _ = events.send(AgentEvent::LiveBase {
                        turn,
                        index,
                        path,
                        text,
                    });
                }
            };
            let stream = client.stream_chat(req, &mut on_event);
            tokio::pin!(stream);
            let mut tick = tokio::time::interval(std::time::Duration::from_millis(16));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
            loop {
                tokio::select! {
                    r = &mut stream => break match r {
                        Ok(c) => StepEnd::Done(c),
                        Err(e) => StepEnd::Failed(e),
                    },
                    stop = cancel.cancelled() => {
                        tracing::debug!(turn, ?stop, "stopped while streaming");
                        break match stop {
                            Stop::Interrupted => StepEnd::Interrupted,
                            Stop::Shutdown => StepEnd::Shutdown,
                        };
                    }
                    _ = tick.tick() => {
                        if let Ok(mut out) = out.lock() {
                            out.flush_if_room(&events, turn);
                        }
                    }
                }
            }
        };
        // what is still held goes out (merged) before the turn's next event: what arrived
        // stays on screen, interrupted or not
        if let Ok(mut out) = out.lock() {
            out.flush(&events, turn);
        }
        Step {
            end: result,
            streamed,
        }
    }
}

pub(super) fn outcome(c: &Completion, streamed: &str) -> TurnOutcome {
    let cut_short = match &c.end {
        StreamEnd::Complete => None,
        StreamEnd::ServerError(m) => Some(format!("the server reported an error mid-stream: {m}")),
        StreamEnd::Truncated => Some(format!(
            "the stream ended early ({})",
            c.reply
                .warnings
                .last()
                .cloned()
                .unwrap_or_else(|| "the connection closed".into())
        )),
    };
    TurnOutcome {
        finish_reason: c.reply.finish_reason.clone(),
        interrupted: false,
        cut_short,
        ttft_ms: c.ttft.map(|d| d.as_secs_f64() * 1000.0),
        tokens_per_s: c.tokens_per_s,
        context_tokens: c.reply.usage.map(|u| u.total_tokens),
        tool_calls: c
            .reply
            .tool_calls
            .iter()
            .map(|t| ToolCallInfo {
                id: t.id.clone(),
                name: t.name.clone(),
                arguments: t.arguments.clone(),
                mended: t.mended(),
            })
            .collect(),
        final_content: (c.reply.content != streamed).then(|| c.reply.content.clone()),
    }
}

/// What the user can do about an error.
pub fn hint_for(e: &LlmError) -> String {
    match e {
        LlmError::Offline(_) => "Add the host to allowed_hosts in your config, or use a local server.".into(),
        LlmError::BadEndpoint(_) => "Fix model.api_base in your config (`cove config` shows where it is set).".into(),
        LlmError::Unreachable(_) => {
            "Is the model server running? `cove doctor` checks each endpoint; scripts/local-model.sh starts a local one.".into()
        }
        LlmError::Http { status: 401 | 403, .. } => "Check the API key (model.api_key, model.api_key_env or COVE_API_KEY).".into(),
        LlmError::Http { status: 404, .. } => "Check model.name and api_base; `cove models` lists what the server has.".into(),
        LlmError::Http { status: 413, .. } | LlmError::Http { status: 400, .. } => {
            "The request may exceed the server's context window: start a new session or raise the server's context size.".into()
        }
        LlmError::Http { status: 429 | 503, .. } => "The server is busy; try again in a moment.".into(),
        LlmError::Http { .. } => "See the server's log for details.".into(),
        LlmError::Protocol { .. } => "The server's reply was not in the OpenAI streaming format; check api_base.".into(),
        LlmError::ContextOverflow { .. } => super::limits::overflow_hint(None),
    }
}

/// Whether a message with images asks for a change (so the coding model acts on the vision
/// model's description in the same turn) rather than only a look.
pub(super) fn asks_for_action(text: &str) -> bool {
    const VERBS: &[&str] = &[
        "fix",
        "repair",
        "resolve",
        "solve",
        "change",
        "edit",
        "update",
        "patch",
        "implement",
        "refactor",
        "correct",
        "apply",
        "add",
        "remove",
        "rewrite",
        "write",
        "make",
        "debug",
    ];
    text.to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .any(|w| VERBS.contains(&w))
}

/// What the vision model is asked to do with the user's images.
pub(super) const VISION_PROMPT: &str = "You look at images for a coding assistant. Answer the user's question about them. \
Quote error messages, code, file names and numbers exactly as they appear.";

/// The message without its images, with `note` after its text (the rest of it, a
/// compaction summary included, stays).
fn without_images(m: &mut Message, note: &str) {
    use crate::domain::conversation::{Content, ContentPart};
    let text = match m.content.take() {
        Some(Content::Parts(parts)) => parts
            .into_iter()
            .filter_map(|p| match p {
                ContentPart::Text(t) => Some(t),
                ContentPart::ImageUrl(_) => None,
            })
            .collect::<Vec<_>>()
            .join("\n\n"),
        Some(Content::Text(t)) => t,
        None => String::new(),
    };
    m.content = Some(Content::Text(format!("{text}\n\n{note}")));
}
