//! `cove acp`: wiring for the ACP front-end (`cove::acp`). Each `session/new` loads the
//! config for the session's cwd exactly as the other commands do (user file, the
//! workspace file only as far as it is trusted, env, this command's flags), so a
//! workspace that has not been trusted with `cove trust` stays untrusted. stdout carries
//! protocol messages only: warnings go to the log.

use std::path::Path;
use std::time::Duration;

use cove::acp::{EditorMcpServer, SessionSetup};
use cove::agent::AgentSettings;
use cove::config::McpServerConfig;
use cove::config::{LoadInput, Overrides};
use cove::vision::encode::{ImageLimits, prepare_bytes};

use super::say_error;

/// What the model is told in an editor.
const SYSTEM_PROMPT: &str = "You are cove, a coding assistant running inside the user's editor (over the Agent Client Protocol), \
     working in the workspace described below. Be concise and concrete. Use Markdown; put code in fenced blocks \
     tagged with their language.";

/// The agent's settings for a session in `cwd`.
fn settings_for(
    cwd: &Path,
    mcp: Vec<EditorMcpServer>,
    overrides: &Overrides,
) -> Result<SessionSetup, String> {
    let loaded = cove::config::load(&LoadInput::from_process(
        cwd.to_path_buf(),
        overrides.clone(),
    ))
    .map_err(|e| e.to_string())?;
    for w in &loaded.warnings {
        tracing::warn!("acp: config: {w}");
    }
    if let Some(u) = &loaded.untrusted {
        tracing::warn!("acp: {}", u.notice());
    }
    // the editor's MCP servers are the user's own, like their config's; a configured server
    // of the same name stays
    let mut loaded = loaded;
    for s in mcp {
        loaded
            .config
            .mcp
            .servers
            .entry(s.name)
            .or_insert(McpServerConfig {
                command: s.command,
                args: s.args,
                env: s.env.into_iter().collect(),
                url: s.url,
                headers: s.headers.into_iter().collect(),
                ..McpServerConfig::default()
            });
    }
    let root = cwd.canonicalize().unwrap_or_else(|_| cwd.to_path_buf());
    let mut settings = AgentSettings::from_config(&loaded.config, SYSTEM_PROMPT.into(), root)
        .map_err(|e| e.to_string())?;
    settings.sessions_dir = super::sessions::sessions_dir(cwd);
    let limits = ImageLimits::from_config(&loaded.config.vision);
    let (models, model) = model_choices(&loaded.config);
    Ok(SessionSetup {
        settings,
        models,
        model,
        max_images: loaded.config.vision.max_images.max(1) as usize,
        prepare_image: std::sync::Arc::new(move |bytes| {
            prepare_bytes(bytes, &limits)
                .map(|p| p.into_attachment())
                .map_err(|e| e.to_string())
        }),
    })
}

/// The models an editor may choose (`default`: `[model]` as configured; then each
/// profile) and the one in use.
fn model_choices(config: &cove::config::Config) -> (Vec<(String, String)>, String) {
    let base = config
        .model
        .name
        .clone()
        .unwrap_or_else(|| "the server's model".into());
    let mut models = vec![("default".to_owned(), format!("{base} (config)"))];
    for (name, profile) in &config.profiles {
        let label = match &profile.name {
            Some(m) => format!("{name}: {m}"),
            None => name.clone(),
        };
        models.push((name.clone(), label));
    }
    let current = config
        .profile
        .clone()
        .filter(|p| config.profiles.contains_key(p))
        .unwrap_or_else(|| "default".into());
    (models, current)
}

pub fn run(overrides: Overrides) -> u8 {
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
    let hooks = cove::acp::Hooks {
        setup: Box::new(move |cwd, mcp| settings_for(cwd, mcp, &overrides)),
        sessions_dir: Box::new(super::sessions::sessions_dir),
    };
    let code = rt.block_on(cove::acp::serve(
        tokio::io::stdin(),
        tokio::io::stdout(),
        hooks,
    ));
    // a blocking stdin read may still be pending: not waited for
    rt.shutdown_timeout(Duration::from_millis(200));
    code
}
