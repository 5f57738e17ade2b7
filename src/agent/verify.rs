//! The check of `cove exec --verify`: a command run the way the model's commands run
//! (`sh -c` in the workspace, through the sandbox, secrets out of its environment, in a
//! process group of its own) with a timeout, keeping the end of its output (stdout and
//! stderr through one pipe, so in the order they were written).

use std::collections::VecDeque;
use std::io::Read;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::router::{Cancel, Stop};
use crate::protocol::{Check, CheckReport};
use crate::tools::context::ToolContext;

/// The end of the output kept while the check runs.
const KEEP_BYTES: usize = 64 * 1024;
/// The most of it the model is told.
pub(super) const TAIL_FOR_MODEL: usize = 6_000;
/// Between SIGTERM and SIGKILL at the timeout.
const TERM_GRACE: Duration = Duration::from_secs(2);
/// How long output may keep coming after `sh` exits (from processes it left running).
const DRAIN_GRACE: Duration = Duration::from_secs(2);

/// The end of a stream of bytes, and how many there were.
#[derive(Default)]
struct Tail {
    kept: VecDeque<u8>,
    total: u64,
}

impl Tail {
    fn push(&mut self, data: &[u8]) {
        self.total += data.len() as u64;
        let data = &data[data.len().saturating_sub(KEEP_BYTES)..];
        let excess = (self.kept.len() + data.len()).saturating_sub(KEEP_BYTES);
        self.kept.drain(..excess);
        self.kept.extend(data);
    }
}

/// Kills the check's process group if the check is abandoned (interrupt, shutdown).
struct Group {
    pgid: libc::pid_t,
    armed: bool,
}

impl Group {
    fn signal(&self, sig: libc::c_int) {
        // SAFETY: kill(2) with a negative pid signals a process group; signal 0 first
        // checks that the group still exists (a group's id is not reused while it does).
        unsafe {
            if libc::kill(-self.pgid, 0) == 0 {
                libc::kill(-self.pgid, sig);
            }
        }
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        if self.armed {
            self.signal(libc::SIGKILL);
        }
    }
}

fn not_run(check: &Check, why: String, started: Instant) -> CheckReport {
    CheckReport {
        command: check.command.clone(),
        passed: false,
        exit_code: None,
        status: format!("could not start: {why}"),
        timed_out: false,
        duration_ms: started.elapsed().as_millis() as u64,
        tail: String::new(),
    }
}

/// Runs the check. `Err` when the work was stopped meanwhile (the check's processes are
/// killed); a check that cannot start is a failed run that says why.
pub(super) async fn run(
    ctx: &ToolContext,
    check: &Check,
    cancel: &Cancel,
) -> Result<CheckReport, Stop> {
    let started = Instant::now();
    if let Err(e) = ctx.sandbox.check() {
        return Ok(not_run(check, e.to_string(), started));
    }
    let argv = ["sh".into(), "-c".into(), check.command.clone().into()];
    // `_launch` holds the sandbox's private temp dir until the check is over
    let (mut cmd, _launch) = match crate::tools::shell::prepare(ctx, &argv) {
        Ok(prepared) => prepared,
        Err(e) => return Ok(not_run(check, e, started)),
    };
    let (reader, writer) = match std::io::pipe() {
        Ok(p) => p,
        Err(e) => return Ok(not_run(check, format!("no pipe: {e}"), started)),
    };
    let writer2 = match writer.try_clone() {
        Ok(w) => w,
        Err(e) => return Ok(not_run(check, format!("no pipe: {e}"), started)),
    };
    cmd.stdin(Stdio::null())
        .stdout(writer2)
        .stderr(writer)
        .process_group(0);
    let mut cmd = tokio::process::Command::from(cmd);
    cmd.kill_on_drop(false);
    let spawned = cmd.spawn();
    // the parent's copies of the pipe's write end: closed, so the reader sees the end
    drop(cmd);
    let mut child = match spawned {
        Ok(c) => c,
        Err(e) => {
            return Ok(not_run(
                check,
                format!("`sh -c` in {}: {e}", ctx.root.display()),
                started,
            ));
        }
    };
    let Some(pid) = child.id() else {
        return Ok(not_run(
            check,
            "it exited before it could be watched".into(),
            started,
        ));
    };
    let mut group = Group {
        pgid: pid as libc::pid_t,
        armed: true,
    };
    let tail = Arc::new(Mutex::new(Tail::default()));
    let sink = Arc::clone(&tail);
    let mut reading = tokio::task::spawn_blocking(move || {
        let mut reader = reader;
        let mut buf = vec![0u8; 16 * 1024];
        while let Ok(n) = reader.read(&mut buf) {
            if n == 0 {
                break;
            }
            if let Ok(mut t) = sink.lock() {
                t.push(&buf[..n]);
            }
        }
    });
    let timeout = Duration::from_secs(check.timeout_secs.max(1));
    let waited = tokio::select! {
        status = child.wait() => Some(status),
        _ = tokio::time::sleep(timeout) => None,
        stop = cancel.cancelled() => return Err(stop),
    };
    let (status, timed_out) = match waited {
        Some(status) => (status.ok(), false),
        None => {
            group.signal(libc::SIGTERM);
            let status = match tokio::time::timeout(TERM_GRACE, child.wait()).await {
                Ok(s) => s.ok(),
                Err(_) => {
                    group.signal(libc::SIGKILL);
                    child.wait().await.ok()
                }
            };
            (status, true)
        }
    };
    // output after `sh` exited: from what it left running, for a moment
    let drained = tokio::select! {
        r = &mut reading => r.is_ok(),
        _ = tokio::time::sleep(DRAIN_GRACE) => false,
        stop = cancel.cancelled() => return Err(stop),
    };
    // whatever of the check is still running has no business outliving it
    group.signal(libc::SIGKILL);
    group.armed = false;
    if !drained {
        // a process outside the group still holding the pipe is not waited for
        let _ = tokio::time::timeout(Duration::from_millis(500), reading).await;
    }
    let status_text = match (&status, timed_out) {
        (_, true) => format!("timed out after {} s", timeout.as_secs()),
        (Some(s), false) => match (s.code(), s.signal()) {
            (Some(code), _) => format!("exit code {code}"),
            (None, Some(sig)) => format!("killed by signal {sig}"),
            (None, None) => "exit status unknown".into(),
        },
        (None, false) => "exit status unknown".into(),
    };
    let tail = match tail.lock() {
        Ok(t) => render(&t),
        Err(_) => String::new(),
    };
    Ok(CheckReport {
        command: check.command.clone(),
        passed: !timed_out && status.is_some_and(|s| s.success()),
        exit_code: if timed_out {
            None
        } else {
            status.and_then(|s| s.code())
        },
        status: status_text,
        timed_out,
        duration_ms: started.elapsed().as_millis() as u64,
        tail,
    })
}

/// The kept end as text: invalid UTF-8 replaced, terminal escapes and other controls
/// removed (a model reads it, and a person may read it on a terminal), at most
/// `TAIL_FOR_MODEL` bytes starting at a line, with a note of what was left out.
fn render(t: &Tail) -> String {
    let bytes: Vec<u8> = t.kept.iter().copied().collect();
    let text = crate::domain::text::strip_controls(&String::from_utf8_lossy(&bytes));
    let trimmed = text.trim_end();
    if trimmed.len() <= TAIL_FOR_MODEL && t.total as usize == bytes.len() {
        return trimmed.to_owned();
    }
    let mut cut = trimmed.len().saturating_sub(TAIL_FOR_MODEL);
    while !trimmed.is_char_boundary(cut) {
        cut += 1;
    }
    // from the start of a line, when one begins in the first part
    let rest = &trimmed[cut..];
    let start = match rest.find('\n') {
        Some(i) if i < rest.len() / 4 => cut + i + 1,
        _ => cut,
    };
    let shown = &trimmed[start..];
    let left_out = t.total.saturating_sub(shown.len() as u64);
    format!("[… {left_out} earlier bytes left out …]\n{shown}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tail_is_bounded_and_starts_at_a_line() {
        let mut t = Tail::default();
        for i in 0..100_000 {
            t.push(format!("line {i}\n").as_bytes());
        }
        assert!(t.kept.len() <= KEEP_BYTES);
        let text = render(&t);
        assert!(text.len() < TAIL_FOR_MODEL + 100, "{}", text.len());
        assert!(text.ends_with("line 99999"));
        let second = text.lines().nth(1).unwrap();
        assert!(second.starts_with("line "), "{second}");
        assert!(text.starts_with("[… "));
    }

    #[test]
    fn short_output_is_whole() {
        let mut t = Tail::default();
        t.push(b"FAILED test_x\n");
        assert_eq!(render(&t), "FAILED test_x");
    }
}
