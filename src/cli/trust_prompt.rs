//! Asks, once, before a session starts in a workspace whose `.cove/config.toml` is not
//! trusted and sets keys that were ignored for it. Runs before the agent starts, so
//! nothing from the file is used until the user answered.

use std::io;

use crossterm::event::{self, Event, KeyCode, KeyEventKind, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;

use cove::config::theme::Theme;
use cove::config::trust::Untrusted;
use cove::term::TerminalGuard;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// Trust the file as it is and apply it.
    Trust,
    /// Keep ignoring it and do not ask again for this version.
    Decline,
    /// Ignore it this time; ask again next time.
    Later,
    /// Ctrl+C: do not start the session.
    Quit,
}

pub fn ask(untrusted: &Untrusted, theme: &Theme) -> io::Result<Answer> {
    let _guard = TerminalGuard::enter(false)?;
    let mut terminal = Terminal::new(CrosstermBackend::new(io::stdout()))?;
    loop {
        terminal.draw(|f| cove::ui::trust_prompt::render(f, untrusted, theme))?;
        if let Event::Key(k) = event::read()? {
            if k.kind == KeyEventKind::Release {
                continue;
            }
            match k.code {
                KeyCode::Char('c') if k.modifiers.contains(KeyModifiers::CONTROL) => {
                    return Ok(Answer::Quit);
                }
                KeyCode::Char('t') | KeyCode::Char('T') => return Ok(Answer::Trust),
                KeyCode::Char('n') | KeyCode::Char('N') => return Ok(Answer::Decline),
                KeyCode::Esc | KeyCode::Char('q') => return Ok(Answer::Later),
                _ => {}
            }
        }
    }
}

/// Before a session: asks about an untrusted workspace file that sets ignored keys (unless
/// the user already said "not now" for this version) and records the answer. Returns the
/// configuration to start with (reloaded when the user trusted the file), or `Err(code)`
/// to end without a session.
pub fn settle(
    loaded: cove::config::Loaded,
    workspace: &std::path::Path,
    reload: impl Fn() -> Result<cove::config::Loaded, cove::config::ConfigError>,
) -> Result<cove::config::Loaded, u8> {
    use std::io::IsTerminal;
    let Some(untrusted) = loaded.untrusted.clone().filter(|u| !u.declined) else {
        return Ok(loaded);
    };
    if !io::stdout().is_terminal() || !io::stdin().is_terminal() {
        return Ok(loaded);
    }
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let theme = cove::config::theme::load_theme(
        &loaded.config.ui.theme,
        cove::config::theme::user_theme_dir().as_deref(),
        no_color,
    )
    .unwrap_or_else(|_| cove::config::theme::Theme::monochrome());
    let answer = match ask(&untrusted, &theme) {
        Ok(a) => a,
        Err(e) => {
            super::say_error(&format!("terminal error: {e}"));
            return Err(1);
        }
    };
    let store =
        cove::config::trust::TrustStore::default_path().map(cove::config::trust::TrustStore::new);
    let record = |answer| match &store {
        Some(s) => s
            .record(workspace, &untrusted.sha256, answer)
            .map_err(|e| e.to_string()),
        None => Err("no home directory: there is nowhere to record trust".to_string()),
    };
    match answer {
        Answer::Quit => Err(130),
        Answer::Later => Ok(loaded),
        Answer::Decline => {
            if let Err(e) = record(cove::config::trust::Answer::Declined) {
                super::say_error(&e);
            }
            Ok(loaded)
        }
        Answer::Trust => {
            if let Err(e) = record(cove::config::trust::Answer::Trusted) {
                super::say_error(&e);
                return Err(1);
            }
            reload().map_err(|e| {
                super::say_error(&e.to_string());
                2
            })
        }
    }
}
