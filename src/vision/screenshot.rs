//! Screenshots: run the configured command or the first region-capture tool found on PATH, and
//! return the PNG it wrote (in a fresh temporary directory the caller may remove).
//!
//! Blocking: call it from `spawn_blocking`.

use std::ffi::{OsStr, OsString};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Region selection waits for the user; a tool still running after this is stopped.
const CAPTURE_TIMEOUT: Duration = Duration::from_secs(300);
/// Most output kept from a child's stdout (a PNG on stdout) before it is refused.
const MAX_OUTPUT: u64 = super::encode::MAX_INPUT_BYTES;

/// A screenshot tool cove knows how to drive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tool {
    /// `grim -g "$(slurp)" FILE` (wlroots compositors).
    Grim,
    GnomeScreenshot,
    Spectacle,
    Scrot,
    Maim,
    /// ImageMagick's `import`.
    Import,
}

impl Tool {
    /// In the order they are tried.
    pub const ALL: [Tool; 6] = [
        Tool::Grim,
        Tool::GnomeScreenshot,
        Tool::Spectacle,
        Tool::Scrot,
        Tool::Maim,
        Tool::Import,
    ];

    /// Programs that must all be on PATH.
    pub fn programs(self) -> &'static [&'static str] {
        match self {
            Tool::Grim => &["grim", "slurp"],
            Tool::GnomeScreenshot => &["gnome-screenshot"],
            Tool::Spectacle => &["spectacle"],
            Tool::Scrot => &["scrot"],
            Tool::Maim => &["maim"],
            Tool::Import => &["import"],
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Tool::Grim => "grim + slurp",
            Tool::GnomeScreenshot => "gnome-screenshot",
            Tool::Spectacle => "spectacle",
            Tool::Scrot => "scrot",
            Tool::Maim => "maim",
            Tool::Import => "import (ImageMagick)",
        }
    }

    /// Arguments after the program that write a region capture to `file`.
    fn args(self, file: &Path) -> Vec<OsString> {
        let f = file.as_os_str().to_os_string();
        let s = |v: &str| OsString::from(v);
        match self {
            Tool::Grim => vec![f], // `-g GEOMETRY` is prepended once slurp answered
            Tool::GnomeScreenshot => vec![s("-a"), s("-f"), f],
            Tool::Spectacle => vec![s("-r"), s("-b"), s("-n"), s("-o"), f],
            Tool::Scrot => vec![s("-s"), f],
            Tool::Maim => vec![s("-s"), f],
            Tool::Import => vec![f],
        }
    }
}

/// Where `program` is on `path_var` (a PATH value), if it is an executable file there.
pub fn find_in_path(program: &str, path_var: &OsStr) -> Option<PathBuf> {
    std::env::split_paths(path_var)
        .filter(|dir| !dir.as_os_str().is_empty())
        .map(|dir| dir.join(program))
        .find(|p| is_executable(p))
}

fn is_executable(p: &Path) -> bool {
    let Ok(meta) = std::fs::metadata(p) else {
        return false;
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        meta.is_file() && meta.permissions().mode() & 0o111 != 0
    }
    #[cfg(not(unix))]
    {
        meta.is_file()
    }
}

/// The first tool whose programs are all on `path_var`, with each program's full path.
pub fn select_tool(path_var: &OsStr) -> Option<(Tool, Vec<PathBuf>)> {
    Tool::ALL.into_iter().find_map(|tool| {
        let found: Option<Vec<PathBuf>> = tool
            .programs()
            .iter()
            .map(|p| find_in_path(p, path_var))
            .collect();
        found.map(|paths| (tool, paths))
    })
}

/// Take a screenshot and return the path of the PNG.
///
/// `configured` is `[vision] screenshot_command`, run with `sh -c`: it writes a PNG to `{path}`,
/// or to stdout when it has no `{path}`. Without one, the first of grim + slurp,
/// gnome-screenshot, spectacle, scrot, maim and ImageMagick's import found on PATH is used.
/// `stop` set (Esc in the session) ends the tool and the capture with [`STOPPED`].
pub fn capture(configured: Option<&str>, stop: &AtomicBool) -> Result<PathBuf, String> {
    let path_var = std::env::var_os("PATH").unwrap_or_default();
    capture_until(configured, &path_var, stop)
}

/// What a capture stopped by the user returns as its error.
pub const STOPPED: &str = "screenshot cancelled";

/// Never set: for captures and commands nobody stops.
static NEVER: AtomicBool = AtomicBool::new(false);

/// [`capture`] with PATH given (tests use a directory of stub tools).
pub fn capture_with_path(configured: Option<&str>, path_var: &OsStr) -> Result<PathBuf, String> {
    capture_until(configured, path_var, &NEVER)
}

/// [`capture_with_path`], stopped when `stop` is set.
pub fn capture_until(
    configured: Option<&str>,
    path_var: &OsStr,
    stop: &AtomicBool,
) -> Result<PathBuf, String> {
    let configured = configured.map(str::trim).filter(|c| !c.is_empty());
    let tool = match configured {
        Some(_) => None,
        None => Some(select_tool(path_var).ok_or_else(no_tool_message)?),
    };
    let dir = fresh_temp_dir().map_err(|e| format!("cannot create a temporary directory: {e}"))?;
    let file = dir.join("screenshot.png");
    let result = match (configured, tool) {
        (Some(cmd), _) => run_configured(cmd, &file, path_var, stop),
        (None, Some((tool, programs))) => run_tool(tool, &programs, &file, path_var, stop),
        (None, None) => Err(no_tool_message()),
    }
    .and_then(|()| check_output(&file));
    if result.is_err() {
        let _ = std::fs::remove_dir_all(&dir);
    }
    result.map(|()| file)
}

fn no_tool_message() -> String {
    let names: Vec<&str> = Tool::ALL.iter().map(|t| t.describe()).collect();
    format!(
        "no screenshot tool found: looked on PATH for {}. Install one, or set a command in the \
         config file:\n  [vision]\n  screenshot_command = \"my-tool --region --output {{path}}\"\n\
         ({{path}} is where the PNG goes; without it the command writes the PNG to stdout)",
        names.join(", ")
    )
}

fn run_configured(
    cmd: &str,
    file: &Path,
    path_var: &OsStr,
    stop: &AtomicBool,
) -> Result<(), String> {
    let to_stdout = !cmd.contains("{path}");
    let script = cmd.replace("{path}", &shell_quote(&file.to_string_lossy()));
    let mut command = Command::new("sh");
    command.arg("-c").arg(&script).env("PATH", path_var);
    let out = run_until(command, CAPTURE_TIMEOUT, to_stdout, stop)
        .map_err(|e| stopped_or(e, |e| format!("screenshot command `{cmd}`: {e}")))?;
    if !out.success {
        return Err(failed(&format!("screenshot command `{cmd}`"), &out));
    }
    if to_stdout {
        std::fs::write(file, &out.stdout)
            .map_err(|e| format!("cannot write {}: {e}", file.display()))?;
    }
    if !file.exists() || std::fs::metadata(file).is_ok_and(|m| m.len() == 0) {
        return Err(failed(
            &format!("screenshot command `{cmd}` wrote no image"),
            &out,
        ));
    }
    Ok(())
}

fn run_tool(
    tool: Tool,
    programs: &[PathBuf],
    file: &Path,
    path_var: &OsStr,
    stop: &AtomicBool,
) -> Result<(), String> {
    let mut args = tool.args(file);
    if tool == Tool::Grim {
        let mut slurp = Command::new(&programs[1]);
        slurp.env("PATH", path_var);
        let out = run_until(slurp, CAPTURE_TIMEOUT, true, stop)
            .map_err(|e| stopped_or(e, |e| format!("slurp: {e}")))?;
        if !out.success {
            return Err(failed("slurp (region selection cancelled?)", &out));
        }
        let geometry = String::from_utf8_lossy(&out.stdout).trim().to_string();
        if geometry.is_empty() {
            return Err("slurp selected no region".into());
        }
        args.splice(0..0, [OsString::from("-g"), OsString::from(geometry)]);
    }
    let mut command = Command::new(&programs[0]);
    command.args(&args).env("PATH", path_var);
    let out = run_until(command, CAPTURE_TIMEOUT, false, stop)
        .map_err(|e| stopped_or(e, |e| format!("{}: {e}", tool.describe())))?;
    if !out.success {
        return Err(failed(tool.describe(), &out));
    }
    if !file.exists() {
        return Err(failed(
            &format!("{} wrote no image (cancelled?)", tool.describe()),
            &out,
        ));
    }
    Ok(())
}

/// A run's error as the capture reports it: [`STOPPED`] as it is, anything else described.
fn stopped_or(e: String, describe: impl FnOnce(String) -> String) -> String {
    if e == STOPPED { e } else { describe(e) }
}

fn check_output(file: &Path) -> Result<(), String> {
    let mut head = [0u8; 8];
    let n = std::fs::File::open(file)
        .and_then(|mut f| f.read(&mut head))
        .map_err(|e| format!("cannot read the screenshot {}: {e}", file.display()))?;
    if n == 0 {
        return Err("the screenshot is empty (cancelled?)".into());
    }
    Ok(())
}

fn failed(what: &str, out: &Output) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stderr = stderr.trim();
    let mut msg = what.to_string();
    for part in [out.status.as_deref().unwrap_or(""), stderr] {
        if !part.is_empty() {
            msg.push_str(": ");
            msg.push_str(part);
        }
    }
    msg
}

/// Single-quote for `sh`.
fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// A new directory only this user can read, under the system temp dir.
pub(crate) fn fresh_temp_dir() -> std::io::Result<PathBuf> {
    use std::sync::atomic::{AtomicU32, Ordering};
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let base = std::env::temp_dir();
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let mut last = None;
    for _ in 0..16 {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let dir = base.join(format!("cove-shot-{}-{nanos:x}-{n}", std::process::id()));
        let mut builder = std::fs::DirBuilder::new();
        #[cfg(unix)]
        {
            use std::os::unix::fs::DirBuilderExt;
            builder.mode(0o700);
        }
        match builder.create(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => last = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last.unwrap_or_else(|| std::io::Error::other("no free name")))
}

/// What a child process did.
pub(crate) struct Output {
    pub success: bool,
    /// "exit status 1", "killed by signal 9", "timed out after 3s"; None on success.
    pub status: Option<String>,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

/// Run `command` with stdin closed, stderr kept (its first 64 KiB), stdout kept when
/// `keep_stdout` (at most `MAX_OUTPUT` bytes) else discarded, killed after `timeout`.
pub(crate) fn run(
    command: Command,
    timeout: Duration,
    keep_stdout: bool,
) -> Result<Output, String> {
    run_until(command, timeout, keep_stdout, &NEVER)
}

/// [`run`], killed with the error [`STOPPED`] as soon as `stop` is set.
fn run_until(
    mut command: Command,
    timeout: Duration,
    keep_stdout: bool,
    stop: &AtomicBool,
) -> Result<Output, String> {
    command
        .stdin(Stdio::null())
        .stdout(if keep_stdout {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stderr(Stdio::piped());
    // its own process group, so a stop or a timeout ends what it started too (a script's
    // children would otherwise keep the pipes open)
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(&mut command, 0);
    let mut child = command.spawn().map_err(|e| format!("cannot start: {e}"))?;
    let kill = |child: &mut std::process::Child| {
        #[cfg(unix)]
        if let Ok(pid) = i32::try_from(child.id()) {
            // SAFETY: signals the process group this function created; no memory is touched
            unsafe {
                libc::kill(-pid, libc::SIGKILL);
            }
        }
        let _ = child.kill();
        let _ = child.wait();
    };
    let reader = |pipe: Option<Box<dyn Read + Send>>, limit: u64| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(mut p) = pipe {
                let _ = p.by_ref().take(limit).read_to_end(&mut buf);
                // Drain the rest so the child does not block on a full pipe.
                let _ = std::io::copy(&mut p, &mut std::io::sink());
            }
            buf
        })
    };
    let stdout = reader(
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
        MAX_OUTPUT + 1,
    );
    let stderr = reader(
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
        64 * 1024,
    );
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Ok(status),
            Ok(None) if stop.load(Ordering::Relaxed) => {
                kill(&mut child);
                break Err(STOPPED.to_owned());
            }
            Ok(None) if started.elapsed() >= timeout => {
                kill(&mut child);
                break Err(format!("timed out after {}s", timeout.as_secs()));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => break Err(format!("cannot wait for it: {e}")),
        }
    };
    let stdout = stdout.join().unwrap_or_default();
    let stderr = stderr.join().unwrap_or_default();
    if matches!(&status, Err(e) if e == STOPPED) {
        return Err(STOPPED.to_owned());
    }
    if stdout.len() as u64 > MAX_OUTPUT {
        return Err(format!(
            "wrote more than {} to stdout",
            super::encode::human_bytes(MAX_OUTPUT)
        ));
    }
    let (success, status) = match status {
        Ok(s) if s.success() => (true, None),
        Ok(s) => (false, Some(describe_status(s))),
        Err(e) => (false, Some(e)),
    };
    Ok(Output {
        success,
        status,
        stdout,
        stderr,
    })
}

fn describe_status(s: std::process::ExitStatus) -> String {
    if let Some(code) = s.code() {
        return format!("exit status {code}");
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(sig) = s.signal() {
            return format!("killed by signal {sig}");
        }
    }
    "failed".into()
}

#[cfg(test)]
mod tests;
