//! The sandbox helper (`cove __sandbox-exec ...`): a single-threaded process, so it may
//! allocate and use the standard library freely between its forks.
//!
//! ```text
//! cove ── helper (cove's process group; waits, forwards signals, dies with cove)
//!           └─ PID 1 of the new PID namespace (own session, no terminal; reaps, forwards)
//!                └─ the command (its own process group)
//! ```
//! When the command exits, PID 1 exits and the kernel kills everything left in the
//! namespace. When the helper dies, PID 1 gets SIGKILL (parent-death signal); when cove
//! dies, the helper sees its pidfd and kills PID 1.

use std::ffi::{CString, OsString};
use std::io::{self, Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use super::init::{self, forward_to, install_forwarding, set_forwarded_blocked};
use super::{SETUP_FAILED, SandboxError, rules};

/// Why the sandbox could not be set up: the text after "the sandbox is not available: ".
#[derive(Debug, thiserror::Error)]
pub(super) enum SetupError {
    #[error("{0}")]
    Landlock(String),
    #[error(
        "cannot create the sandbox's namespaces ({0}): unprivileged user namespaces are \
         disabled or restricted here (sysctl user.max_user_namespaces or \
         kernel.unprivileged_userns_clone, or AppArmor's \
         kernel.apparmor_restrict_unprivileged_userns on Ubuntu 23.10 and later)"
    )]
    Namespaces(io::Error),
    #[error("{step} failed: {source}")]
    Step {
        step: &'static str,
        source: io::Error,
    },
    #[error("bad helper arguments: {0}")]
    Usage(String),
}

/// The helper's arguments (see `Sandbox::launch`).
#[derive(Debug, Default)]
struct Args {
    parent: Option<libc::pid_t>,
    network: bool,
    probe: bool,
    write: Vec<PathBuf>,
    protect: Vec<PathBuf>,
    simulate: Option<String>,
    argv: Vec<OsString>,
}

fn parse(args: Vec<OsString>) -> Result<Args, SetupError> {
    let mut a = Args::default();
    let mut it = args.into_iter();
    let value = |it: &mut std::vec::IntoIter<OsString>, flag: &str| {
        it.next()
            .ok_or_else(|| SetupError::Usage(format!("{flag} needs a value")))
    };
    while let Some(arg) = it.next() {
        match arg.to_str() {
            Some("--") => {
                a.argv = it.collect();
                break;
            }
            Some("--network") => a.network = true,
            Some("--probe") => a.probe = true,
            Some("--write") => a.write.push(value(&mut it, "--write")?.into()),
            Some("--protect") => a.protect.push(value(&mut it, "--protect")?.into()),
            Some("--simulate-missing") => {
                a.simulate = Some(
                    value(&mut it, "--simulate-missing")?
                        .to_string_lossy()
                        .into(),
                )
            }
            Some("--parent") => {
                let v = value(&mut it, "--parent")?;
                let pid = v.to_str().and_then(|s| s.parse().ok()).filter(|p| *p > 0);
                a.parent = Some(pid.ok_or_else(|| SetupError::Usage("bad --parent".into()))?);
            }
            _ => {
                return Err(SetupError::Usage(format!(
                    "unknown argument {}",
                    arg.to_string_lossy()
                )));
            }
        }
    }
    if a.argv.is_empty() && !a.probe {
        return Err(SetupError::Usage("no command after --".into()));
    }
    Ok(a)
}

/// Runs the helper; never returns.
pub(super) fn helper_main(args: Vec<OsString>) -> ! {
    let code = match parse(args).and_then(|a| run(&a)) {
        Ok(code) => code,
        Err(e) => {
            let msg = SandboxError::Unavailable(e.to_string());
            let _ = writeln!(io::stderr(), "cove: {msg}");
            SETUP_FAILED
        }
    };
    std::process::exit(code)
}

fn last_err(step: &'static str) -> SetupError {
    SetupError::Step {
        step,
        source: io::Error::last_os_error(),
    }
}

fn pidfd_open(pid: libc::pid_t) -> io::Result<OwnedFd> {
    // SAFETY: pidfd_open returns a new descriptor that we own, or -1.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: fd is a fresh descriptor owned by nobody else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as i32) })
}

fn pipe() -> Result<(OwnedFd, OwnedFd), SetupError> {
    let mut fds = [0; 2];
    // SAFETY: pipe2 fills two descriptors that we then own.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(last_err("pipe"));
    }
    // SAFETY: both are fresh descriptors.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

fn run(a: &Args) -> Result<i32, SetupError> {
    set_forwarded_blocked(true);
    // cove itself: if it goes away, so does everything under this helper
    let parent_fd = match a.parent {
        Some(pid) => {
            let fd = pidfd_open(pid).map_err(|source| SetupError::Step {
                step: "watching cove (pidfd_open)",
                source,
            })?;
            // SAFETY: getppid has no preconditions.
            if unsafe { libc::getppid() } != pid {
                return Ok(SETUP_FAILED); // cove is already gone: run nothing
            }
            Some(fd)
        }
        None => None,
    };
    let abi = rules::landlock_abi(a.simulate.as_deref() == Some("landlock"))?;
    let how = enter_namespaces(a)?;
    protect(&a.protect)?;
    rules::restrict(&a.write, a.network)?;
    rules::drop_capabilities()?;
    let (status_r, status_w) = pipe()?;
    let (alive_r, alive_w) = pipe()?;
    // SAFETY: this process is single-threaded, so the child may do anything after fork.
    let pid1 = unsafe { libc::fork() };
    if pid1 < 0 {
        return Err(last_err("fork"));
    }
    if pid1 == 0 {
        drop(status_r);
        drop(alive_w);
        let argv: &[OsString] = if a.probe { &[] } else { &a.argv };
        let code = init::init(argv, alive_r, status_w);
        std::process::exit(code);
    }
    drop(status_w);
    drop(alive_r);
    install_forwarding();
    forward_to(pid1);
    set_forwarded_blocked(false);
    let status = wait_pid1(pid1, parent_fd.as_ref());
    drop(alive_w);
    if a.probe && status == Some(0) {
        let _ = writeln!(io::stdout(), "Landlock ABI {abi}, {how}");
    }
    let mut sig = [0u8; 1];
    let got = std::fs::File::from(status_r).read(&mut sig).unwrap_or(0);
    match status {
        Some(code) if got == 1 && sig[0] > 0 => die_of(sig[0] as libc::c_int, code),
        Some(code) => Ok(code),
        None => Ok(128 + libc::SIGKILL),
    }
}

/// New user (where possible), PID, mount, IPC and, without the network, network
/// namespaces. The user keeps their uid and gid inside.
fn enter_namespaces(a: &Args) -> Result<&'static str, SetupError> {
    if a.simulate.as_deref() == Some("namespaces") {
        return Err(SetupError::Namespaces(io::Error::other(
            "simulated for a test",
        )));
    }
    let mut flags = libc::CLONE_NEWPID | libc::CLONE_NEWNS | libc::CLONE_NEWIPC;
    if !a.network {
        flags |= libc::CLONE_NEWNET;
    }
    // SAFETY: id getters and unshare have no memory-safety preconditions.
    let (uid, gid, euid) = unsafe { (libc::getuid(), libc::getgid(), libc::geteuid()) };
    // SAFETY: as above.
    if unsafe { libc::unshare(libc::CLONE_NEWUSER | flags) } == 0 {
        match std::fs::write("/proc/self/setgroups", "deny") {
            Err(e) if e.kind() != io::ErrorKind::NotFound => {
                return Err(SetupError::Step {
                    step: "writing /proc/self/setgroups",
                    source: e,
                });
            }
            _ => {}
        }
        for (file, id) in [("/proc/self/uid_map", uid), ("/proc/self/gid_map", gid)] {
            std::fs::write(file, format!("{id} {id} 1")).map_err(|source| SetupError::Step {
                step: "mapping the user id into the sandbox",
                source,
            })?;
        }
        return Ok("user namespace");
    }
    let err = io::Error::last_os_error();
    // root may create the other namespaces without a user namespace
    // SAFETY: as above.
    if euid == 0 && unsafe { libc::unshare(flags) } == 0 {
        return Ok("namespaces as root");
    }
    Err(SetupError::Namespaces(err))
}

/// Binds each path read-only over itself, in this (new) mount namespace only.
fn protect(paths: &[PathBuf]) -> Result<(), SetupError> {
    let root = c"/";
    // SAFETY: mount with valid C strings; changes only this process's mount namespace,
    // which is made a slave first so nothing propagates back to the system.
    if unsafe {
        libc::mount(
            std::ptr::null(),
            root.as_ptr(),
            std::ptr::null(),
            libc::MS_REC | libc::MS_SLAVE,
            std::ptr::null(),
        )
    } != 0
    {
        return Err(last_err("making the mounts private"));
    }
    for p in paths {
        let Ok(c) = CString::new(p.as_os_str().as_bytes()) else {
            continue; // a path with a NUL byte cannot exist
        };
        // SAFETY: as above.
        let bound = unsafe {
            libc::mount(
                c.as_ptr(),
                c.as_ptr(),
                std::ptr::null(),
                libc::MS_BIND,
                std::ptr::null(),
            )
        };
        if bound != 0 {
            if io::Error::last_os_error().kind() == io::ErrorKind::NotFound {
                continue;
            }
            return Err(protect_err(p));
        }
        // a remount must keep the flags the kernel locked on the original mount
        // SAFETY: statvfs fills the struct on our stack.
        let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
        if unsafe { libc::statvfs(c.as_ptr(), &mut st) } != 0 {
            return Err(protect_err(p));
        }
        let mut flags = libc::MS_BIND | libc::MS_REMOUNT | libc::MS_RDONLY;
        for (st_flag, ms) in [
            (libc::ST_NOSUID, libc::MS_NOSUID),
            (libc::ST_NODEV, libc::MS_NODEV),
            (libc::ST_NOEXEC, libc::MS_NOEXEC),
            (libc::ST_NOATIME, libc::MS_NOATIME),
            (libc::ST_NODIRATIME, libc::MS_NODIRATIME),
            (libc::ST_RELATIME, libc::MS_RELATIME),
        ] {
            if st.f_flag & st_flag != 0 {
                flags |= ms;
            }
        }
        // SAFETY: as above.
        let r = unsafe {
            libc::mount(
                std::ptr::null(),
                c.as_ptr(),
                std::ptr::null(),
                flags,
                std::ptr::null(),
            )
        };
        if r != 0 {
            return Err(protect_err(p));
        }
    }
    Ok(())
}

fn protect_err(p: &Path) -> SetupError {
    SetupError::Step {
        step: "making .git/.cove read-only",
        source: io::Error::other(format!("{}: {}", p.display(), io::Error::last_os_error())),
    }
}

/// Waits for PID 1; kills it if cove goes away first. The exit code, or `None` when PID 1
/// was killed.
fn wait_pid1(pid1: libc::pid_t, parent: Option<&OwnedFd>) -> Option<i32> {
    let pid1_fd = pidfd_open(pid1).ok();
    while let Some(pid1_fd) = &pid1_fd {
        let mut fds = vec![libc::pollfd {
            fd: pid1_fd.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        }];
        if let Some(fd) = parent {
            fds.push(libc::pollfd {
                fd: fd.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            });
        }
        // SAFETY: poll over descriptors we own, in a vector that outlives the call.
        let n = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, -1) };
        if n < 0 {
            if io::Error::last_os_error().kind() == io::ErrorKind::Interrupted {
                continue;
            }
            break;
        }
        let parent_gone = parent.is_some() && fds.last().is_some_and(|f| f.revents != 0);
        if parent_gone {
            // SAFETY: pid1 is our unreaped child.
            unsafe {
                libc::kill(pid1, libc::SIGKILL);
            }
            break;
        }
        if fds[0].revents != 0 {
            break;
        }
    }
    let mut st = 0;
    loop {
        // SAFETY: waits for our own child.
        let r = unsafe { libc::waitpid(pid1, &mut st, 0) };
        if r == pid1 {
            break;
        }
        if r < 0 && io::Error::last_os_error().kind() != io::ErrorKind::Interrupted {
            return None;
        }
    }
    if libc::WIFEXITED(st) {
        Some(libc::WEXITSTATUS(st))
    } else {
        None
    }
}

/// Ends this process by `sig`, as the command ended (no core file); `code` if it survives.
fn die_of(sig: libc::c_int, code: i32) -> Result<i32, SetupError> {
    // SAFETY: resets a disposition, limits core size and raises a signal on ourselves.
    unsafe {
        let no_core = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        libc::setrlimit(libc::RLIMIT_CORE, &no_core);
        libc::signal(sig, libc::SIG_DFL);
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, sig);
        libc::sigprocmask(libc::SIG_UNBLOCK, &set, std::ptr::null_mut());
        libc::raise(sig);
    }
    Ok(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(v: &[&str]) -> Vec<OsString> {
        v.iter().map(OsString::from).collect()
    }

    #[test]
    fn arguments_parse_and_bad_ones_are_refused() {
        let a = parse(os(&[
            "--parent",
            "42",
            "--network",
            "--write",
            "/w",
            "--write",
            "--odd",
            "--protect",
            "/w/.git",
            "--",
            "sh",
            "-c",
            "--write x",
        ]))
        .unwrap();
        assert_eq!(a.parent, Some(42));
        assert!(a.network && !a.probe);
        assert_eq!(a.write, [PathBuf::from("/w"), PathBuf::from("--odd")]);
        assert_eq!(a.protect, [PathBuf::from("/w/.git")]);
        assert_eq!(a.argv, os(&["sh", "-c", "--write x"]));
        for bad in [
            &["--"][..],
            &["--parent", "0", "--", "x"],
            &["--parent", "x", "--", "x"],
            &["--write"],
            &["--bogus", "--", "x"],
        ] {
            assert!(parse(os(bad)).is_err(), "{bad:?}");
        }
        assert!(parse(os(&["--probe"])).is_ok());
    }
}
