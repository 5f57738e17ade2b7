//! The event loop: terminal events, agent events, signals and timers become `Msg`s for
//! `update`; its `Command`s are carried out here; frames are drawn on demand, at most
//! ~60 per second, each inside a synchronized update.

use std::io::{self, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use base64::Engine;
use crossterm::event::{Event, EventStream};
use crossterm::terminal::{BeginSynchronizedUpdate, EndSynchronizedUpdate};
use futures_util::StreamExt;
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;
use tokio::sync::mpsc::UnboundedSender;
use tokio::time::sleep_until;

use crate::app::image_jobs;
use crate::app::msg::{Command, Msg};
use crate::app::state::State;
use crate::app::update::update;
use crate::protocol::Op;
use crate::term::TerminalGuard;
use crate::ui;

const FRAME: Duration = Duration::from_millis(16);
const TICK: Duration = Duration::from_millis(100);
/// Agent events handled per wake-up before drawing (a fast stream is coalesced).
const DRAIN_MAX: usize = 4096;

pub struct Channels {
    pub ops: UnboundedSender<Op>,
    pub events: crate::protocol::EventRx,
    /// Told once the first frame is on the screen (the agent starts its work then).
    pub first_frame: Option<tokio::sync::oneshot::Sender<()>>,
}

/// Runs the interactive session until the user quits. The terminal is restored on
/// return, on error and on panic.
/// The most files the `@` picker lists.
const FILE_INDEX_LIMIT: usize = 200_000;

pub async fn run(
    mut state: State,
    mut ch: Channels,
    history_file: Option<PathBuf>,
    images: image_jobs::ImageSettings,
) -> io::Result<State> {
    let (mut jobs, mut job_results) = image_jobs::Jobs::new(images);
    // set by Esc while a screenshot is taken (a fresh one per screenshot)
    let mut screenshot_stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut guard = TerminalGuard::enter(state.view.mouse_capture)?;
    let mut terminal = Terminal::new(CrosstermBackend::new(io::stdout()))?;
    // without the keyboard protocol Shift+Enter arrives as Enter: the hint says Ctrl+J
    state.composer.shift_enter = crate::term::keyboard_enhanced();
    terminal.clear()?;
    let size = terminal.size()?;
    state.view.size = (size.width, size.height);
    let mut events = EventStream::new();
    let mut sigterm = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    let mut sighup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())?;
    let mut hangup = crate::term::hangup();
    let mut watching_hangup = true;
    let mut last_draw = Instant::now() - FRAME;
    let mut next_tick = tokio::time::Instant::now() + TICK;

    let mut was_running = false;
    let mut agent_alive = true;
    // the syntax set is loaded once the user starts typing (not before the first frame,
    // and not at all in a session that never shows code)
    let mut warmed = false;
    loop {
        let ticking =
            state.turn().is_some() || state.flash.is_some() || state.quit_armed_at.is_some();
        let draw_at = tokio::time::Instant::from_std(last_draw + FRAME);
        let mut msgs = Vec::new();
        tokio::select! {
            ev = events.next() => match ev {
                Some(Ok(ev)) => {
                    tracing::trace!(?ev, "terminal event");
                    if !warmed && matches!(ev, Event::Key(_) | Event::Paste(_)) {
                        warmed = true;
                        std::thread::spawn(ui::highlight::warm_up);
                    }
                    msgs.extend(term_msg(ev))
                }
                Some(Err(_)) | None if crate::term::terminal_gone() => {
                    state.hung_up = true;
                    msgs.push(Msg::Terminate)
                }
                Some(Err(e)) => return Err(e),
                None => msgs.push(Msg::Terminate),
            },
            ev = ch.events.recv(), if agent_alive => {
                if let Some(ev) = ev {
                    msgs.push(Msg::Agent(ev));
                    while msgs.len() < DRAIN_MAX {
                        match ch.events.try_recv() {
                            Ok(ev) => msgs.push(Msg::Agent(ev)),
                            Err(_) => break,
                        }
                    }
                } else {
                    // The agent only stops after the loop sends Shutdown: this is a crash.
                    // The screen stays, with what happened and how to go on.
                    agent_alive = false;
                    msgs.push(Msg::AgentGone);
                }
            }
            _ = sleep_until(next_tick), if ticking => {
                next_tick = tokio::time::Instant::now() + TICK;
                msgs.push(Msg::Tick);
            }
            _ = sleep_until(draw_at), if state.dirty => {}
            Some(msg) = job_results.recv() => msgs.push(msg),
            _ = sigterm.recv() => msgs.push(Msg::Terminate),
            gone = &mut hangup, if watching_hangup => {
                watching_hangup = false;
                if gone.is_ok() {
                    state.hung_up = true;
                    msgs.push(Msg::Terminate)
                }
            }
            _ = sighup.recv() => {
                state.hung_up = true;
                msgs.push(Msg::Terminate)
            }
        }
        for msg in msgs {
            state.now = Instant::now();
            for cmd in update(&mut state, msg) {
                match cmd {
                    Command::Agent(op) => {
                        let _ = ch.ops.send(op);
                    }
                    Command::SaveHistory(text) => {
                        if let Some(path) = history_file.clone() {
                            tokio::task::spawn_blocking(move || {
                                if let Err(e) = crate::app::history::append(&path, &text) {
                                    tracing::warn!(
                                        "cannot save input history to {}: {e}",
                                        path.display()
                                    );
                                }
                            });
                        }
                    }
                    Command::Copy(text) => copy_osc52(&text),
                    Command::ReadClipboard => jobs.spawn(image_jobs::read_clipboard),
                    Command::AttachFile(path) => {
                        jobs.spawn(move |images| image_jobs::attach_file(&path, images))
                    }
                    Command::Screenshot => {
                        screenshot_stop =
                            std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
                        let stop = screenshot_stop.clone();
                        jobs.spawn(move |images| image_jobs::screenshot(images, &stop))
                    }
                    Command::StopScreenshot => {
                        screenshot_stop.store(true, std::sync::atomic::Ordering::Relaxed)
                    }
                    Command::IndexFiles => {
                        let root = state.workspace.clone();
                        jobs.spawn(move |_| {
                            let index = crate::session::files::index(&root, FILE_INDEX_LIMIT);
                            Msg::FileIndex(index.paths)
                        });
                    }
                    Command::CheckPaste(text) => jobs.spawn(move |_| image_jobs::check_paste(text)),
                    Command::SetMouseCapture(on) => guard.set_mouse(on)?,
                    Command::EditInEditor {
                        call_id,
                        name,
                        content,
                    } => {
                        // the editor gets the keyboard: stop reading events until it is done
                        drop(events);
                        let result =
                            guard.suspend(|| crate::term::edit_in_editor(&name, &content))?;
                        events = EventStream::new();
                        terminal.clear()?;
                        state.dirty = true;
                        jobs.send(Msg::Edited { call_id, result });
                    }
                    Command::Quit => {}
                }
            }
        }
        if state.should_quit {
            break;
        }
        if state.dirty && last_draw.elapsed() >= FRAME {
            if let Err(e) = draw(&mut terminal, &mut state) {
                if crate::term::terminal_gone() {
                    state.hung_up = true;
                    break;
                }
                return Err(e);
            }
            last_draw = Instant::now();
            if let Some(tx) = ch.first_frame.take() {
                let _ = tx.send(());
            }
        }
        // a reply's stream leaves many small freed blocks in the allocator's arenas:
        // hand them back to the system once it is over
        let running = state.is_running();
        if was_running && !running {
            release_free_memory();
        }
        was_running = running;
    }
    let _ = ch.ops.send(Op::Shutdown);
    // ratatui's Drop shows the cursor and, when that fails (the terminal is gone), prints
    // with eprintln!, which panics on a dead stderr; the guard's restore shows it anyway
    std::mem::forget(terminal);
    drop(guard);
    Ok(state)
}

/// Returns the allocator's free memory to the system (glibc keeps it per arena).
fn release_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only walks the allocator's own free lists.
    unsafe {
        libc::malloc_trim(0);
    }
}

fn term_msg(ev: Event) -> Option<Msg> {
    match ev {
        Event::Key(k) => Some(Msg::Key(k)),
        Event::Paste(text) => Some(Msg::Paste(text)),
        Event::Mouse(m) => Some(Msg::Mouse(m)),
        Event::Resize(w, h) => Some(Msg::Resize(w, h)),
        Event::FocusGained | Event::FocusLost => None,
    }
}

fn draw(
    terminal: &mut Terminal<CrosstermBackend<io::Stdout>>,
    state: &mut State,
) -> io::Result<()> {
    crossterm::queue!(terminal.backend_mut(), BeginSynchronizedUpdate)?;
    let size = terminal.size()?;
    state.view.size = (size.width, size.height);
    terminal.draw(|f| ui::render(f, state))?;
    crossterm::execute!(terminal.backend_mut(), EndSynchronizedUpdate)?;
    state.dirty = false;
    Ok(())
}

/// Puts text on the clipboard of the terminal the user sits at (OSC 52), which works
/// over SSH and inside tmux (with `set-clipboard on`).
fn copy_osc52(text: &str) {
    let encoded = base64::engine::general_purpose::STANDARD.encode(text.as_bytes());
    let mut out = io::stdout();
    let _ = write!(out, "\x1b]52;c;{encoded}\x07");
    let _ = out.flush();
}
