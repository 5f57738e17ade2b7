//! Tool calls of one response: gate (policy, patterns, danger), approval, running,
//! results in call order.

use std::collections::HashMap;
use std::path::PathBuf;

use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use tokio::sync::oneshot;

use super::*;
use crate::protocol::{ApprovalKind, ApprovalMode, AutoApprove};
use crate::session::record::Record;
use crate::tools::{Call, ToolError, Turn};

/// A call of the response after the gate: the call with its typed arguments (none when
/// it was refused before they were read), how it is handled, and for a call that asks, the
/// change as the front-end was shown it.
struct Planned {
    parsed: Option<Call>,
    gate: Gate,
    proposal: Option<Proposal>,
}

/// A call put to the front-end: the change as shown (hunk choices refer to its hunks) and
/// the preview it was made from.
#[derive(Default)]
struct Proposal {
    shown: Vec<crate::protocol::ProposedChange>,
    previewed: registry::Previewed,
}

impl Agent {
    /// How a call is handled: the registry reads it (a known tool, not disabled, arguments
    /// the tool can read), then the unattended level, the shell patterns for a command,
    /// protected paths and the policy decide.
    pub(super) fn gate(&self, call: &ToolCall) -> (Option<Call>, Gate) {
        let name = call.name.as_str();
        let parsed = match self.settings.registry.parse(name, &self.arguments(call)) {
            Ok(parsed) => parsed,
            Err(why) => return (None, Gate::Refuse(why)),
        };
        let gate = self.gate_parsed(&parsed);
        (Some(parsed), gate)
    }

    /// A call's arguments as its tool reads them: a file edit gets the session's secrets
    /// back where the model wrote their placeholders (`guard`), so the preview, the diff
    /// and the file hold the real value, which never went to the model.
    fn arguments<'a>(&self, call: &'a ToolCall) -> std::borrow::Cow<'a, str> {
        if matches!(
            call.name.as_str(),
            "write_file" | "edit_file" | "apply_patch"
        ) && let Some(real) = self.settings.client.guard().restore(&call.arguments)
        {
            return real.into();
        }
        call.arguments.as_str().into()
    }

    fn gate_parsed(&self, parsed: &Call) -> Gate {
        let name = parsed.name();
        let policy = self.settings.registry.policy(name).unwrap_or(Policy::Ask);
        if let Some(why) = self.settings.unattended.and_then(|l| beyond(l, parsed)) {
            return Gate::Refuse(why);
        }
        // reading a secret-looking file asks, flagged, even for a read-only tool; with
        // nobody to ask (`cove exec`) it is refused whatever the level
        let reads = parsed.reads();
        if let Some(why) = crate::tools::protected::denied_read(&self.settings.ctx, &reads) {
            let guard = self.settings.client.guard();
            if self.settings.unattended.is_some() {
                guard.event("deny_read", format!("refused (unattended): {why}"));
                return Gate::Refuse(format!(
                    "not read: the call {why}, which needs the user's approval, and nobody is here to give it. Go on without it."
                ));
            }
            guard.event("deny_read", format!("asked the user: {why}"));
            return Gate::Ask;
        }
        let mode = self.settings.mode.get();
        if mode == ApprovalMode::ReadOnly && !parsed.read_only() {
            return Gate::Refuse(format!(
                "not run: the user put this session in read-only mode, which does not allow `{name}`. Go on with tools that only read, and say in your answer what should be changed or run."
            ));
        }
        if let Some(cmd) = parsed.command() {
            let tools = &self.settings.tools;
            use crate::tools::shell_policy::{ShellGate, check};
            match check(
                cmd,
                &tools.shell_allow,
                &tools.shell_deny,
                &self.allowed_prefixes,
                &self.settings.ctx.root,
            ) {
                ShellGate::Deny { pattern } => {
                    return Gate::Refuse(format!(
                        "the command `{cmd}` is denied by the user's configuration (tools.shell_deny: `{pattern}`)"
                    ));
                }
                // dangerous commands always ask, whatever the policy
                ShellGate::Dangerous { .. } => return Gate::Ask,
                ShellGate::Run => return Gate::Run,
                ShellGate::Ask { reason } => {
                    if let Some(r) = reason {
                        tracing::debug!("shell patterns do not run `{cmd}`: {r}");
                    }
                }
            }
        }
        // writes to .git/, .cove/ and secret files ask whatever the policy or allowances say
        if crate::tools::protected::protected_target(&self.settings.ctx, &parsed.writes()).is_some()
        {
            return Gate::Ask;
        }
        let accepted_edit = mode == ApprovalMode::AcceptEdits
            && matches!(parsed.approval().kind, ApprovalKind::Files { .. });
        if policy == Policy::Always || self.allowed_tools.contains(name) || accepted_edit {
            Gate::Run
        } else {
            Gate::Ask
        }
    }

    /// Decides and runs the calls of one model response; appends their results (in call
    /// order, every call answered). Three steps: gate each call (and announce those that
    /// ask), await the front-end's decisions, execute. `Ok(Some(error))`: a tool failed
    /// fatally (`ToolError::Fatal`) and the turn must end with that error.
    pub(super) async fn run_calls(
        &mut self,
        turn: u64,
        calls: &[ToolCall],
        changed: &mut Vec<PathBuf>,
    ) -> Result<Option<String>, Stop> {
        let ctx = self.settings.ctx.clone();
        let (plan, waiting) = self.gate_calls(turn, &ctx, calls).await;
        let (decisions, stop) = self.await_decisions(turn, calls, waiting).await;
        self.execute_calls(turn, &ctx, calls, plan, decisions, stop, changed)
            .await
    }

    /// Gates every call; each that asks is previewed, registered for its decision and
    /// announced (`ApprovalNeeded`). Returns the plan per call and the decisions awaited.
    async fn gate_calls(
        &mut self,
        turn: u64,
        ctx: &ToolContext,
        calls: &[ToolCall],
    ) -> (Vec<Planned>, Vec<(String, oneshot::Receiver<Decision>)>) {
        let mut plan = Vec::with_capacity(calls.len());
        let mut waiting: Vec<(String, oneshot::Receiver<Decision>)> = Vec::new();
        for call in calls {
            let (parsed, mut gate) = self.gate(call);
            let mut proposal = None;
            if let (Gate::Ask, Some(p)) = (&gate, &parsed) {
                // the preview reads and diffs files: on the blocking pool, and a panic in it
                // refuses the call instead of ending the session
                let (c, id, p, raw) = (
                    ctx.clone(),
                    call.id.clone(),
                    p.clone(),
                    self.arguments(call).into_owned(),
                );
                match crate::tools::isolate::blocking(move || {
                    registry::describe_call(&c, &id, &p, &raw)
                })
                .await
                {
                    // a change that cannot apply is not worth the user's keystroke: the
                    // model hears why at once (nothing is written either way)
                    Ok((_, registry::Previewed { fails: Some(e), .. })) => {
                        gate = Gate::Refuse(format!("{e} (not asked: the change cannot apply)"))
                    }
                    Ok((request, previewed)) => {
                        proposal = Some(Proposal {
                            shown: request.changes.clone(),
                            previewed,
                        });
                        // registered before it is announced, so no answer can come first;
                        // a repeated id shares the first one's decision
                        if !waiting.iter().any(|(id, _)| id == &call.id) {
                            waiting.push((call.id.clone(), self.decisions.expect(&call.id)));
                        }
                        self.send(AgentEvent::ApprovalNeeded { turn, request });
                    }
                    Err(p) => {
                        gate = Gate::Refuse(crate::tools::isolate::internal_error(
                            "preparing this call for approval",
                            &p,
                        ))
                    }
                }
            }
            plan.push(Planned {
                parsed,
                gate,
                proposal,
            });
        }
        (plan, waiting)
    }

    /// Waits until every announced call is decided (each decision journaled as it
    /// comes), or the turn is stopped: then the calls still waiting stay undecided.
    async fn await_decisions(
        &mut self,
        turn: u64,
        calls: &[ToolCall],
        waiting: Vec<(String, oneshot::Receiver<Decision>)>,
    ) -> (HashMap<String, Decision>, Option<Stop>) {
        let mut decisions = HashMap::new();
        let ids: Vec<String> = waiting.iter().map(|(id, _)| id.clone()).collect();
        let mut pending: FuturesUnordered<_> = waiting
            .into_iter()
            .map(|(id, rx)| async move { (id, rx.await) })
            .collect();
        let cancel = self.cancel.clone();
        let mut stop = None;
        loop {
            let next = tokio::select! {
                next = pending.next() => next,
                s = cancel.cancelled() => {
                    stop = Some(s);
                    break;
                }
            };
            let Some((call_id, answer)) = next else {
                break;
            };
            // a sender dropped without an answer cannot happen while the turn runs; the
            // call then counts as undecided
            let Ok(decision) = answer else {
                continue;
            };
            let call = calls.iter().find(|c| c.id == call_id);
            let tool = call.map(|c| c.name.clone()).unwrap_or_default();
            // the audit trail has the user's answer to a read of a secret-looking file too
            let denied = call.and_then(|c| {
                let parsed = self.settings.registry.parse(&c.name, &c.arguments).ok()?;
                crate::tools::protected::denied_read(&self.settings.ctx, &parsed.reads())
            });
            if let Some(why) = denied {
                self.settings.client.guard().event(
                    "deny_read",
                    format!("the user {}: {why}", describe_decision(&decision)),
                );
            }
            self.log(Record::Decision {
                turn,
                call_id: call_id.clone(),
                tool,
                decision: describe_decision(&decision),
            });
            decisions.insert(call_id, decision);
        }
        if stop.is_some() {
            self.decisions.forget(ids.iter().map(String::as_str));
        }
        (decisions, stop)
    }

    /// Runs what was allowed or approved, in call order (reads that need no decision all
    /// at once), and answers every call; after a stop nothing more runs.
    #[allow(clippy::too_many_arguments)]
    async fn execute_calls(
        &mut self,
        turn: u64,
        ctx: &ToolContext,
        calls: &[ToolCall],
        plan: Vec<Planned>,
        decisions: HashMap<String, Decision>,
        mut stop: Option<Stop>,
        changed: &mut Vec<PathBuf>,
    ) -> Result<Option<String>, Stop> {
        let mut ready = if stop.is_none() {
            let (ready, s) = self.run_read_only_together(turn, ctx, calls, &plan).await;
            stop = s;
            ready
        } else {
            HashMap::new()
        };
        // a tool that failed fatally: the rest is not run, and the turn ends with it
        let mut fatal: Option<String> = None;
        for (i, (call, planned)) in calls.iter().zip(plan).enumerate() {
            let Planned {
                parsed,
                gate,
                proposal,
            } = planned;
            let outcome = match (gate, parsed) {
                (Gate::Refuse(why), _) => CallOutcome::failed(why),
                // stopped: nothing more runs
                _ if stop.is_some() => {
                    CallOutcome::rejected("the user interrupted the turn; not run")
                }
                (_, Some(_)) if fatal.is_some() => CallOutcome::rejected(format!(
                    "not run: an earlier call of this reply failed and ended the turn ({})",
                    fatal.as_deref().unwrap_or_default()
                )),
                (_, None) => CallOutcome::failed("not run: the call could not be read"),
                (Gate::Ask, Some(parsed)) => match decisions.get(&call.id) {
                    None => CallOutcome::rejected(
                        "the user interrupted the turn before deciding; not run",
                    ),
                    Some(Decision::Reject { reason }) => CallOutcome::rejected(
                        match reason.as_deref().filter(|r| !r.trim().is_empty()) {
                            Some(r) => format!("The user declined this call: {r}"),
                            None => "The user declined this call.".to_string(),
                        },
                    ),
                    Some(decision) => {
                        let (outcome, s) = self
                            .run_approved(
                                turn,
                                ctx,
                                call,
                                parsed,
                                decision.clone(),
                                proposal,
                                changed,
                            )
                            .await;
                        stop = stop.or(s.stop);
                        fatal = fatal.or(s.fatal);
                        outcome
                    }
                },
                (Gate::Run, Some(parsed)) => match ready.remove(&i) {
                    Some(r) => {
                        let (out, f) = settle(&parsed, r);
                        fatal = fatal.or(f);
                        self.tool_result(ctx, changed, out)
                    }
                    None => {
                        let (outcome, s) =
                            self.run_tool(turn, ctx, call, &parsed, None, changed).await;
                        stop = stop.or(s.stop);
                        fatal = fatal.or(s.fatal);
                        outcome
                    }
                },
            };
            self.finish_call(turn, call, outcome);
        }
        match stop {
            Some(stop) => Err(stop),
            None => Ok(fatal),
        }
    }

    /// Runs a call the front-end approved, as it was decided: with the user's edited
    /// arguments or content, without the hunks they declined, with an allowance for the
    /// session. A change whose file is no longer what it was computed from is not written.
    #[allow(clippy::too_many_arguments)]
    async fn run_approved(
        &mut self,
        turn: u64,
        ctx: &ToolContext,
        call: &ToolCall,
        mut parsed: Call,
        decision: Decision,
        proposal: Option<Proposal>,
        changed: &mut Vec<PathBuf>,
    ) -> (CallOutcome, RunStop) {
        let Proposal { shown, previewed } = proposal.unwrap_or_default();
        // the user approved the change as shown: if the file is no longer what it was
        // computed from, nothing is written
        let as_previewed = match self.check_previewed(&previewed.files) {
            Ok(same) => same,
            Err(why) => return (CallOutcome::failed(why), RunStop::default()),
        };
        let mut edited_note = String::new();
        let mut ran = None;
        match &decision {
            Decision::ApproveForSession => self.allow_for_session(call, &parsed),
            Decision::AllowPrefix(p) => self.allow_prefix(p),
            Decision::ApproveEdited(new) => match parsed.edited(new) {
                Ok(p) => {
                    parsed = p;
                    ran = Some(ran_arguments(call, new));
                    // the model is told exactly what ran, not left believing its own proposal did
                    let what = if call.name == "shell" {
                        "command"
                    } else {
                        "arguments"
                    };
                    edited_note = crate::domain::output::edited_note(what, new);
                }
                Err(e) => {
                    return (
                        CallOutcome::failed(format!(
                            "the user's edited arguments are not valid: {e}; not run"
                        )),
                        RunStop::default(),
                    );
                }
            },
            Decision::ApproveContent(content) => {
                // the user's own content, written by the call the tool names for it
                if let Some(write) = parsed.with_content(content.clone()) {
                    self.send(AgentEvent::ToolStarted {
                        turn,
                        call_id: call.id.clone(),
                    });
                    let mut out = registry::into_output(write.run(ctx, &Turn::default()).await);
                    if !out.is_error {
                        out.text = format!(
                            "(The user edited your proposed change in their editor and applied their version instead; the file now holds exactly what they saved. Read it before changing it further.)\n{}",
                            out.text
                        );
                    }
                    return (self.tool_result(ctx, changed, out), RunStop::default());
                }
            }
            Decision::ApproveHunks { declined } if !declined.is_empty() => {
                // the change computed again now, without the hunks the user declined
                if let Some(planned) = parsed.preview(ctx) {
                    self.send(AgentEvent::ToolStarted {
                        turn,
                        call_id: call.id.clone(),
                    });
                    let out = crate::tools::hunks::apply_kept(
                        ctx,
                        planned.map(|p| p.files),
                        declined,
                        &shown,
                    );
                    return (self.tool_result(ctx, changed, out), RunStop::default());
                }
            }
            _ => {}
        }
        // the files hold what the preview read and the call is as previewed: the checked
        // preview is what gets written
        let as_previewed = as_previewed && !matches!(decision, Decision::ApproveEdited(_));
        let previewed = as_previewed.then_some(previewed);
        let (mut outcome, stop) = self
            .run_tool(turn, ctx, call, &parsed, previewed, changed)
            .await;
        outcome.text = format!("{edited_note}{}", outcome.text);
        outcome.ran = ran;
        (outcome, stop)
    }

    /// Whether a previewed change may still be written: `Ok(true)` when every file holds
    /// exactly what the preview read, `Ok(false)` when some file holds what cove itself wrote
    /// there since (an earlier call of the same reply: the call is then computed again), and
    /// why not otherwise (changed by someone else, a file where there was none, a symlink).
    /// Files are compared piece by piece, not read into memory.
    fn check_previewed(&self, files: &[FileChange]) -> Result<bool, String> {
        let mut all_as_previewed = true;
        for f in files {
            let shown =
                crate::domain::text::shown_path(&registry::relative(&self.settings.ctx, &f.path));
            match std::fs::symlink_metadata(&f.path) {
                Ok(m) if m.file_type().is_symlink() => {
                    return Err(format!(
                        "`{shown}` became a symlink after this change was proposed; nothing was written. Look at it again before changing it."
                    ));
                }
                Ok(m) if !m.is_file() => {
                    return Err(format!(
                        "`{shown}` is no longer a regular file; nothing was written."
                    ));
                }
                _ => {}
            }
            let ctx = &self.settings.ctx;
            if crate::tools::files::holds(ctx, &f.path, f.old.as_deref()) {
                continue;
            }
            all_as_previewed = false;
            let written_by_cove = self
                .turn_changes
                .iter()
                .rev()
                .find(|c| c.path == f.path)
                .is_some_and(|c| crate::tools::files::holds(ctx, &f.path, c.new.as_deref()));
            if !written_by_cove {
                return Err(format!(
                    "`{shown}` changed on disk after this change was proposed (not by cove), so it was not written: the user's edit is kept. Read the file again and redo the change on what it holds now."
                ));
            }
        }
        Ok(all_as_previewed)
    }

    /// The call's result goes into the conversation and the journal, and to the front-end.
    pub(super) fn finish_call(&mut self, turn: u64, call: &ToolCall, outcome: CallOutcome) {
        let CallOutcome {
            text,
            kind,
            summary,
            changes,
            ran,
        } = outcome;
        let output = crate::domain::output::tool_output(&text);
        if let Some(ran) = &ran {
            self.ran_instead(&call.id, ran);
        }
        let message = Message::tool_result(call.id.clone(), text);
        self.conversation.push(message.clone());
        self.log(Record::Message {
            turn,
            message,
            shown: None,
            reasoning: None,
            model: None,
        });
        self.log(Record::Tool {
            turn,
            call_id: call.id.clone(),
            name: call.name.clone(),
            arguments: ran.clone().unwrap_or_else(|| call.arguments.clone()),
            edited: ran.is_some(),
            kind: match kind {
                ToolResultKind::Done => "done",
                ToolResultKind::Failed => "failed",
                ToolResultKind::Rejected => "rejected",
            }
            .into(),
            summary: summary.clone(),
        });
        self.send(AgentEvent::ToolFinished {
            turn,
            call_id: call.id.clone(),
            kind,
            summary,
            output,
            changes,
        });
    }

    /// The user edited call `id` before it ran: the model's own message in the history
    /// now holds the arguments that ran (its result also says so), so the model never
    /// goes on believing that what it proposed ran. The journal's `tool` record has them
    /// too, and a resumed session puts them back the same way (`session::replay`).
    fn ran_instead(&mut self, id: &str, ran: &str) {
        let call = self
            .conversation
            .iter_mut()
            .rev()
            .filter(|m| m.role == crate::domain::conversation::Role::Assistant)
            .find_map(|m| m.tool_calls.iter_mut().find(|c| c.id == id));
        if let Some(c) = call {
            c.arguments = ran.to_owned();
        }
    }

    /// Runs every read-only call that needs no decision, all at once on blocking threads
    /// (they change nothing, so their order does not matter); results by call index.
    async fn run_read_only_together(
        &self,
        turn: u64,
        ctx: &ToolContext,
        calls: &[ToolCall],
        plan: &[Planned],
    ) -> (HashMap<usize, crate::tools::RunResult>, Option<Stop>) {
        let read = |i: usize| plan[i].parsed.as_ref().is_some_and(Call::read_only);
        let runnable: Vec<usize> = (0..calls.len())
            .filter(|&i| matches!(plan[i].gate, Gate::Run) && read(i))
            .collect();
        // (a call that could not be read is refused, and changes nothing either)
        let all_reads = (0..calls.len()).all(|i| read(i) || plan[i].parsed.is_none());
        if runnable.len() < 2 || !all_reads {
            // a lone read, or reads mixed with changes: in order, one by one
            return (HashMap::new(), None);
        }
        let mut handles = Vec::new();
        for &i in &runnable {
            self.send(AgentEvent::ToolStarted {
                turn,
                call_id: calls[i].id.clone(),
            });
            let run = plan[i]
                .parsed
                .as_ref()
                .map(|p| p.run(ctx, &Turn::default()));
            handles.push((
                i,
                tokio::spawn(async move {
                    match run {
                        Some(run) => Some(run.await),
                        None => None,
                    }
                }),
            ));
        }
        let mut out = HashMap::new();
        let cancel = self.cancel.clone();
        let mut handles = handles.into_iter();
        while let Some((i, mut h)) = handles.next() {
            // Esc answers at once: the calls still running are dropped (a command with its
            // whole process group; a file read left to end on its own, bounded by its own
            // time limit)
            let joined = tokio::select! {
                r = &mut h => r,
                stop = cancel.cancelled() => {
                    h.abort();
                    handles.for_each(|(_, h)| h.abort());
                    return (out, Some(stop));
                }
            };
            let result = match joined {
                Ok(Some(r)) => r,
                Ok(None) => Err(ToolError::Tell("not a read-only tool".into())),
                Err(e) if e.is_panic() => {
                    Err(ToolError::Tell(crate::tools::isolate::internal_error(
                        "running this tool",
                        &crate::tools::isolate::panic_message(e.into_panic()),
                    )))
                }
                Err(e) => Err(ToolError::Tell(format!("the tool failed: {e}"))),
            };
            out.insert(i, result);
        }
        (out, None)
    }

    /// Runs one call. Esc (or shutdown) while a shell command or a read runs stops it at
    /// once (a shell command's whole process group is killed); a file write or commit is
    /// let finish (it is short, and abandoning it would leave a change cove does not know
    /// of) and the turn stops after it. The second value is how the turn must stop.
    /// `previewed`: the approved preview of this very call, its files unchanged since: a
    /// `write_file`/`edit_file` then writes it instead of reading and computing it again.
    async fn run_tool(
        &mut self,
        turn: u64,
        ctx: &ToolContext,
        call: &ToolCall,
        parsed: &Call,
        previewed: Option<registry::Previewed>,
        changed: &mut Vec<PathBuf>,
    ) -> (CallOutcome, RunStop) {
        self.send(AgentEvent::ToolStarted {
            turn,
            call_id: call.id.clone(),
        });
        let abandonable = parsed.abandonable();
        let cancel = self.cancel.clone();
        let mut stop = RunStop::default();
        let out = {
            let run = async {
                if let Some(out) = match previewed {
                    Some(p) => registry::write_previewed(ctx, p).await,
                    None => None,
                } {
                    return Ok(out);
                }
                let turn = Turn {
                    changed: changed.clone(),
                };
                parsed.run(ctx, &turn).await
            };
            tokio::pin!(run);
            loop {
                tokio::select! {
                    out = &mut run => break out,
                    why = cancel.cancelled(), if stop.stop.is_none() => {
                        if abandonable {
                            return (CallOutcome::stopped(), RunStop { stop: Some(why), fatal: None });
                        }
                        stop.stop = Some(why);
                    }
                }
            }
        };
        let (out, fatal) = settle(parsed, out);
        stop.fatal = fatal;
        (self.tool_result(ctx, changed, out), stop)
    }

    /// A tool's output as the call's result: text, kind, one-line summary, changes.
    pub(super) fn tool_result(
        &mut self,
        ctx: &ToolContext,
        changed: &mut Vec<PathBuf>,
        out: ToolOutput,
    ) -> CallOutcome {
        // the card's change shares the bytes the tool wrote (a previewed write's are the
        // proposal's own)
        let changes = out
            .changes
            .iter()
            .map(|c| registry::proposed(ctx, c))
            .collect();
        let mut out = out;
        let made = std::mem::take(&mut out.changes);
        self.absorb(changed, made);
        let kind = if out.is_error {
            ToolResultKind::Failed
        } else {
            ToolResultKind::Done
        };
        let summary = first_line(&out.text);
        CallOutcome {
            text: out.text,
            kind,
            summary,
            changes,
            ran: None,
        }
    }

    /// Records what a tool changed: for git_commit (paths of the turn) and for undo.
    pub(super) fn absorb(&mut self, changed: &mut Vec<PathBuf>, made: Vec<FileChange>) {
        for c in made {
            if !changed.contains(&c.path) {
                changed.push(c.path.clone());
            }
            if !self.session_base.iter().any(|(p, _)| p == &c.path) {
                self.session_base.push((c.path.clone(), c.old.clone()));
            }
            self.log_change(self.turn_now, &c);
            // shared, not copied: a big file's bytes are held once for undo, the card and
            // the session base
            self.turn_changes.push(c);
        }
    }
}

/// A call's result as its output, and the turn's error when the tool failed fatally.
fn settle(parsed: &Call, r: crate::tools::RunResult) -> (ToolOutput, Option<String>) {
    match r {
        Ok(out) => (out, None),
        Err(ToolError::Tell(e)) => (ToolOutput::error(e), None),
        Err(ToolError::Fatal(e)) => {
            let why = format!("`{}` failed: {e}", parsed.name());
            (ToolOutput::error(e), Some(why))
        }
    }
}

/// How running a call ended the turn, when it did: stopped (Esc, shutdown), or a tool's
/// fatal error.
#[derive(Default)]
struct RunStop {
    stop: Option<Stop>,
    fatal: Option<String>,
}

/// Why an unattended run at `level` does not run `call`, when it does not: read-only
/// tools need `read-only`, file edits `edits`, everything else (commands, commits, other
/// tools) `all`.
fn beyond(level: AutoApprove, call: &Call) -> Option<String> {
    let tool = call.name();
    let needs = if call.read_only() {
        AutoApprove::ReadOnly
    } else if matches!(call.approval().kind, ApprovalKind::Files { .. }) {
        AutoApprove::Edits
    } else {
        AutoApprove::All
    };
    (needs > level).then(|| {
        format!(
            "not run: this is an unattended run (cove exec --auto-approve {}), which does not allow `{tool}` (it needs --auto-approve {}). Nobody can approve it; go on without it, and say in your answer what should be changed or run.",
            level.as_str(),
            needs.as_str()
        )
    })
}

/// The arguments that ran when the user edited a call, as JSON: a command is the
/// command line itself (the other arguments as the model sent them), anything else the
/// JSON the user wrote (which the tool read).
fn ran_arguments(call: &ToolCall, edited: &str) -> String {
    use serde_json::Value;
    if call.name == "shell" {
        let mut args = serde_json::from_str::<Value>(&call.arguments)
            .ok()
            .filter(Value::is_object)
            .unwrap_or_else(|| Value::Object(Default::default()));
        args["command"] = Value::String(edited.trim().to_owned());
        return args.to_string();
    }
    match registry::parse_args(edited) {
        Ok(v) => v.to_string(),
        Err(_) => edited.trim().to_owned(),
    }
}

/// A decision in words, for the journal.
fn describe_decision(d: &Decision) -> String {
    match d {
        Decision::Approve => "approved".into(),
        Decision::ApproveForSession => "approved for the session".into(),
        Decision::AllowPrefix(p) => format!("approved; `{p}` allowed for the session"),
        Decision::ApproveHunks { declined } => {
            format!("approved without {} hunk(s)", declined.len())
        }
        Decision::ApproveContent(_) => "approved with the user's edited content".into(),
        Decision::ApproveEdited(a) => format!("approved with edited arguments: {a}"),
        Decision::Reject { reason: Some(r) } => format!("rejected: {r}"),
        Decision::Reject { reason: None } => "rejected".into(),
    }
}
