//! `cove exec`: the agent without a screen, for CI and scripts. A thin front-end: it
//! sends one `Op::Task`, answers approval requests by its policy (`--auto-approve`; the
//! agent has already refused what the level does not cover), and prints the agent's
//! events: the reply's text to stdout and a few lines to stderr, or NDJSON (`--json`).
//! It never reads the terminal (the prompt comes from the argument or stdin), never draws,
//! and SIGINT stops the run (exit 130) with the journal as far as it got.

use std::collections::HashMap;
use std::io::{IsTerminal, Read, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use clap::{Args, ValueEnum};
use serde_json::{Value, json};

use cove::agent::{self, AgentSettings};
use cove::config::Loaded;
use cove::domain::text::neutralize_controls;
use cove::protocol::{
    AgentEvent, ApprovalRequest, AutoApprove, Check, CheckReport, Decision, Op, StreamEvent, Task,
    TaskReport, TaskStatus, ToolResultKind,
};

use super::{say, say_error};

/// How long an interrupted run may take to wind down (a write being finished, the
/// journal) before cove leaves anyway.
const WIND_DOWN: Duration = Duration::from_secs(10);

#[derive(Args, Debug)]
pub struct ExecArgs {
    /// The task, or `-` to read it from stdin.
    pub prompt: String,
    /// What runs without a person to approve it: `read-only` tools, also file `edits`,
    /// or `all` (also commands and commits). Dangerous commands and writes to protected
    /// files never run; `[tools]` policies and shell patterns still apply.
    #[arg(long, value_enum, value_name = "LEVEL", default_value = "read-only")]
    pub auto_approve: Level,
    /// After each turn run CMD (`sh -c`, in the workspace, sandboxed); while it fails, the
    /// end of its output is the model's next message. Success ends the run.
    #[arg(long, value_name = "CMD")]
    pub verify: Option<String>,
    /// Seconds the check may run before it is stopped (and counts as failed).
    #[arg(long, value_name = "SECS", default_value_t = 600, value_parser = clap::value_parser!(u64).range(1..))]
    pub verify_timeout: u64,
    /// Turns at most (one model turn and one run of the check each); exit 6 when the
    /// check still fails after them.
    #[arg(long, value_name = "N", default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_turns: u32,
    /// Commit exactly the files cove changed when the run succeeds, with a message the
    /// model writes (what you staged stays staged and out of the commit).
    #[arg(long)]
    pub commit: bool,
    /// Print NDJSON events (one object per line, the last a `result`) instead of text.
    #[arg(long)]
    pub json: bool,
    /// Attach an image to the first message (repeatable).
    #[arg(long, value_name = "PATH")]
    pub image: Vec<PathBuf>,
    /// Model name (overrides config and COVE_MODEL).
    #[arg(long, value_name = "M")]
    pub model: Option<String>,
    /// API base URL, e.g. http://127.0.0.1:8080/v1 (overrides config and COVE_BASE_URL).
    #[arg(long, value_name = "URL")]
    pub base_url: Option<String>,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    ReadOnly,
    Edits,
    All,
}

impl From<Level> for AutoApprove {
    fn from(l: Level) -> Self {
        match l {
            Level::ReadOnly => AutoApprove::ReadOnly,
            Level::Edits => AutoApprove::Edits,
            Level::All => AutoApprove::All,
        }
    }
}

pub fn run(args: ExecArgs, loaded: Loaded, workspace: PathBuf) -> u8 {
    let prompt = if args.prompt == "-" {
        let mut s = String::new();
        if let Err(e) = std::io::stdin().read_to_string(&mut s) {
            say_error(&format!("cannot read the prompt from stdin: {e}"));
            return 2;
        }
        s
    } else {
        args.prompt.clone()
    };
    if prompt.trim().is_empty() {
        say_error("the prompt is empty");
        return 2;
    }
    let images = match super::ask::load_images(&args.image, &loaded.config.vision) {
        Ok(images) => images,
        Err(e) => {
            say_error(&e);
            return 2;
        }
    };
    let root = workspace
        .canonicalize()
        .unwrap_or_else(|_| workspace.clone());
    if args.commit {
        if !loaded.config.git.enabled {
            say_error("--commit needs git, which the config switches off ([git] enabled = false)");
            return 2;
        }
        if let Err(e) = cove::git::branch(&root) {
            say_error(&format!("--commit needs a git repository: {e}"));
            return 2;
        }
    }
    let level = AutoApprove::from(args.auto_approve);
    let mut settings = match AgentSettings::from_config(
        &loaded.config,
        system_prompt(level, args.verify.as_deref()),
        root.clone(),
    ) {
        Ok(s) => s,
        Err(e) => {
            say_error(&e.to_string());
            return e.exit_code() as u8;
        }
    };
    settings.sessions_dir = super::sessions::sessions_dir(&workspace);
    settings.unattended = Some(level);
    let task = Task {
        text: prompt,
        images,
        verify: args.verify.clone().map(|command| Check {
            command,
            timeout_secs: args.verify_timeout,
        }),
        max_turns: args.max_turns,
        commit: args.commit,
    };
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            say_error(&format!("cannot start the async runtime: {e}"));
            return 1;
        }
    };
    let printer = Printer::new(&args, level, &root);
    let code = rt.block_on(drive(settings, task, printer));
    // a read the interrupt abandoned may still run on a blocking thread: not waited for
    rt.shutdown_timeout(Duration::from_millis(200));
    code
}

/// What the model is told about the run.
fn system_prompt(level: AutoApprove, verify: Option<&str>) -> String {
    let allowed = match level {
        AutoApprove::ReadOnly => {
            "You may only read (files, search, git status and diff): writes and commands are refused, so answer from what you read."
        }
        AutoApprove::Edits => "You may read and edit files; commands and commits are refused.",
        AutoApprove::All => {
            "You may read and edit files and run commands (dangerous commands and writes to .git/, .cove/ or secret files are refused)."
        }
    };
    let check = verify.map_or(String::new(), |cmd| {
        format!(
            " When you end your turn, cove runs the check `{cmd}`; while it fails, its output comes back to you as the next message."
        )
    });
    format!(
        "You are cove, a coding assistant running unattended (`cove exec`, e.g. in CI) in the workspace described below. \
         Nobody reads questions or answers them during the run: do the task with the tools you have, then end your turn \
         with a short summary of what you did. {allowed}{check} Be concise and concrete."
    )
}

/// Exec's policy for a call the agent puts to it: the agent has refused what the level
/// does not cover; what always needs a person (a dangerous command, a write to a
/// protected file) is refused here, and the rest is approved.
fn decide(request: &ApprovalRequest) -> Decision {
    match &request.danger {
        Some(why) => Decision::Reject {
            reason: Some(format!(
                "cove exec never runs this without a person ({why}). Do without it, or say in your answer what a person should do."
            )),
        },
        None => Decision::Approve,
    }
}

async fn drive(settings: AgentSettings, task: Task, mut out: Printer) -> u8 {
    use tokio::signal::unix::{SignalKind, signal};
    let (ops, mut events) = agent::spawn(settings);
    let _ = ops.send(Op::Task(task));
    let (mut sigint, mut sigterm) = match (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
    ) {
        (Ok(i), Ok(t)) => (i, t),
        _ => {
            say_error("cannot watch for signals");
            return 1;
        }
    };
    // the exit code a signal asked for, and until when the run may wind down
    let mut signalled: Option<(u8, tokio::time::Instant)> = None;
    let far = tokio::time::Instant::now() + Duration::from_secs(365 * 24 * 3600);
    let code = loop {
        let deadline = signalled.map_or(far, |(_, d)| d);
        tokio::select! {
            ev = events.recv() => match ev {
                Some(AgentEvent::ApprovalNeeded { turn, request }) => {
                    let decision = decide(&request);
                    out.approval(turn, &request, &decision);
                    let _ = ops.send(Op::Decide { call_id: request.call_id.clone(), decision });
                }
                Some(AgentEvent::TaskDone(report)) => {
                    out.result(&report);
                    break signalled.map_or(report.status.exit_code(), |(c, _)| c);
                }
                Some(ev) => out.event(ev),
                None => {
                    out.agent_gone();
                    break signalled.map_or(1, |(c, _)| c);
                }
            },
            _ = sigint.recv() => {
                if signalled.is_some() {
                    // a second Ctrl+C: leave now (the journal is written record by record)
                    break 130;
                }
                signalled = Some((130, tokio::time::Instant::now() + WIND_DOWN));
                let _ = ops.send(Op::Interrupt);
            }
            _ = sigterm.recv() => {
                if signalled.is_some() {
                    break 143;
                }
                signalled = Some((143, tokio::time::Instant::now() + WIND_DOWN));
                let _ = ops.send(Op::Interrupt);
            }
            _ = tokio::time::sleep_until(deadline) => {
                break signalled.map_or(130, |(c, _)| c);
            }
        }
    };
    let _ = ops.send(Op::Shutdown);
    code
}

/// Prints the agent's events as text (stdout: the replies; stderr: what happened) or as
/// NDJSON on stdout, one object per line, flushed per line.
struct Printer {
    json: bool,
    started: Instant,
    level: AutoApprove,
    verify: Option<String>,
    max_turns: u32,
    workspace: String,
    session: String,
    /// The model's text on a terminal: shown, never obeyed (escapes neutralised).
    out_tty: bool,
    /// The last text on stdout did not end a line.
    open_line: bool,
    /// Tool names by call id (for the text lines).
    names: HashMap<String, String>,
    said_session: bool,
    /// A turn's failure was printed (the summary need not repeat it).
    said_error: bool,
}

impl Printer {
    fn new(args: &ExecArgs, level: AutoApprove, root: &std::path::Path) -> Self {
        Printer {
            json: args.json,
            started: Instant::now(),
            level,
            verify: args.verify.clone(),
            max_turns: args.max_turns,
            workspace: root.display().to_string(),
            session: String::new(),
            out_tty: std::io::stdout().is_terminal(),
            open_line: false,
            names: HashMap::new(),
            said_session: false,
            said_error: false,
        }
    }

    fn line(&self, v: Value) {
        let mut out = std::io::stdout().lock();
        // a closed stdout (`| head`) ends the output, not the run
        let _ = writeln!(out, "{v}").and_then(|_| out.flush());
    }

    fn text(&mut self, text: &str) {
        let shown = if self.out_tty {
            neutralize_controls(text)
        } else {
            text.into()
        };
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(shown.as_bytes()).and_then(|_| out.flush());
        if !text.is_empty() {
            self.open_line = !text.ends_with('\n');
        }
    }

    /// Ends the reply's line on stdout before a line on stderr (both often go to one log).
    fn end_line(&mut self) {
        if self.open_line {
            self.text("\n");
        }
    }

    fn say(&mut self, line: &str) {
        self.end_line();
        say(line);
    }

    fn event(&mut self, ev: AgentEvent) {
        match ev {
            AgentEvent::SessionStarted { id } => self.session = id,
            AgentEvent::Server(status) if !self.said_session => {
                self.said_session = true;
                if self.json {
                    self.line(json!({
                        "type": "session",
                        "session_id": self.session,
                        "model": status.model,
                        "endpoint": status.endpoint,
                        "reachable": status.reachable,
                        "workspace": self.workspace,
                        "auto_approve": self.level.as_str(),
                        "verify": self.verify,
                        "max_turns": self.max_turns,
                        "version": env!("CARGO_PKG_VERSION"),
                    }));
                } else {
                    let check = self
                        .verify
                        .as_ref()
                        .map_or(String::new(), |c| format!(" · check `{c}`"));
                    self.say(&format!(
                        "exec session {} · {} at {} · auto-approve {}{check}",
                        self.session,
                        status.model,
                        status.endpoint,
                        self.level.as_str()
                    ));
                }
            }
            AgentEvent::Stream { turn, event } => match event {
                StreamEvent::Content { text } if self.json => {
                    self.line(json!({"type": "message_delta", "turn": turn, "text": text}))
                }
                StreamEvent::Content { text } => self.text(&text),
                StreamEvent::Reasoning { text } if self.json => {
                    self.line(json!({"type": "reasoning_delta", "turn": turn, "text": text}))
                }
                StreamEvent::Notice { message } => self.notice(&message),
                _ => {}
            },
            AgentEvent::StepDone { turn, outcome } => {
                for call in &outcome.tool_calls {
                    self.names.insert(call.id.clone(), call.name.clone());
                    if self.json {
                        let arguments = serde_json::from_str::<Value>(&call.arguments)
                            .unwrap_or_else(|_| Value::String(call.arguments.clone()));
                        self.line(json!({
                            "type": "tool_call", "turn": turn, "id": call.id, "name": call.name,
                            "arguments": arguments, "mended": call.mended,
                        }));
                    }
                }
                if let Some(why) = &outcome.cut_short {
                    self.notice(&format!("the reply was cut short: {why}"));
                }
                self.end_line();
            }
            AgentEvent::TurnDone { turn, outcome } => {
                if self.json {
                    self.line(json!({
                        "type": "turn_end", "turn": turn,
                        "finish_reason": outcome.finish_reason,
                        "interrupted": outcome.interrupted,
                        "cut_short": outcome.cut_short,
                        "ttft_ms": outcome.ttft_ms,
                        "tokens_per_s": outcome.tokens_per_s,
                        "context_tokens": outcome.context_tokens,
                    }));
                } else if let Some(why) = &outcome.cut_short {
                    self.say(&format!("warning: the reply was cut short: {why}"));
                }
                self.end_line();
            }
            AgentEvent::TurnFailed { turn, error, hint } => {
                if self.json {
                    self.line(
                        json!({"type": "error", "turn": turn, "message": error, "hint": hint}),
                    );
                } else {
                    self.end_line();
                    say_error(&format!("{error} ({hint})"));
                    self.said_error = true;
                }
            }
            AgentEvent::ToolFinished {
                turn,
                call_id,
                kind,
                summary,
                changes,
                ..
            } => {
                let name = self.names.get(&call_id).cloned().unwrap_or_default();
                let status = match kind {
                    ToolResultKind::Done => "done",
                    ToolResultKind::Failed => "failed",
                    ToolResultKind::Rejected => "rejected",
                };
                if self.json {
                    let files: Vec<&str> = changes.iter().map(|c| c.path.as_str()).collect();
                    self.line(json!({
                        "type": "tool_result", "turn": turn, "id": call_id, "name": name,
                        "status": status, "summary": summary, "files": files,
                    }));
                } else {
                    self.say(&format!("{name}: {status}: {summary}"));
                }
            }
            AgentEvent::Checked { turn, report } => self.checked(turn, &report),
            AgentEvent::Notice { text } => self.notice(&text),
            AgentEvent::Busy { op, .. } => self.notice(&format!("busy: {op} was not done")),
            _ => {}
        }
    }

    fn notice(&mut self, text: &str) {
        if self.json {
            self.line(json!({"type": "notice", "text": text}));
        } else {
            self.say(text);
        }
    }

    fn approval(&mut self, turn: u64, request: &ApprovalRequest, decision: &Decision) {
        let (word, reason) = match decision {
            Decision::Reject { reason } => ("refused", reason.clone()),
            _ => ("approved", None),
        };
        if self.json {
            self.line(json!({
                "type": "approval", "turn": turn, "id": request.call_id, "tool": request.tool,
                "summary": request.summary, "decision": word, "reason": reason,
            }));
        } else if let Some(r) = reason {
            self.say(&format!("refused {}: {}", request.tool, r));
        }
    }

    fn checked(&mut self, turn: u64, r: &CheckReport) {
        if self.json {
            self.line(json!({
                "type": "verify", "turn": turn, "command": r.command, "passed": r.passed,
                "exit_code": r.exit_code, "status": r.status, "timed_out": r.timed_out,
                "duration_ms": r.duration_ms, "output_tail": r.tail,
            }));
            return;
        }
        let secs = r.duration_ms as f64 / 1000.0;
        if r.passed {
            self.say(&format!(
                "check `{}` passed ({}, {secs:.1} s)",
                r.command, r.status
            ));
            return;
        }
        let next = if turn < u64::from(self.max_turns) {
            format!(
                "its output goes back to the model (turn {turn} of {})",
                self.max_turns
            )
        } else {
            "no turns left".to_string()
        };
        self.say(&format!(
            "check `{}` failed ({}, {secs:.1} s); {next}",
            r.command, r.status
        ));
        let lines: Vec<&str> = r.tail.lines().collect();
        for l in &lines[lines.len().saturating_sub(20)..] {
            eprintln!("  | {}", neutralize_controls(l));
        }
    }

    fn result(&mut self, r: &TaskReport) {
        let elapsed = self.started.elapsed().as_millis() as u64;
        if self.json {
            let commit = r.commit.as_ref().map(
                |c| json!({"id": c.id, "message": c.message, "files": c.files, "error": c.error}),
            );
            let verify = r.verify.as_ref().map(|v| {
                json!({"command": v.command, "passed": v.passed, "exit_code": v.exit_code, "status": v.status})
            });
            self.line(json!({
                "type": "result",
                "status": r.status.as_str(),
                "exit_code": r.status.exit_code(),
                "turns": r.turns,
                "files_changed": r.files_changed,
                "commit": commit,
                "verify": verify,
                "usage": {
                    "prompt_tokens": r.usage.prompt_tokens,
                    "completion_tokens": r.usage.completion_tokens,
                    "total_tokens": r.usage.total_tokens,
                    "requests": r.usage.requests,
                },
                "session_id": self.session,
                "duration_ms": elapsed,
                "error": r.error,
            }));
            return;
        }
        let n = r.files_changed.len();
        let mut parts = vec![
            r.status.as_str().replace('_', " "),
            format!("{} turn{}", r.turns, if r.turns == 1 { "" } else { "s" }),
            format!("{n} file{} changed", if n == 1 { "" } else { "s" }),
        ];
        match &r.verify {
            Some(v) if v.passed => parts.push("check passed".into()),
            // the status says it already
            Some(_) if r.status != TaskStatus::CheckFailed => parts.push("check failed".into()),
            _ => {}
        }
        if let Some(c) = &r.commit {
            match (&c.id, &c.error) {
                (Some(id), _) => parts.push(format!("committed {id}")),
                (None, Some(e)) => parts.push(format!("commit failed: {e}")),
                _ => {}
            }
        }
        parts.push(format!("{:.1} s", elapsed as f64 / 1000.0));
        parts.push(format!("session {} (cove --resume {0})", self.session));
        if let (TaskStatus::Failed { .. }, Some(e), false) = (&r.status, &r.error, self.said_error)
        {
            self.end_line();
            say_error(e);
        }
        self.say(&parts.join(" · "));
    }

    fn agent_gone(&mut self) {
        if self.json {
            self.line(json!({"type": "error", "turn": null, "message": "cove's agent stopped unexpectedly", "hint": "See the log (COVE_LOG=debug)."}));
        } else {
            self.end_line();
            say_error("cove's agent stopped unexpectedly; see the log (COVE_LOG=debug)");
        }
    }
}
