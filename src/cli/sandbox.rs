//! `cove sandbox [--network] -- CMD [ARGS]...`: runs a command the way cove runs the
//! model's commands (same policy from the config, same environment scrub, same helper),
//! with the terminal's stdin, stdout and stderr, and passes its exit status through.

use std::ffi::OsString;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;

use cove::config::Loaded;
use cove::sandbox::SETUP_FAILED;

pub fn run(loaded: &Loaded, workspace: &Path, network: bool, argv: &[OsString]) -> u8 {
    let root = match std::fs::canonicalize(workspace) {
        Ok(r) => r,
        Err(e) => {
            super::say_error(&format!("cannot resolve {}: {e}", workspace.display()));
            return crate::EXIT_USAGE;
        }
    };
    let mut ctx = cove::agent::tool_context(&loaded.config, root);
    if network {
        ctx.sandbox.network = true;
    }
    if ctx.sandbox.is_off() {
        super::say("[sandbox] mode = \"off\": running the command unconfined");
    }
    let (mut cmd, launch) = match cove::tools::shell::prepare(&ctx, argv) {
        Ok(prepared) => prepared,
        Err(e) => {
            super::say(&e);
            return SETUP_FAILED as u8;
        }
    };
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            super::say_error(&format!(
                "cannot start {}: {e}",
                launch.program.to_string_lossy()
            ));
            return if e.kind() == std::io::ErrorKind::NotFound {
                127
            } else {
                126
            };
        }
    };
    // Ctrl+C and Ctrl+\ are the command's to handle (the helper passes them on); cove
    // waits for it like a shell does.
    // SAFETY: sets two dispositions to ignore; no handler runs.
    unsafe {
        libc::signal(libc::SIGINT, libc::SIG_IGN);
        libc::signal(libc::SIGQUIT, libc::SIG_IGN);
    }
    let status = child.wait();
    drop(launch);
    match status {
        Ok(s) => match (s.code(), s.signal()) {
            (Some(code), _) => code.clamp(0, 255) as u8,
            (None, Some(sig)) => (128 + sig).clamp(0, 255) as u8,
            (None, None) => 1,
        },
        Err(e) => {
            super::say_error(&format!("cannot wait for the command: {e}"));
            1
        }
    }
}
