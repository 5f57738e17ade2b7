//! The JSON body of a `POST /chat/completions` request, built from cove's conversation.

use serde_json::{Map, Value, json};

use crate::domain::conversation::{Content, ContentPart, Message, ToolSpec};

#[derive(Debug, Clone, Default)]
pub struct ChatRequest {
    pub model: String,
    pub messages: Vec<Message>,
    pub tools: Vec<ToolSpec>,
    pub max_tokens: Option<u32>,
    pub temperature: Option<f64>,
    /// Ollama's `options.num_ctx`: the context the model should run with. Set only for
    /// an Ollama server (others have no such option).
    pub num_ctx: Option<u64>,
    /// Stop reading when the stream stays under `model.min_tokens_per_s` (the caller
    /// retries it); otherwise a slow stream only gets a notice.
    pub stop_when_slow: bool,
    /// What the request is for, as the privacy ledger records it.
    pub purpose: crate::guard::ledger::Purpose,
}

impl ChatRequest {
    /// The request body. `include_usage` asks for a final usage chunk
    /// (`stream_options.include_usage`); some servers reject the field, and the client
    /// then retries once without it.
    pub fn body(&self, include_usage: bool) -> Value {
        let mut body = Map::new();
        body.insert("model".into(), json!(self.model));
        body.insert(
            "messages".into(),
            Value::Array(self.messages.iter().map(message_json).collect()),
        );
        body.insert("stream".into(), json!(true));
        if include_usage {
            body.insert("stream_options".into(), json!({ "include_usage": true }));
        }
        if !self.tools.is_empty() {
            let tools = self
                .tools
                .iter()
                .map(|t| {
                    json!({
                        "type": "function",
                        "function": { "name": t.name, "description": t.description, "parameters": t.parameters }
                    })
                })
                .collect();
            body.insert("tools".into(), Value::Array(tools));
        }
        if let Some(n) = self.max_tokens {
            body.insert("max_tokens".into(), json!(n));
        }
        if let Some(t) = self.temperature {
            body.insert("temperature".into(), json!(t));
        }
        if let Some(n) = self.num_ctx {
            body.insert("options".into(), json!({ "num_ctx": n }));
        }
        Value::Object(body)
    }
}

fn message_json(m: &Message) -> Value {
    let mut obj = Map::new();
    obj.insert("role".into(), json!(m.role.as_str()));
    let content = match &m.content {
        None => Value::Null,
        Some(Content::Text(t)) => json!(t),
        Some(Content::Parts(parts)) => Value::Array(
            parts
                .iter()
                .map(|p| match p {
                    ContentPart::Text(t) => json!({ "type": "text", "text": t }),
                    ContentPart::ImageUrl(url) => {
                        json!({ "type": "image_url", "image_url": { "url": url } })
                    }
                })
                .collect(),
        ),
    };
    obj.insert("content".into(), content);
    if !m.tool_calls.is_empty() {
        let calls = m
            .tool_calls
            .iter()
            .map(|c| {
                json!({
                    "id": c.id,
                    "type": "function",
                    "function": { "name": c.name, "arguments": c.arguments }
                })
            })
            .collect();
        obj.insert("tool_calls".into(), Value::Array(calls));
    }
    if let Some(id) = &m.tool_call_id {
        obj.insert("tool_call_id".into(), json!(id));
    }
    Value::Object(obj)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::conversation::{Role, ToolCall};

    #[test]
    fn body_shape() {
        let req = ChatRequest {
            model: "m".into(),
            messages: vec![
                Message::system("be brief"),
                Message::user("hi"),
                Message::assistant(
                    "",
                    vec![ToolCall {
                        id: "Ab3dE6gH9".into(),
                        name: "git_status".into(),
                        arguments: "{}".into(),
                        ..ToolCall::default()
                    }],
                ),
                Message::tool_result("Ab3dE6gH9", "clean"),
                Message {
                    role: Role::User,
                    content: Some(Content::Parts(vec![
                        ContentPart::Text("see".into()),
                        ContentPart::ImageUrl("data:image/png;base64,AA==".into()),
                    ])),
                    tool_calls: vec![],
                    tool_call_id: None,
                },
            ],
            tools: vec![ToolSpec {
                name: "git_status".into(),
                description: "d".into(),
                parameters: json!({"type":"object"}),
            }],
            max_tokens: Some(10),
            temperature: None,
            num_ctx: None,
            stop_when_slow: false,
            purpose: Default::default(),
        };
        let b = req.body(true);
        assert_eq!(b["stream"], json!(true));
        assert_eq!(b["stream_options"]["include_usage"], json!(true));
        assert_eq!(b["messages"][2]["content"], Value::Null);
        assert_eq!(b["messages"][2]["tool_calls"][0]["id"], json!("Ab3dE6gH9"));
        assert_eq!(b["messages"][3]["tool_call_id"], json!("Ab3dE6gH9"));
        assert_eq!(
            b["messages"][4]["content"][1]["image_url"]["url"],
            json!("data:image/png;base64,AA==")
        );
        assert_eq!(b["tools"][0]["function"]["name"], json!("git_status"));
        assert!(b.get("temperature").is_none());
        assert!(req.body(false).get("stream_options").is_none());
        assert!(b.get("options").is_none());
        let ollama = ChatRequest {
            num_ctx: Some(16384),
            ..req
        };
        assert_eq!(ollama.body(true)["options"], json!({"num_ctx": 16384}));
    }
}
