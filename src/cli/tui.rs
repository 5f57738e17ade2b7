//! `cove` with no subcommand: the full-screen interactive session.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use cove::agent::{self, AgentSettings};
use cove::app::history::{self, InputHistory};
use cove::app::image_jobs::ImageSettings;
use cove::app::state::State;
use cove::config::Loaded;
use cove::config::theme::{load_theme, user_theme_dir};
use cove::event_loop::{self, Channels};
use cove::protocol::ServerStatus;
use cove::vision::encode::ImageLimits;

use super::say_error;

/// Which session the TUI opens with.
#[derive(Debug, Clone, PartialEq)]
pub enum Start {
    New,
    /// `--continue`: the newest of this workspace.
    Newest,
    /// `--resume ID`
    Id(String),
    /// `--resume`: the picker.
    Pick,
}

pub fn run(
    loaded: Loaded,
    workspace: PathBuf,
    profile: Option<String>,
    start: Start,
    base_model: Option<cove::config::ModelConfig>,
) -> u8 {
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
    let sessions_dir = super::sessions::sessions_dir(&workspace);
    // `--resume` with nothing to pick from says so rather than opening an empty picker
    if start == Start::Pick
        && sessions_dir
            .as_deref()
            .is_none_or(|dir| cove::session::store::list(dir).is_empty())
    {
        say_error(&format!(
            "no session to resume in {} (start one with `cove`)",
            workspace.display()
        ));
        return 2;
    }
    let resume = match (&start, sessions_dir.as_deref()) {
        (Start::New | Start::Pick, _) => None,
        (_, None) => {
            say_error("no home directory: there are no sessions to resume");
            return 2;
        }
        (Start::Newest, Some(dir)) => match cove::session::store::list(dir).first() {
            Some(s) => Some(s.path.clone()),
            None => {
                say_error(&format!(
                    "no session to continue in {} (start one with `cove`)",
                    workspace.display()
                ));
                return 2;
            }
        },
        (Start::Id(id), Some(dir)) => match cove::session::store::find(dir, id) {
            Ok(p) => Some(p),
            Err(e) => {
                say_error(&e);
                return 2;
            }
        },
    };
    let bindings = loaded
        .config
        .keys
        .iter()
        .map(|(action, keys)| (action.clone(), keys.to_vec()))
        .collect();
    let keymap = match cove::app::keymap::KeyMap::from_config(&bindings) {
        Ok(k) => k,
        Err(e) => {
            say_error(&e);
            return 2;
        }
    };
    let mut state = State::new(
        workspace.clone(),
        String::new(),
        theme,
        history,
        cove::ui::measurer(),
    );
    state.keymap = keymap;
    if let Some(u) = &loaded.untrusted {
        state
            .chat
            .push(cove::app::state::EntryKind::Notice(u.notice()));
    }
    if start == Start::Pick {
        state.overlay =
            cove::app::state::Overlay::Sessions(cove::app::state::SessionPicker::loading());
    }
    if resume.is_some() {
        // the agent answers `Ready` once the journal is loaded
        state.activity = cove::app::state::Activity::Agent(cove::app::state::AgentWork::Resuming(
            "the session".into(),
        ));
    }
    state.composer.max_images = loaded.config.vision.max_images.max(1) as usize;
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
            .map(|e| cove::config::mask_url_credentials(&e.api_base).into_owned())
            .unwrap_or_default(),
        model: loaded.config.model.name.clone().unwrap_or_default(),
        context_window: loaded.config.model.context_window.map(u64::from),
        ..ServerStatus::default()
    };
    let system_prompt = "You are cove, a coding assistant running in the user's terminal, working in the \
         workspace described below. Be concise and concrete. Use Markdown; put code in fenced blocks \
         tagged with their language."
        .to_string();
    let mut settings = match AgentSettings::from_config(
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
    // probed once here (a few ms); the first command then starts without probing
    state.sandbox_warning = if settings.ctx.sandbox.is_off() {
        Some("unsandboxed".into())
    } else {
        settings
            .ctx
            .sandbox
            .check()
            .err()
            .map(|_| "no sandbox: commands refused".into())
    };
    settings.sessions_dir = sessions_dir;
    if let Some(m) = base_model {
        settings.base_model = m;
    }
    settings.resume = resume;
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
    let images = ImageSettings {
        limits: ImageLimits::from_config(&loaded.config.vision),
        screenshot_command: loaded.config.vision.screenshot_command.clone(),
    };
    let result = rt.block_on(async move {
        // the agent's start (project context, git, the server probe) waits for the first
        // frame: on two cores it would otherwise compete with it
        let (first_frame, drawn) = tokio::sync::oneshot::channel();
        let (ops, events) = agent::spawn_after(settings, async move {
            let _ = drawn.await;
        });
        if start == Start::Pick {
            let _ = ops.send(cove::protocol::Op::ListSessions);
        }
        let channels = Channels {
            ops,
            events,
            first_frame: Some(first_frame),
        };
        event_loop::run(state, channels, history_file, images).await
    });
    rt.shutdown_timeout(std::time::Duration::from_millis(200));
    match result {
        // the window closed: nothing to tell, nowhere to tell it (the journal is saved
        // record by record); 128 + SIGHUP, as a shell reports it
        Ok(state) if state.hung_up => 129,
        Err(_) if cove::term::terminal_gone() => 129,
        Ok(state) => {
            let turns = state
                .chat
                .entries
                .iter()
                .filter(|e| matches!(e.kind, cove::app::state::EntryKind::User { .. }))
                .count();
            let session_id = &state.session_id;
            let changed = state.chat.changed_files().len();
            // (not eprintln!: it panics when stderr is gone)
            let _ = writeln!(
                std::io::stderr(),
                "cove: session {session_id} ended · {turns} turn{} · {} file{} changed{}",
                if turns == 1 { "" } else { "s" },
                changed,
                if changed == 1 { "" } else { "s" },
                if turns > 0 {
                    " · `cove --continue` resumes it"
                } else {
                    ""
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
