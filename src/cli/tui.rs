//! `cove` with no subcommand: the full-screen interactive session.

use std::io::IsTerminal;
use std::path::PathBuf;

use cove::agent::{self, AgentSettings};
use cove::app::event_loop::{self, Channels};
use cove::app::history::{self, InputHistory};
use cove::app::image_jobs::ImageSettings;
use cove::app::state::State;
use cove::config::Loaded;
use cove::config::theme::{load_theme, user_theme_dir};
use cove::protocol::ServerStatus;
use cove::vision::encode::ImageLimits;

use super::say_error;

pub fn run(loaded: Loaded, workspace: PathBuf, profile: Option<String>) -> u8 {
    if !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
        say_error("the interactive session needs a terminal; for scripts use `cove ask`");
        return 2;
    }
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let theme = match load_theme(
        &loaded.config.ui.theme,
        user_theme_dir().as_deref(),
        no_color,
    ) {
        Ok(t) => t,
        Err(e) => {
            say_error(&e.to_string());
            return 2;
        }
    };
    let history_file = directories::ProjectDirs::from("", "", "cove")
        .map(|d| {
            d.state_dir()
                .unwrap_or_else(|| d.data_local_dir())
                .to_owned()
        })
        .map(|dir| history::history_path(&dir, &workspace));
    let history = InputHistory::new(
        history_file
            .as_deref()
            .map(history::load)
            .unwrap_or_default(),
    );
    let session_id = session_id();
    let mut state = State::new(workspace.clone(), session_id.clone(), theme, history);
    state.max_images = loaded.config.vision.max_images.max(1) as usize;
    state.editor = cove::term::editor_command().is_some();
    state.max_steps = loaded.config.tools.max_iterations.unwrap_or(25).max(1);
    state.profile = profile
        .or_else(|| loaded.config.profile.clone())
        .filter(|p| !p.is_empty());
    state.server = ServerStatus {
        endpoint: loaded
            .config
            .model
            .endpoints(&|k| std::env::var(k).ok())
            .first()
            .map(|e| e.api_base.clone())
            .unwrap_or_default(),
        model: loaded.config.model.name.clone().unwrap_or_default(),
        context_window: loaded.config.model.context_window.map(u64::from),
        ..ServerStatus::default()
    };
    let system_prompt = format!(
        "You are cove, a coding assistant running in the user's terminal. The workspace is {}. \
         Be concise and concrete. Use Markdown; put code in fenced blocks tagged with their language.",
        workspace.display()
    );
    let settings = match AgentSettings::from_config(
        &loaded.config,
        system_prompt,
        workspace
            .canonicalize()
            .unwrap_or_else(|_| workspace.clone()),
    ) {
        Ok(s) => s,
        Err(e) => {
            say_error(&e.to_string());
            return e.exit_code() as u8;
        }
    };
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            say_error(&format!("cannot start the async runtime: {e}"));
            return 1;
        }
    };
    cove::ui::highlight::warm_up();
    let images = ImageSettings {
        limits: ImageLimits::from_config(&loaded.config.vision),
        screenshot_command: loaded.config.vision.screenshot_command.clone(),
    };
    let result = rt.block_on(async move {
        let (ops, events) = agent::spawn(settings);
        event_loop::run(state, Channels { ops, events }, history_file, images).await
    });
    rt.shutdown_timeout(std::time::Duration::from_millis(200));
    match result {
        Ok(state) => {
            let turns = state.next_turn - 1;
            eprintln!(
                "cove: session {session_id} ended · {turns} turn{} · {} file{} changed",
                if turns == 1 { "" } else { "s" },
                state.changed_files.len(),
                if state.changed_files.len() == 1 {
                    ""
                } else {
                    "s"
                }
            );
            0
        }
        Err(e) => {
            say_error(&format!("terminal error: {e}"));
            1
        }
    }
}

/// A short, sortable session id: UTC date-time plus 4 random-ish hex digits.
fn session_id() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let secs = now.as_secs();
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (y, m, d) = civil_from_days(days as i64);
    format!(
        "{y:04}{m:02}{d:02}-{:02}{:02}{:02}-{:04x}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        (now.subsec_nanos() >> 8) & 0xffff
    )
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}
