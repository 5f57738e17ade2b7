//! The editor's requests about sessions: opening (`session/new`, `session/load`),
//! listing, prompting, modes and config options, and its answers to our permission
//! requests.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;

use serde_json::{Value, json};

use super::files::EditorFs;
use super::wire::{editor_mcp_servers, prompt_images, prompt_text};
use super::{
    INTERNAL_ERROR, INVALID_PARAMS, INVALID_REQUEST, MAX_PROMPT, Opening, Prepared, Server,
    Session, SessionSetup, options,
};
use crate::agent;
use crate::protocol::{ApprovalMode, Decision, ImageAttachment, ModeCell, Op};
use crate::session::store;

/// A session id cove could have made (`store::new_id`): nothing that could name a path.
fn plausible_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

impl Server {
    /// `session/new` (`load`: `None`) and `session/load`: an agent for the cwd; the
    /// answer waits until the agent names the session (or replayed it).
    pub(super) fn open(&mut self, id: Value, params: &Value, load: Option<String>) {
        let Some(cwd) = params.get("cwd").and_then(Value::as_str) else {
            return self.error(id, INVALID_PARAMS, "cwd is missing");
        };
        let cwd = PathBuf::from(cwd);
        if !cwd.is_absolute() || !cwd.is_dir() {
            return self.error(
                id,
                INVALID_PARAMS,
                &format!("cwd must be an absolute directory: {}", cwd.display()),
            );
        }
        if let Some(sid) = &load {
            if !plausible_id(sid) {
                return self.error(id, INVALID_PARAMS, &format!("no session {sid}"));
            }
            if self.public.contains_key(sid) {
                return self.error(
                    id,
                    INVALID_REQUEST,
                    &format!("session {sid} is open already"),
                );
            }
        }
        let mcp = match editor_mcp_servers(params) {
            Ok(m) => m,
            Err(e) => return self.error(id, INVALID_PARAMS, &e),
        };
        let SessionSetup {
            mut settings,
            prepare_image,
            max_images,
            models,
            model,
        } = match (self.hooks.setup)(&cwd, mcp) {
            Ok(s) => s,
            Err(e) => return self.error(id, INTERNAL_ERROR, &e),
        };
        if let Some(sid) = &load {
            let Some(dir) = settings.sessions_dir.as_deref() else {
                return self.error(id, INTERNAL_ERROR, "sessions are not journaled here");
            };
            let path = store::journal_path(dir, sid);
            if !path.is_file() {
                return self.error(
                    id,
                    INVALID_PARAMS,
                    &format!("no session {sid} in this workspace"),
                );
            }
            settings.resume = Some(path);
        }
        let mode = Arc::new(ModeCell::default());
        settings.mode = mode.clone();
        let (can_read, can_write) = self.client_fs;
        let editor = (can_read || can_write).then(|| {
            Arc::new(EditorFs::new(
                self.out.clone(),
                self.fs_waiting.clone(),
                self.fs_next.clone(),
                can_read,
                can_write,
            ))
        });
        if let Some(e) = &editor {
            settings.ctx.editor = Some(e.clone());
        }
        self.next_session += 1;
        let key = format!("s{}", self.next_session);
        let (ops, mut events) = agent::spawn(settings);
        let tx = self.ev_tx.clone();
        let k = key.clone();
        tokio::spawn(async move {
            while let Some(ev) = events.recv().await {
                if tx.send((k.clone(), Some(ev))).is_err() {
                    return;
                }
            }
            let _ = tx.send((k, None));
        });
        let root = cwd.canonicalize().unwrap_or(cwd);
        self.sessions.insert(
            key,
            Session {
                ops,
                public: String::new(),
                opening: Some(Opening {
                    request: id,
                    load: load.is_some(),
                    notice: None,
                }),
                root,
                turn: 0,
                prompt: None,
                command: None,
                tools: HashMap::new(),
                prepare_image,
                max_images,
                mode,
                models,
                model,
                pending_model: None,
                rejected: HashSet::new(),
                editor,
                decoding: false,
            },
        );
    }

    /// The session under `key` now has the editor's id `public`.
    pub(super) fn name_session(&mut self, key: &str, public: String) {
        if let Some(s) = self.sessions.get_mut(key) {
            if let Some(e) = &s.editor {
                let _ = e.session.set(public.clone());
            }
            s.public = public.clone();
            self.public.insert(public, key.to_owned());
        }
    }

    /// What `session/new` and `session/load` answer besides the id.
    pub(super) fn session_state(&self, key: &str) -> Value {
        match self.sessions.get(key) {
            Some(s) => json!({
                "modes": options::modes(s.mode.get()),
                "configOptions": options::config_options(s.mode.get(), &s.models, &s.model),
            }),
            None => json!({}),
        }
    }

    /// Forgets the session under `key` and stops its agent.
    pub(super) fn close(&mut self, key: &str) {
        if let Some(s) = self.sessions.remove(key) {
            self.public.remove(&s.public);
            let _ = s.ops.send(Op::Interrupt);
            let _ = s.ops.send(Op::Shutdown);
        }
        self.asked.retain(|_, a| a.key != key);
    }

    /// `session/list`: the workspace's journaled sessions, newest first.
    pub(super) fn list(&mut self, id: Value, params: &Value) {
        let Some(cwd) = params
            .get("cwd")
            .and_then(Value::as_str)
            .map(PathBuf::from)
            .filter(|c| c.is_absolute() && c.is_dir())
        else {
            // cove keeps sessions per workspace: without one there is nothing to list
            return self.reply(id, json!({"sessions": []}));
        };
        let sessions: Vec<Value> = (self.hooks.sessions_dir)(&cwd)
            .map(|dir| store::list(&dir))
            .unwrap_or_default()
            .into_iter()
            .take(500)
            .map(|s| {
                let when = store::format_time(s.last_active).replacen(' ', "T", 1);
                json!({
                    "sessionId": s.id,
                    "cwd": cwd,
                    "title": s.first_prompt,
                    "updatedAt": format!("{when}:00Z"),
                })
            })
            .collect();
        self.reply(id, json!({"sessions": sessions}));
    }

    pub(super) fn prompt(&mut self, id: Value, params: &Value) {
        let key = match self.key_of(params) {
            Ok(k) => k,
            Err(e) => return self.error(id, INVALID_PARAMS, &e),
        };
        let Some(blocks) = params.get("prompt").and_then(Value::as_array) else {
            return self.error(id, INVALID_PARAMS, "session/prompt needs prompt");
        };
        let root = match self.sessions.get(&key) {
            Some(s) => s.root.clone(),
            None => return self.error(id, INVALID_PARAMS, "no such session"),
        };
        let text = prompt_text(blocks, &root);
        if text.len() > MAX_PROMPT {
            return self.error(
                id,
                INVALID_PARAMS,
                &format!("the prompt is longer than {MAX_PROMPT} bytes"),
            );
        }
        let Some(s) = self.sessions.get_mut(&key) else {
            return self.error(id, INVALID_PARAMS, "no such session");
        };
        if s.prompt.is_some() {
            return self.error(id, INVALID_REQUEST, "a prompt is already running");
        }
        let images: Vec<Value> = blocks
            .iter()
            .filter(|b| b.get("type").and_then(Value::as_str) == Some("image"))
            .cloned()
            .collect();
        if !images.is_empty() {
            // decoding and downscaling take a while: on the blocking pool, so other
            // sessions' updates and a cancel are not held up; the turn starts when done
            s.prompt = Some(id.clone());
            s.decoding = true;
            let (prep, max) = (s.prepare_image.clone(), s.max_images);
            let tx = self.prepared.clone();
            tokio::task::spawn_blocking(move || {
                let images = prompt_images(&images, max, &prep);
                let _ = tx.send(Prepared {
                    key,
                    id,
                    text,
                    images,
                });
            });
            return;
        }
        if text.trim().is_empty() {
            return self.error(id, INVALID_PARAMS, "the prompt has no text");
        }
        match options::command(&text) {
            Some(Ok((op, end))) => self.command(&key, id, op, end),
            Some(Err(why)) => {
                self.update(
                    &key,
                    json!({"sessionUpdate": "agent_message_chunk", "content": {"type": "text", "text": why}}),
                );
                self.reply(id, json!({"stopReason": "end_turn"}))
            }
            None => self.start_turn(&key, id, text, Vec::new()),
        }
    }

    /// A prompt's images are ready (or could not be read): its turn starts, unless it was
    /// cancelled meanwhile.
    pub(super) fn prepared(&mut self, p: Prepared) {
        let Some(s) = self.sessions.get_mut(&p.key) else {
            return;
        };
        if !s.decoding || s.prompt.as_ref() != Some(&p.id) {
            return;
        }
        s.decoding = false;
        s.prompt = None;
        match p.images {
            Err(e) => self.error(p.id, INVALID_PARAMS, &e),
            Ok(images) => self.start_turn(&p.key, p.id, p.text, images),
        }
    }

    fn start_turn(&mut self, key: &str, id: Value, text: String, images: Vec<ImageAttachment>) {
        let Some(s) = self.sessions.get_mut(key) else {
            return self.error(id, INVALID_PARAMS, "no such session");
        };
        s.turn += 1;
        s.prompt = Some(id);
        let _ = s.ops.send(Op::UserTurn {
            turn: s.turn,
            text,
            images,
        });
    }

    /// A slash command: its op, then (for `Barrier`) an op whose answer marks its end.
    fn command(&mut self, key: &str, id: Value, op: Op, end: options::CommandEnd) {
        if let Op::SwitchModel { name: Some(name) } = &op {
            self.chose_model(key, name);
        }
        let Some(s) = self.sessions.get_mut(key) else {
            return self.error(id, INVALID_PARAMS, "no such session");
        };
        s.prompt = Some(id);
        s.command = Some(end);
        let _ = s.ops.send(op);
        if end == options::CommandEnd::Barrier {
            let _ = s.ops.send(Op::ListSessions);
        }
    }

    /// The model is now `name` (a value of the model option, or a model of the server):
    /// the editor hears of it when it is one of the options.
    fn chose_model(&mut self, key: &str, name: &str) {
        let Some(s) = self.sessions.get_mut(key) else {
            return;
        };
        if !s.models.iter().any(|(v, _)| v == name) {
            s.models.push((name.to_owned(), name.to_owned()));
        }
        s.model = name.to_owned();
        let options = options::config_options(s.mode.get(), &s.models, &s.model);
        self.update(
            key,
            json!({"sessionUpdate": "config_option_update", "configOptions": options}),
        );
    }

    pub(super) fn set_mode(&mut self, id: Value, params: &Value) {
        let key = match self.key_of(params) {
            Ok(k) => k,
            Err(e) => return self.error(id, INVALID_PARAMS, &e),
        };
        let mode = params.get("modeId").and_then(Value::as_str);
        let Some(mode) = mode.and_then(ApprovalMode::from_id) else {
            return self.error(id, INVALID_PARAMS, "unknown modeId");
        };
        if let Some(s) = self.sessions.get(&key) {
            s.mode.set(mode);
        }
        self.reply(id, json!({}));
    }

    pub(super) fn set_config_option(&mut self, id: Value, params: &Value) {
        let key = match self.key_of(params) {
            Ok(k) => k,
            Err(e) => return self.error(id, INVALID_PARAMS, &e),
        };
        let value = params.get("value").and_then(Value::as_str).unwrap_or("");
        let Some(s) = self.sessions.get_mut(&key) else {
            return self.error(id, INVALID_PARAMS, "no such session");
        };
        match params.get("configId").and_then(Value::as_str) {
            Some("mode") => match ApprovalMode::from_id(value) {
                Some(mode) => {
                    s.mode.set(mode);
                    self.update(
                        &key,
                        json!({"sessionUpdate": "current_mode_update", "currentModeId": mode.id()}),
                    );
                }
                None => return self.error(id, INVALID_PARAMS, &format!("unknown mode {value}")),
            },
            Some("model") => {
                if !s.models.iter().any(|(v, _)| v == value) {
                    return self.error(id, INVALID_PARAMS, &format!("unknown model {value}"));
                }
                s.model = value.to_owned();
                if s.prompt.is_some() {
                    // the agent switches between turns
                    s.pending_model = Some(value.to_owned());
                } else {
                    let _ = s.ops.send(Op::SwitchModel {
                        name: Some(value.to_owned()),
                    });
                }
            }
            _ => return self.error(id, INVALID_PARAMS, "unknown configId"),
        }
        let Some(s) = self.sessions.get(&key) else {
            return self.error(id, INVALID_PARAMS, "no such session");
        };
        let options = options::config_options(s.mode.get(), &s.models, &s.model);
        self.reply(id, json!({"configOptions": options}));
    }

    /// The editor's answer to one of our `session/request_permission`s.
    pub(super) fn response(&mut self, id: &Value, v: &Value) {
        if super::files::answer(&self.fs_waiting, id, v) {
            return;
        }
        let Some(asked) = id.as_u64().and_then(|n| self.asked.remove(&n)) else {
            return tracing::debug!("acp: a response to nothing: {id}");
        };
        let option = v
            .pointer("/result/outcome")
            .filter(|o| o.get("outcome").and_then(Value::as_str) == Some("selected"))
            .and_then(|o| o.get("optionId"))
            .and_then(Value::as_str);
        let decision = match option {
            Some("allow_once") => Decision::Approve,
            Some("allow_always") => match asked.prefix {
                Some(p) => Decision::AllowPrefix(p),
                None => Decision::ApproveForSession,
            },
            Some("reject_always") => {
                if let Some(s) = self.sessions.get_mut(&asked.key) {
                    s.rejected.insert(asked.tool.clone());
                }
                Decision::Reject {
                    reason: Some(format!(
                        "the user rejected `{}` for the rest of this session",
                        asked.tool
                    )),
                }
            }
            Some(_) => Decision::Reject { reason: None },
            // cancelled, an error or an answer cove does not know: not run
            None => Decision::Reject {
                reason: Some("the user did not approve this call".into()),
            },
        };
        if let Some(s) = self.sessions.get(&asked.key) {
            let _ = s.ops.send(Op::Decide {
                call_id: asked.call_id,
                decision,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::plausible_id;

    #[test]
    fn only_ids_cove_makes_are_looked_up() {
        assert!(plausible_id("20261202-091147-0a1b"));
        for bad in ["", "../x", "a/b", "a.jsonl", "..", &"x".repeat(65), "a b"] {
            assert!(!plausible_id(bad), "{bad}");
        }
    }
}
