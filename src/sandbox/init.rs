//! The PID 1 of the sandbox's PID namespace, and the signal forwarding it shares with the
//! helper: SIGTERM, SIGINT, SIGHUP and SIGQUIT reach the helper (cove's group, or the
//! terminal), which passes them to PID 1, which passes them to the command's group.

use std::io::{self, Write};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::sync::atomic::{AtomicI32, Ordering};

const FORWARDED: [libc::c_int; 4] = [libc::SIGTERM, libc::SIGINT, libc::SIGHUP, libc::SIGQUIT];
/// Where a forwarded signal goes: a pid, or minus a process group; 0 = nowhere yet.
static FORWARD_TO: AtomicI32 = AtomicI32::new(0);
/// A signal that came while there was nowhere to forward it (passed on once there is).
static PENDING: AtomicI32 = AtomicI32::new(0);

extern "C" fn forward(sig: libc::c_int) {
    let to = FORWARD_TO.load(Ordering::SeqCst);
    if to == 0 {
        PENDING.store(sig, Ordering::SeqCst);
    } else {
        // SAFETY: kill is async-signal-safe.
        unsafe {
            libc::kill(to, sig);
        }
    }
}

/// From now on, forwarded signals go to `to` (a pid, or minus a process group), including
/// one that came before.
pub(super) fn forward_to(to: libc::pid_t) {
    FORWARD_TO.store(to, Ordering::SeqCst);
    let early = PENDING.swap(0, Ordering::SeqCst);
    if early != 0 {
        // SAFETY: signals a process of ours.
        unsafe {
            libc::kill(to, early);
        }
    }
}

pub(super) fn set_forwarded_blocked(block: bool) {
    // SAFETY: plain signal-mask calls on a stack sigset.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        for s in FORWARDED {
            libc::sigaddset(&mut set, s);
        }
        let how = if block {
            libc::SIG_BLOCK
        } else {
            libc::SIG_UNBLOCK
        };
        libc::sigprocmask(how, &set, std::ptr::null_mut());
    }
}

pub(super) fn install_forwarding() {
    for s in FORWARDED {
        // SAFETY: installs a handler that only stores a number or calls kill(2).
        unsafe {
            let mut sa: libc::sigaction = std::mem::zeroed();
            sa.sa_sigaction = forward as *const () as usize;
            libc::sigemptyset(&mut sa.sa_mask);
            sa.sa_flags = libc::SA_RESTART;
            libc::sigaction(s, &sa, std::ptr::null_mut());
        }
    }
}

/// PID 1 of the namespace: runs `argv` (nothing for a probe), reaps orphans, forwards
/// signals, and exits with the command, which makes the kernel kill whatever is left.
/// A command killed by a signal: its number goes down `status` and the exit code is
/// 128 + it.
pub(super) fn init(argv: &[std::ffi::OsString], alive: OwnedFd, status: OwnedFd) -> i32 {
    // SAFETY: prctl/poll/setsid with plain arguments.
    unsafe {
        libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0);
        // the command may not attach to its PID 1 (it holds the exit-status pipe)
        libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0);
        // the helper may have died before the line above: then its end of `alive` is closed
        let mut p = libc::pollfd {
            fd: alive.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        if libc::poll(&mut p, 1, 0) != 0 {
            return 128 + libc::SIGKILL;
        }
        // no controlling terminal: nothing can be typed into cove's terminal from here
        libc::setsid();
    }
    drop(alive);
    let Some((program, args)) = argv.split_first() else {
        return 0; // the probe: everything is set up
    };
    install_forwarding();
    // unblocked before the spawn, so the command starts with no signal blocked (and std
    // may use posix_spawn); one that comes before the command exists waits in PENDING
    set_forwarded_blocked(false);
    let child = std::process::Command::new(program)
        .args(args)
        .process_group(0)
        .spawn();
    let cmd = match child {
        Ok(c) => c.id() as libc::pid_t,
        Err(e) => {
            let _ = writeln!(
                io::stderr(),
                "cove: sandbox: cannot run {}: {e}",
                program.to_string_lossy()
            );
            return if e.kind() == io::ErrorKind::NotFound {
                127
            } else {
                126
            };
        }
    };
    forward_to(-cmd);
    let mut st = 0;
    loop {
        // SAFETY: reaps any child of ours (orphans are reparented to PID 1).
        let r = unsafe { libc::waitpid(-1, &mut st, 0) };
        if r == cmd {
            break;
        }
        if r < 0 && io::Error::last_os_error().kind() != io::ErrorKind::Interrupted {
            return 128 + libc::SIGKILL;
        }
    }
    if leftovers() {
        let _ = writeln!(
            io::stderr(),
            "[cove: processes the command left running were stopped when it ended]"
        );
    }
    if libc::WIFSIGNALED(st) {
        let sig = libc::WTERMSIG(st);
        let _ = std::fs::File::from(status).write_all(&[sig as u8]);
        128 + sig
    } else {
        libc::WEXITSTATUS(st)
    }
}

/// Whether any process other than PID 1 is still alive in the namespace (every one is a
/// descendant of PID 1, so PID 1 has a child while any lives).
fn leftovers() -> bool {
    loop {
        let mut st = 0;
        // SAFETY: non-blocking reap of our own children.
        let r = unsafe { libc::waitpid(-1, &mut st, libc::WNOHANG) };
        match r {
            0 => return true,
            r if r > 0 => continue,
            _ => return false,
        }
    }
}
