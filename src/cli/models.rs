//! `cove models`: what the server offers at `/v1/models`.

use serde_json::json;

use cove::config::Loaded;
use cove::llm::probe;

pub async fn run(loaded: Loaded, as_json: bool) -> u8 {
    let client = match crate::main_client(&loaded) {
        Ok(c) => c,
        Err(e) => {
            super::say_error(&e.to_string());
            return e.exit_code() as u8;
        }
    };
    match probe::list_models(&client).await {
        Ok((ep, models)) => {
            if as_json {
                let items: Vec<_> = models
                    .iter()
                    .map(|m| json!({ "id": m.id, "owned_by": m.owned_by, "context": m.context }))
                    .collect();
                println!(
                    "{}",
                    json!({ "endpoint": cove::config::mask_url_credentials(&ep.api_base), "models": items })
                );
                return 0;
            }
            if models.is_empty() {
                println!(
                    "{} lists no models",
                    cove::config::mask_url_credentials(&ep.api_base)
                );
                return 0;
            }
            let width = models.iter().map(|m| m.id.len()).max().unwrap_or(0);
            for m in &models {
                let ctx = m
                    .context
                    .map(|c| format!("  context {c}"))
                    .unwrap_or_default();
                let owner = m
                    .owned_by
                    .as_deref()
                    .map(|o| format!("  ({o})"))
                    .unwrap_or_default();
                let line = format!("{:<width$}{ctx}{owner}", m.id);
                println!("{}", cove::domain::text::neutralize_controls(&line));
            }
            0
        }
        Err(e) => {
            super::say_error(&e.to_string());
            e.exit_code() as u8
        }
    }
}
