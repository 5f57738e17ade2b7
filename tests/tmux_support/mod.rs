//! Driving the real `cove` binary in a tmux session, as a person at a terminal would:
//! a private tmux server per test, a plain shell inside it, keys sent, screen read.
#![allow(dead_code)]

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

pub struct Tmux {
    socket: String,
}

impl Tmux {
    /// A shell (`$ ` prompt) in a `w`x`h` tmux window.
    pub fn start(w: u16, h: u16) -> Tmux {
        assert!(
            Command::new("tmux")
                .arg("-V")
                .output()
                .is_ok_and(|o| o.status.success()),
            "tmux is required for this test (scripts/test.sh installs it)"
        );
        let socket = format!("cove-test-{}-{}", std::process::id(), rand_suffix());
        let t = Tmux { socket };
        let status = Command::new("tmux")
            .args([
                "-L",
                &t.socket,
                "-f",
                "/dev/null",
                "new-session",
                "-d",
                "-s",
                "main",
                "-x",
                &w.to_string(),
                "-y",
                &h.to_string(),
            ])
            .args([
                "env",
                "-i",
                "PATH=/usr/bin:/bin",
                "TERM=xterm-256color",
                "PS1=$ ",
                "bash",
                "--norc",
                "--noprofile",
            ])
            .status()
            .expect("start tmux");
        assert!(status.success());
        t.wait_for(|s| s.contains('$'), Duration::from_secs(5));
        t
    }

    /// Types a shell command line that runs cove with the given environment, in `dir`.
    pub fn run_cove(&self, dir: &Path, env: &[(&str, &str)], args: &str) {
        let mut line = format!("cd '{}' && env", dir.display());
        for (k, v) in env {
            line.push_str(&format!(" {k}='{v}'"));
        }
        line.push_str(&format!(" '{}' {args}", env!("CARGO_BIN_EXE_cove")));
        self.send_literal(&line);
        self.keys(&["Enter"]);
    }

    /// Runs cove in `workspace` with an isolated `home` (HOME and XDG dirs inside it),
    /// against `url`, with `extra` variables (a model name, say) on top.
    pub fn run_cove_in(&self, home: &Path, workspace: &Path, url: &str, extra: &[(&str, &str)]) {
        self.run_cove_args(home, workspace, url, extra, "");
    }

    /// `run_cove_in` with command-line arguments (`--continue`, say).
    pub fn run_cove_args(
        &self,
        home: &Path,
        workspace: &Path,
        url: &str,
        extra: &[(&str, &str)],
        args: &str,
    ) {
        let home_s = home.display().to_string();
        let config = home.join("config").display().to_string();
        let state = home.join("state").display().to_string();
        let data = home.join("data").display().to_string();
        let mut env: Vec<(&str, &str)> = vec![
            ("HOME", &home_s),
            ("XDG_CONFIG_HOME", &config),
            ("XDG_STATE_HOME", &state),
            ("XDG_DATA_HOME", &data),
            ("COVE_BASE_URL", url),
        ];
        env.extend_from_slice(extra);
        self.run_cove(workspace, &env, args);
    }

    pub fn send_literal(&self, text: &str) {
        let ok = Command::new("tmux")
            .args(["-L", &self.socket, "send-keys", "-t", "main", "-l", text])
            .status()
            .unwrap();
        assert!(ok.success());
    }

    /// Pastes `text` as a terminal does: in a bracketed paste, when the program asked for it.
    pub fn paste(&self, text: &str) {
        let tmux = |args: &[&str]| {
            let ok = Command::new("tmux")
                .args(["-L", &self.socket])
                .args(args)
                .status()
                .unwrap();
            assert!(ok.success());
        };
        tmux(&["set-buffer", "-b", "paste", "--", text]);
        tmux(&["paste-buffer", "-p", "-d", "-b", "paste", "-t", "main"]);
    }

    pub fn keys(&self, keys: &[&str]) {
        let ok = Command::new("tmux")
            .args(["-L", &self.socket, "send-keys", "-t", "main"])
            .args(keys)
            .status()
            .unwrap();
        assert!(ok.success());
    }

    pub fn screen(&self) -> String {
        let out = Command::new("tmux")
            .args(["-L", &self.socket, "capture-pane", "-p", "-t", "main"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Closes the window, as a user closing the terminal does: the pty hangs up.
    pub fn close_window(&self) {
        let _ = Command::new("tmux")
            .args(["-L", &self.socket, "kill-session", "-t", "main"])
            .status();
    }

    /// Polls the screen until `pred` holds; panics with the screen after `timeout`.
    pub fn wait_for(&self, pred: impl Fn(&str) -> bool, timeout: Duration) -> String {
        let start = Instant::now();
        loop {
            let s = self.screen();
            if pred(&s) {
                return s;
            }
            if start.elapsed() > timeout {
                panic!("timed out after {timeout:?} waiting on the screen:\n{s}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["-L", &self.socket, "kill-server"])
            .status();
    }
}

fn rand_suffix() -> u32 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0)
}
