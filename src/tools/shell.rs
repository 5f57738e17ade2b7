//! `shell{command, timeout_secs?}`: `sh -c COMMAND` in the workspace root, in its own
//! process group, with secrets removed from its environment, a timeout that stops the
//! whole group, and output capped (head and tail kept). `dangerous` (in `danger.rs`) names
//! the reason a command line could wreck the machine, the home directory or a remote.

use std::collections::VecDeque;
use std::ffi::OsString;
use std::os::unix::process::ExitStatusExt;
use std::process::{ExitStatus, Stdio};

use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::process::{Child, ChildStderr, ChildStdout, Command};
use tokio::time::Instant;

use super::context::json_kind as kind;
use super::context::{ToolContext, ToolOutput};
pub use super::danger::dangerous;
use crate::sandbox::Launch;

/// No command runs longer than this, whatever the model asks.
pub const MAX_TIMEOUT_SECS: u64 = 600;
/// Between SIGTERM and SIGKILL.
const TERM_GRACE: Duration = Duration::from_secs(2);
/// How long output may keep arriving after `sh` exits (from processes it left running).
const DRAIN_GRACE: Duration = Duration::from_secs(2);

/// `shell`'s arguments, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShellArgs {
    pub command: String,
    /// As the model asked (at least 1; capped when run); `None`: the configured default.
    pub timeout_secs: Option<u64>,
}

/// Runs the command in `args`. The text ends with `exit code N` (or the signal that
/// ended it); `is_error` is set when the command did not exit 0, timed out, or could not
/// start, and for malformed arguments.
pub async fn shell(ctx: &ToolContext, args: &Value) -> ToolOutput {
    match parse(args.clone()) {
        Ok(a) => run(ctx, &a).await,
        Err(e) => ToolOutput::error(e),
    }
}

/// [`shell`] with its arguments parsed.
pub async fn run(ctx: &ToolContext, args: &ShellArgs) -> ToolOutput {
    let (timeout, capped) = timeout_of(ctx, args);
    let mut notes = Vec::new();
    if capped {
        notes.push(format!("[timeout_secs capped at {MAX_TIMEOUT_SECS}]"));
    }
    let argv = ["sh".into(), "-c".into(), args.command.clone().into()];
    run_process(
        ctx,
        Process {
            argv: &argv,
            stdin: None,
            env: Vec::new(),
            timeout,
        },
        notes,
    )
    .await
}

/// A process to run for the model: `argv` through the sandbox, `stdin` written to it (else
/// it reads nothing), `env` added to its environment, stopped with its whole group after
/// `timeout`.
pub struct Process<'a> {
    pub argv: &'a [OsString],
    pub stdin: Option<Vec<u8>>,
    pub env: Vec<(OsString, OsString)>,
    pub timeout: Duration,
}

/// Runs `p` the way `shell` runs its command (sandboxed, in the workspace root, secrets
/// removed from its environment, in its own process group, output capped, the group
/// stopped at the timeout or when this future is dropped) and reports its output, `notes`
/// and how it ended.
pub async fn run_process(ctx: &ToolContext, p: Process<'_>, mut notes: Vec<String>) -> ToolOutput {
    // refuse before starting anything where the sandbox cannot be set up (probed once)
    if let Err(e) = ctx.sandbox.check() {
        return ToolOutput::error(e.to_string());
    }
    // `_launch` holds the sandbox's private temp dir until the command is over
    let (cmd, _launch) = match prepare(ctx, p.argv) {
        Ok(prepared) => prepared,
        Err(e) => return ToolOutput::error(e),
    };
    let mut cmd = Command::from(cmd);
    cmd.envs(p.env)
        .stdin(if p.stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(false);
    let mut child = match cmd.spawn() {
        Ok(child) => child,
        Err(e) => {
            return ToolOutput::error(format!(
                "could not start `sh -c` in {}: {e}",
                ctx.root.display()
            ));
        }
    };
    let Some(pid) = child.id() else {
        return ToolOutput::error("the command exited before it could be watched");
    };
    let pgid = pid as libc::pid_t;
    // If this future is dropped (the turn was cancelled), the whole group dies with it.
    let mut guard = GroupGuard { pgid, armed: true };
    // the input is written while the output is read: a command that reads nothing, or
    // reads slowly, cannot stall either side (its end of the pipe closing ends the write)
    let feeder = match (child.stdin.take(), p.stdin) {
        (Some(mut pipe), Some(bytes)) => Some(AbortOnDrop(tokio::spawn(async move {
            use tokio::io::AsyncWriteExt;
            let _ = pipe.write_all(&bytes).await;
            let _ = pipe.shutdown().await;
        }))),
        _ => None,
    };
    let mut run = Run {
        stdout: child.stdout.take(),
        stderr: child.stderr.take(),
        child,
        status: None,
        wait_failed: false,
        capture: Capture::new(ctx.max_output_bytes),
    };

    let timeout = p.timeout;
    let deadline = Instant::now() + timeout;
    run.drive(deadline, true).await;
    let timed_out = run.status.is_none();
    if timed_out {
        let hard = stop_group(&mut run, pgid).await;
        notes.push(format!(
            "[timed out after {} s: the command and every process it started were stopped ({})]",
            timeout.as_secs(),
            if hard {
                "SIGTERM, then SIGKILL"
            } else {
                "SIGTERM"
            }
        ));
    } else {
        run.drive(Instant::now() + DRAIN_GRACE, false).await;
        if run.stdout.is_some() || run.stderr.is_some() {
            stop_group(&mut run, pgid).await;
            notes.push(
                "[the command exited but processes it left in the background kept its output open; they were stopped. \
                 To leave a process running, redirect its output: `cmd > log 2>&1 &`]"
                    .to_owned(),
            );
        }
    }
    guard.armed = false;
    drop(feeder);

    let mut text = run.capture.render();
    if text.is_empty() {
        text.push_str("(no output)");
    }
    if !text.ends_with('\n') {
        text.push('\n');
    }
    for note in notes {
        text.push_str(&note);
        text.push('\n');
    }
    text.push_str(&describe_status(run.status.as_ref()));
    let success = !timed_out && run.status.as_ref().is_some_and(ExitStatus::success);
    ToolOutput {
        text,
        is_error: !success,
        changes: Vec::new(),
    }
}

/// `argv` as cove runs it for the model: in the workspace root, with secrets removed from
/// the environment, through the sandbox (`ctx.sandbox`). The [`Launch`] must be kept until
/// the command is over (it holds the private temp dir). Where the sandbox cannot be set
/// up the helper runs nothing and says why; `Sandbox::check` tells before starting.
pub fn prepare(
    ctx: &ToolContext,
    argv: &[std::ffi::OsString],
) -> Result<(std::process::Command, Launch), String> {
    let launch = ctx
        .sandbox
        .launch(&ctx.root, argv)
        .map_err(|e| e.to_string())?;
    let mut cmd = std::process::Command::new(&launch.program);
    cmd.args(&launch.args)
        .current_dir(&ctx.root)
        .env_clear()
        .envs(command_env(ctx))
        .envs(launch.env.iter().map(|(k, v)| (k, v)));
    Ok((cmd, launch))
}

/// Reads `{command, timeout_secs?}`; the errors say what is wrong and how to call it.
pub fn parse(args: Value) -> Result<ShellArgs, String> {
    let Value::Object(mut obj) = args else {
        return Err("shell needs a JSON object like {\"command\": \"cargo test\"}".to_owned());
    };
    let command = match obj.remove("command") {
        Some(Value::String(s)) if s.trim().is_empty() => {
            return Err("`command` is empty".to_owned());
        }
        Some(Value::String(s)) => s,
        Some(other) => {
            return Err(format!(
                "`command` must be a string (a command line for sh -c), not {}",
                kind(&other)
            ));
        }
        None => {
            return Err("shell needs `command`: a string with the command line to run".to_owned());
        }
    };
    let secs =
        match obj.get("timeout_secs") {
            None | Some(Value::Null) => None,
            Some(Value::Number(n)) => Some(match (n.as_u64(), n.as_f64()) {
                (Some(u), _) => u,
                (None, Some(f)) if f.is_finite() && f > 0.0 => f.ceil() as u64,
                _ => {
                    return Err(format!(
                        "`timeout_secs` must be a positive whole number of seconds, not {n}"
                    ));
                }
            }),
            Some(Value::String(s)) => Some(s.trim().parse::<u64>().map_err(|_| {
                format!("`timeout_secs` must be a whole number of seconds, not {s:?}")
            })?),
            Some(other) => {
                return Err(format!(
                    "`timeout_secs` must be a number of seconds, not {}",
                    kind(other)
                ));
            }
        };
    if secs == Some(0) {
        return Err("`timeout_secs` must be at least 1".to_owned());
    }
    Ok(ShellArgs {
        command,
        timeout_secs: secs,
    })
}

/// How long the command may run, and whether the model's `timeout_secs` was capped.
fn timeout_of(ctx: &ToolContext, a: &ShellArgs) -> (Duration, bool) {
    let secs = a.timeout_secs.unwrap_or(ctx.shell_timeout_secs.max(1));
    (
        Duration::from_secs(secs.min(MAX_TIMEOUT_SECS)),
        secs > MAX_TIMEOUT_SECS,
    )
}

#[cfg(test)]
fn parse_args(ctx: &ToolContext, args: &Value) -> Result<(String, Duration, bool), String> {
    let a = parse(args.clone())?;
    let (t, capped) = timeout_of(ctx, &a);
    Ok((a.command, t, capped))
}

/// Whether an environment variable is kept from commands: named in `secret_env`, or
/// `COVE_*`, or `*_API_KEY` (the last two in any case).
pub fn is_secret_env(name: &str, secret_env: &[String]) -> bool {
    let upper = name.to_ascii_uppercase();
    secret_env.iter().any(|s| s == name)
        || upper.starts_with("COVE_")
        || upper.ends_with("_API_KEY")
}

/// cove's environment minus the secrets: variables named as key variables (see
/// [`is_secret_env`]) and any variable whose value holds a configured key.
pub fn command_env(ctx: &ToolContext) -> Vec<(OsString, OsString)> {
    std::env::vars_os()
        .filter(|(k, v)| {
            !is_secret_env(&k.to_string_lossy(), &ctx.secret_env)
                && !holds_secret(&v.to_string_lossy(), &ctx.secret_values)
        })
        .collect()
}

/// Whether `value` contains one of the keys (keys shorter than 8 characters are too
/// likely to be ordinary words to match on).
fn holds_secret(value: &str, keys: &[String]) -> bool {
    keys.iter()
        .any(|k| k.trim().len() >= 8 && value.contains(k.trim()))
}

/// Sends `sig` to every process in the group. Only called while the group is known to
/// exist (its leader not yet reaped, or `group_alive`), so the id cannot have been reused.
fn signal_group(pgid: libc::pid_t, sig: libc::c_int) {
    // SAFETY: kill(2) with a negative pid signals a process group; no memory is involved.
    unsafe {
        libc::kill(-pgid, sig);
    }
}

fn group_alive(pgid: libc::pid_t) -> bool {
    // SAFETY: signal 0 only checks that the group exists.
    let r = unsafe { libc::kill(-pgid, 0) };
    r == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

struct GroupGuard {
    pgid: libc::pid_t,
    armed: bool,
}

impl Drop for GroupGuard {
    fn drop(&mut self) {
        if self.armed {
            signal_group(self.pgid, libc::SIGKILL);
        }
    }
}

/// The task writing a command's input ends with the command.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// SIGTERM to the group; SIGKILL to whatever is left after [`TERM_GRACE`]. Returns whether
/// SIGKILL was needed.
async fn stop_group(run: &mut Run, pgid: libc::pid_t) -> bool {
    signal_group(pgid, libc::SIGTERM);
    let until = Instant::now() + TERM_GRACE;
    run.drive(until, false).await;
    while run.status.is_some() && group_alive(pgid) && Instant::now() < until {
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let hard = run.status.is_none() || group_alive(pgid);
    if hard {
        signal_group(pgid, libc::SIGKILL);
    }
    // Reap and collect what is left; a process outside the group still holding the pipes
    // is not waited for.
    run.drive(Instant::now() + Duration::from_secs(1), false)
        .await;
    hard
}

struct Run {
    child: Child,
    stdout: Option<ChildStdout>,
    stderr: Option<ChildStderr>,
    status: Option<ExitStatus>,
    wait_failed: bool,
    capture: Capture,
}

enum Event {
    Out(std::io::Result<usize>),
    Err(std::io::Result<usize>),
    Exit(std::io::Result<ExitStatus>),
    Deadline,
}

async fn read_some<R: AsyncRead + Unpin>(
    r: &mut Option<R>,
    buf: &mut [u8],
) -> std::io::Result<usize> {
    match r {
        Some(r) => r.read(buf).await,
        None => std::future::pending().await,
    }
}

impl Run {
    /// Reads both pipes (in arrival order) and waits for `sh`, until `until`, or until
    /// `sh` has exited (`stop_on_exit`), or until it has exited and both pipes are closed.
    async fn drive(&mut self, until: Instant, stop_on_exit: bool) {
        let mut out_buf = vec![0u8; 16 * 1024];
        let mut err_buf = vec![0u8; 16 * 1024];
        loop {
            let exited = self.status.is_some() || self.wait_failed;
            if (exited && stop_on_exit)
                || (exited && self.stdout.is_none() && self.stderr.is_none())
            {
                return;
            }
            let event = tokio::select! {
                r = read_some(&mut self.stdout, &mut out_buf), if self.stdout.is_some() => Event::Out(r),
                r = read_some(&mut self.stderr, &mut err_buf), if self.stderr.is_some() => Event::Err(r),
                s = self.child.wait(), if !exited => Event::Exit(s),
                _ = tokio::time::sleep_until(until) => Event::Deadline,
            };
            match event {
                Event::Out(Ok(n)) if n > 0 => self.capture.push(&out_buf[..n]),
                Event::Out(_) => self.stdout = None,
                Event::Err(Ok(n)) if n > 0 => self.capture.push(&err_buf[..n]),
                Event::Err(_) => self.stderr = None,
                Event::Exit(Ok(status)) => self.status = Some(status),
                Event::Exit(Err(_)) => {
                    // Cannot wait for it (should not happen): stop waiting, keep reading.
                    self.wait_failed = true;
                }
                Event::Deadline => return,
            }
        }
    }
}

fn describe_status(status: Option<&ExitStatus>) -> String {
    match status {
        Some(s) => match (s.code(), s.signal()) {
            (Some(code), _) => format!("exit code {code}"),
            (None, Some(sig)) => format!("killed by signal {sig} ({})", signal_name(sig)),
            (None, None) => "exit status unknown".to_owned(),
        },
        None => "exit status unknown (the process could not be reaped)".to_owned(),
    }
}

fn signal_name(sig: i32) -> &'static str {
    match sig {
        libc::SIGHUP => "SIGHUP",
        libc::SIGINT => "SIGINT",
        libc::SIGQUIT => "SIGQUIT",
        libc::SIGILL => "SIGILL",
        libc::SIGABRT => "SIGABRT",
        libc::SIGBUS => "SIGBUS",
        libc::SIGFPE => "SIGFPE",
        libc::SIGKILL => "SIGKILL",
        libc::SIGSEGV => "SIGSEGV",
        libc::SIGPIPE => "SIGPIPE",
        libc::SIGALRM => "SIGALRM",
        libc::SIGTERM => "SIGTERM",
        _ => "signal",
    }
}

/// Output kept within a byte budget: the first half and the last half, with the count of
/// what was dropped between them. Memory stays bounded however much arrives.
#[derive(Debug)]
pub struct Capture {
    max: usize,
    head: Vec<u8>,
    tail: VecDeque<u8>,
    total: u64,
}

impl Capture {
    pub fn new(max: usize) -> Self {
        Capture {
            max,
            head: Vec::new(),
            tail: VecDeque::new(),
            total: 0,
        }
    }

    pub fn push(&mut self, mut data: &[u8]) {
        self.total += data.len() as u64;
        let head_cap = self.max / 2;
        if self.head.len() < head_cap {
            let take = (head_cap - self.head.len()).min(data.len());
            self.head.extend_from_slice(&data[..take]);
            data = &data[take..];
        }
        let tail_cap = self.max - head_cap;
        if data.len() >= tail_cap {
            self.tail.clear();
            self.tail.extend(&data[data.len() - tail_cap..]);
        } else {
            self.tail.extend(data);
            let excess = self.tail.len().saturating_sub(tail_cap);
            self.tail.drain(..excess);
        }
    }

    /// The text (invalid UTF-8 replaced), with `… [N bytes elided] …` where bytes were dropped.
    pub fn render(&self) -> String {
        let tail: Vec<u8> = self.tail.iter().copied().collect();
        let kept = (self.head.len() + tail.len()) as u64;
        if kept == self.total {
            let mut all = self.head.clone();
            all.extend_from_slice(&tail);
            return String::from_utf8_lossy(&all).into_owned();
        }
        // Cut at character boundaries so the seams do not show replacement characters.
        let head = cut_partial_end(&self.head);
        let tail = skip_partial_start(&tail);
        let elided = self.total - (head.len() + tail.len()) as u64;
        format!(
            "{}\n… [{elided} bytes elided] …\n{}",
            String::from_utf8_lossy(head),
            String::from_utf8_lossy(tail)
        )
    }
}

fn cut_partial_end(b: &[u8]) -> &[u8] {
    for back in 1..=b.len().min(4) {
        let i = b.len() - back;
        let c = b[i];
        if c & 0xC0 != 0x80 {
            let need = match c {
                0xF0.. => 4,
                0xE0.. => 3,
                0xC0.. => 2,
                _ => 1,
            };
            return if back < need { &b[..i] } else { b };
        }
    }
    b
}

fn skip_partial_start(b: &[u8]) -> &[u8] {
    let n = b.iter().take(3).take_while(|c| **c & 0xC0 == 0x80).count();
    &b[n..]
}

#[cfg(test)]
mod tests;
