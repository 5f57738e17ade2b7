//! The HTTP side: endpoints tried in order, retries before the first token, the byte
//! stream fed through the SSE parser and the assembler with an idle timeout.
//!
//! Cancellation is dropping the future: the response body, and with it the connection,
//! is dropped at once.

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use reqwest::StatusCode;
use reqwest::header::{CONTENT_TYPE, HeaderMap, RETRY_AFTER};
use serde_json::Value;

use super::assemble::{Assembler, Reply, StreamEnd};
use super::chunk::{Chunk, http_error_message};
use super::error::LlmError;
use super::net::GuardedResolver;
use super::overflow;
use super::record::Sent;
use super::recover::recover_tool_calls;
use super::request::ChatRequest;
use super::sse::SseParser;
use crate::config::mask_url_credentials as shown;
use crate::config::offline::{HostPolicy, Refusal};
use crate::config::{Config, Endpoint, ModelConfig};
use crate::guard::Guard;
use crate::guard::ledger::Purpose;
use crate::protocol::StreamEvent;

#[derive(Debug, Clone)]
pub struct ClientOptions {
    pub connect_timeout: Duration,
    pub idle_timeout: Duration,
    pub max_retries: u32,
    /// Upper bound for one wait before a retry, whatever Retry-After says.
    pub max_retry_wait: Duration,
    pub policy: HostPolicy,
    /// Longest reply read (content, reasoning and tool-call arguments, in bytes); past it
    /// the stream is closed and the reply ends as cut short, keeping what arrived.
    pub max_reply_bytes: usize,
    /// A stream under this rate (tokens/s) over `slow_window` is slow; 0 = never.
    pub min_tokens_per_s: f64,
    /// How long a stream is measured before it counts as slow (30 s; tests use less).
    pub slow_window: Duration,
    /// Redaction before a chat request is serialised, `stop_on`, and the ledger line of
    /// every request sent (`src/guard/`). One per session, shared by its clients.
    pub guard: Arc<Guard>,
}

/// `[model] max_reply_bytes` unset: 4 MiB of text is far beyond any real reply.
pub const DEFAULT_MAX_REPLY_BYTES: usize = 4 * 1024 * 1024;

/// `[model] min_tokens_per_s` unset: under one token a second something is wrong on
/// nearly any setup (a model spilled out of GPU memory into swap, a CPU fallback).
pub const DEFAULT_MIN_TOKENS_PER_S: f64 = 1.0;

/// How long a stream stays under the rate before it counts as slow.
pub const SLOW_WINDOW: Duration = Duration::from_secs(30);

impl ClientOptions {
    pub fn from_config(config: &Config, model: &ModelConfig) -> Self {
        ClientOptions {
            connect_timeout: Duration::from_secs(model.connect_timeout_secs.unwrap_or(5)),
            idle_timeout: Duration::from_secs(model.idle_timeout_secs.unwrap_or(120)),
            max_retries: model.max_retries.unwrap_or(3),
            max_retry_wait: Duration::from_secs(60),
            max_reply_bytes: model
                .max_reply_bytes
                .map_or(DEFAULT_MAX_REPLY_BYTES, |b| b.max(1024) as usize),
            min_tokens_per_s: model
                .min_tokens_per_s
                .filter(|r| r.is_finite() && *r > 0.0)
                .unwrap_or(if model.min_tokens_per_s.is_some() {
                    0.0
                } else {
                    DEFAULT_MIN_TOKENS_PER_S
                }),
            slow_window: SLOW_WINDOW,
            guard: Arc::new(Guard::from_config(&config.guard)),
            policy: HostPolicy {
                offline: config.offline,
                allowed_hosts: config.allowed_hosts.clone(),
            },
        }
    }
}

/// A finished (or cut short) streaming reply with its timing.
#[derive(Debug, Clone)]
pub struct Completion {
    pub reply: Reply,
    pub end: StreamEnd,
    /// The endpoint that answered.
    pub endpoint: String,
    /// From sending the request to the first content, reasoning or tool-call delta.
    pub ttft: Option<Duration>,
    pub elapsed: Duration,
    /// Completion tokens (from usage, else counted deltas) over the generation time.
    pub tokens_per_s: Option<f64>,
    /// The stream stayed under `min_tokens_per_s` for a whole window.
    pub slow: Option<SlowStream>,
}

/// A stream found slower than `[model] min_tokens_per_s`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SlowStream {
    /// Tokens per second over the window it was measured in.
    pub rate: f64,
    /// The rate it fell under.
    pub min: f64,
    pub window: Duration,
    /// Reading stopped there (the request asked for it, to be retried).
    pub stopped: bool,
}

impl SlowStream {
    /// What the user is told.
    pub fn notice(&self) -> String {
        format!(
            "The server is streaming at {:.1} tokens/s (under model.min_tokens_per_s = {} for {} s){}",
            self.rate,
            self.min,
            self.window.as_secs_f64().round(),
            if self.stopped {
                "; stopped to ask again"
            } else {
                ": the model may have spilled out of GPU memory, or the machine is busy"
            }
        )
    }
}

pub struct Client {
    http: reqwest::Client,
    endpoints: Vec<Endpoint>,
    opts: ClientOptions,
}

enum Attempt {
    /// This endpoint is down: try the next one.
    Down(String),
    Fatal(LlmError),
}

impl Client {
    pub fn new(endpoints: Vec<Endpoint>, opts: ClientOptions) -> Result<Self, LlmError> {
        if endpoints.is_empty() {
            return Err(LlmError::BadEndpoint(
                "no model endpoint is configured (set model.api_base)".into(),
            ));
        }
        // Loading the system's root certificates costs ~17 ms at start: only when an
        // endpoint needs them (a plain-HTTP loopback server does not). The client only
        // ever reaches these endpoints (no redirects, no proxy).
        let tls = endpoints.iter().any(|e| {
            let base = e.api_base.trim_start();
            !base
                .get(..7)
                .is_some_and(|scheme| scheme.eq_ignore_ascii_case("http://"))
        });
        let http = reqwest::Client::builder()
            .tls_built_in_root_certs(tls)
            .connect_timeout(opts.connect_timeout)
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .dns_resolver(Arc::new(GuardedResolver {
                policy: Arc::new(opts.policy.clone()),
            }))
            .tcp_nodelay(true)
            .user_agent(concat!("cove/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| LlmError::BadEndpoint(format!("cannot set up the HTTP client: {e}")))?;
        Ok(Client {
            http,
            endpoints,
            opts,
        })
    }

    pub fn endpoints(&self) -> &[Endpoint] {
        &self.endpoints
    }

    /// The session's guard (shared with the agent, and with a client that replaces this
    /// one, so placeholders stay the same).
    pub fn guard(&self) -> &Arc<Guard> {
        &self.opts.guard
    }

    /// Another guard for this client (a test's, with its ledger in a temporary directory).
    pub fn set_guard(&mut self, guard: Arc<Guard>) {
        self.opts.guard = guard;
    }

    /// How long a stream is measured before it counts as slow (tests shorten it).
    pub fn set_slow_window(&mut self, window: Duration) {
        self.opts.slow_window = window;
    }

    /// Streams one chat completion, calling `on_event` for every increment as it arrives.
    pub async fn stream_chat(
        &self,
        req: &ChatRequest,
        on_event: &mut (dyn FnMut(StreamEvent) + Send),
    ) -> Result<Completion, LlmError> {
        let guard = self.opts.guard.clone();
        if let Some(text) = guard.take_notice() {
            on_event(StreamEvent::Notice { message: text });
        }
        // secrets out before anything is serialised; the caller's conversation keeps them
        let mut redacted = req.clone();
        let tally = guard.redact_messages(&mut redacted.messages);
        if let Some(message) = crate::guard::redaction_notice(&tally) {
            guard.event("redaction", crate::guard::kinds(&tally.new));
            on_event(StreamEvent::Notice { message });
        }
        // `[guard] retry_filtered`: a reply the server's content filter stopped is asked
        // again without the newest tool output (the likeliest offender), up to N times
        let mut retries_left = guard.retry_filtered();
        loop {
            let completion = self.stream_once(&redacted, &tally, on_event).await?;
            let filtered = completion.reply.finish_reason.as_deref() == Some("content_filter");
            if !filtered || retries_left == 0 || !leave_out_newest_output(&mut redacted.messages) {
                return Ok(completion);
            }
            retries_left -= 1;
            guard.event(
                "retry_filtered",
                "asked again without the newest tool output",
            );
            on_event(StreamEvent::Notice {
                message: "Asking again without the newest tool output (guard.retry_filtered)"
                    .into(),
            });
        }
    }

    /// One chat request (already redacted), tried on each endpoint in turn.
    async fn stream_once(
        &self,
        req: &ChatRequest,
        tally: &crate::guard::redact::Tally,
        on_event: &mut (dyn FnMut(StreamEvent) + Send),
    ) -> Result<Completion, LlmError> {
        let mut failures = Vec::new();
        for (i, ep) in self.endpoints.iter().enumerate() {
            self.check_policy(ep)?;
            let started = Instant::now();
            match self.open_stream(ep, req, &tally.replaced, on_event).await {
                Ok((resp, sent)) => {
                    let mut completion = self
                        .read_stream(ep, req, resp, sent, started, on_event)
                        .await?;
                    mend_calls(req, &mut completion.reply);
                    return Ok(completion);
                }
                Err(Attempt::Fatal(e)) => return Err(e),
                Err(Attempt::Down(why)) => {
                    if let Some(next) = self.endpoints.get(i + 1) {
                        on_event(StreamEvent::Notice {
                            message: format!(
                                "endpoint {} is down ({why}); trying {}",
                                shown(&ep.api_base),
                                shown(&next.api_base)
                            ),
                        });
                    }
                    failures.push(format!("{}: {why}", shown(&ep.api_base)));
                }
            }
        }
        Err(LlmError::Unreachable(failures))
    }

    /// GET `{api_base}{path}` as JSON from the first endpoint that answers.
    pub async fn get_json(&self, path: &str) -> Result<(Endpoint, Value), LlmError> {
        let mut failures = Vec::new();
        for ep in &self.endpoints {
            self.check_policy(ep)?;
            let url = format!("{}{path}", ep.api_base);
            match self.get_json_url(ep, &url).await {
                Ok(v) => return Ok((ep.clone(), v)),
                Err(Attempt::Down(why)) => failures.push(format!("{}: {why}", shown(&ep.api_base))),
                Err(Attempt::Fatal(e)) => return Err(e),
            }
        }
        Err(LlmError::Unreachable(failures))
    }

    /// GET an absolute URL on a known endpoint's server (for probes like `/props`).
    /// `Ok(None)` when the server answers with an error status (the route does not exist).
    pub async fn probe_json(&self, ep: &Endpoint, url: &str) -> Result<Option<Value>, LlmError> {
        match self.get_json_url(ep, url).await {
            Ok(v) => Ok(Some(v)),
            Err(Attempt::Fatal(LlmError::Http { .. }))
            | Err(Attempt::Fatal(LlmError::Protocol { .. })) => Ok(None),
            Err(Attempt::Fatal(e)) => Err(e),
            Err(Attempt::Down(why)) => Err(LlmError::Unreachable(vec![format!("{url}: {why}")])),
        }
    }

    /// POST a JSON body to an absolute URL on a known endpoint's server (Ollama's
    /// `/api/show`); `Ok(None)` when the server answers with an error status.
    pub async fn probe_post_json(
        &self,
        ep: &Endpoint,
        url: &str,
        body: &Value,
    ) -> Result<Option<Value>, LlmError> {
        let bytes = serde_json::to_vec(body).unwrap_or_default();
        let sent = Sent::new(
            &self.opts.guard,
            Purpose::Probe,
            "POST",
            url,
            None,
            bytes.len(),
        );
        let mut rb = self
            .http
            .post(url)
            .header(CONTENT_TYPE, "application/json")
            .body(bytes);
        if let Some(key) = &ep.api_key {
            rb = rb.bearer_auth(key);
        }
        match self.json_answer(url, rb, sent).await {
            Ok(v) => Ok(Some(v)),
            Err(Attempt::Fatal(LlmError::Http { .. }))
            | Err(Attempt::Fatal(LlmError::Protocol { .. })) => Ok(None),
            Err(Attempt::Fatal(e)) => Err(e),
            Err(Attempt::Down(why)) => Err(LlmError::Unreachable(vec![format!("{url}: {why}")])),
        }
    }

    fn check_policy(&self, ep: &Endpoint) -> Result<(), LlmError> {
        let url = url::Url::parse(&ep.api_base).map_err(|e| {
            LlmError::BadEndpoint(format!("`{}` is not a URL: {e}", shown(&ep.api_base)))
        })?;
        let host = url.host_str().ok_or_else(|| {
            LlmError::BadEndpoint(format!("`{}` has no host", shown(&ep.api_base)))
        })?;
        self.opts.policy.check_host(host)?;
        Ok(())
    }

    async fn get_json_url(&self, ep: &Endpoint, url: &str) -> Result<Value, Attempt> {
        let sent = Sent::new(&self.opts.guard, Purpose::Probe, "GET", url, None, 0);
        let mut rb = self.http.get(url);
        if let Some(key) = &ep.api_key {
            rb = rb.bearer_auth(key);
        }
        self.json_answer(url, rb, sent).await
    }

    /// Sends a request and reads its answer as JSON; `sent` is its ledger line.
    async fn json_answer(
        &self,
        url: &str,
        rb: reqwest::RequestBuilder,
        mut sent: Sent,
    ) -> Result<Value, Attempt> {
        let resp = match tokio::time::timeout(self.opts.idle_timeout, rb.send()).await {
            Err(_) => {
                sent.finish("no answer");
                return Err(Attempt::Down(format!(
                    "no answer within {}s",
                    self.opts.idle_timeout.as_secs()
                )));
            }
            Ok(Err(e)) => {
                sent.finish(format!("failed: {}", describe(&e)));
                return Err(classify(e));
            }
            Ok(Ok(r)) => r,
        };
        let status = resp.status();
        let text = match tokio::time::timeout(self.opts.idle_timeout, resp.text()).await {
            Ok(Ok(t)) => t,
            Ok(Err(e)) => {
                sent.finish(format!("failed: {}", describe(&e)));
                return Err(classify(e));
            }
            Err(_) => {
                sent.finish("stalled");
                return Err(Attempt::Down("the answer stalled".into()));
            }
        };
        sent.received(text.len());
        sent.finish(if status.is_success() {
            "ok".to_owned()
        } else {
            format!("http {}", status.as_u16())
        });
        if !status.is_success() {
            return Err(Attempt::Fatal(LlmError::Http {
                endpoint: shown(url).into_owned(),
                status: status.as_u16(),
                message: http_error_message(&text),
            }));
        }
        serde_json::from_str(&text).map_err(|e| {
            Attempt::Fatal(LlmError::Protocol {
                endpoint: shown(url).into_owned(),
                message: format!("not JSON ({e})"),
            })
        })
    }

    /// Sends the request; retries 429/503 (honouring Retry-After) and a rejected
    /// `stream_options`; returns the response once it is a success.
    async fn open_stream(
        &self,
        ep: &Endpoint,
        req: &ChatRequest,
        redactions: &std::collections::BTreeMap<String, u64>,
        on_event: &mut (dyn FnMut(StreamEvent) + Send),
    ) -> Result<(reqwest::Response, Sent), Attempt> {
        let url = format!("{}/chat/completions", ep.api_base);
        let mut include_usage = true;
        let mut retries = 0;
        loop {
            let body = serde_json::to_vec(&req.body(include_usage)).unwrap_or_default();
            let mut sent = Sent::new(
                &self.opts.guard,
                req.purpose,
                "POST",
                &url,
                Some(&req.model),
                body.len(),
            );
            sent.redactions(redactions);
            let mut rb = self
                .http
                .post(&url)
                .header(CONTENT_TYPE, "application/json")
                .body(body);
            if let Some(key) = &ep.api_key {
                rb = rb.bearer_auth(key);
            }
            let resp = match tokio::time::timeout(self.opts.idle_timeout, rb.send()).await {
                Err(_) => {
                    sent.finish("no answer");
                    return Err(Attempt::Down(format!(
                        "no answer within {}s",
                        self.opts.idle_timeout.as_secs()
                    )));
                }
                Ok(Err(e)) => {
                    sent.finish(format!("failed: {}", describe(&e)));
                    return Err(classify(e));
                }
                Ok(Ok(r)) => r,
            };
            let status = resp.status();
            if status.is_success() {
                return Ok((resp, sent));
            }
            let headers = resp.headers().clone();
            let body = tokio::time::timeout(self.opts.idle_timeout, resp.text())
                .await
                .ok()
                .and_then(Result::ok)
                .unwrap_or_default();
            sent.received(body.len());
            sent.finish(format!("http {}", status.as_u16()));
            let message = http_error_message(&body);
            if let Some(found) = overflow::from_body(&body) {
                return Err(Attempt::Fatal(LlmError::ContextOverflow {
                    endpoint: shown(&ep.api_base).into_owned(),
                    overflow: found,
                    message,
                }));
            }
            if include_usage
                && matches!(
                    status,
                    StatusCode::BAD_REQUEST | StatusCode::UNPROCESSABLE_ENTITY
                )
                && may_reject_stream_options(&body)
            {
                tracing::info!(%status, %message, "server rejected the request; retrying without stream_options");
                include_usage = false;
                continue;
            }
            if matches!(
                status,
                StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE
            ) && retries < self.opts.max_retries
            {
                let wait = retry_after(&headers)
                    .unwrap_or_else(|| backoff(retries))
                    .min(self.opts.max_retry_wait);
                on_event(StreamEvent::Notice {
                    message: format!(
                        "{} answered {} ({message}); retrying in {:.1}s",
                        shown(&ep.api_base),
                        status.as_u16(),
                        wait.as_secs_f64()
                    ),
                });
                tokio::time::sleep(wait).await;
                retries += 1;
                continue;
            }
            if matches!(
                status,
                StatusCode::BAD_GATEWAY
                    | StatusCode::SERVICE_UNAVAILABLE
                    | StatusCode::GATEWAY_TIMEOUT
            ) {
                return Err(Attempt::Down(format!(
                    "HTTP {}: {message}",
                    status.as_u16()
                )));
            }
            return Err(Attempt::Fatal(LlmError::Http {
                endpoint: shown(&ep.api_base).into_owned(),
                status: status.as_u16(),
                message,
            }));
        }
    }

    async fn read_stream(
        &self,
        ep: &Endpoint,
        req: &ChatRequest,
        resp: reqwest::Response,
        mut sent: Sent,
        started: Instant,
        on_event: &mut (dyn FnMut(StreamEvent) + Send),
    ) -> Result<Completion, LlmError> {
        let guard = self.opts.guard.clone();
        // `stop_on`: the reply's text is checked as it streams (the newest bytes with a
        // tail of what came before, so a match split across increments is seen)
        let stopped: std::sync::Mutex<Option<String>> = std::sync::Mutex::new(None);
        let mut seen_tail: Vec<u8> = Vec::new();
        let mut asm = Assembler::new();
        let mut first_token: Option<Instant> = None;
        let mut out = Vec::new();
        // bytes of reply text and increments so far (against `max_reply_bytes`, and the
        // token count the slow-stream check measures)
        let mut received = 0usize;
        let mut increments = 0u64;
        let max_reply = self.opts.max_reply_bytes;
        let mut emit = |out: &mut Vec<StreamEvent>, first_token: &mut Option<Instant>| {
            for ev in out.drain(..) {
                // after a `stop_on` match nothing more of the reply goes out
                if stopped.lock().is_ok_and(|s| s.is_some()) {
                    continue;
                }
                if first_token.is_none() && !matches!(ev, StreamEvent::Notice { .. }) {
                    *first_token = Some(Instant::now());
                }
                let n = match &ev {
                    StreamEvent::Content { text } | StreamEvent::Reasoning { text } => {
                        if guard.has_stop_rules()
                            && let Ok(mut stop) = stopped.lock()
                            && stop.is_none()
                        {
                            seen_tail.extend_from_slice(text.as_bytes());
                            if let Some(rule) = guard.stop_rule(&seen_tail) {
                                *stop = Some(rule);
                            }
                            let keep = STOP_TAIL.min(seen_tail.len());
                            seen_tail.drain(..seen_tail.len() - keep);
                        }
                        text.len()
                    }
                    StreamEvent::ToolCallArgs { fragment, .. } => fragment.len(),
                    _ => 0,
                };
                if n > 0 {
                    received += n;
                    increments += 1;
                }
                on_event(ev);
            }
            (received > max_reply, tokens_seen(received, increments))
        };
        let is_json = resp
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| ct.starts_with("application/json"));
        let mut cut_short: Option<String> = None;
        // the data of the event that ended the stream with an error (for an overflow)
        let mut error_data: Option<String> = None;
        let mut slow = SlowWatch::new(self.opts.min_tokens_per_s, self.opts.slow_window);
        if is_json {
            // A server that ignored `stream: true` and sent the whole reply at once.
            match tokio::time::timeout(self.opts.idle_timeout, resp.text()).await {
                Ok(Ok(text)) => match serde_json::from_str::<Chunk>({
                    sent.received(text.len());
                    text.as_str()
                }) {
                    Ok(chunk) => {
                        asm.push_chunk(chunk, &mut out);
                        error_data = Some(text);
                    }
                    Err(e) => {
                        sent.finish("bad reply: not a chat completion");
                        return Err(LlmError::Protocol {
                            endpoint: shown(&ep.api_base).into_owned(),
                            message: format!("a JSON reply of an unexpected shape ({e})"),
                        });
                    }
                },
                Ok(Err(e)) => cut_short = Some(format!("connection lost: {e}")),
                Err(_) => {
                    cut_short = Some(format!("no data for {}s", self.opts.idle_timeout.as_secs()))
                }
            }
            emit(&mut out, &mut first_token);
        } else {
            let mut parser = SseParser::new();
            let mut events = Vec::new();
            let mut body = resp.bytes_stream();
            let mut last_data = Instant::now();
            while !asm.is_finished() {
                // a server that always has more data ready would otherwise keep this loop
                // inside one poll: yield when the task's budget is spent, so an interrupt
                // (or anything else the caller selects on) is seen at once
                tokio::task::consume_budget().await;
                let idle_at = last_data + self.opts.idle_timeout;
                // wake for the slow-stream check too, data or not
                let wake = slow.due().map_or(idle_at, |due| due.min(idle_at));
                let bytes = match tokio::time::timeout_at(wake.into(), body.next()).await {
                    Err(_) if Instant::now() >= idle_at => {
                        cut_short = Some(format!(
                            "no data for {}s (idle timeout)",
                            self.opts.idle_timeout.as_secs()
                        ));
                        break;
                    }
                    Err(_) => {
                        let (_, tokens) = emit(&mut out, &mut first_token);
                        if let Some(why) = slow.check(tokens, req.stop_when_slow, &mut out) {
                            emit(&mut out, &mut first_token);
                            cut_short = Some(why);
                            break;
                        }
                        emit(&mut out, &mut first_token);
                        continue;
                    }
                    Ok(None) => {
                        parser.finish(&mut events);
                        for ev in events.drain(..) {
                            asm.push(&ev, &mut out);
                            if asm.is_finished() && ev.data.trim() != "[DONE]" {
                                error_data = Some(ev.data.clone());
                            }
                        }
                        emit(&mut out, &mut first_token);
                        break;
                    }
                    Ok(Some(Err(e))) => {
                        cut_short = Some(format!("connection lost: {e}"));
                        break;
                    }
                    Ok(Some(Ok(b))) => b,
                };
                sent.received(bytes.len());
                last_data = Instant::now();
                if let Err(e) = parser.push(&bytes, &mut events) {
                    sent.finish(format!("bad stream: {e}"));
                    return Err(LlmError::Protocol {
                        endpoint: shown(&ep.api_base).into_owned(),
                        message: e.to_string(),
                    });
                }
                for ev in events.drain(..) {
                    asm.push(&ev, &mut out);
                    if asm.is_finished() {
                        if ev.data.trim() != "[DONE]" {
                            error_data = Some(ev.data.clone());
                        }
                        break;
                    }
                }
                let (too_long, tokens) = emit(&mut out, &mut first_token);
                if let Some(rule) = stopped.lock().ok().and_then(|s| s.clone()) {
                    cut_short = Some(format!("stopped by {rule}; what arrived is kept"));
                    break;
                }
                if too_long {
                    cut_short = Some(format!(
                        "the reply passed {} (model.max_reply_bytes) and was cut there; what arrived is kept",
                        human_bytes(max_reply)
                    ));
                    break;
                }
                if first_token.is_some() {
                    slow.start(tokens);
                }
                if let Some(why) = slow.check(tokens, req.stop_when_slow, &mut out) {
                    emit(&mut out, &mut first_token);
                    cut_short = Some(why);
                    break;
                }
                emit(&mut out, &mut first_token);
            }
        }
        asm.flush(&mut out);
        emit(&mut out, &mut first_token);
        let (mut reply, end) = asm.finish();
        if let StreamEnd::ServerError(message) = &end {
            // refused before any output because the prompt does not fit: an overflow,
            // handled like the same refusal as an HTTP error
            let nothing = reply.content.is_empty()
                && reply.reasoning.is_empty()
                && reply.tool_calls.is_empty();
            let found = error_data
                .as_deref()
                .and_then(overflow::from_body)
                .or_else(|| overflow::from_message(message));
            if let (true, Some(found)) = (nothing, found) {
                sent.finish("refused: the prompt does not fit the context window");
                return Err(LlmError::ContextOverflow {
                    endpoint: shown(&ep.api_base).into_owned(),
                    overflow: found,
                    message: message.clone(),
                });
            }
        }
        if let (Some(why), StreamEnd::Truncated) = (&cut_short, &end) {
            reply.warnings.push(why.clone());
        }
        sent.usage(reply.usage);
        if let Some(rule) = stopped.into_inner().ok().flatten() {
            // as if interrupted: the text is kept, nothing it asked for runs
            reply.tool_calls.clear();
            guard.event("stop_on", rule);
            sent.event("stop_on");
        }
        if reply.finish_reason.as_deref() == Some("content_filter") {
            let why =
                "the server's content filter stopped this reply (finish_reason: content_filter)";
            reply.warnings.push(why.into());
            on_event(StreamEvent::Notice {
                message: format!("{why}; what arrived is kept"),
            });
            guard.event("content_filter", shown(&ep.api_base).into_owned());
            sent.event("content_filter");
        }
        sent.finish(match (&end, &cut_short) {
            (StreamEnd::ServerError(m), _) => format!("server error: {m}"),
            (StreamEnd::Truncated, Some(why)) => format!("cut short: {why}"),
            (StreamEnd::Truncated, None) => "cut short".to_owned(),
            (StreamEnd::Complete, _) => "ok".to_owned(),
        });
        let finished = Instant::now();
        let tokens = reply
            .usage
            .map(|u| u.completion_tokens)
            .filter(|&n| n > 0)
            .unwrap_or(reply.delta_count);
        // a rate needs a stretch of generation to mean anything: a tiny reply arriving in
        // one or two increments would give figures like 40,000 tokens/s
        // the server's own figure when it gives one (llama.cpp's timings): measured where
        // the tokens are made, it holds for short replies too
        let server_rate = reply
            .timings
            .as_ref()
            .and_then(|t| t.get("predicted_per_second"))
            .and_then(serde_json::Value::as_f64)
            .filter(|r| r.is_finite() && *r > 0.0 && tokens >= 2);
        let tokens_per_s = server_rate.or_else(|| {
            first_token.and_then(|t| {
                let secs = finished.duration_since(t).as_secs_f64();
                (tokens >= MIN_RATE_TOKENS && secs >= MIN_RATE_SECS)
                    .then(|| (tokens - 1) as f64 / secs)
            })
        });
        Ok(Completion {
            reply,
            end,
            endpoint: shown(&ep.api_base).into_owned(),
            ttft: first_token.map(|t| t.duration_since(started)),
            elapsed: finished.duration_since(started),
            tokens_per_s,
            slow: slow.found,
        })
    }
}

/// A reply's tokens/s is reported only over at least this many tokens…
const MIN_RATE_TOKENS: u64 = 4;
/// …generated over at least this long (a small local model writes a short answer in a
/// tenth of a second: that rate is real; a reply that arrives in one burst is not)
const MIN_RATE_SECS: f64 = 0.05;

/// What a tool result left out for `retry_filtered` reads in its place.
const LEFT_OUT: &str = "[left out: the server's content filter stopped the reply while this output was in the context]";

/// Replaces the newest tool output not yet left out; false when there is none.
fn leave_out_newest_output(messages: &mut [crate::domain::conversation::Message]) -> bool {
    use crate::domain::conversation::{Content, Role};
    let newest = messages.iter_mut().rev().find(|m| {
        m.role == Role::Tool && !matches!(&m.content, Some(Content::Text(t)) if t == LEFT_OUT)
    });
    match newest {
        Some(m) => {
            m.content = Some(Content::Text(LEFT_OUT.into()));
            true
        }
        None => false,
    }
}

/// Bytes of earlier reply text kept for `stop_on` matches that span increments.
const STOP_TAIL: usize = 4096;

/// Tokens in a stream so far, without the tokenizer: one per increment (most servers send
/// one token each), or one per 4 bytes when a server batches several in one increment.
fn tokens_seen(bytes: usize, increments: u64) -> u64 {
    increments.max(bytes as u64 / 4)
}

/// Measures a stream's rate in consecutive windows from the first token; the first window
/// under the minimum makes it slow (one notice per stream).
struct SlowWatch {
    min: f64,
    window: Duration,
    /// Start of the window being measured and the tokens seen at that moment.
    from: Option<(Instant, u64)>,
    found: Option<SlowStream>,
}

impl SlowWatch {
    fn new(min: f64, window: Duration) -> Self {
        SlowWatch {
            min,
            window,
            from: None,
            found: None,
        }
    }

    fn active(&self) -> bool {
        self.min > 0.0 && !self.window.is_zero() && self.found.is_none()
    }

    /// The first token arrived (`tokens` so far): measuring starts, from the tokens after
    /// it (as `tokens_per_s` counts), so a first burst does not hide a slow stream.
    fn start(&mut self, tokens: u64) {
        if self.from.is_none() && self.active() {
            self.from = Some((Instant::now(), tokens));
        }
    }

    /// When the window being measured ends.
    fn due(&self) -> Option<Instant> {
        let (from, _) = self.from?;
        self.active().then_some(from + self.window)
    }

    /// At or after the end of a window: a notice when it was slow. `Some(reason)` when
    /// reading should stop (`stop`, for a retry).
    fn check(&mut self, tokens: u64, stop: bool, out: &mut Vec<StreamEvent>) -> Option<String> {
        let (from, at_start) = self.from?;
        if !self.active() {
            return None;
        }
        let now = Instant::now();
        let elapsed = now.duration_since(from);
        if elapsed < self.window {
            return None;
        }
        let rate = tokens.saturating_sub(at_start) as f64 / elapsed.as_secs_f64();
        if rate >= self.min {
            self.from = Some((now, tokens));
            return None;
        }
        let found = SlowStream {
            rate,
            min: self.min,
            window: self.window,
            stopped: stop,
        };
        self.found = Some(found);
        out.push(StreamEvent::Notice {
            message: found.notice(),
        });
        stop.then(|| {
            format!(
                "stopped: the server streamed at {rate:.1} tokens/s, under model.min_tokens_per_s = {}",
                self.min
            )
        })
    }
}

fn human_bytes(n: usize) -> String {
    if n >= 1024 * 1024 {
        format!("{:.1} MiB", n as f64 / (1024.0 * 1024.0))
    } else {
        format!("{} KiB", n / 1024)
    }
}

/// When tools were offered and the model printed calls instead of making them, turn the
/// printed calls into real ones (flagged as recovered); arguments that are almost JSON
/// are repaired where the repair is unambiguous (flagged, and the reply says so).
fn mend_calls(req: &ChatRequest, reply: &mut Reply) {
    if req.tools.is_empty() {
        return;
    }
    if reply.tool_calls.is_empty()
        && let Some((rest, calls)) = recover_tool_calls(&reply.content, &req.tools)
    {
        reply.warnings.push(format!(
            "recovered {} tool call(s) the model printed as text",
            calls.len()
        ));
        reply.content = rest;
        reply.tool_calls = calls;
    }
    for call in &mut reply.tool_calls {
        if call.repaired.is_some() {
            continue;
        }
        if let Some(fixed) = super::repair::repair_arguments(&call.arguments) {
            reply.warnings.push(format!(
                "recovered the arguments of {}: {}",
                call.name,
                fixed.describe()
            ));
            call.arguments = fixed.json.clone();
            call.repaired = Some(fixed.describe());
        }
    }
}

fn classify(e: reqwest::Error) -> Attempt {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&e);
    while let Some(s) = source {
        if let Some(refusal) = s.downcast_ref::<Refusal>() {
            return Attempt::Fatal(LlmError::Offline(refusal.clone()));
        }
        source = s.source();
    }
    Attempt::Down(describe(&e))
}

/// The innermost useful message of a transport error ("connection refused", not
/// "error sending request for url ...").
fn describe(e: &reqwest::Error) -> String {
    let mut msg = if e.is_timeout() {
        "timed out".to_owned()
    } else {
        String::new()
    };
    let mut source = std::error::Error::source(e);
    let mut last = None;
    while let Some(s) = source {
        last = Some(s.to_string());
        source = s.source();
    }
    if let Some(l) = last {
        if !msg.is_empty() {
            msg.push_str(": ");
        }
        msg.push_str(&l);
    }
    if msg.is_empty() { e.to_string() } else { msg }
}

fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let v = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = v.parse::<f64>() {
        return (secs.is_finite() && secs >= 0.0)
            .then(|| Duration::from_secs_f64(secs.min(3600.0)));
    }
    let when = httpdate::parse_http_date(v).ok()?;
    Some(
        when.duration_since(std::time::SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

fn backoff(retry: u32) -> Duration {
    Duration::from_millis(500u64.saturating_mul(1 << retry.min(6))).min(Duration::from_secs(30))
}

/// Whether a 400/422 body could be a refusal of `stream_options` (the field named, or an
/// unknown/extra field without a name), so that one retry without it is worth it. A refusal
/// of something else (context overflow, bad image) is not sent twice.
fn may_reject_stream_options(body: &str) -> bool {
    let b = body.to_ascii_lowercase();
    if b.contains("stream_options") || b.contains("include_usage") {
        return true;
    }
    let names_a_field = [
        "unknown field",
        "unrecognized",
        "extra field",
        "extra_forbidden",
        "not permitted",
        "unexpected field",
        "additional properties",
        "unsupported parameter",
        "unknown parameter",
    ]
    .iter()
    .any(|w| b.contains(w));
    let names_something_else = [
        "messages",
        "tools",
        "context",
        "image",
        "max_tokens",
        "temperature",
        "model",
    ]
    .iter()
    .any(|w| b.contains(w));
    body.trim().is_empty() || (names_a_field && !names_something_else)
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn retry_after_forms() {
        let mut h = HeaderMap::new();
        h.insert(RETRY_AFTER, HeaderValue::from_static("2"));
        assert_eq!(retry_after(&h), Some(Duration::from_secs(2)));
        h.insert(RETRY_AFTER, HeaderValue::from_static("0.25"));
        assert_eq!(retry_after(&h), Some(Duration::from_millis(250)));
        h.insert(
            RETRY_AFTER,
            HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT"),
        );
        assert_eq!(retry_after(&h), Some(Duration::ZERO));
        h.insert(RETRY_AFTER, HeaderValue::from_static("soon"));
        assert_eq!(retry_after(&h), None);
        h.insert(RETRY_AFTER, HeaderValue::from_static("-1"));
        assert_eq!(retry_after(&h), None);
    }

    #[test]
    fn a_slow_window_is_noticed_once_and_stops_only_when_asked() {
        let window = Duration::from_millis(30);
        let mut out = Vec::new();
        // fast enough: the window slides on, nothing said
        let mut w = SlowWatch::new(100.0, window);
        assert_eq!(w.due(), None, "nothing is measured before the first token");
        w.start(5);
        assert!(w.check(50, false, &mut out).is_none(), "not due yet");
        std::thread::sleep(Duration::from_millis(40));
        assert!(w.check(5_000, false, &mut out).is_none());
        assert!(out.is_empty() && w.found.is_none());
        // slow: one notice with the rate, reading goes on
        std::thread::sleep(Duration::from_millis(40));
        assert!(w.check(5_001, false, &mut out).is_none());
        assert_eq!(out.len(), 1);
        let found = w.found.expect("slow");
        assert!(found.rate < 100.0 && !found.stopped);
        assert!(matches!(&out[0], StreamEvent::Notice { message } if message.contains("tokens/s")));
        assert_eq!(w.due(), None, "one notice per stream");
        std::thread::sleep(Duration::from_millis(40));
        assert!(w.check(5_002, true, &mut out).is_none());
        assert_eq!(out.len(), 1);
        // asked to stop: the reason to cut the stream
        let mut w = SlowWatch::new(100.0, window);
        w.start(0);
        std::thread::sleep(Duration::from_millis(40));
        let why = w.check(1, true, &mut out).expect("stopped");
        assert!(why.contains("min_tokens_per_s = 100"), "{why}");
        assert!(w.found.is_some_and(|f| f.stopped));
        // switched off
        let mut w = SlowWatch::new(0.0, window);
        w.start(0);
        assert_eq!(w.due(), None);
        assert_eq!(tokens_seen(400, 3), 100);
        assert_eq!(tokens_seen(10, 7), 7);
    }

    #[test]
    fn backoff_grows_and_is_bounded() {
        assert_eq!(backoff(0), Duration::from_millis(500));
        assert_eq!(backoff(2), Duration::from_secs(2));
        assert_eq!(backoff(40), Duration::from_secs(30));
    }
}
