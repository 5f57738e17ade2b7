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

/// Where the context window cove works with came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WindowSource {
    /// `[model] context_window`.
    Config,
    /// llama.cpp `/props`: `default_generation_settings.n_ctx`, the context of one slot.
    LlamaCppProps,
    /// vLLM `/v1/models`: the model's `max_model_len`.
    VllmModels,
    /// Ollama `/api/ps`: the context the loaded model runs with.
    OllamaPs,
    /// Ollama `/api/show`: the model's `num_ctx` parameter.
    OllamaShow,
    /// Ollama with neither: its smallest default (4096), assumed until the model is loaded.
    OllamaDefault,
    /// Another server's `/v1/models` (a context length it lists for the model).
    Models,
    /// The server's own numbers in a refusal of a request that did not fit.
    Overflow,
}

impl std::fmt::Display for WindowSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            WindowSource::Config => "config (model.context_window)",
            WindowSource::LlamaCppProps => "llama.cpp /props (n_ctx per slot)",
            WindowSource::VllmModels => "vLLM /v1/models (max_model_len)",
            WindowSource::OllamaPs => "Ollama /api/ps (the loaded model)",
            WindowSource::OllamaShow => "Ollama /api/show (num_ctx)",
            WindowSource::OllamaDefault => {
                "Ollama's smallest default, assumed until the model is loaded"
            }
            WindowSource::Models => "/v1/models",
            WindowSource::Overflow => "the server's overflow error",
        })
    }
}

/// Ollama's smallest default context (it picks 4k, 32k or 256k by VRAM; older versions
/// 2048), assumed while nothing better is known.
pub const OLLAMA_ASSUMED_CONTEXT: u64 = 4096;

#[derive(Debug, Clone)]
pub struct ServerFacts {
    pub endpoint: Endpoint,
    pub kind: ServerKind,
    pub version: Option<String>,
    /// The context size the server runs with (llama.cpp `n_ctx`, vLLM `max_model_len`,
    /// Ollama's loaded or configured `num_ctx`), and where it was read.
    pub context: Option<u64>,
    pub context_source: Option<WindowSource>,
    /// The longest context the model was trained for, where the server says
    /// (Ollama `model_info`, llama.cpp `n_ctx_train`).
    pub trained_context: Option<u64>,
    pub models: Vec<ModelInfo>,
}

impl ServerFacts {
    /// The window cove works with: `configured` (`model.context_window`) when set, else
    /// the server's.
    pub fn window(&self, configured: Option<u32>) -> Option<(u64, WindowSource)> {
        match configured {
            Some(w) => Some((u64::from(w), WindowSource::Config)),
            None => self.context.zip(self.context_source),
        }
    }
}

/// The server's root (the API base without a trailing `/v1`).
pub fn server_root(api_base: &str) -> &str {
    let b = api_base.trim_end_matches('/');
    b.strip_suffix("/v1").unwrap_or(b)
}

/// `context_length` of the named model (else the first) in Ollama's `/api/ps` answer.
fn ollama_context(ps: &Value, model: Option<&str>) -> Option<u64> {
    let loaded = ps.get("models")?.as_array()?;
    let named = model.and_then(|m| {
        loaded.iter().find(|x| {
            x.get("name").and_then(Value::as_str) == Some(m)
                || x.get("model").and_then(Value::as_str) == Some(m)
        })
    });
    match model {
        Some(_) => named,
        None => loaded.first(),
    }?
    .get("context_length")
    .and_then(Value::as_u64)
}

/// From Ollama's `/api/show` answer: the `num_ctx` parameter (the Modelfile's, what a load
/// uses) and the trained context (`model_info["<arch>.context_length"]`).
pub fn parse_ollama_show(show: &Value) -> (Option<u64>, Option<u64>) {
    let num_ctx = show
        .get("parameters")
        .and_then(Value::as_str)
        .and_then(|p| {
            p.lines().find_map(|line| {
                let mut words = line.split_whitespace();
                (words.next() == Some("num_ctx"))
                    .then(|| words.next()?.trim_matches('"').parse::<u64>().ok())
                    .flatten()
            })
        });
    let info = show.get("model_info");
    let arch = info
        .and_then(|i| i.get("general.architecture"))
        .and_then(Value::as_str);
    let trained = info.and_then(|i| {
        arch.and_then(|a| i.get(format!("{a}.context_length")))
            .or_else(|| {
                i.as_object()?
                    .iter()
                    .find(|(k, _)| k.ends_with(".context_length"))
                    .map(|(_, v)| v)
            })?
            .as_u64()
    });
    (num_ctx, trained)
}

/// The context an Ollama server runs `model` with: the loaded model's (`/api/ps`), else its
/// `num_ctx` parameter (`/api/show`), else Ollama's smallest default; never more than the
/// model was trained for. Also the trained context.
async fn ollama_window(
    client: &Client,
    endpoint: &Endpoint,
    root: &str,
    model: Option<&str>,
) -> Result<(Option<(u64, WindowSource)>, Option<u64>), LlmError> {
    let loaded = client
        .probe_json(endpoint, &format!("{root}/api/ps"))
        .await?
        .and_then(|ps| ollama_context(&ps, model));
    let (num_ctx, trained) = match model {
        Some(m) => client
            .probe_post_json(
                endpoint,
                &format!("{root}/api/show"),
                &json!({ "model": m }),
            )
            .await?
            .map(|show| parse_ollama_show(&show))
            .unwrap_or_default(),
        None => (None, None),
    };
    let window = match (loaded, num_ctx) {
        (Some(n), _) => (n, WindowSource::OllamaPs),
        (None, Some(n)) => (n, WindowSource::OllamaShow),
        (None, None) => (OLLAMA_ASSUMED_CONTEXT, WindowSource::OllamaDefault),
    };
    let capped = match trained {
        Some(t) if t < window.0 => (t, window.1),
        _ => window,
    };
    Ok((Some(capped), trained))
}

/// The context Ollama runs `model` with now, when it is loaded (`/api/ps`): once the
/// first reply has loaded it, this replaces an assumed default.
pub async fn ollama_loaded_context(client: &Client, model: &str) -> Result<Option<u64>, LlmError> {
    let Some(ep) = client.endpoints().first() else {
        return Ok(None);
    };
    let root = server_root(&ep.api_base).to_owned();
    Ok(client
        .probe_json(ep, &format!("{root}/api/ps"))
        .await?
        .and_then(|ps| ollama_context(&ps, Some(model))))
}

/// Identifies the server behind the first endpoint that answers; `model` (the configured
/// name, else the first the server lists) is the one whose context is looked up.
pub async fn identify(client: &Client, model: Option<&str>) -> Result<ServerFacts, LlmError> {
    let (endpoint, models_json) = client.get_json("/models").await?;
    let models = parse_models(&models_json);
    let root = server_root(&endpoint.api_base).to_owned();
    let model = model
        .filter(|m| !m.is_empty())
        .map(str::to_owned)
        .or_else(|| models.first().map(|m| m.id.clone()));
    let listed = models
        .iter()
        .find(|m| Some(&m.id) == model.as_ref())
        .or(models.first());
    let owned_by = listed.and_then(|m| m.owned_by.clone()).unwrap_or_default();

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
        let trained = listed.and_then(|m| m.context);
        return Ok(ServerFacts {
            endpoint,
            kind: ServerKind::LlamaCpp,
            version,
            context,
            context_source: context.map(|_| WindowSource::LlamaCppProps),
            trained_context: trained,
            models,
        });
    }
    if let Some(v) = client
        .probe_json(&endpoint, &format!("{root}/api/version"))
        .await?
    {
        let version = v.get("version").and_then(Value::as_str).map(str::to_owned);
        let (window, trained) = ollama_window(client, &endpoint, &root, model.as_deref()).await?;
        return Ok(ServerFacts {
            endpoint,
            kind: ServerKind::Ollama,
            version,
            context: window.map(|w| w.0),
            context_source: window.map(|w| w.1),
            trained_context: trained,
            models,
        });
    }
    let context = listed.and_then(|m| m.context);
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
            context_source: context.map(|_| WindowSource::VllmModels),
            trained_context: None,
            models,
        });
    }
    Ok(ServerFacts {
        endpoint,
        kind: ServerKind::Unknown,
        version: None,
        context,
        context_source: context.map(|_| WindowSource::Models),
        trained_context: None,
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
        num_ctx: None,
        stop_when_slow: false,
        purpose: crate::guard::ledger::Purpose::Probe,
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

    #[test]
    fn ollama_show_parameters_and_model_info() {
        // the shape of `POST /api/show` for a Modelfile that sets num_ctx
        let show = json!({
            "modelfile": "FROM qwen2.5-coder:7b\nPARAMETER num_ctx 16384\n",
            "parameters": "num_ctx                        16384\nstop                           \"<|im_end|>\"\ntemperature                    0.7",
            "template": "{{ .Prompt }}",
            "details": {"family": "qwen2", "parameter_size": "7.6B"},
            "model_info": {"general.architecture": "qwen2", "general.parameter_count": 7615616512u64, "qwen2.context_length": 32768, "qwen2.embedding_length": 3584}
        });
        assert_eq!(parse_ollama_show(&show), (Some(16384), Some(32768)));
        // no num_ctx parameter; an architecture key without general.architecture
        let show = json!({"parameters": "stop \"<|eot_id|>\"", "model_info": {"llama.context_length": 131072}});
        assert_eq!(parse_ollama_show(&show), (None, Some(131072)));
        assert_eq!(parse_ollama_show(&json!({})), (None, None));
        // /api/ps: only the named model counts when a name is given
        let ps = json!({"models":[{"name":"other:1b","model":"other:1b","context_length":2048}]});
        assert_eq!(ollama_context(&ps, Some("qwen:7b")), None);
        assert_eq!(ollama_context(&ps, None), Some(2048));
    }
}
