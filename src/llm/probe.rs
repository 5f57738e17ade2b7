//! What the server is: its models (`/v1/models`), its kind (llama.cpp, Ollama, vLLM),
//! its real context size where it reports one, and whether tool calling works.

use serde_json::{Value, json};

use super::client::Client;
use super::error::LlmError;
use super::request::ChatRequest;
use crate::config::Endpoint;
use crate::domain::conversation::{Message, ToolSpec};

#[derive(Debug, Clone, PartialEq)]
pub struct ModelInfo {
    pub id: String,
    pub owned_by: Option<String>,
    /// Context length the server states for this model (vLLM `max_model_len`,
    /// llama.cpp `meta.n_ctx_train`).
    pub context: Option<u64>,
}

/// Reads an OpenAI `/v1/models` answer (also Ollama's and llama.cpp's extras).
pub fn parse_models(v: &Value) -> Vec<ModelInfo> {
    let items = v
        .get("data")
        .or_else(|| v.get("models"))
        .and_then(Value::as_array);
    items
        .map(|items| {
            items
                .iter()
                .filter_map(|m| {
                    let id = m
                        .get("id")
                        .or_else(|| m.get("name"))
                        .or_else(|| m.get("model"))?
                        .as_str()?
                        .to_owned();
                    let context = m
                        .get("max_model_len")
                        .and_then(Value::as_u64)
                        .or_else(|| m.pointer("/meta/n_ctx_train").and_then(Value::as_u64));
                    Some(ModelInfo {
                        id,
                        owned_by: m.get("owned_by").and_then(Value::as_str).map(str::to_owned),
                        context,
                    })
                })
                .collect()
        })
        .unwrap_or_default()
}

pub async fn list_models(client: &Client) -> Result<(Endpoint, Vec<ModelInfo>), LlmError> {
    let (ep, v) = client.get_json("/models").await?;
    Ok((ep, parse_models(&v)))
}

/// The model to use: the configured name, else the first the server lists, else
/// `default` (llama.cpp serves its one model under any name).
pub async fn resolve_model(client: &Client, configured: Option<&str>) -> Result<String, LlmError> {
    if let Some(name) = configured.filter(|n| !n.is_empty()) {
        return Ok(name.to_owned());
    }
    match list_models(client).await {
        Ok((_, models)) => Ok(models
            .into_iter()
            .next()
            .map(|m| m.id)
            .unwrap_or_else(|| "default".into())),
        Err(LlmError::Http { .. }) | Err(LlmError::Protocol { .. }) => Ok("default".into()),
        Err(e) => Err(e),
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerKind {
    LlamaCpp,
    Ollama,
    Vllm,
    Unknown,
}

impl std::fmt::Display for ServerKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ServerKind::LlamaCpp => "llama.cpp (llama-server)",
            ServerKind::Ollama => "Ollama",
            ServerKind::Vllm => "vLLM",
            ServerKind::Unknown => "unknown OpenAI-compatible server",
        })
    }
}

#[derive(Debug, Clone)]
pub struct ServerFacts {
    pub endpoint: Endpoint,
    pub kind: ServerKind,
    pub version: Option<String>,
    /// The context size the server runs with (llama.cpp `n_ctx`, vLLM `max_model_len`).
    pub context: Option<u64>,
    pub models: Vec<ModelInfo>,
}

/// The server's root (the API base without a trailing `/v1`).
pub fn server_root(api_base: &str) -> &str {
    let b = api_base.trim_end_matches('/');
    b.strip_suffix("/v1").unwrap_or(b)
}

/// Identifies the server behind the first endpoint that answers.
/// `context_length` of the named model (else the first) in Ollama's `/api/ps` answer.
fn ollama_context(ps: &Value, model: Option<&str>) -> Option<u64> {
    let loaded = ps.get("models")?.as_array()?;
    let named = model.and_then(|m| {
        loaded.iter().find(|x| {
            x.get("name").and_then(Value::as_str) == Some(m)
                || x.get("model").and_then(Value::as_str) == Some(m)
        })
    });
    named
        .or_else(|| loaded.first())?
        .get("context_length")
        .and_then(Value::as_u64)
}

pub async fn identify(client: &Client) -> Result<ServerFacts, LlmError> {
    let (endpoint, models_json) = client.get_json("/models").await?;
    let models = parse_models(&models_json);
    let root = server_root(&endpoint.api_base).to_owned();
    let owned_by = models
        .first()
        .and_then(|m| m.owned_by.clone())
        .unwrap_or_default();

    if let Some(props) = client
        .probe_json(&endpoint, &format!("{root}/props"))
        .await?
    {
        let context = props
            .pointer("/default_generation_settings/n_ctx")
            .or_else(|| props.get("n_ctx"))
            .and_then(Value::as_u64);
        let version = props
            .get("build_info")
            .and_then(Value::as_str)
            .map(str::to_owned);
        return Ok(ServerFacts {
            endpoint,
            kind: ServerKind::LlamaCpp,
            version,
            context,
            models,
        });
    }
    if let Some(v) = client
        .probe_json(&endpoint, &format!("{root}/api/version"))
        .await?
    {
        let version = v.get("version").and_then(Value::as_str).map(str::to_owned);
        // the context a loaded model really runs with (Ollama truncates beyond it)
        let context = client
            .probe_json(&endpoint, &format!("{root}/api/ps"))
            .await?
            .and_then(|ps| ollama_context(&ps, models.first().map(|m| m.id.as_str())));
        return Ok(ServerFacts {
            endpoint,
            kind: ServerKind::Ollama,
            version,
            context,
            models,
        });
    }
    let context = models.first().and_then(|m| m.context);
    if owned_by == "vllm" || models.iter().any(|m| m.context.is_some()) {
        let version = client
            .probe_json(&endpoint, &format!("{root}/version"))
            .await?
            .and_then(|v| v.get("version").and_then(Value::as_str).map(str::to_owned));
        return Ok(ServerFacts {
            endpoint,
            kind: ServerKind::Vllm,
            version,
            context,
            models,
        });
    }
    Ok(ServerFacts {
        endpoint,
        kind: ServerKind::Unknown,
        version: None,
        context,
        models,
    })
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ToolSupport {
    /// The server returned a structured tool call.
    Structured,
    /// The model printed the call as text; cove recovers it.
    RecoveredFromText,
    /// The request with tools was accepted but the model did not call the tool.
    NotCalled,
    /// The server refused a request with tools (e.g. llama-server without `--jinja`).
    Rejected(String),
}

/// One tiny request offering one tool, asking the model to call it.
pub async fn check_tool_calling(client: &Client, model: &str) -> Result<ToolSupport, LlmError> {
    let req = ChatRequest {
        model: model.to_owned(),
        messages: vec![Message::user("What time is it? Use the get_time tool.")],
        tools: vec![ToolSpec {
            name: "get_time".into(),
            description: "Returns the current time.".into(),
            parameters: json!({ "type": "object", "properties": {}, "required": [] }),
        }],
        max_tokens: Some(64),
        temperature: Some(0.0),
    };
    match client.stream_chat(&req, &mut |_| {}).await {
        Ok(c) => Ok(match c.reply.tool_calls.first() {
            Some(call) if call.recovered => ToolSupport::RecoveredFromText,
            Some(_) => ToolSupport::Structured,
            None => ToolSupport::NotCalled,
        }),
        Err(LlmError::Http {
            status, message, ..
        }) => Ok(ToolSupport::Rejected(format!("HTTP {status}: {message}"))),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn models_from_each_server_shape() {
        let vllm = json!({"object":"list","data":[{"id":"mistralai/Devstral-Small","owned_by":"vllm","max_model_len":32768}]});
        assert_eq!(parse_models(&vllm)[0].context, Some(32768));
        let llama =
            json!({"data":[{"id":"smol","meta":{"n_ctx_train":8192}}],"models":[{"name":"smol"}]});
        assert_eq!(parse_models(&llama)[0].context, Some(8192));
        assert!(parse_models(&json!({"data":"nope"})).is_empty());
        assert_eq!(server_root("http://h:1/v1/"), "http://h:1");
        assert_eq!(server_root("http://h:1/api"), "http://h:1/api");
    }
}
