//! `cove doctor`: is each endpoint up, what server is it, how big is its context,
//! does tool calling work.

use cove::config::Loaded;
use cove::llm::probe::{self, ToolSupport};
use cove::llm::{Client, ClientOptions, LlmError};

pub async fn run(loaded: Loaded) -> u8 {
    let model_cfg = &loaded.config.model;
    let env = |k: &str| std::env::var(k).ok();
    let endpoints = model_cfg.endpoints(&env);
    let opts = ClientOptions::from_config(&loaded.config, model_cfg);
    let mut any_up = false;
    let mut worst = 0u8;
    for (i, ep) in endpoints.iter().enumerate() {
        println!("endpoint {} of {}: {}", i + 1, endpoints.len(), ep.api_base);
        let client = match Client::new(vec![ep.clone()], opts.clone()) {
            Ok(c) => c,
            Err(e) => {
                println!("  error      {e}");
                worst = worst.max(e.exit_code() as u8);
                continue;
            }
        };
        let facts = match probe::identify(&client).await {
            Ok(f) => f,
            Err(e) => {
                println!("  down       {e}");
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
        println!("  server     {}{version}", facts.kind);
        let names: Vec<String> = facts
            .models
            .iter()
            .map(|m| match m.context {
                Some(c) => format!("{} (trained/served context {c})", m.id),
                None => m.id.clone(),
            })
            .collect();
        println!(
            "  models     {}",
            if names.is_empty() {
                "none listed".into()
            } else {
                names.join(", ")
            }
        );
        match facts.context {
            Some(ctx) => println!("  context    {ctx} tokens (as the server runs it)"),
            None => println!("  context    not reported by this server"),
        }
        match (model_cfg.context_window, facts.context) {
            (Some(cfg), Some(server)) if u64::from(cfg) > server => {
                println!(
                    "  WARNING    model.context_window = {cfg} exceeds the server's {server}: long sessions will fail; lower it or raise the server's context size"
                );
            }
            (Some(cfg), _) => println!("  configured context_window = {cfg}"),
            (None, Some(server)) => println!(
                "  configured context_window is unset; cove will use the server's {server}"
            ),
            (None, None) => {}
        }
        let model = match probe::resolve_model(&client, model_cfg.name.as_deref()).await {
            Ok(m) => m,
            Err(e) => {
                println!("  error      {e}");
                continue;
            }
        };
        match probe::check_tool_calling(&client, &model).await {
            Ok(ToolSupport::Structured) => {
                println!("  tools      structured tool calls work (model {model})")
            }
            Ok(ToolSupport::RecoveredFromText) => {
                println!(
                    "  tools      the model prints tool calls as text; cove recovers them, but a server-side tool parser would be more reliable"
                )
            }
            Ok(ToolSupport::NotCalled) => println!(
                "  tools      accepted, but the model did not call the offered tool (small models often don't)"
            ),
            Ok(ToolSupport::Rejected(why)) => println!(
                "  tools      REJECTED by the server: {why} (llama-server needs --jinja; vLLM needs --enable-auto-tool-choice --tool-call-parser ...)"
            ),
            Err(LlmError::Unreachable(e)) => {
                println!("  tools      could not check: {}", e.join("; "))
            }
            Err(e) => println!("  tools      could not check: {e}"),
        }
    }
    if any_up { 0 } else { worst.max(3) }
}
