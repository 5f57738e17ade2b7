//! What the user does directly: the text that goes with a message (notes, git changes,
//! `@` files), `!command`, `/model`.

use super::*;
use crate::session::{attach, context, record::Record};

/// The most of a `!command`'s output the model is told.
const SHELL_NOTE_BYTES: usize = 8_000;

impl Agent {
    /// The message as the model gets it: what cove has to tell it first (undo, a changed
    /// git state, `!command` output), the user's text, then the files it names with `@`.
    pub(super) async fn compose(&mut self, text: &str) -> String {
        let mut parts: Vec<String> = Vec::new();
        if let Some(note) = self.pending_note.take() {
            parts.push(note);
        }
        if let Some(note) = self.git_note().await {
            parts.push(note);
        }
        let root = self.settings.ctx.root.clone();
        let max = self.settings.context.attach_max_bytes();
        let owned = text.to_owned();
        let attached = if text.contains('@') {
            let ctx = self.settings.ctx.clone();
            let denied = move |p: &std::path::Path| {
                let rel = p.strip_prefix(&ctx.root).unwrap_or(p);
                crate::tools::protected::read_reason(rel, &ctx.protected)
            };
            tokio::task::spawn_blocking(move || attach::attach_guarded(&root, &owned, max, &denied))
                .await
                .unwrap_or_default()
        } else {
            attach::Attached::default()
        };
        if !attached.labels.is_empty() || !attached.problems.is_empty() {
            let mut line = Vec::new();
            if !attached.labels.is_empty() {
                line.push(format!("Attached {}.", attached.labels.join(", ")));
            }
            line.extend(attached.problems.iter().cloned());
            let text = line.join(" ");
            // journaled after the user message it belongs to (see `turn`)
            self.attached_notice = Some(text.clone());
            self.send(AgentEvent::Notice { text });
        }
        parts.push(format!("{text}{}", attached.text));
        parts.join("\n\n")
    }

    /// After a turn: the git state the model now knows (its own changes included) and
    /// the context use.
    pub(super) async fn after_turn(&mut self) {
        self.refresh_window().await;
        if self.settings.git_enabled {
            let root = self.settings.ctx.root.clone();
            let now = tokio::task::spawn_blocking(move || context::git_summary(&root))
                .await
                .ok()
                .flatten();
            if now != self.git_seen {
                self.log_if_open(Record::Git {
                    summary: now.clone(),
                });
            }
            self.git_seen = now;
        }
        self.report_usage();
    }

    /// `!command`: runs as the user typed it (no approval), shows the output and tells
    /// the model with the next message.
    pub(super) async fn user_shell(&mut self, turn: u64, command: String) {
        let mut ctx = self.settings.ctx.clone();
        // the user's own command, typed by them: not confined like the model's
        ctx.sandbox = crate::sandbox::Sandbox::off();
        let args = serde_json::json!({ "command": command });
        let run = crate::tools::shell::shell(&ctx, &args);
        let cancel = self.cancel.clone();
        // stopped: the future is dropped, which kills the command's process group
        let out = tokio::select! {
            out = run => Some(out),
            _ = cancel.cancelled() => None,
        };
        let (output, ok) = match out {
            Some(o) => (o.text, !o.is_error),
            None => ("(interrupted; the command was stopped)".to_string(), false),
        };
        let shown = crate::domain::text::neutralize_controls(&output).into_owned();
        self.log(Record::Notice {
            text: format!("$ {command}\n{shown}"),
        });
        let mut for_model = output.clone();
        if for_model.len() > SHELL_NOTE_BYTES {
            let mut cut = for_model.len() - SHELL_NOTE_BYTES;
            while !for_model.is_char_boundary(cut) {
                cut += 1;
            }
            for_model = format!("[… earlier output cut …]\n{}", &for_model[cut..]);
        }
        let note = format!(
            "(The user ran `{command}` in the workspace themselves; {}. Its output:)\n```\n{}\n```",
            if ok { "it succeeded" } else { "it failed" },
            for_model.trim_end()
        );
        let note = match self.pending_note.take() {
            Some(earlier) => format!("{earlier}\n\n{note}"),
            None => note,
        };
        self.set_note(Some(note));
        self.send(AgentEvent::ShellDone {
            turn,
            command,
            output: shown,
            ok,
        });
        self.report_usage();
    }

    /// `/model`: without a name, says what is in use and which profiles exist; with a
    /// profile's name, switches to it (its endpoints, model, window); with another name,
    /// asks the same server for that model.
    pub(super) async fn switch_model(&mut self, name: Option<String>) {
        let profiles: Vec<String> = self.settings.config.profiles.keys().cloned().collect();
        let Some(name) = name.map(|n| n.trim().to_owned()).filter(|n| !n.is_empty()) else {
            let current = self.model.clone().unwrap_or_else(|| "(unknown)".into());
            let text = if profiles.is_empty() {
                format!(
                    "Model: {current}. No profiles are configured ([profiles.NAME] in the config); `/model NAME` asks this server for model NAME."
                )
            } else {
                format!(
                    "Model: {current}. Profiles: {}. `/model NAME` switches.",
                    profiles.join(", ")
                )
            };
            self.send(AgentEvent::Notice { text });
            return;
        };
        // `default`, unless a profile has that name: `[model]` as configured, no profile
        let profile = self
            .settings
            .config
            .profiles
            .get(&name)
            .cloned()
            .or_else(|| (name == "default").then(crate::config::ModelConfig::default));
        if let Some(profile) = profile {
            let mc = overlay(&self.settings.base_model, &profile);
            let env = |k: &str| std::env::var(k).ok();
            let opts = ClientOptions {
                guard: self.settings.client.guard().clone(),
                ..ClientOptions::from_config(&self.settings.config, &mc)
            };
            let client = match Client::new(mc.endpoints(&env), opts) {
                Ok(c) => c,
                Err(e) => {
                    self.send(AgentEvent::Notice {
                        text: format!("Cannot switch to profile {name}: {e}"),
                    });
                    return;
                }
            };
            self.settings.client = client;
            self.model = mc.name.clone().filter(|n| !n.is_empty());
            self.context_window = mc.context_window.map(u64::from);
            self.window_source = mc
                .context_window
                .map(|_| crate::llm::probe::WindowSource::Config);
            self.settings.model = mc;
            self.last_usage = None;
            self.probe().await;
            self.send(AgentEvent::Notice {
                text: format!(
                    "Switched to profile {name}: {} at {}.",
                    self.status.model, self.status.endpoint
                ),
            });
        } else {
            // a name the server does not list is used as asked (llama.cpp answers to any
            // name, Ollama may pull it), but not without a word
            let listed: Vec<String> = crate::llm::probe::list_models(&self.settings.client)
                .await
                .map(|(_, models)| models.into_iter().map(|m| m.id).collect())
                .unwrap_or_default();
            let unlisted = if listed.is_empty() || listed.contains(&name) {
                String::new()
            } else {
                let mut shown: Vec<&str> = listed.iter().take(8).map(String::as_str).collect();
                if listed.len() > shown.len() {
                    shown.push("…");
                }
                format!(
                    " Warning: the server does not list a model named {name} (it lists: {}); replies may fail or come from another model.",
                    shown.join(", ")
                )
            };
            self.model = Some(name.clone());
            self.status.model = name.clone();
            self.send(AgentEvent::Server(self.status.clone()));
            self.send(AgentEvent::Notice {
                text: format!(
                    "Using model {name} on {} from the next message{}.{unlisted}",
                    self.status.endpoint,
                    if profiles.is_empty() {
                        String::new()
                    } else {
                        format!(" (profiles: {})", profiles.join(", "))
                    }
                ),
            });
        }
        self.report_usage();
    }
}

/// `[model]` with a profile's set keys laid over it.
fn overlay(base: &ModelConfig, top: &ModelConfig) -> ModelConfig {
    ModelConfig {
        name: top.name.clone().or_else(|| base.name.clone()),
        api_base: top.api_base.clone().or_else(|| base.api_base.clone()),
        api_key: top.api_key.clone().or_else(|| base.api_key.clone()),
        api_key_env: top.api_key_env.clone().or_else(|| base.api_key_env.clone()),
        max_tokens: top.max_tokens.or(base.max_tokens),
        temperature: top.temperature.or(base.temperature),
        context_window: top.context_window.or(base.context_window),
        vision: top.vision.or(base.vision),
        connect_timeout_secs: top.connect_timeout_secs.or(base.connect_timeout_secs),
        idle_timeout_secs: top.idle_timeout_secs.or(base.idle_timeout_secs),
        max_retries: top.max_retries.or(base.max_retries),
        max_reply_bytes: top.max_reply_bytes.or(base.max_reply_bytes),
        min_tokens_per_s: top.min_tokens_per_s.or(base.min_tokens_per_s),
        retry_slow: top.retry_slow.or(base.retry_slow),
    }
}
