//! `cove doctor`: is each endpoint up, what server is it, how big is its context,
//! does tool calling work.

use cove::config::Loaded;
use cove::domain::text::neutralize_controls;
use cove::llm::probe::{self, ToolSupport};
use cove::llm::{Client, ClientOptions, LlmError};

/// A report line; server-supplied text (names, versions, messages) made terminal-safe.
macro_rules! out {
    ($($arg:tt)*) => {
        println!("{}", neutralize_controls(&format!($($arg)*)))
    };
}

pub async fn run(loaded: Loaded) -> u8 {
    let model_cfg = &loaded.config.model;
    let env = |k: &str| std::env::var(k).ok();
    let endpoints = model_cfg.endpoints(&env);
    let opts = ClientOptions::from_config(&loaded.config, model_cfg);
    let mut any_up = false;
    let mut worst = 0u8;
    for (i, ep) in endpoints.iter().enumerate() {
        out!(
            "endpoint {} of {}: {}",
            i + 1,
            endpoints.len(),
            cove::config::mask_url_credentials(&ep.api_base)
        );
        let client = match Client::new(vec![ep.clone()], opts.clone()) {
            Ok(c) => c,
            Err(e) => {
                out!("  error      {e}");
                worst = worst.max(e.exit_code() as u8);
                continue;
            }
        };
        let facts = match probe::identify(&client).await {
            Ok(f) => f,
            Err(e) => {
                out!("  down       {e}");
                worst = worst.max(e.exit_code() as u8);
                continue;
            }
        };
        any_up = true;
        let version = facts
            .version
            .as_deref()
            .map(|v| format!(" {v}"))
            .unwrap_or_default();
        out!("  server     {}{version}", facts.kind);
        let names: Vec<String> = facts
            .models
            .iter()
            .map(|m| match m.context {
                Some(c) => format!("{} (trained/served context {c})", m.id),
                None => m.id.clone(),
            })
            .collect();
        out!(
            "  models     {}",
            if names.is_empty() {
                "none listed".into()
            } else {
                names.join(", ")
            }
        );
        match facts.context {
            Some(ctx) => out!("  context    {ctx} tokens (as the server runs it)"),
            None => out!("  context    not reported by this server"),
        }
        match (model_cfg.context_window, facts.context) {
            (Some(cfg), Some(server)) if u64::from(cfg) > server => {
                out!(
                    "  WARNING    model.context_window = {cfg} exceeds the server's {server}: long sessions will fail; lower it or raise the server's context size"
                );
            }
            (Some(cfg), _) => out!("  configured context_window = {cfg}"),
            (None, Some(server)) => {
                out!("  configured context_window is unset; cove will use the server's {server}")
            }
            (None, None) => {}
        }
        let model = match probe::resolve_model(&client, model_cfg.name.as_deref()).await {
            Ok(m) => m,
            Err(e) => {
                out!("  error      {e}");
                continue;
            }
        };
        match probe::check_tool_calling(&client, &model).await {
            Ok(ToolSupport::Structured) => {
                out!("  tools      structured tool calls work (model {model})")
            }
            Ok(ToolSupport::RecoveredFromText) => {
                out!(
                    "  tools      the model prints tool calls as text; cove recovers them, but a server-side tool parser would be more reliable"
                )
            }
            Ok(ToolSupport::NotCalled) => out!(
                "  tools      accepted, but the model did not call the offered tool (small models often don't)"
            ),
            Ok(ToolSupport::Rejected(why)) => out!(
                "  tools      REJECTED by the server: {why} (llama-server needs --jinja; vLLM needs --enable-auto-tool-choice --tool-call-parser ...)"
            ),
            Err(LlmError::Unreachable(e)) => {
                out!("  tools      could not check: {}", e.join("; "))
            }
            Err(e) => out!("  tools      could not check: {e}"),
        }
    }
    let here = std::env::current_dir().unwrap_or_else(|_| ".".into());
    out!(
        "{}",
        cove::sandbox::Sandbox::from_config(&loaded.config.sandbox, &here).status_line()
    );
    if any_up { 0 } else { worst.max(3) }
}
