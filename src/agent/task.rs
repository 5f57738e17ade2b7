//! A task with nobody at the keyboard (`cove exec`, `Op::Task`): turns until the model
//! is done and the check passes (its failing output is the next message), at most
//! `max_turns`; then, when asked, a commit of exactly the files cove changed, with a
//! message the model writes in one short request.

use std::path::PathBuf;

use super::*;
use crate::protocol::{Check, CheckReport, CommitReport, Task, TaskReport, TaskStatus, TokenUsage};
use crate::session::record::Record;

/// The most of the changes' diff the commit-message request carries.
const COMMIT_DIFF_BYTES: usize = 16_000;
/// A commit subject longer than this is cut (at a word).
const SUBJECT_MAX: usize = 72;

impl Agent {
    pub(super) async fn task(&mut self, task: Task) {
        let report = self.run_task(task).await;
        self.send(AgentEvent::TaskDone(report));
    }

    async fn run_task(&mut self, task: Task) -> TaskReport {
        let Task {
            text,
            images,
            verify,
            max_turns,
            commit,
        } = task;
        self.usage = TokenUsage::default();
        let max_turns = max_turns.max(1);
        let mut report = TaskReport {
            status: TaskStatus::Done,
            turns: 0,
            files_changed: Vec::new(),
            commit: None,
            verify: None,
            usage: TokenUsage::default(),
            error: None,
        };
        // whether the sandbox can run the check: probed (once per process) beside the first
        // turn, so the model's first request does not wait for it
        let mut probe = verify.as_ref().map(|_| {
            let sandbox = self.settings.ctx.sandbox.clone();
            tokio::task::spawn_blocking(move || sandbox.check().map(|_| ()))
        });
        let (mut message, mut images) = (text.clone(), images);
        report.status = loop {
            report.turns += 1;
            let turn = u64::from(report.turns);
            self.send(AgentEvent::TaskTurn {
                turn,
                text: message.clone(),
            });
            let end = self
                .user_turn(
                    turn,
                    std::mem::take(&mut message),
                    std::mem::take(&mut images),
                )
                .await;
            // a turn cove stopped (too many steps, the same calls again) may still have
            // fixed what the check checks: the check decides, not the stop
            let mut stalled = None;
            match end {
                TurnEnd::Answered { cut_short: None } => {}
                TurnEnd::Answered {
                    cut_short: Some((why, code)),
                } => {
                    report.error = Some(why);
                    break TaskStatus::Failed { code };
                }
                TurnEnd::Failed { error, code } => {
                    report.error = Some(error);
                    break TaskStatus::Failed { code };
                }
                TurnEnd::StepLimit => stalled = Some(TaskStatus::MaxIterations),
                TurnEnd::Repeating => stalled = Some(TaskStatus::Repeating),
                TurnEnd::Interrupted | TurnEnd::Shutdown => break TaskStatus::Interrupted,
            }
            let Some(check) = &verify else {
                break stalled.unwrap_or(TaskStatus::Done);
            };
            // a check that cannot run at all is not the model's to fix
            if let Some(Ok(Err(e))) = match probe.take() {
                Some(p) => Some(p.await),
                None => None,
            } {
                report.error = Some(format!("the check cannot run: {e}"));
                break TaskStatus::Failed { code: 2 };
            }
            let ctx = self.settings.ctx.clone();
            let cancel = self.cancel.clone();
            let Ok(ran) = super::verify::run(&ctx, check, &cancel).await else {
                break TaskStatus::Interrupted;
            };
            self.log(Record::Notice {
                text: check_notice(&ran),
            });
            self.send(AgentEvent::Checked {
                turn,
                report: ran.clone(),
            });
            let passed = ran.passed;
            if !passed {
                message = failure_message(check, &ran, report.turns, max_turns);
            }
            report.verify = Some(ran);
            if passed {
                break TaskStatus::Done;
            }
            if report.turns >= max_turns {
                break stalled.unwrap_or(TaskStatus::CheckFailed);
            }
        };
        let changed = self.changed_files();
        report.files_changed = changed
            .iter()
            .map(|p| registry::relative(&self.settings.ctx, p))
            .collect();
        if commit {
            if report.status != TaskStatus::Done {
                let why = format!(
                    "Not committed: the task did not finish ({}).",
                    report.status.as_str()
                );
                self.tell(why);
            } else if changed.is_empty() {
                self.tell("Nothing to commit: cove changed no files.".into());
            } else {
                // what the model committed itself (`git_commit`) is not committed twice
                let paths = match self.uncommitted(&changed).await {
                    Some(paths) => paths,
                    None => changed.clone(),
                };
                if paths.is_empty() {
                    self.tell(
                        "Nothing to commit: git sees no change in the files cove changed (committed already, or ignored).".into(),
                    );
                } else {
                    report.commit = self.commit_task(&text, &paths).await;
                    if report.commit.is_none() {
                        // stopped while the model wrote the message
                        report.status = TaskStatus::Interrupted;
                    }
                }
            }
        }
        report.usage = self.usage;
        report
    }

    /// Counts a request's tokens for the task's report.
    pub(super) fn count_usage(&mut self, usage: Option<&crate::domain::conversation::Usage>) {
        self.usage.requests += 1;
        if let Some(u) = usage {
            self.usage.prompt_tokens += u.prompt_tokens;
            self.usage.completion_tokens += u.completion_tokens;
            self.usage.total_tokens += u.total_tokens;
        }
    }

    /// The files cove changed this session that differ now from how they were.
    pub(super) fn changed_files(&self) -> Vec<PathBuf> {
        self.session_base
            .iter()
            .filter(|(path, before)| !crate::tools::on_disk::holds(path, before.as_deref()))
            .map(|(path, _)| path.clone())
            .collect()
    }

    /// Those of `paths` whose content differs from HEAD (the model may have committed them
    /// with `git_commit`); `None` when git cannot tell (no repository: the commit says why).
    pub(super) async fn uncommitted(&self, paths: &[PathBuf]) -> Option<Vec<PathBuf>> {
        let root = self.settings.ctx.root.clone();
        let statuses = tokio::task::spawn_blocking(move || {
            crate::git::Confined::open(&root).and_then(|c| c.statuses())
        })
        .await
        .ok()?
        .ok()?;
        Some(
            paths
                .iter()
                .filter(|p| {
                    let rel = registry::relative(&self.settings.ctx, p);
                    statuses.iter().any(|(_, path)| *path == rel)
                })
                .cloned()
                .collect(),
        )
    }

    /// Commits `paths` (HEAD plus exactly those files: what the user staged stays staged
    /// and out of it) with a message the model writes. `None` when stopped meanwhile.
    pub(super) async fn commit_task(
        &mut self,
        task: &str,
        paths: &[PathBuf],
    ) -> Option<CommitReport> {
        let files: Vec<String> = paths
            .iter()
            .map(|p| registry::relative(&self.settings.ctx, p))
            .collect();
        let message = self.commit_message(task, paths).await?;
        let root = self.settings.ctx.root.clone();
        let (owned_paths, msg) = (paths.to_vec(), message.clone());
        let result = if self.settings.git_enabled {
            tokio::task::spawn_blocking(move || crate::git::commit(&root, &owned_paths, &msg))
                .await
                .map_err(|e| e.to_string())
                .and_then(|r| r.map_err(|e| e.to_string()))
        } else {
            Err("git is switched off ([git] enabled = false)".into())
        };
        let report = match result {
            Ok(id) => {
                self.tell(format!(
                    "Committed {id}: {}",
                    message.lines().next().unwrap_or("")
                ));
                CommitReport {
                    id: Some(id),
                    message,
                    files,
                    error: None,
                }
            }
            Err(e) => {
                self.tell(format!("The commit failed: {e}"));
                CommitReport {
                    id: None,
                    message,
                    files,
                    error: Some(e),
                }
            }
        };
        Some(report)
    }

    /// One short request, no tools: a commit message for the changes. A failed request
    /// gives a plain message naming the task; `None` when stopped meanwhile.
    async fn commit_message(&mut self, task: &str, paths: &[PathBuf]) -> Option<String> {
        let diff = self.changes_diff(paths);
        let req = ChatRequest {
            model: self.model.clone().unwrap_or_else(|| "default".into()),
            messages: vec![
                Message::system(
                    "You write git commit messages. Reply with the message only: a subject line of at most 72 characters in the imperative mood, then, only if useful, a blank line and a short body. No quotes, no code fences, no preamble.",
                ),
                Message::user(format!(
                    "The task was:\n{}\n\nThe changes:\n```diff\n{diff}```",
                    task.trim()
                )),
            ],
            tools: Vec::new(),
            max_tokens: Some(200),
            temperature: Some(0.2),
            num_ctx: self.ollama_num_ctx(),
            stop_when_slow: false,
            purpose: crate::guard::ledger::Purpose::CommitMessage,
        };
        let cancel = self.cancel.clone();
        let result = {
            let mut ignore = |_ev: StreamEvent| {};
            let stream = self.settings.client.stream_chat(&req, &mut ignore);
            tokio::select! {
                r = stream => r,
                _ = cancel.cancelled() => return None,
            }
        };
        let written = match result {
            Ok(c) => {
                self.count_usage(c.reply.usage.as_ref());
                clean_message(&c.reply.content)
            }
            Err(e) => {
                self.tell(format!(
                    "The model could not write the commit message ({e}); using a plain one."
                ));
                None
            }
        };
        Some(written.unwrap_or_else(|| {
            let first = task.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
            cut_subject(&format!("cove: {}", first.trim()))
        }))
    }

    /// The changes to `paths` since cove first touched each, as a unified diff, bounded.
    fn changes_diff(&self, paths: &[PathBuf]) -> String {
        let mut out = String::new();
        for (path, before) in &self.session_base {
            if !paths.contains(path) {
                continue;
            }
            let rel = registry::relative(&self.settings.ctx, path);
            let now = std::fs::read(path).ok();
            let text = |b: Option<&[u8]>| {
                b.map(|b| String::from_utf8_lossy(b).into_owned())
                    .unwrap_or_default()
            };
            let (old, new) = (text(before.as_deref()), text(now.as_deref()));
            let hunks = crate::domain::patch::diff_hunks(&old, &new, 3);
            let old_name = before
                .as_ref()
                .map_or("/dev/null".into(), |_| format!("a/{rel}"));
            let new_name = now
                .as_ref()
                .map_or("/dev/null".into(), |_| format!("b/{rel}"));
            out.push_str(&format!("--- {old_name}\n+++ {new_name}\n"));
            out.push_str(&crate::domain::patch::render(&hunks));
            if out.len() > COMMIT_DIFF_BYTES {
                let mut cut = COMMIT_DIFF_BYTES;
                while !out.is_char_boundary(cut) {
                    cut -= 1;
                }
                out.truncate(cut);
                out.push_str("\n[… the rest of the diff left out …]\n");
                break;
            }
        }
        out
    }
}

/// What the journal keeps of a run of the check.
fn check_notice(r: &CheckReport) -> String {
    format!(
        "Check `{}` {} ({}, {:.1} s)",
        r.command,
        if r.passed { "passed" } else { "failed" },
        r.status,
        r.duration_ms as f64 / 1000.0
    )
}

/// The next message after a failing check: what failed and the end of its output.
fn failure_message(check: &Check, r: &CheckReport, turn: u32, max_turns: u32) -> String {
    let output = if r.tail.trim().is_empty() {
        "(no output)".to_string()
    } else {
        r.tail.clone()
    };
    format!(
        "The check `{}` still fails ({}) after your changes. The end of its output:\n```\n{output}\n```\nFind the cause, fix it, then end your turn; the check runs again ({} of {max_turns} turns used).",
        check.command, r.status, turn
    )
}

/// The model's reply as a commit message: fences, quotes and a `Subject:`-style label
/// taken off, the subject cut to `SUBJECT_MAX`; `None` when nothing is left.
fn clean_message(reply: &str) -> Option<String> {
    let mut lines: Vec<&str> = reply
        .trim()
        .lines()
        .filter(|l| !l.trim_start().starts_with("```"))
        .collect();
    while lines.first().is_some_and(|l| l.trim().is_empty()) {
        lines.remove(0);
    }
    let first = lines.first()?.trim();
    let first = ["Subject:", "subject:", "Commit message:", "commit message:"]
        .iter()
        .find_map(|p| first.strip_prefix(p))
        .unwrap_or(first)
        .trim()
        .trim_matches(|c| c == '"' || c == '\'' || c == '`')
        .trim();
    if first.is_empty() {
        return None;
    }
    let subject = cut_subject(first);
    let body = lines[1..].join("\n");
    let body = body.trim().trim_end_matches(['"', '\'']).trim();
    Some(if body.is_empty() {
        subject
    } else {
        format!("{subject}\n\n{body}")
    })
}

fn cut_subject(s: &str) -> String {
    let s = crate::domain::text::neutralize_controls(s).into_owned();
    if s.chars().count() <= SUBJECT_MAX {
        return s;
    }
    let cut: String = s.chars().take(SUBJECT_MAX).collect();
    match cut.rfind(' ') {
        Some(i) if i > SUBJECT_MAX / 2 => cut[..i].to_owned(),
        _ => cut,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commit_messages_are_cleaned() {
        assert_eq!(
            clean_message("```\nFix the parser's off-by-one\n```").as_deref(),
            Some("Fix the parser's off-by-one")
        );
        assert_eq!(
            clean_message("Subject: \"Add a test\"\n\nIt covers the empty case.").as_deref(),
            Some("Add a test\n\nIt covers the empty case.")
        );
        assert_eq!(clean_message("  \n```\n```"), None);
        let long = clean_message(&"word ".repeat(40)).unwrap();
        assert!(long.len() <= SUBJECT_MAX && !long.ends_with(' '), "{long}");
    }

    #[test]
    fn the_failure_reaches_the_model_with_its_output() {
        let check = Check {
            command: "cargo test".into(),
            timeout_secs: 60,
        };
        let r = CheckReport {
            command: "cargo test".into(),
            status: "exit code 101".into(),
            tail: "assertion failed: left == right".into(),
            ..CheckReport::default()
        };
        let m = failure_message(&check, &r, 1, 5);
        assert!(m.contains("`cargo test` still fails (exit code 101)"));
        assert!(m.contains("assertion failed: left == right"));
        assert!(m.contains("1 of 5"));
    }
}
