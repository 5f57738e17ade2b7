//! `cove ask`: one question, the answer streamed to stdout as it arrives.

use std::io::{IsTerminal, Read, Write};
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use serde_json::{Value, json};

use cove::config::VisionConfig;
use cove::config::{ImageRoute, Loaded};
use cove::domain::conversation::Message;
use cove::domain::text::neutralize_controls;
use cove::llm::{ChatRequest, Client, ClientOptions, Completion, LlmError, StreamEnd, probe};
use cove::protocol::ImageAttachment;
use cove::protocol::StreamEvent;
use cove::tools::offered_tools;
use cove::vision::encode::{ImageLimits, prepare_file};

use super::{say, say_error};

pub const EXIT_SERVER_ERROR: u8 = 4;
pub const EXIT_TRUNCATED: u8 = 5;
pub const EXIT_INTERRUPTED: u8 = 130;

#[derive(Args, Debug)]
pub struct AskArgs {
    /// The prompt, or `-` to read it from stdin.
    pub prompt: String,
    /// Attach an image (repeatable).
    #[arg(long, value_name = "PATH")]
    pub image: Vec<PathBuf>,
    /// Print one JSON object at the end instead of streaming text.
    #[arg(long)]
    pub json: bool,
    /// Model name (overrides config and COVE_MODEL).
    #[arg(long, value_name = "M")]
    pub model: Option<String>,
    /// API base URL, e.g. http://127.0.0.1:8080/v1 (overrides config and COVE_BASE_URL).
    #[arg(long, value_name = "URL")]
    pub base_url: Option<String>,
    /// System prompt.
    #[arg(long, value_name = "TEXT")]
    pub system: Option<String>,
    /// Offer cove's built-in tools to the model; calls are reported, not executed.
    #[arg(long)]
    pub tools: bool,
    /// Upper bound on the reply's length in tokens (overrides model.max_tokens).
    #[arg(long, value_name = "N")]
    pub max_tokens: Option<u32>,
}

/// What has arrived so far, kept for `--json` and for an interrupted run.
#[derive(Default)]
struct Partial {
    content: String,
    reasoning: String,
    ended_with_newline: bool,
}

pub async fn run(args: AskArgs, loaded: Loaded) -> u8 {
    let prompt = if args.prompt == "-" {
        let mut s = String::new();
        if let Err(e) = std::io::stdin().read_to_string(&mut s) {
            eprintln!("cove: error: cannot read the prompt from stdin: {e}");
            return 2;
        }
        s
    } else {
        args.prompt.clone()
    };
    if prompt.trim().is_empty() {
        eprintln!("cove: error: the prompt is empty");
        return 2;
    }
    let images = match load_images(&args.image, &loaded.config.vision) {
        Ok(images) => images,
        Err(e) => {
            eprintln!("cove: error: {e}");
            return 2;
        }
    };

    // a message with images goes to the vision model when one is configured
    let model_cfg = match (images.is_empty(), loaded.config.image_route()) {
        (false, ImageRoute::Vision(mc)) => mc,
        _ => loaded.config.model.clone(),
    };
    let model_cfg = &model_cfg;
    let env = |k: &str| std::env::var(k).ok();
    let client = match Client::new(
        model_cfg.endpoints(&env),
        ClientOptions::from_config(&loaded.config, model_cfg),
    ) {
        Ok(c) => c,
        Err(e) => return report_error(&args, &e, None),
    };
    // `[guard] deny_prompt`: nothing is sent, not even the probe
    if let Some(rule) = client.guard().denied_prompt(&prompt) {
        client.guard().event("deny_prompt", rule.clone());
        eprintln!("cove: not sent: the prompt matches {rule}");
        return crate::EXIT_USAGE;
    }
    let model = match probe::resolve_model(&client, model_cfg.name.as_deref()).await {
        Ok(m) => m,
        Err(e) => return report_error(&args, &e, None),
    };
    let mut messages = Vec::new();
    if let Some(system) = args.system.as_deref().filter(|s| !s.is_empty()) {
        messages.push(Message::system(system));
    }
    for (i, img) in images.iter().enumerate() {
        eprintln!("cove: attached image {}: {}", i + 1, img.label);
    }
    let urls = images.into_iter().map(|i| i.data_url).collect();
    messages.push(Message::user_with_images(prompt, urls));
    let req = ChatRequest {
        model: model.clone(),
        messages,
        tools: if args.tools {
            offered_tools(&loaded.config.tools)
        } else {
            Vec::new()
        },
        max_tokens: args.max_tokens.or(model_cfg.max_tokens),
        temperature: model_cfg.temperature,
        num_ctx: None,
        stop_when_slow: false,
        purpose: cove::guard::ledger::Purpose::Turn,
    };

    let json_mode = args.json;
    let dim = std::io::stderr().is_terminal();
    // On a terminal, model text cannot drive it (escape sequences are shown, not obeyed);
    // into a pipe or file it goes byte for byte.
    let out_tty = std::io::stdout().is_terminal();
    let mut partial = Partial::default();
    let mut in_reasoning = false;
    let mut on_event = |ev: StreamEvent| match ev {
        StreamEvent::Content { text } => {
            partial.content.push_str(&text);
            if !json_mode {
                if in_reasoning {
                    in_reasoning = false;
                    eprintln!("{}", if dim { "\x1b[0m" } else { "" });
                }
                let mut out = std::io::stdout();
                // A closed stdout (`| head`) is not an error worth more than stopping output.
                let shown = if out_tty {
                    neutralize_controls(&text)
                } else {
                    text.as_str().into()
                };
                let _ = out.write_all(shown.as_bytes()).and_then(|_| out.flush());
                partial.ended_with_newline = text.ends_with('\n');
            }
        }
        StreamEvent::Reasoning { text } => {
            partial.reasoning.push_str(&text);
            if !json_mode {
                let mut err = std::io::stderr();
                if !in_reasoning && dim {
                    let _ = err.write_all(b"\x1b[2m");
                }
                in_reasoning = true;
                let _ = err
                    .write_all(neutralize_controls(&text).as_bytes())
                    .and_then(|_| err.flush());
            }
        }
        StreamEvent::Notice { message } => say(&message),
        StreamEvent::ToolCallStart { .. } | StreamEvent::ToolCallArgs { .. } => {}
    };

    let result = tokio::select! {
        r = client.stream_chat(&req, &mut on_event) => Some(r),
        _ = tokio::signal::ctrl_c() => None,
    };
    if in_reasoning && dim {
        eprint!("\x1b[0m");
    }
    let Some(result) = result else {
        // Interrupted: the stream future is dropped, which closes the connection.
        if json_mode {
            let obj = json!({
                "content": partial.content, "reasoning": partial.reasoning, "tool_calls": [],
                "finish_reason": Value::Null, "usage": Value::Null, "ttft_ms": Value::Null,
                "tokens_per_s": Value::Null, "model": model, "error": "interrupted by the user",
            });
            println!("{obj}");
        } else {
            end_line(&partial);
            eprintln!("cove: interrupted");
        }
        return EXIT_INTERRUPTED;
    };
    match result {
        Ok(c) => finish(&args, &model, &partial, c),
        Err(e) => {
            if !json_mode {
                end_line(&partial);
            }
            report_error(&args, &e, Some(&model))
        }
    }
}

fn end_line(partial: &Partial) {
    if !partial.content.is_empty() && !partial.ended_with_newline {
        println!();
    }
}

fn finish(args: &AskArgs, model: &str, partial: &Partial, c: Completion) -> u8 {
    let (code, error) = match &c.end {
        StreamEnd::Complete => (0, None),
        StreamEnd::ServerError(m) => (
            EXIT_SERVER_ERROR,
            Some(format!("the server reported an error mid-stream: {m}")),
        ),
        StreamEnd::Truncated => {
            let why = c
                .reply
                .warnings
                .last()
                .cloned()
                .unwrap_or_else(|| "the connection closed".into());
            (
                EXIT_TRUNCATED,
                Some(format!(
                    "the stream ended early, before the server finished the reply ({why})"
                )),
            )
        }
    };
    if args.json {
        println!("{}", completion_json(model, &c, error.as_deref()));
        return code;
    }
    end_line(partial);
    for call in &c.reply.tool_calls {
        let tag = call.mended().map_or(String::new(), |m| format!(" ({m})"));
        // names, ids and arguments come from the model: on a terminal they are shown,
        // never obeyed (an OSC 52 in a tool name must not set the clipboard)
        let line = format!(
            "cove: tool call{tag}: {} {} [id {}]",
            call.name, call.arguments, call.id
        );
        if std::io::stderr().is_terminal() {
            eprintln!("{}", neutralize_controls(&line));
        } else {
            eprintln!("{line}");
        }
    }
    for w in &c.reply.warnings {
        if !w.starts_with("recovered") {
            tracing::warn!("{w}");
        }
    }
    if let Some(e) = error {
        say_error(&e);
    }
    code
}

fn completion_json(model: &str, c: &Completion, error: Option<&str>) -> Value {
    let calls: Vec<Value> = c
        .reply
        .tool_calls
        .iter()
        .map(|t| {
            let args = serde_json::from_str::<Value>(&t.arguments)
                .unwrap_or_else(|_| Value::String(t.arguments.clone()));
            json!({ "id": t.id, "name": t.name, "arguments": args, "recovered": t.recovered, "repaired": t.repaired })
        })
        .collect();
    json!({
        "content": c.reply.content,
        "reasoning": c.reply.reasoning,
        "tool_calls": calls,
        "finish_reason": c.reply.finish_reason,
        "usage": c.reply.usage,
        "ttft_ms": c.ttft.map(ms),
        "tokens_per_s": c.tokens_per_s.map(|t| (t * 100.0).round() / 100.0),
        "model": c.reply.model.clone().unwrap_or_else(|| model.to_owned()),
        "endpoint": c.endpoint,
        "elapsed_ms": ms(c.elapsed),
        "timings": c.reply.timings,
        "warnings": c.reply.warnings,
        "error": error,
    })
}

fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 100_000.0).round() / 100.0
}

fn report_error(args: &AskArgs, e: &LlmError, model: Option<&str>) -> u8 {
    let code = e.exit_code() as u8;
    if args.json {
        let obj = json!({
            "content": "", "reasoning": "", "tool_calls": [], "finish_reason": Value::Null,
            "usage": Value::Null, "ttft_ms": Value::Null, "tokens_per_s": Value::Null,
            "model": model, "error": e.to_string(),
        });
        println!("{obj}");
    }
    say_error(&e.to_string());
    code
}

/// Reads, downscales and encodes every `--image`, in order; the first bad one is the error
/// (nothing is sent).
pub(crate) fn load_images(
    paths: &[PathBuf],
    vision: &VisionConfig,
) -> Result<Vec<ImageAttachment>, String> {
    let max = vision.max_images.max(1) as usize;
    if paths.len() > max {
        return Err(format!(
            "{} images given; at most {max} go in one message ([vision] max_images)",
            paths.len()
        ));
    }
    let limits = ImageLimits::from_config(vision);
    paths
        .iter()
        .map(|p| {
            prepare_file(p, &limits)
                .map(|img| img.into_attachment())
                .map_err(|e| e.to_string())
        })
        .collect()
}
