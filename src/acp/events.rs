//! The agent's events as ACP: `session/update` notifications, the answers to `session/new`,
//! `session/load` and `session/prompt`, and `session/request_permission` requests.

use serde_json::{Value, json};

use super::options::{self, CommandEnd};
use super::replay::transcript_updates;
use super::wire::{diff_content, tool_kind};
use super::{Asked, INTERNAL_ERROR, Server};
use crate::protocol::{AgentEvent, ApprovalRequest, Decision, Op, StreamEvent, ToolResultKind};

fn chunk(kind: &str, text: &str) -> Value {
    json!({"sessionUpdate": kind, "content": {"type": "text", "text": text}})
}

impl Server {
    pub(super) fn event(&mut self, key: &str, ev: AgentEvent) {
        if self.opening_event(key, &ev) {
            return;
        }
        match ev {
            AgentEvent::Stream { event, .. } => match event {
                StreamEvent::Content { text } => {
                    self.update(key, chunk("agent_message_chunk", &text))
                }
                StreamEvent::Reasoning { text } => {
                    self.update(key, chunk("agent_thought_chunk", &text))
                }
                StreamEvent::ToolCallStart { id, name, .. } => {
                    self.update(
                        key,
                        json!({
                            "sessionUpdate": "tool_call",
                            "toolCallId": id,
                            "title": name,
                            "kind": tool_kind(&name),
                            "status": "pending",
                        }),
                    );
                    if let Some(s) = self.sessions.get_mut(key) {
                        s.tools.insert(id, name);
                    }
                }
                StreamEvent::ToolCallArgs { .. } | StreamEvent::Notice { .. } => {}
            },
            AgentEvent::ApprovalNeeded { request, .. } => self.ask(key, &request),
            AgentEvent::ToolStarted { call_id, .. } => self.update(
                key,
                json!({"sessionUpdate": "tool_call_update", "toolCallId": call_id, "status": "in_progress"}),
            ),
            AgentEvent::ToolFinished {
                call_id,
                kind,
                summary,
                output,
                changes,
                ..
            } => {
                // the editor shows what the call gave the model (bounded), else its summary
                let text = if output.is_empty() { summary } else { output };
                let mut content =
                    vec![json!({"type": "content", "content": {"type": "text", "text": text}})];
                let mut locations = Vec::new();
                if let Some(s) = self.sessions.get(key) {
                    content.extend(diff_content(&s.root, &changes));
                    // the editor can follow along to the files the call changed
                    locations.extend(changes.iter().map(|c| json!({"path": s.root.join(&c.path)})));
                }
                self.update(
                    key,
                    json!({
                        "sessionUpdate": "tool_call_update",
                        "toolCallId": call_id,
                        "status": if kind == ToolResultKind::Done { "completed" } else { "failed" },
                        "content": content,
                        "locations": locations,
                    }),
                );
            }
            AgentEvent::TurnDone { outcome, .. } => {
                let reason = if outcome.interrupted {
                    "cancelled"
                } else if outcome.finish_reason.as_deref() == Some("length") {
                    "max_tokens"
                } else {
                    "end_turn"
                };
                if let Some(id) = self.take_prompt(key) {
                    self.reply(id, json!({"stopReason": reason}));
                }
            }
            AgentEvent::TurnFailed { error, hint, .. } => {
                if let Some(id) = self.take_prompt(key) {
                    self.error(id, INTERNAL_ERROR, &format!("{error} ({hint})"));
                }
            }
            AgentEvent::Busy { op, turn: Some(_) } => {
                // the prompt was not started: answered now, not left waiting
                if let Some(id) = self.take_prompt(key) {
                    self.error(id, INTERNAL_ERROR, &format!("cove is busy ({op}); try again"));
                }
            }
            AgentEvent::Notice { text } => {
                // said while a prompt or a command runs: the editor shows it there
                if self.sessions.get(key).is_some_and(|s| s.prompt.is_some()) {
                    self.update(key, chunk("agent_message_chunk", &format!("\n{text}\n")));
                } else {
                    tracing::debug!("acp: notice outside a prompt: {text}");
                }
            }
            AgentEvent::Ready => self.command_ended(key, CommandEnd::Ready),
            AgentEvent::Sessions { .. } => self.command_ended(key, CommandEnd::Barrier),
            AgentEvent::ContextUsage {
                tokens,
                window: Some(window),
            } => self.update(
                key,
                json!({"sessionUpdate": "usage_update", "used": tokens, "size": window}),
            ),
            other => tracing::trace!("acp: event not forwarded: {other:?}"),
        }
    }

    /// Events that open a session: the agent names it (`SessionStarted`), replays a
    /// journal (`SessionLoaded`) and is ready. `true`: the event was one of them.
    fn opening_event(&mut self, key: &str, ev: &AgentEvent) -> bool {
        let Some(load) = self
            .sessions
            .get(key)
            .and_then(|s| s.opening.as_ref())
            .map(|o| o.load)
        else {
            return false;
        };
        match (ev, load) {
            (AgentEvent::SessionStarted { id }, false) => {
                self.name_session(key, id.clone());
                self.opened(key, json!({"sessionId": id}));
                self.update(
                    key,
                    json!({"sessionUpdate": "available_commands_update", "availableCommands": options::available_commands()}),
                );
            }
            (
                AgentEvent::SessionLoaded {
                    id,
                    transcript,
                    turns,
                },
                true,
            ) => {
                self.name_session(key, id.clone());
                if let Some(s) = self.sessions.get_mut(key) {
                    s.turn = *turns;
                }
                for u in transcript_updates(transcript) {
                    self.update(key, u);
                }
            }
            (AgentEvent::Notice { text }, _) => {
                if let Some(o) = self.sessions.get_mut(key).and_then(|s| s.opening.as_mut()) {
                    o.notice = Some(text.clone());
                }
            }
            (AgentEvent::Ready, true) => {
                let named = self.sessions.get(key).is_some_and(|s| !s.public.is_empty());
                if named {
                    self.opened(key, json!({}));
                    self.update(
                        key,
                        json!({"sessionUpdate": "available_commands_update", "availableCommands": options::available_commands()}),
                    );
                } else {
                    let why = self
                        .sessions
                        .get_mut(key)
                        .and_then(|s| s.opening.take())
                        .map(|o| (o.request, o.notice));
                    self.close(key);
                    if let Some((request, notice)) = why {
                        let why =
                            notice.unwrap_or_else(|| "the session could not be loaded".into());
                        self.error(request, INTERNAL_ERROR, &why);
                    }
                }
            }
            // the server probe and the like, before the answer: not the editor's yet
            _ => {}
        }
        true
    }

    /// Answers the opening request with `result` plus the session's modes and options.
    fn opened(&mut self, key: &str, mut result: Value) {
        let state = self.session_state(key);
        let Some(opening) = self.sessions.get_mut(key).and_then(|s| s.opening.take()) else {
            return;
        };
        if let (Some(r), Some(st)) = (result.as_object_mut(), state.as_object()) {
            r.extend(st.clone());
        }
        self.reply(opening.request, result);
    }

    /// The agent of the session under `key` has gone: what waits is answered.
    pub(super) fn gone(&mut self, key: &str) {
        let Some(s) = self.sessions.get_mut(key) else {
            return;
        };
        let waiting: Vec<Value> = [s.opening.take().map(|o| o.request), s.prompt.take()]
            .into_iter()
            .flatten()
            .collect();
        self.close(key);
        for id in waiting {
            self.error(id, INTERNAL_ERROR, "the session's agent stopped");
        }
    }

    fn command_ended(&mut self, key: &str, end: CommandEnd) {
        if self.sessions.get(key).and_then(|s| s.command) != Some(end) {
            return;
        }
        if let Some(id) = self.take_prompt(key) {
            self.reply(id, json!({"stopReason": "end_turn"}));
        }
    }

    /// The prompt being answered, taken when its turn (or command) ended; permission
    /// requests of the turn that were never answered are forgotten with it (bounded). A
    /// model chosen meanwhile is switched to now.
    fn take_prompt(&mut self, key: &str) -> Option<Value> {
        self.asked.retain(|_, a| a.key != key);
        let s = self.sessions.get_mut(key)?;
        s.command = None;
        if let Some(name) = s.pending_model.take() {
            let _ = s.ops.send(Op::SwitchModel { name: Some(name) });
        }
        s.prompt.take()
    }

    fn ask(&mut self, key: &str, request: &ApprovalRequest) {
        let Some(s) = self.sessions.get(key) else {
            return;
        };
        if s.rejected.contains(&request.tool) {
            let _ = s.ops.send(Op::Decide {
                call_id: request.call_id.clone(),
                decision: Decision::Reject {
                    reason: Some(format!(
                        "the user rejected `{}` for the rest of this session",
                        request.tool
                    )),
                },
            });
            return;
        }
        let content = diff_content(&s.root, &request.changes);
        let locations: Vec<Value> = request
            .changes
            .iter()
            .map(|c| json!({"path": s.root.join(&c.path)}))
            .collect();
        let public = s.public.clone();
        self.next_request += 1;
        let n = self.next_request;
        self.asked.insert(
            n,
            Asked {
                key: key.to_owned(),
                call_id: request.call_id.clone(),
                tool: request.tool.clone(),
                prefix: request.session_prefix.clone(),
            },
        );
        let title = match &request.danger {
            Some(why) => format!("{} (dangerous: {why})", request.summary),
            None => request.summary.clone(),
        };
        let raw_input = serde_json::from_str::<Value>(&request.arguments).unwrap_or(Value::Null);
        self.send(json!({
            "jsonrpc": "2.0",
            "id": n,
            "method": "session/request_permission",
            "params": {
                "sessionId": public,
                "toolCall": {
                    "toolCallId": request.call_id,
                    "title": title,
                    "kind": tool_kind(&request.tool),
                    "status": "pending",
                    "rawInput": raw_input,
                    "content": content,
                    "locations": locations,
                },
                "options": [
                    {"optionId": "allow_once", "name": "Allow", "kind": "allow_once"},
                    {"optionId": "allow_always", "name": "Allow for this session", "kind": "allow_always"},
                    {"optionId": "reject_once", "name": "Reject", "kind": "reject_once"},
                    {"optionId": "reject_always", "name": "Reject for this session", "kind": "reject_always"},
                ],
            },
        }));
    }
}
