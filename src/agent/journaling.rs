//! The session journal from the agent's side: a record for every message, decision,
//! tool result and change, written (and fsync'd) before the UI hears of it; new sessions
//! (`/clear`), resuming one, the list for the picker, `/export`.

use std::path::{Path, PathBuf};

use super::*;
use crate::session::journal::{self, Journal};
use crate::session::record::{Blob, Record, VERSION};
use crate::session::{context, export, replay, store};

/// The longest a turn waits for the git state before its first request.
const GIT_NOTE_WAIT: std::time::Duration = std::time::Duration::from_millis(300);

/// The journal of the running session. The file is created with the first record worth
/// keeping (a session that never got a message leaves nothing behind).
pub(super) struct SessionLog {
    pub id: String,
    /// `None`: no data directory, nothing is journaled.
    pub dir: Option<PathBuf>,
    journal: Option<Journal>,
    start: Option<Record>,
    /// Writing failed once: the user was told; no more tries this session.
    broken: bool,
}

impl SessionLog {
    pub fn new(dir: Option<PathBuf>) -> Self {
        SessionLog {
            id: store::new_id(),
            dir,
            journal: None,
            start: None,
            broken: false,
        }
    }
}

impl Agent {
    /// A fresh session: new id, project context computed once, empty conversation.
    pub(super) async fn begin_session(&mut self) {
        let root = self.settings.ctx.root.clone();
        // temporary files a crash left behind (atomic writes), in the background
        let sweep = root.clone();
        tokio::task::spawn_blocking(move || {
            let n = crate::tools::atomic::clean_stale_temps(&sweep, 200_000);
            if n > 0 {
                tracing::info!(
                    "removed {n} stale temporary file(s) of cove's in {}",
                    sweep.display()
                );
            }
        });
        let budget = self.settings.context.project_budget();
        let git = self.settings.git_enabled;
        let project = tokio::task::spawn_blocking(move || context::build(&root, budget, git))
            .await
            .unwrap_or(context::ProjectContext {
                text: String::new(),
                git: None,
            });
        let prompt = if project.text.is_empty() {
            self.settings.system_prompt.clone()
        } else {
            format!("{}\n\n{}", self.settings.system_prompt, project.text)
        };
        let dir = self.log.dir.clone();
        self.log = SessionLog::new(dir);
        self.log.start = Some(Record::Start {
            version: VERSION,
            id: self.log.id.clone(),
            workspace: self.settings.ctx.root.display().to_string(),
            started: store::now_secs(),
            system_prompt: prompt.clone(),
            git: project.git.clone(),
        });
        self.git_seen = project.git;
        self.conversation = vec![Message::system(prompt)];
        self.reset_session_state();
    }

    fn reset_session_state(&mut self) {
        self.turn_changes.clear();
        self.undo_stack.clear();
        self.session_base.clear();
        self.pending_note = None;
        self.allowed_tools.clear();
        self.allowed_prefixes.clear();
        self.last_usage = None;
    }

    /// Appends a record (and fsyncs it). A journal that cannot be written is reported
    /// once; the session goes on without it.
    pub(super) fn log(&mut self, record: Record) {
        if self.log.broken {
            return;
        }
        let Some(dir) = self.log.dir.clone() else {
            return;
        };
        let result = (|| {
            if self.log.journal.is_none() {
                let path = store::journal_path(&dir, &self.log.id);
                let mut j = Journal::create(&path)?;
                if let Some(start) = self.log.start.take() {
                    j.append(&start)?;
                }
                self.log.journal = Some(j);
            }
            match self.log.journal.as_mut() {
                Some(j) => j.append(&record),
                None => Ok(()),
            }
        })();
        if let Err(e) = result {
            self.log.broken = true;
            self.send(AgentEvent::Notice {
                text: format!(
                    "The session journal cannot be written ({e}); this session will not be resumable."
                ),
            });
        }
    }

    /// Appends a record only to a journal that exists already: bookkeeping that alone
    /// does not make a session worth keeping.
    pub(super) fn log_if_open(&mut self, record: Record) {
        if self.log.journal.is_some() {
            self.log(record);
        }
    }

    /// Sets (or clears) what the model is told with the next user message, journaled.
    pub(super) fn set_note(&mut self, note: Option<String>) {
        self.log(Record::Note {
            text: note.clone().unwrap_or_default(),
        });
        self.pending_note = note;
    }

    /// The change a tool made, for the journal (paths relative to the workspace).
    pub(super) fn log_change(&mut self, turn: u64, c: &FileChange) {
        let path = registry::relative(&self.settings.ctx, &c.path);
        self.log(Record::Change {
            turn,
            path,
            old: c.old.as_ref().map(Blob::of),
            new: c
                .new
                .as_ref()
                .map(|new| Blob::new_side(c.old.as_ref(), new)),
        });
    }

    /// Loads a session's journal and continues it: same system prompt, same conversation,
    /// its undo steps; the transcript goes to the UI.
    pub(super) async fn resume(&mut self, path: PathBuf) -> bool {
        let p = path.clone();
        let loaded = tokio::task::spawn_blocking(move || journal::load(&p))
            .await
            .map_err(|e| e.to_string())
            .and_then(|r| r.map_err(|e| e.to_string()))
            .and_then(|l| replay::replay(l.records, path.clone(), l.warnings));
        let r = match loaded {
            Ok(r) => r,
            Err(e) => {
                self.send(AgentEvent::Notice {
                    text: format!("Cannot resume the session: {e}"),
                });
                return false;
            }
        };
        let journal = match Journal::reopen(&r.path) {
            Ok(j) => Some(j),
            Err(e @ journal::JournalError::Busy(_)) => {
                self.send(AgentEvent::Notice {
                    text: format!("Cannot resume: {e}."),
                });
                return false;
            }
            Err(e) => {
                self.send(AgentEvent::Notice {
                    text: format!("{e}; the resumed session will not be journaled further."),
                });
                None
            }
        };
        self.reset_session_state();
        let root = self.settings.ctx.root.clone();
        self.undo_stack = r
            .undo
            .iter()
            .map(|step| step.iter().map(|c| file_change(&root, c)).collect())
            .collect();
        self.session_base = r
            .base
            .iter()
            .map(|(p, old)| (root.join(p), old.clone()))
            .collect();
        self.pending_note = r.note.clone();
        self.conversation = r.messages;
        self.git_seen = r.git;
        self.log = SessionLog {
            id: r.id.clone(),
            dir: self.log.dir.clone(),
            broken: journal.is_none(),
            journal,
            start: None,
        };
        let transcript = with_thumbnails(r.transcript, r.images).await;
        self.send(AgentEvent::SessionLoaded {
            id: r.id,
            transcript,
            turns: r.turns,
        });
        for w in r.warnings {
            self.send(AgentEvent::Notice {
                text: format!("Journal: {w}"),
            });
        }
        self.report_usage();
        true
    }

    /// `/clear`: a new session (the old one stays in its journal).
    pub(super) async fn new_session(&mut self) {
        self.begin_session().await;
        self.send(AgentEvent::SessionLoaded {
            id: self.log.id.clone(),
            transcript: Vec::new(),
            turns: 0,
        });
        self.report_usage();
    }

    /// The sessions of this workspace, for the picker.
    pub(super) async fn list_sessions(&self) {
        let dir = self.log.dir.clone();
        let list = tokio::task::spawn_blocking(move || {
            dir.as_deref().map(store::list).unwrap_or_default()
        })
        .await
        .unwrap_or_default();
        let sessions = list
            .into_iter()
            .map(|s| crate::protocol::SessionSummary {
                id: s.id,
                path: s.path,
                started: store::format_time(s.started),
                first_prompt: s.first_prompt,
                turns: s.turns as u64,
                files_changed: s.files_changed as u64,
            })
            .collect();
        self.send(AgentEvent::Sessions {
            sessions,
            current: self.log.id.clone(),
        });
    }

    /// `/export [PATH]`: the session as Markdown (default: `cove-session-<id>.md` in the
    /// workspace). Written from the journal, so it holds the whole history.
    pub(super) fn export(&self, path: Option<String>) {
        let root = &self.settings.ctx.root;
        let target = match path.as_deref().map(str::trim).filter(|p| !p.is_empty()) {
            Some(p) if Path::new(p).is_absolute() => PathBuf::from(p),
            Some(p) => root.join(p),
            None => root.join(format!("cove-session-{}.md", self.log.id)),
        };
        let records = match self.log.journal.as_ref() {
            Some(j) => journal::load(j.path()).map(|l| l.records),
            None => Ok(Vec::new()),
        };
        let text = match records {
            Ok(r) if !r.is_empty() => export::markdown(&r),
            Ok(_) => {
                self.send(AgentEvent::Notice {
                    text: "Nothing to export yet: this session has no messages.".into(),
                });
                return;
            }
            Err(e) => {
                self.send(AgentEvent::Notice {
                    text: format!("Export failed: {e}"),
                });
                return;
            }
        };
        if let Some(dir) = target.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        let text = match crate::tools::atomic::write_atomic(&target, text.as_bytes()) {
            Ok(()) => format!("Exported the session to {}.", target.display()),
            Err(e) => format!("Export to {} failed: {e}", target.display()),
        };
        self.send(AgentEvent::Notice { text });
    }

    /// Before a user message: a git state that changed since the model last heard of it
    /// becomes a short note (the system prompt is never rewritten).
    pub(super) async fn git_note(&mut self) -> Option<String> {
        if !self.settings.git_enabled {
            return None;
        }
        let root = self.settings.ctx.root.clone();
        // a status of a huge repository can take a second: the turn does not wait for it
        let status = tokio::task::spawn_blocking(move || context::git_summary(&root));
        let now = match tokio::time::timeout(GIT_NOTE_WAIT, status).await {
            Ok(Ok(now)) => now,
            _ => return None,
        };
        tracing::debug!(?now, seen = ?self.git_seen, "git state before a turn");
        let note = context::git_change_note(self.git_seen.as_deref(), now.as_deref());
        if note.is_some() {
            // the model hears of it now: a resumed session must not tell it again
            self.log(Record::Git {
                summary: now.clone(),
            });
        }
        self.git_seen = now;
        note
    }
}

fn file_change(root: &Path, c: &replay::Change) -> FileChange {
    FileChange {
        path: root.join(&c.path),
        old: c.old.clone(),
        new: c.new.clone(),
    }
}

/// The most earlier images a resumed transcript shows as thumbnails (decoding costs
/// ~30 ms each); the rest show their labels.
const RESUME_THUMBNAILS: usize = 40;

/// Thumbnails for the images of a resumed transcript, made on a blocking thread.
async fn with_thumbnails(
    mut transcript: Vec<crate::protocol::TranscriptItem>,
    images: Vec<(usize, Vec<String>)>,
) -> Vec<crate::protocol::TranscriptItem> {
    if images.is_empty() {
        return transcript;
    }
    let made = tokio::task::spawn_blocking(move || {
        // the newest first: those are the ones on screen
        let mut left = RESUME_THUMBNAILS;
        let mut out = Vec::new();
        for (at, urls) in images.into_iter().rev() {
            let previews: Vec<_> = urls
                .iter()
                .map(|u| {
                    (left > 0).then(|| {
                        left -= 1;
                        crate::vision::preview::from_data_url(u)
                    })?
                })
                .collect();
            out.push((at, previews));
        }
        out
    })
    .await
    .unwrap_or_default();
    for (at, previews) in made {
        if let Some(crate::protocol::TranscriptItem::User { previews: p, .. }) =
            transcript.get_mut(at)
        {
            *p = previews;
        }
    }
    transcript
}
