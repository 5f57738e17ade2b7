//! Atomic file replacement: a reader (or a crash) sees the old content or the new, never
//! a mix and never a truncated file.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// Writes `bytes` to `path` atomically: a temporary file is created (`create_new`) in the
/// same directory, written, given the permissions of the file it replaces (if any),
/// fsynced and renamed over `path`; then the directory is fsynced so the rename itself
/// survives a power cut.
///
/// On any error before the rename the temporary file is removed and `path` is untouched.
/// Once the rename has happened the new content is in place, so a failure to fsync the
/// directory afterwards is only logged, not returned.
///
/// `path` should be the real file, not a symlink to it (a symlink at `path` would be
/// replaced by a regular file); `domain::paths::resolve_in_root` returns such paths. The
/// parent directory must exist.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let name = path.file_name().ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("`{}` has no file name", path.display()),
        )
    })?;
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let permissions = match fs::metadata(path) {
        Ok(meta) => Some(meta.permissions()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => None,
        Err(e) => return Err(e),
    };

    let (tmp_path, mut file) = create_temp(dir, &name.to_string_lossy())?;
    let written = (|| {
        file.write_all(bytes)?;
        if let Some(permissions) = permissions {
            file.set_permissions(permissions)?;
        }
        file.sync_all()?;
        drop(file);
        fs::rename(&tmp_path, path)
    })();
    if let Err(e) = written {
        let _ = fs::remove_file(&tmp_path);
        return Err(e);
    }
    if let Err(e) = sync_dir(dir) {
        tracing::warn!(
            "wrote {} but could not fsync its directory: {e}",
            path.display()
        );
    }
    Ok(())
}

/// Creates a fresh temporary file next to the target: `.NAME.cove-PID-N.tmp`.
fn create_temp(dir: &Path, name: &str) -> io::Result<(PathBuf, File)> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    // Keep the temporary name within NAME_MAX (255 bytes) however long the target's is.
    let mut short = name;
    while short.len() > 100 {
        let mut end = 100.min(short.len() - 1);
        while !short.is_char_boundary(end) {
            end -= 1;
        }
        short = &short[..end];
    }
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let mut last_err = None;
    for _ in 0..16 {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let tmp = dir.join(format!(
            ".{short}.cove-{}-{n}-{nanos:x}.tmp",
            std::process::id()
        ));
        match OpenOptions::new().write(true).create_new(true).open(&tmp) {
            Ok(file) => return Ok((tmp, file)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last_err = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last_err.unwrap_or_else(|| io::Error::other("could not create a temporary file")))
}

/// Whether `name` is one of cove's temporary files (`.NAME.cove-PID-N-NANOS.tmp`), and
/// the id of the process that made it.
fn temp_owner(name: &str) -> Option<u32> {
    let rest = name.strip_prefix('.')?.strip_suffix(".tmp")?;
    let (_, tail) = rest.rsplit_once(".cove-")?;
    let mut parts = tail.split('-');
    let pid = parts.next()?.parse().ok()?;
    let n_ok = parts.next()?.chars().all(|c| c.is_ascii_digit());
    let nanos_ok = parts.next()?.chars().all(|c| c.is_ascii_hexdigit());
    (n_ok && nanos_ok && parts.next().is_none()).then_some(pid)
}

/// Removes cove's own temporary files that a crash left behind in `root` (made by a process
/// that is gone, or older than an hour), looking at no more than `limit` entries. Returns
/// how many were removed.
pub fn clean_stale_temps(root: &Path, limit: usize) -> usize {
    let mut removed = 0;
    let walker = ignore::WalkBuilder::new(root)
        .hidden(false)
        .follow_links(false)
        .filter_entry(|e| e.file_name() != ".git")
        .build();
    for entry in walker.take(limit).flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(temp_owner) else {
            continue;
        };
        let Ok(meta) = entry.path().symlink_metadata() else {
            continue;
        };
        if !meta.is_file() {
            continue;
        }
        let old = meta
            .modified()
            .ok()
            .and_then(|m| m.elapsed().ok())
            .is_some_and(|age| age.as_secs() > 3600);
        if (old || !process_alive(pid)) && fs::remove_file(entry.path()).is_ok() {
            removed += 1;
        }
    }
    removed
}

fn process_alive(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return false;
    };
    // SAFETY: signal 0 only checks whether the process exists.
    let r = unsafe { libc::kill(pid, 0) };
    r == 0 || io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

#[cfg(unix)]
fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

#[cfg(not(unix))]
fn sync_dir(_dir: &Path) -> io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests;
