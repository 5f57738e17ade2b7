//! The terminal: raw mode, alternate screen, bracketed paste, mouse capture, the
//! keyboard protocol that tells Shift+Enter from Enter, and restoring all of it on every
//! way out (drop, error, panic, signal).

use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, Ordering};

use crossterm::event::{
    DisableBracketedPaste, DisableMouseCapture, EnableBracketedPaste, EnableMouseCapture,
    KeyboardEnhancementFlags, PopKeyboardEnhancementFlags, PushKeyboardEnhancementFlags,
};
use crossterm::terminal::{
    EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};
use crossterm::{cursor, execute};

static ACTIVE: AtomicBool = AtomicBool::new(false);
static KEYBOARD_FLAGS: AtomicBool = AtomicBool::new(false);

/// Holds the terminal in cove's mode; dropping it restores the terminal.
pub struct TerminalGuard {
    mouse: bool,
}

impl TerminalGuard {
    pub fn enter(mouse: bool) -> io::Result<Self> {
        install_panic_hook();
        activate(mouse)?;
        Ok(TerminalGuard { mouse })
    }
}

/// The terminal speaks the keyboard enhancement protocol (Shift+Enter is told from Enter).
pub fn keyboard_enhanced() -> bool {
    KEYBOARD_FLAGS.load(Ordering::SeqCst)
}

/// Raw mode, the alternate screen, bracketed paste, mouse capture, keyboard protocol.
fn activate(mouse: bool) -> io::Result<()> {
    enable_raw_mode()?;
    ACTIVE.store(true, Ordering::SeqCst);
    let mut out = io::stdout();
    execute!(
        out,
        EnterAlternateScreen,
        EnableBracketedPaste,
        cursor::Hide
    )?;
    if mouse {
        execute!(out, EnableMouseCapture)?;
    }
    if matches!(
        crossterm::terminal::supports_keyboard_enhancement(),
        Ok(true)
    ) {
        execute!(
            out,
            PushKeyboardEnhancementFlags(KeyboardEnhancementFlags::DISAMBIGUATE_ESCAPE_CODES)
        )?;
        KEYBOARD_FLAGS.store(true, Ordering::SeqCst);
    }
    Ok(())
}

impl TerminalGuard {
    /// Mouse capture on (wheel scrolling) or off (the terminal's own text selection).
    pub fn set_mouse(&mut self, on: bool) -> io::Result<()> {
        if on != self.mouse {
            if on {
                execute!(io::stdout(), EnableMouseCapture)?;
            } else {
                execute!(io::stdout(), DisableMouseCapture)?;
            }
            self.mouse = on;
        }
        Ok(())
    }
}

impl TerminalGuard {
    /// Gives the terminal back (cooked mode, normal screen) while `f` runs, e.g. an
    /// editor, then takes it again. The caller must not read terminal events meanwhile.
    pub fn suspend<T>(&mut self, f: impl FnOnce() -> T) -> io::Result<T> {
        restore();
        let out = f();
        // (not a new guard: replacing this one would run its Drop, which restores)
        activate(self.mouse)?;
        Ok(out)
    }
}

/// The user's editor command (`$VISUAL`, else `$EDITOR`), when one is set.
pub fn editor_command() -> Option<String> {
    ["VISUAL", "EDITOR"]
        .iter()
        .filter_map(|k| std::env::var(k).ok())
        .find(|v| !v.trim().is_empty())
}

/// Opens `content` in the user's editor as a file named `name` (so it gets the right syntax)
/// and returns what was saved. Blocking; call inside [`TerminalGuard::suspend`].
pub fn edit_in_editor(name: &str, content: &str) -> Result<String, String> {
    let editor = editor_command().ok_or("no editor: set $VISUAL or $EDITOR")?;
    let dir = tempfile::Builder::new()
        .prefix("cove-edit-")
        .tempdir()
        .map_err(|e| format!("cannot make a temporary file: {e}"))?;
    let safe: String = name
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let path = dir.path().join(if safe.is_empty() {
        "edit.txt".into()
    } else {
        safe
    });
    std::fs::write(&path, content).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    // through sh, so `code --wait` or `emacs -nw` work as people set them
    let status = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("{editor} \"$1\""))
        .arg("sh")
        .arg(&path)
        .status()
        .map_err(|e| format!("cannot run {editor}: {e}"))?;
    if !status.success() {
        return Err(format!(
            "{editor} exited with {status}; nothing was changed"
        ));
    }
    std::fs::read_to_string(&path).map_err(|e| format!("cannot read back {}: {e}", path.display()))
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        restore();
    }
}

/// Puts the terminal back in cooked mode on the normal screen. Safe to call twice and
/// from a panic hook or signal path.
pub fn restore() {
    if !ACTIVE.swap(false, Ordering::SeqCst) {
        return;
    }
    let mut out = io::stdout();
    if KEYBOARD_FLAGS.swap(false, Ordering::SeqCst) {
        let _ = execute!(out, PopKeyboardEnhancementFlags);
    }
    let _ = execute!(
        out,
        DisableMouseCapture,
        DisableBracketedPaste,
        LeaveAlternateScreen,
        cursor::Show
    );
    let _ = disable_raw_mode();
    let _ = out.flush();
}

/// Whether the terminal is gone (its window closed, the pty hung up): standard input or
/// output reports a hang-up or an error, so nothing more can be shown or read there.
pub fn terminal_gone() -> bool {
    [libc::STDIN_FILENO, libc::STDOUT_FILENO]
        .into_iter()
        .any(|fd| {
            let mut p = libc::pollfd {
                fd,
                events: 0,
                revents: 0,
            };
            // SAFETY: one valid pollfd, no wait.
            let n = unsafe { libc::poll(&mut p, 1, 0) };
            n > 0 && p.revents & (libc::POLLHUP | libc::POLLERR | libc::POLLNVAL) != 0
        })
}

/// Resolves when the terminal goes away. SIGHUP does not always come (the shell that
/// started cove may trap it), and then crossterm's reader spins on end-of-file without
/// ever reporting it: a thread waits in `poll` for the hang-up itself (asking for no
/// events, it wakes only on a hang-up or an error).
pub fn hangup() -> tokio::sync::oneshot::Receiver<()> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    let spawned = std::thread::Builder::new()
        .name("cove-hangup".into())
        .spawn(move || {
            loop {
                let mut fds = [libc::STDIN_FILENO, libc::STDOUT_FILENO].map(|fd| libc::pollfd {
                    fd,
                    events: 0,
                    revents: 0,
                });
                // SAFETY: two valid pollfds, for as long as it takes.
                let n = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, -1) };
                if n < 0 && io::Error::last_os_error().kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                let gone = fds
                    .iter()
                    .any(|p| p.revents & (libc::POLLHUP | libc::POLLERR | libc::POLLNVAL) != 0);
                if n < 0 || gone {
                    let _ = tx.send(());
                    return;
                }
            }
        });
    if let Err(e) = spawned {
        tracing::warn!("cannot watch the terminal for a hang-up: {e}");
    }
    rx
}

fn install_panic_hook() {
    static INSTALLED: AtomicBool = AtomicBool::new(false);
    if INSTALLED.swap(true, Ordering::SeqCst) {
        return;
    }
    // The thread that draws: a panic there ends the program, so the terminal is restored
    // first and the report lands on a usable screen. A panic on another thread (the agent,
    // a tool on the blocking pool) is caught and shown as an error card by its owner, so it
    // must neither restore the terminal under the running UI nor print over it: it goes to
    // the log only.
    let ui_thread = std::thread::current().id();
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if std::thread::current().id() != ui_thread && ACTIVE.load(Ordering::SeqCst) {
            tracing::error!("panic (caught by its task): {info}");
            return;
        }
        restore();
        previous(info);
    }));
}
