//! What cove changed: `/diff` against the session start, `/undo`, auto-commit.

use std::collections::HashMap;
use std::path::PathBuf;

use super::*;
use crate::session::record::Record;

impl Agent {
    /// `/diff`: each changed file now against how it was before cove first changed it.
    pub(super) fn session_diff(&self) {
        let ctx = &self.settings.ctx;
        let changes = self
            .session_base
            .iter()
            .filter_map(|(path, before)| {
                let now = std::fs::File::open(path)
                    .and_then(|mut f| crate::tools::on_disk::read_all(&mut f))
                    .ok();
                (now != *before).then(|| {
                    registry::proposed(
                        ctx,
                        &FileChange {
                            path: path.clone(),
                            old: before.clone(),
                            new: now,
                        },
                    )
                })
            })
            .collect();
        self.send(AgentEvent::SessionDiff { changes });
    }

    /// After a turn: keep its changes for `/undo`, and commit them when configured.
    pub(super) fn end_turn(&mut self, turn: u64) {
        self.log_if_open(Record::TurnEnd { turn });
        let changes = std::mem::take(&mut self.turn_changes);
        if changes.is_empty() {
            return;
        }
        if self.settings.auto_commit {
            let mut paths: Vec<PathBuf> = Vec::new();
            for c in &changes {
                if !paths.contains(&c.path) {
                    paths.push(c.path.clone());
                }
            }
            let message = self
                .conversation
                .iter()
                .rev()
                .find_map(|m| match (&m.role, &m.content) {
                    (
                        crate::domain::conversation::Role::Assistant,
                        Some(crate::domain::conversation::Content::Text(t)),
                    ) if !t.trim().is_empty() => Some(first_line(t.trim())),
                    _ => None,
                })
                .unwrap_or_else(|| "Changes made with cove".into());
            let note = match crate::git::commit(&self.settings.ctx.root, &paths, &message) {
                Ok(id) => format!("committed {id}: {message}"),
                Err(e) => format!("auto-commit failed: {e}"),
            };
            self.send(AgentEvent::Notice { text: note });
        }
        self.undo_stack.push(changes);
    }

    /// Reverts the last turn that changed files, exactly; a file changed since (outside
    /// cove) is left alone and named.
    pub(super) fn undo(&mut self) {
        let Some(changes) = self.undo_stack.pop() else {
            self.send(AgentEvent::Notice {
                text: "Nothing to undo.".into(),
            });
            return;
        };
        self.log(Record::Undo);
        let root = self.settings.ctx.root.clone();
        let rel = |p: &std::path::Path| p.strip_prefix(&root).unwrap_or(p).display().to_string();
        // The state before the turn: the first `old` seen for each path; the state after: the last `new`.
        let mut order: Vec<PathBuf> = Vec::new();
        let mut before: HashMap<PathBuf, Option<std::sync::Arc<[u8]>>> = HashMap::new();
        let mut after: HashMap<PathBuf, Option<std::sync::Arc<[u8]>>> = HashMap::new();
        for c in &changes {
            if !before.contains_key(&c.path) {
                before.insert(c.path.clone(), c.old.clone());
                order.push(c.path.clone());
            }
            after.insert(c.path.clone(), c.new.clone());
        }
        let (mut restored, mut refused) = (Vec::new(), Vec::new());
        for path in order {
            let ctx = &self.settings.ctx;
            if !crate::tools::files::holds(ctx, &path, after[&path].as_deref()) {
                refused.push(format!("{} (changed outside cove since)", rel(&path)));
                continue;
            }
            let result = match &before[&path] {
                Some(bytes) => crate::tools::files::write(ctx, &path, bytes),
                None => std::fs::remove_file(&path),
            };
            match result {
                Ok(()) => restored.push(rel(&path)),
                Err(e) => refused.push(format!("{} ({e})", rel(&path))),
            }
        }
        let mut text = if restored.is_empty() {
            "Undo changed nothing.".to_string()
        } else {
            format!("Undone: {}.", restored.join(", "))
        };
        if !refused.is_empty() {
            text.push_str(&format!(" Left alone: {}.", refused.join(", ")));
        }
        if !restored.is_empty() {
            self.send(AgentEvent::Undone {
                restored: restored.clone(),
            });
            self.set_note(Some(format!(
                "(Note from cove: the user undid your last changes to {}; those files are back as they were.)",
                restored.join(", ")
            )));
        }
        self.log(Record::Notice { text: text.clone() });
        self.send(AgentEvent::Notice { text });
    }

    /// `/commit` alone: commits the files cove changed this session that git sees changed
    /// (HEAD plus exactly those; what the user staged stays staged), with a message the
    /// model writes from the user's requests and the diff (one request, no tools).
    pub(super) async fn commit_session(&mut self) {
        let changed = self.changed_files();
        if changed.is_empty() {
            self.say_once(
                "Nothing to commit: no file cove changed this session differs from how it was.",
            );
            return;
        }
        let paths = self.uncommitted(&changed).await.unwrap_or(changed);
        if paths.is_empty() {
            self.say_once(
                "Nothing to commit: what cove changed this session is committed already.",
            );
            return;
        }
        // what the user asked for, newest last, bounded
        let mut asked: Vec<String> = self
            .conversation
            .iter()
            .rev()
            .filter(|m| m.role == crate::domain::conversation::Role::User)
            .filter_map(|m| match &m.content {
                Some(crate::domain::conversation::Content::Text(t)) => {
                    Some(t.chars().take(600).collect())
                }
                _ => None,
            })
            .take(4)
            .collect();
        asked.reverse();
        let task = if asked.is_empty() {
            "changes made with cove".to_owned()
        } else {
            asked.join("\n")
        };
        if self.commit_task(&task, &paths).await.is_none() {
            self.tell("Commit stopped: nothing was committed.".into());
        }
    }

    /// A notice, journaled when the session has a journal (a notice alone does not start one).
    fn say_once(&mut self, text: &str) {
        self.log_if_open(Record::Notice { text: text.into() });
        self.send(AgentEvent::Notice { text: text.into() });
    }

    /// `/commit MESSAGE`: commits every file cove changed this session (HEAD plus exactly
    /// those files; what the user staged stays staged).
    pub(super) fn commit(&mut self, message: &str) {
        let paths: Vec<PathBuf> = self.session_base.iter().map(|(p, _)| p.clone()).collect();
        let text = if paths.is_empty() {
            "Nothing to commit: cove has changed no files this session.".to_string()
        } else if message.trim().is_empty() {
            "Give a message: /commit MESSAGE (or /commit alone to let the model write one).".into()
        } else {
            match crate::git::commit(&self.settings.ctx.root, &paths, message.trim()) {
                Ok(id) => format!("Committed {id}: {}", message.trim()),
                Err(e) => format!("Commit failed: {e}"),
            }
        };
        self.log_if_open(Record::Notice { text: text.clone() });
        self.send(AgentEvent::Notice { text });
    }
}
