//! Confining the processes cove starts for the model (the `shell` tool, custom tools,
//! `--verify` checks).
//!
//! cove never sets a sandbox up inside a forked child of its multi-threaded process. It
//! starts a single-threaded helper instead,
//! `cove __sandbox-exec --parent PID [--network] [--write P]... [--protect P]... -- CMD...`,
//! recognised at the very top of `main()` ([`run_helper_if_requested`]). On Linux the
//! helper (`linux.rs`) enters new user, PID, mount, IPC and (unless the network is allowed)
//! network namespaces, binds `.git` and `.cove` read-only, applies Landlock (`rules.rs`:
//! read everywhere, write only the `--write` paths), drops every capability, then forks the
//! PID 1 of the new namespace, which runs the command. When the command ends, PID 1 exits
//! and the kernel kills whatever is left in the namespace (`setsid` escapees included);
//! when cove goes away, the helper and everything under it die too.
//!
//! Where any of that is missing the helper runs nothing and says what is missing (fail
//! closed); [`Sandbox::check`] probes once per process so that a tool can refuse before
//! starting anything. The helper is the small `cove-sandbox-helper` binary beside cove
//! when it is there (it starts ~1 ms faster), else cove itself (`/proc/self/exe`); see
//! [`use_installed_helper`]. Test binaries name a built binary with [`set_helper`].

#[cfg(target_os = "linux")]
mod init;
#[cfg(target_os = "linux")]
mod linux;
#[cfg(target_os = "linux")]
mod rules;

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use crate::config::SandboxConfig;
pub use crate::config::SandboxMode as Mode;

/// The first argument that turns the cove binary into the sandbox helper.
pub const HELPER_ARG: &str = "__sandbox-exec";
/// The helper's exit code when it could not set the sandbox up (nothing was run).
pub const SETUP_FAILED: i32 = 125;
/// Test-only: pretend the kernel lacks a feature (`landlock` or `namespaces`). It can only
/// make the sandbox refuse to run, never weaken it.
pub const SIMULATE_ENV: &str = "COVE_SANDBOX_SIMULATE_MISSING";
/// How to allow unsandboxed runs, said with every refusal.
pub const OFF_HINT: &str = "cove runs nothing unconfined; to run commands without a sandbox, \
     set `[sandbox] mode = \"off\"` in your own config (~/.config/cove/config.toml)";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SandboxError {
    /// The kernel or the system refused a part of the sandbox; the text says which.
    #[error("the sandbox is not available: {0}. {OFF_HINT}")]
    Unavailable(String),
    #[error(
        "the sandbox is not supported on this operating system (only Linux for now). {OFF_HINT}"
    )]
    UnsupportedOs,
    #[error("cannot create the sandbox's private temp dir in {dir}: {message}")]
    TempDir { dir: PathBuf, message: String },
}

/// The policy for the commands of one workspace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sandbox {
    pub mode: Mode,
    pub network: bool,
    /// Extra writable paths, absolute.
    pub writable: Vec<PathBuf>,
    /// Test-only (see [`SIMULATE_ENV`]).
    pub simulate_missing: Option<String>,
}

impl Default for Sandbox {
    /// Workspace-write without network: the same as the default config.
    fn default() -> Self {
        Sandbox {
            mode: Mode::WorkspaceWrite,
            network: false,
            writable: Vec::new(),
            simulate_missing: std::env::var(SIMULATE_ENV).ok().filter(|s| !s.is_empty()),
        }
    }
}

/// What to start instead of the command: `program args...`, with `env` added to the
/// command's environment. `temp_dir` (the private `$TMPDIR`) must live as long as the
/// command runs; dropping it removes the directory.
#[derive(Debug)]
pub struct Launch {
    pub program: OsString,
    pub args: Vec<OsString>,
    pub env: Vec<(OsString, OsString)>,
    pub temp_dir: Option<tempfile::TempDir>,
}

impl Sandbox {
    /// The policy from `[sandbox]`; relative `writable` paths are taken from `root`.
    pub fn from_config(cfg: &SandboxConfig, root: &Path) -> Self {
        Sandbox {
            mode: cfg.mode,
            network: cfg.network,
            writable: cfg
                .writable
                .iter()
                .filter(|w| !w.trim().is_empty())
                .map(|w| resolve(w, root))
                .collect(),
            ..Sandbox::default()
        }
    }

    /// No confinement at all.
    pub fn off() -> Self {
        Sandbox {
            mode: Mode::Off,
            ..Sandbox::default()
        }
    }

    pub fn is_off(&self) -> bool {
        self.mode == Mode::Off
    }

    /// `workspace-write, no network` and the like.
    pub fn summary(&self) -> String {
        if self.is_off() {
            return "off: commands run with your full rights".to_owned();
        }
        let mut s = format!(
            "{}, {}",
            self.mode.as_str(),
            if self.network {
                "network allowed"
            } else {
                "no network"
            }
        );
        if self.mode == Mode::WorkspaceWrite && !self.writable.is_empty() {
            let extra: Vec<String> = self
                .writable
                .iter()
                .map(|p| p.display().to_string())
                .collect();
            s.push_str(&format!(", also writable: {}", extra.join(", ")));
        }
        s
    }

    /// One line for `/permissions`, `cove doctor` and the like: the policy and whether this
    /// machine can enforce it (probed once).
    pub fn status_line(&self) -> String {
        if self.is_off() {
            return format!("Sandbox: {}.", self.summary());
        }
        match self.check() {
            Ok(how) => format!("Sandbox: {} ({how}).", self.summary()),
            Err(e) => format!("Sandbox: UNAVAILABLE, commands are refused: {e}"),
        }
    }

    /// Whether commands can run under this policy here: `Ok` with how (e.g. `Landlock ABI
    /// 7, user namespace`), or the reason they cannot. Probed once per process and policy
    /// by running the helper without a command.
    pub fn check(&self) -> Result<String, SandboxError> {
        if self.is_off() {
            return Ok("off".to_owned());
        }
        /// (network, simulated missing part) → the probe's answer
        type Probes = Vec<((bool, Option<String>), Result<String, SandboxError>)>;
        static PROBES: Mutex<Probes> = Mutex::new(Vec::new());
        let key = (self.network, self.simulate_missing.clone());
        let mut probes = PROBES.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((_, r)) = probes.iter().find(|(k, _)| *k == key) {
            return r.clone();
        }
        let r = self.probe();
        probes.push((key, r.clone()));
        r
    }

    #[cfg(target_os = "linux")]
    fn probe(&self) -> Result<String, SandboxError> {
        let mut args = self.helper_args();
        args.push("--probe".into());
        args.push("--protect".into());
        args.push(std::env::temp_dir().into_os_string());
        args.push("--".into());
        let out = std::process::Command::new(helper())
            .args(&args)
            .stdin(std::process::Stdio::null())
            .output()
            .map_err(|e| {
                SandboxError::Unavailable(format!(
                    "cannot start the sandbox helper {}: {e}",
                    helper().to_string_lossy()
                ))
            })?;
        if out.status.success() {
            return Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned());
        }
        let err = String::from_utf8_lossy(&out.stderr);
        Err(SandboxError::Unavailable(reason_from_stderr(
            &err, out.status,
        )))
    }

    #[cfg(not(target_os = "linux"))]
    fn probe(&self) -> Result<String, SandboxError> {
        Err(SandboxError::UnsupportedOs)
    }

    /// How to run `argv` in `root` under this policy. With the sandbox off that is `argv`
    /// itself; otherwise the helper with a fresh private temp dir. The helper itself refuses
    /// (exit [`SETUP_FAILED`], the reason on stderr) where the sandbox cannot be set up;
    /// call [`Sandbox::check`] first to refuse before starting anything.
    pub fn launch(&self, root: &Path, argv: &[OsString]) -> Result<Launch, SandboxError> {
        let Some((program, rest)) = argv.split_first() else {
            return Err(SandboxError::Unavailable("no command given".to_owned()));
        };
        if self.is_off() {
            return Ok(Launch {
                program: program.clone(),
                args: rest.to_vec(),
                env: Vec::new(),
                temp_dir: None,
            });
        }
        let base = std::env::temp_dir();
        let temp = tempfile::Builder::new()
            .prefix("cove-sandbox-")
            .tempdir_in(&base)
            .map_err(|e| SandboxError::TempDir {
                dir: base.clone(),
                message: e.to_string(),
            })?;
        let mut args = self.helper_args();
        args.push("--write".into());
        args.push(temp.path().as_os_str().to_owned());
        if self.mode == Mode::WorkspaceWrite {
            let mut roots = vec![root.to_path_buf()];
            roots.extend(self.writable.iter().cloned());
            for r in &roots {
                args.push("--write".into());
                args.push(r.as_os_str().to_owned());
            }
            for p in protected(&roots, &self.writable) {
                args.push("--protect".into());
                args.push(p.into_os_string());
            }
        }
        args.push("--".into());
        args.extend(argv.iter().cloned());
        Ok(Launch {
            program: helper(),
            args,
            env: vec![("TMPDIR".into(), temp.path().as_os_str().to_owned())],
            temp_dir: Some(temp),
        })
    }

    fn helper_args(&self) -> Vec<OsString> {
        let mut args: Vec<OsString> = vec![
            HELPER_ARG.into(),
            "--parent".into(),
            std::process::id().to_string().into(),
        ];
        if self.network {
            args.push("--network".into());
        }
        if let Some(s) = &self.simulate_missing {
            args.push("--simulate-missing".into());
            args.push(s.into());
        }
        args
    }
}

/// The reason in the helper's refusal (`cove: the sandbox is not available: REASON. HINT`),
/// else what it printed, else its exit status.
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
fn reason_from_stderr(stderr: &str, status: std::process::ExitStatus) -> String {
    let prefix = "cove: the sandbox is not available: ";
    let suffix = format!(". {OFF_HINT}");
    if let Some(line) = stderr.lines().find_map(|l| l.strip_prefix(prefix)) {
        return line.strip_suffix(&suffix).unwrap_or(line).to_owned();
    }
    let text = stderr.trim();
    if text.is_empty() {
        format!("the sandbox helper failed ({status})")
    } else {
        format!("the sandbox helper failed ({status}): {text}")
    }
}

/// `.git` and `.cove` of each writable root, unless the user listed them as writable:
/// a command must not plant hooks or config that cove or git would later run unconfined.
fn protected(roots: &[PathBuf], writable: &[PathBuf]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for r in roots {
        for name in [".git", ".cove"] {
            let p = r.join(name);
            if p.symlink_metadata().is_ok() && !writable.contains(&p) && !out.contains(&p) {
                out.push(p);
            }
        }
    }
    out
}

/// `~/x` from the home dir, relative paths from `root`.
fn resolve(path: &str, root: &Path) -> PathBuf {
    let home = || directories::BaseDirs::new().map(|d| d.home_dir().to_path_buf());
    let p = if path == "~" {
        home().unwrap_or_else(|| PathBuf::from(path))
    } else if let Some(rest) = path.strip_prefix("~/") {
        home().map_or_else(|| PathBuf::from(path), |h| h.join(rest))
    } else {
        root.join(path)
    };
    std::fs::canonicalize(&p).unwrap_or(p)
}

static HELPER: OnceLock<OsString> = OnceLock::new();
/// The small binary with only the helper in it, installed beside `cove`.
pub const HELPER_BIN: &str = "cove-sandbox-helper";

/// For cove's `main`: the helper is [`HELPER_BIN`] beside the running binary when it is
/// there (it starts ~1 ms faster), else cove itself (`/proc/self/exe`: the running image,
/// even if the file was replaced since).
pub fn use_installed_helper() {
    let beside = std::env::current_exe()
        .ok()
        .and_then(|exe| Some(exe.parent()?.join(HELPER_BIN)))
        .filter(|p| p.is_file());
    match beside {
        Some(p) => set_helper(p),
        None if cfg!(target_os = "linux") => set_helper("/proc/self/exe"),
        None => set_helper(std::env::current_exe().unwrap_or_else(|_| "cove".into())),
    }
}

/// Names the executable that understands [`HELPER_ARG`] (see [`use_installed_helper`]);
/// tests set a built binary. The first call wins.
pub fn set_helper(path: impl AsRef<OsStr>) {
    let _ = HELPER.set(path.as_ref().to_owned());
}

/// The helper executable: what [`set_helper`] named, else, for test binaries that did not
/// name one (in cargo's `target/*/deps/`), the helper or `cove` binary cargo built beside
/// them.
fn helper() -> OsString {
    if let Some(h) = HELPER.get() {
        return h.clone();
    }
    let target = std::env::current_exe().ok().and_then(|exe| {
        let deps = exe.parent()?;
        (deps.file_name()? == "deps").then(|| deps.parent().map(Path::to_path_buf))?
    });
    target
        .into_iter()
        .flat_map(|t| [t.join(HELPER_BIN), t.join("cove")])
        .find(|p| p.is_file())
        .map(PathBuf::into_os_string)
        // an executable that is not there: starting it fails, and nothing runs
        .unwrap_or_else(|| OsString::from("/nonexistent/cove-sandbox-helper-not-set"))
}

/// At the very top of `main`: when the process was started as the sandbox helper, run it
/// and exit (never returns then). Otherwise returns at once.
pub fn run_helper_if_requested() {
    let mut args = std::env::args_os();
    let _exe = args.next();
    if args.next().as_deref() != Some(OsStr::new(HELPER_ARG)) {
        return;
    }
    let rest: Vec<OsString> = args.collect();
    #[cfg(target_os = "linux")]
    linux::helper_main(rest);
    #[cfg(not(target_os = "linux"))]
    {
        use std::io::Write;
        let _ = rest;
        let _ = writeln!(std::io::stderr(), "cove: {}", SandboxError::UnsupportedOs);
        std::process::exit(SETUP_FAILED);
    }
}

#[cfg(test)]
mod tests;
