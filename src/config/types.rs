//! The configuration as the program reads it. Every struct defaults every field, so a
//! single layer (one file) can be checked on its own; the effective values come from
//! the merged layers, the lowest of which is `assets/config.toml`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub struct Config {
    /// Refuse to contact any host that is not loopback, private-range, or allowed.
    pub offline: bool,
    /// Hosts (names or addresses; `*.example.com` wildcards) allowed while offline.
    pub allowed_hosts: Vec<String>,
    /// The active profile: `[profiles.NAME]` overlays `[model]`.
    pub profile: Option<String>,
    pub model: ModelConfig,
    pub vision: VisionConfig,
    pub tools: ToolsConfig,
    pub ui: UiConfig,
    pub git: GitConfig,
    pub context: ContextConfig,
    /// How the processes cove starts for the model are confined (`src/sandbox/`).
    pub sandbox: SandboxConfig,
    pub guard: GuardConfig,
    /// MCP servers (`src/mcp/`).
    pub mcp: super::McpConfig,
    /// Key bindings: action name → key or keys (`copy_reply = "ctrl+k"`).
    pub keys: BTreeMap<String, OneOrMany>,
    pub profiles: BTreeMap<String, ModelConfig>,
}

/// One or several values: `api_base = "http://a/v1"` or `api_base = ["http://a/v1", "http://b/v1"]`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(untagged)]
pub enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl Default for OneOrMany {
    fn default() -> Self {
        OneOrMany::Many(Vec::new())
    }
}

impl OneOrMany {
    pub fn to_vec(&self) -> Vec<String> {
        match self {
            OneOrMany::One(s) => vec![s.clone()],
            OneOrMany::Many(v) => v.clone(),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub struct ModelConfig {
    /// Model name sent to the server; unset = the first model the server lists.
    pub name: Option<String>,
    /// Base URL(s) of the OpenAI-compatible API, tried in order (failover).
    pub api_base: Option<OneOrMany>,
    pub api_key: Option<String>,
    /// Name of an environment variable that holds the API key.
    pub api_key_env: Option<String>,
    pub max_tokens: Option<u32>,
    pub temperature: Option<f64>,
    /// Context window in tokens (checked against the server's by `cove doctor`).
    pub context_window: Option<u32>,
    /// The model takes images itself.
    pub vision: Option<bool>,
    pub connect_timeout_secs: Option<u64>,
    /// Longest silence between two chunks of a streaming reply.
    pub idle_timeout_secs: Option<u64>,
    /// Retries after 429/503 before the first token.
    pub max_retries: Option<u32>,
    /// Longest reply cove reads, in bytes of text (default 4 MiB); past it the reply is
    /// cut short with a notice and what arrived is kept.
    pub max_reply_bytes: Option<u64>,
    /// A reply streaming slower than this (tokens per second, measured over 30 s from the
    /// first token) gets a notice with the rate; 0 switches the check off (default 1).
    pub min_tokens_per_s: Option<f64>,
    /// Such a slow reply is stopped and asked for once more at a lower temperature.
    pub retry_slow: Option<bool>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub struct VisionConfig {
    /// Vision model name; unset = images go to the main model.
    pub name: Option<String>,
    /// Unset = the main model's endpoints.
    pub api_base: Option<OneOrMany>,
    pub api_key: Option<String>,
    pub api_key_env: Option<String>,
    pub max_tokens: Option<u32>,
    pub temperature: Option<f64>,
    pub context_window: Option<u32>,
    pub max_edge: u32,
    pub max_bytes: u64,
    pub max_images: u32,
    pub screenshot_command: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Policy {
    Always,
    Ask,
    Never,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub struct ToolsConfig {
    pub read_file: Option<Policy>,
    pub list_files: Option<Policy>,
    pub search: Option<Policy>,
    pub write_file: Option<Policy>,
    pub edit_file: Option<Policy>,
    pub apply_patch: Option<Policy>,
    pub shell: Option<Policy>,
    pub git_status: Option<Policy>,
    pub git_diff: Option<Policy>,
    pub git_commit: Option<Policy>,
    /// Tools approved without asking (same as setting each to `always`).
    pub auto_approve: Vec<String>,
    /// Shell commands run without asking, matched word by word (`*` at the end: any further
    /// words), unless dangerous or risky (see `tools::shell_policy`).
    pub shell_allow: Vec<String>,
    /// Shell commands never run (the model is told).
    pub shell_deny: Vec<String>,
    /// Model requests in one turn before cove stops and hands back to the user.
    pub max_iterations: Option<u32>,
    /// How many times one call (same name and arguments) may come in a row before cove
    /// stops the turn; a cycle of 2-4 calls may come one time fewer (0 = no check).
    pub repeat_limit: Option<u32>,
    /// `[tools.custom.NAME]`: the user's commands as tools (`tools::custom`).
    pub custom: BTreeMap<String, super::CustomToolConfig>,
}

impl ToolsConfig {
    /// Whether `tool` is the name of a built-in tool.
    pub fn is_builtin(tool: &str) -> bool {
        ToolsConfig::default().policy(tool).is_some()
    }

    /// The policy for a built-in tool by name; `None` for a name that is not one.
    pub fn policy(&self, tool: &str) -> Option<Policy> {
        let set = match tool {
            "read_file" => self.read_file,
            "list_files" => self.list_files,
            "search" => self.search,
            "write_file" => self.write_file,
            "edit_file" => self.edit_file,
            "apply_patch" => self.apply_patch,
            "shell" => self.shell,
            "git_status" => self.git_status,
            "git_diff" => self.git_diff,
            "git_commit" => self.git_commit,
            _ => return None,
        };
        if self.auto_approve.iter().any(|t| t == tool) {
            return Some(Policy::Always);
        }
        Some(set.unwrap_or(Policy::Ask))
    }
}

/// `[guard]` (`src/guard/`): secrets redacted before anything is sent, files that ask
/// before they are read or written, rules on the prompt and on the stream.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub struct GuardConfig {
    /// Files that always ask before a tool reads or writes them, added to the built-in
    /// list (`.env*`, `*.pem`, `*.key`, `id_*`, `.netrc`, `.npmrc`, `credentials*`, ...).
    /// Globs (file name or path relative to the workspace; `*` matches any run).
    pub deny_read: Vec<String>,
    /// Redact secrets from everything sent to a model server (unset = on); `false` is
    /// honoured from trusted config only.
    pub redact: Option<bool>,
    /// More secret patterns (regexes; the whole match, or its first group, is the secret).
    pub patterns: Vec<String>,
    /// A user message matching one of these regexes is not sent.
    pub deny_prompt: Vec<String>,
    /// Streamed text matching one of these regexes stops the reply.
    pub stop_on: Vec<String>,
    /// A reply the server's content filter stopped is asked again this many times with
    /// the newest tool output and attachments left out (unset = 0).
    pub retry_filtered: Option<u32>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub struct UiConfig {
    pub theme: String,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub struct GitConfig {
    /// Use git (status in the prompt, checkpoints, `git_*` tools) when the workspace is a repository.
    pub enabled: bool,
    /// After a turn that changed files, commit them with the model's last reply as message.
    pub auto_commit: bool,
}

/// `[sandbox]`: how the commands cove runs for the model are confined.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub struct SandboxConfig {
    pub mode: SandboxMode,
    /// Let sandboxed commands use the network (loopback included).
    pub network: bool,
    /// More directories (and files) sandboxed commands may write: absolute, `~/...`, or
    /// relative to the workspace.
    pub writable: Vec<String>,
}

/// What a sandboxed command may write.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SandboxMode {
    /// The workspace, a private temp dir and `writable`; everything else read-only.
    #[default]
    WorkspaceWrite,
    /// Only the private temp dir.
    ReadOnly,
    /// No sandbox: commands run with the user's full rights (honoured from the user's own
    /// config only).
    Off,
}

impl SandboxMode {
    pub fn as_str(self) -> &'static str {
        match self {
            SandboxMode::WorkspaceWrite => "workspace-write",
            SandboxMode::ReadOnly => "read-only",
            SandboxMode::Off => "off",
        }
    }
}

/// The session's context: what the system prompt says about the project, attachments,
/// and when the conversation is compacted.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub struct ContextConfig {
    /// Tokens for the project part of the system prompt (root, git, tree, AGENTS.md).
    pub project_budget: Option<u32>,
    /// Compact when the next request would pass this share of the window (0.0-1.0).
    pub compact_at: Option<f64>,
    /// Tokens of the most recent turns kept verbatim when compacting.
    pub keep_recent: Option<u32>,
    /// Longest summary of the older turns, in tokens.
    pub summary_max: Option<u32>,
    /// Largest file attached with `@path`, in bytes (longer files are cut, with a note).
    pub attach_max_bytes: Option<u64>,
}

impl ContextConfig {
    pub fn project_budget(&self) -> usize {
        self.project_budget.unwrap_or(800) as usize
    }
    pub fn compact_at(&self) -> f64 {
        self.compact_at
            .filter(|f| f.is_finite() && *f > 0.05)
            .unwrap_or(0.75)
            .min(1.0)
    }
    pub fn keep_recent(&self) -> usize {
        self.keep_recent.unwrap_or(12_000) as usize
    }
    pub fn summary_max(&self) -> usize {
        self.summary_max.unwrap_or(2_000).max(64) as usize
    }
    pub fn attach_max_bytes(&self) -> usize {
        self.attach_max_bytes.unwrap_or(64 * 1024).max(256) as usize
    }
}

/// Timeouts and retry policy for one model endpoint set, with the defaults applied.
#[derive(Debug, Clone, PartialEq)]
pub struct Endpoint {
    pub api_base: String,
    pub api_key: Option<String>,
}

impl ModelConfig {
    /// The endpoints in failover order, each with its key resolved
    /// (`api_key`, else the variable named by `api_key_env`).
    pub fn endpoints(&self, env: &dyn Fn(&str) -> Option<String>) -> Vec<Endpoint> {
        let key = self.api_key.clone().filter(|k| !k.is_empty()).or_else(|| {
            self.api_key_env
                .as_deref()
                .and_then(env)
                .filter(|k| !k.is_empty())
        });
        self.api_base
            .as_ref()
            .map(OneOrMany::to_vec)
            .unwrap_or_default()
            .into_iter()
            .map(|b| Endpoint {
                api_base: b.trim_end_matches('/').to_owned(),
                api_key: key.clone(),
            })
            .collect()
    }
}

/// Where a message with images goes.
#[derive(Debug, Clone, PartialEq)]
// decided once per message with images, and the config is consumed at once: no boxing
#[allow(clippy::large_enum_variant)]
pub enum ImageRoute {
    /// The main model takes the images itself.
    Main,
    /// A separate vision model (its settings, with unset keys taken from `[model]`).
    Vision(ModelConfig),
}

impl Config {
    /// `[vision]`'s own endpoint settings as a model config (for the keys it names).
    pub fn base_vision_model(&self) -> ModelConfig {
        ModelConfig {
            api_key: self.vision.api_key.clone(),
            api_key_env: self.vision.api_key_env.clone(),
            ..ModelConfig::default()
        }
    }

    /// `[model] vision = true`: images go to the main model. Else, when `[vision]` names a
    /// model or an endpoint: to that vision model. Else to the main model.
    pub fn image_route(&self) -> ImageRoute {
        let v = &self.vision;
        if self.model.vision == Some(true) || (v.name.is_none() && v.api_base.is_none()) {
            return ImageRoute::Main;
        }
        let m = &self.model;
        let separate_key = v.api_key.is_some() || v.api_key_env.is_some();
        ImageRoute::Vision(ModelConfig {
            name: v.name.clone().or_else(|| m.name.clone()),
            api_base: v.api_base.clone().or_else(|| m.api_base.clone()),
            api_key: if separate_key {
                v.api_key.clone()
            } else {
                m.api_key.clone()
            },
            api_key_env: if separate_key {
                v.api_key_env.clone()
            } else {
                m.api_key_env.clone()
            },
            max_tokens: v.max_tokens.or(m.max_tokens),
            temperature: v.temperature.or(m.temperature),
            context_window: v.context_window,
            vision: Some(true),
            connect_timeout_secs: m.connect_timeout_secs,
            idle_timeout_secs: m.idle_timeout_secs,
            max_retries: m.max_retries,
            max_reply_bytes: m.max_reply_bytes,
            min_tokens_per_s: m.min_tokens_per_s,
            retry_slow: m.retry_slow,
        })
    }
}
