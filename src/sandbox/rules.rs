//! Landlock for the sandbox helper: read (and execute) everywhere but in `/dev`, where only
//! the harmless devices are open; full access beneath the writable paths; no TCP (nor UDP
//! where the kernel can tell) without the network; no signals or abstract sockets out of
//! the sandbox. Then every capability is dropped.

use std::io;
use std::path::{Path, PathBuf};

use landlock::{
    ABI, Access, AccessFs, AccessNet, BitFlags, PathBeneath, PathFd, Ruleset, RulesetAttr,
    RulesetCreated, RulesetCreatedAttr, RulesetStatus, Scope,
};

use super::linux::SetupError;

/// The oldest Landlock that confines every write: ABI 3 (Linux 6.2) added truncation.
const MIN_ABI: i64 = 3;
/// The newest rights this build knows; a kernel with fewer gets those it has (never fewer
/// than [`MIN_ABI`]'s, checked first).
const ABI_WANTED: ABI = ABI::V9;
/// Devices a command may open for reading and writing.
const DEVICES: [&str; 5] = [
    "/dev/null",
    "/dev/zero",
    "/dev/full",
    "/dev/random",
    "/dev/urandom",
];

/// The kernel's Landlock ABI version, or why there is none.
pub(super) fn landlock_abi(simulate_missing: bool) -> Result<i64, SetupError> {
    if simulate_missing {
        return Err(SetupError::Landlock(
            "this kernel has no Landlock (simulated for a test)".to_owned(),
        ));
    }
    const LANDLOCK_CREATE_RULESET_VERSION: libc::c_uint = 1;
    // SAFETY: with a null attribute and the VERSION flag the call only returns a number.
    let v = unsafe {
        libc::syscall(
            libc::SYS_landlock_create_ruleset,
            std::ptr::null::<libc::c_void>(),
            0usize,
            LANDLOCK_CREATE_RULESET_VERSION,
        )
    };
    if v < 0 {
        let e = io::Error::last_os_error();
        return Err(SetupError::Landlock(match e.raw_os_error() {
            Some(libc::EOPNOTSUPP) => "Landlock is built into this kernel but not enabled \
                 (add `landlock` to the `lsm=` kernel boot parameter)"
                .to_owned(),
            _ => format!(
                "this kernel has no Landlock ({e}; Linux 6.2 or newer built with \
                 CONFIG_SECURITY_LANDLOCK is needed)"
            ),
        }));
    }
    if v < MIN_ABI {
        return Err(SetupError::Landlock(format!(
            "this kernel's Landlock (ABI {v}) cannot confine file truncation; ABI {MIN_ABI} \
             (Linux 6.2) or newer is needed"
        )));
    }
    Ok(v as i64)
}

/// Restricts this process and its future children. `write` paths that do not exist are
/// skipped (they grant nothing).
pub(super) fn restrict(write: &[PathBuf], network: bool) -> Result<(), SetupError> {
    let ll = |e: landlock::RulesetError| SetupError::Step {
        step: "Landlock",
        source: io::Error::other(e.to_string()),
    };
    let all = AccessFs::from_all(ABI_WANTED);
    let read = AccessFs::from_read(ABI_WANTED);
    let mut ruleset = Ruleset::default().handle_access(all).map_err(ll)?;
    if !network {
        ruleset = ruleset
            .handle_access(AccessNet::from_all(ABI_WANTED))
            .map_err(ll)?;
    }
    let mut created = ruleset
        .scope(Scope::from_all(ABI_WANTED))
        .map_err(ll)?
        .create()
        .map_err(ll)?;
    // Listing directories is harmless everywhere; reading files is not in /dev (other
    // terminals of the user), so "/" gets its entries one by one.
    created = add(created, Path::new("/"), AccessFs::ReadDir.into(), false)?;
    let root = std::fs::read_dir("/").map_err(|source| SetupError::Step {
        step: "reading /",
        source,
    })?;
    for entry in root.flatten() {
        if entry.file_name() != "dev" {
            created = add(created, &entry.path(), read, true)?;
        }
    }
    for dev in DEVICES {
        created = add(
            created,
            Path::new(dev),
            AccessFs::ReadFile | AccessFs::WriteFile,
            true,
        )?;
    }
    for w in write {
        created = add(created, w, all, true)?;
    }
    let status = created.restrict_self().map_err(ll)?;
    if status.ruleset == RulesetStatus::NotEnforced || !status.no_new_privs {
        return Err(SetupError::Landlock(
            "the kernel did not enforce the Landlock rules".to_owned(),
        ));
    }
    Ok(())
}

/// One rule; a path that is not there is skipped when `may_be_missing`.
fn add(
    created: RulesetCreated,
    path: &Path,
    access: BitFlags<AccessFs>,
    may_be_missing: bool,
) -> Result<RulesetCreated, SetupError> {
    let fd = match PathFd::new(path) {
        Ok(fd) => fd,
        Err(_) if may_be_missing && !path.exists() => return Ok(created),
        Err(e) => {
            return Err(SetupError::Step {
                step: "Landlock",
                source: io::Error::other(format!("{}: {e}", path.display())),
            });
        }
    };
    // rights that only make sense on directories are refused on files
    let access = if is_dir(&fd) {
        access
    } else {
        access & AccessFs::from_file(ABI_WANTED)
    };
    created
        .add_rule(PathBeneath::new(fd, access))
        .map_err(|e| SetupError::Step {
            step: "Landlock",
            source: io::Error::other(format!("{}: {e}", path.display())),
        })
}

fn is_dir(fd: &PathFd) -> bool {
    use std::os::fd::{AsFd, AsRawFd};
    // SAFETY: fstat fills a stat struct on our stack from a descriptor we hold.
    unsafe {
        let mut st: libc::stat = std::mem::zeroed();
        libc::fstat(fd.as_fd().as_raw_fd(), &mut st) == 0
            && st.st_mode & libc::S_IFMT == libc::S_IFDIR
    }
}

/// Empties the bounding, ambient, effective, permitted and inheritable capability sets, so
/// that neither this process nor anything it executes holds a capability (a root user keeps
/// uid 0 but not its powers).
pub(super) fn drop_capabilities() -> Result<(), SetupError> {
    let step = |step: &'static str| SetupError::Step {
        step,
        source: io::Error::last_os_error(),
    };
    // SAFETY: prctl with integer arguments only.
    unsafe {
        // EINVAL on kernels without ambient capabilities: there is nothing to clear then.
        libc::prctl(
            libc::PR_CAP_AMBIENT,
            libc::PR_CAP_AMBIENT_CLEAR_ALL,
            0,
            0,
            0,
        );
    }
    for cap in 0..64 {
        // SAFETY: as above.
        if unsafe { libc::prctl(libc::PR_CAPBSET_DROP, cap, 0, 0, 0) } != 0 {
            if io::Error::last_os_error().raw_os_error() == Some(libc::EINVAL) {
                break; // past the last capability this kernel knows
            }
            return Err(step("dropping capabilities (bounding set)"));
        }
    }
    #[repr(C)]
    struct Header {
        version: u32,
        pid: libc::c_int,
    }
    #[repr(C)]
    #[derive(Clone, Copy)]
    struct Data {
        effective: u32,
        permitted: u32,
        inheritable: u32,
    }
    const VERSION_3: u32 = 0x2008_0522;
    let mut header = Header {
        version: VERSION_3,
        pid: 0,
    };
    let data = [Data {
        effective: 0,
        permitted: 0,
        inheritable: 0,
    }; 2];
    // SAFETY: capset reads a v3 header and two data structs, which live on this stack.
    let r = unsafe { libc::syscall(libc::SYS_capset, &mut header, data.as_ptr()) };
    if r != 0 {
        return Err(step("dropping capabilities (capset)"));
    }
    Ok(())
}
