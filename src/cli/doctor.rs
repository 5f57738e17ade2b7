//! `cove doctor`: is each endpoint up, what server is it, how big is its context,
//! does tool calling work.

use cove::config::Loaded;
use cove::domain::text::neutralize_controls;
use cove::llm::probe::{self, ServerKind, ToolSupport, WindowSource};
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
        let facts = match probe::identify(&client, model_cfg.name.as_deref()).await {
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
        match (facts.context, facts.context_source) {
            (Some(ctx), Some(WindowSource::OllamaDefault)) => out!(
                "  context    {ctx} tokens assumed: the model is not loaded and sets no num_ctx (Ollama picks 4k, 32k or 256k by VRAM; cove checks /api/ps after the first reply)"
            ),
            (Some(ctx), Some(src)) => {
                out!("  context    {ctx} tokens (as the server runs it), from {src}")
            }
            (Some(ctx), None) => out!("  context    {ctx} tokens (as the server runs it)"),
            (None, _) => out!("  context    not reported by this server"),
        }
        if let Some(trained) = facts.trained_context {
            out!("  trained    {trained} tokens (the model's own limit)");
        }
        match (model_cfg.context_window, facts.context) {
            (Some(cfg), Some(server)) if u64::from(cfg) > server => {
                out!(
                    "  WARNING    model.context_window = {cfg} exceeds the server's {server}: long sessions will fail; lower it or raise the server's context size"
                );
            }
            _ => {}
        }
        match facts.window(model_cfg.context_window) {
            Some((w, src)) => out!("  window     cove works with {w} tokens, from {src}"),
            None => out!(
                "  window     unknown: cove does not compact until the server refuses a request (set model.context_window)"
            ),
        }
        if facts.kind == ServerKind::Ollama
            && let Some((w, _)) = facts.window(model_cfg.context_window)
        {
            out!(
                "  num_ctx    {w} is sent as options.num_ctx; Ollama's OpenAI endpoint may ignore it, so set OLLAMA_CONTEXT_LENGTH or PARAMETER num_ctx to match"
            );
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
