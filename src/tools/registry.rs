//! The registry of tools (built-in, custom, MCP) and what is done with a call whatever its
//! tool: the model's argument text checked, the call described for the approval queue
//! (with the preview behind it), an approved preview written as it is.

use std::sync::{Arc, RwLock};

use serde_json::Value;

use super::context::json_kind as kind;
use super::context::{FileChange, ToolContext, ToolOutput};
use super::tool::{Call, DynTool, RunResult, ToolError};
use super::{fs, protected};
use crate::config::{Policy, ToolsConfig};
use crate::domain::conversation::ToolSpec;
use crate::domain::text::shown_path;
use crate::protocol::{ApprovalRequest, ProposedChange};

/// Every tool cove can offer the model this session: the built-ins, custom command tools
/// (`[tools.custom.NAME]`) and MCP tools, each with its policy. A cheap handle: clones share
/// the same tools, so a tool added later (an MCP server that finished starting) is seen by
/// every holder from the next request on.
#[derive(Clone, Default)]
pub struct Registry {
    entries: Arc<RwLock<Vec<Entry>>>,
}

#[derive(Clone)]
struct Entry {
    tool: Arc<dyn DynTool>,
    spec: ToolSpec,
    policy: Policy,
    /// Callable but left out of what the model is offered (MCP tools found through
    /// `tool_search` when their schemas exceed the budget).
    hidden: bool,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.names()).finish()
    }
}

/// Why a tool could not be added.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegistryError {
    #[error("a tool named `{0}` is already registered")]
    Taken(String),
    #[error("`{0}` is not a valid tool name (letters, digits, `_` and `-`, at most 64)")]
    BadName(String),
}

/// Names the model can call: what OpenAI-compatible servers accept for a function name.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

impl Registry {
    /// No tools at all.
    pub fn new() -> Self {
        Registry::default()
    }

    /// The built-in tools, each with its policy from `[tools]` (unset: ask).
    pub fn builtin(config: &ToolsConfig) -> Self {
        let r = Registry::new();
        for tool in super::builtin::all() {
            let policy = config.policy(tool.name()).unwrap_or(Policy::Ask);
            // the built-ins' names are distinct and valid
            let _ = r.add(tool, policy);
        }
        r
    }

    /// The built-in tools and the custom command tools of `[tools]` (checked when the
    /// config was loaded; one that still cannot be added is logged and left out).
    pub fn from_config(config: &ToolsConfig) -> Self {
        let r = Registry::builtin(config);
        for (name, custom) in &config.custom {
            let policy = if config.auto_approve.iter().any(|t| t == name) {
                Policy::Always
            } else {
                custom.policy()
            };
            let tool = Arc::new(super::custom::CustomTool::new(name, custom));
            if let Err(e) = r.add(tool, policy) {
                tracing::warn!("custom tool `{name}` left out: {e}");
            }
        }
        r
    }

    /// Adds a tool with its policy. Names are unique: a tool cannot replace another.
    pub fn add(&self, tool: Arc<dyn DynTool>, policy: Policy) -> Result<(), RegistryError> {
        let name = tool.name().to_owned();
        if !valid_name(&name) {
            return Err(RegistryError::BadName(name));
        }
        let spec = tool.spec();
        let mut entries = self.write();
        if entries.iter().any(|e| e.tool.name() == name) {
            return Err(RegistryError::Taken(name));
        }
        entries.push(Entry {
            tool,
            spec,
            policy,
            hidden: false,
        });
        Ok(())
    }

    /// Keeps a tool callable but out of (or back in) what the model is offered.
    pub fn set_hidden(&self, name: &str, hidden: bool) {
        for e in self.write().iter_mut().filter(|e| e.tool.name() == name) {
            e.hidden = hidden;
        }
    }

    /// Takes a tool away (an MCP server that went away); whether it was there.
    pub fn remove(&self, name: &str) -> bool {
        let mut entries = self.write();
        let before = entries.len();
        entries.retain(|e| e.tool.name() != name);
        entries.len() != before
    }

    pub fn get(&self, name: &str) -> Option<Arc<dyn DynTool>> {
        self.read()
            .iter()
            .find(|e| e.tool.name() == name)
            .map(|e| e.tool.clone())
    }

    /// The tool's policy; `None` for a name that is not registered.
    pub fn policy(&self, name: &str) -> Option<Policy> {
        self.read()
            .iter()
            .find(|e| e.tool.name() == name)
            .map(|e| e.policy)
    }

    /// Every tool's name and policy, in order.
    pub fn policies(&self) -> Vec<(String, Policy)> {
        self.read()
            .iter()
            .map(|e| (e.tool.name().to_owned(), e.policy))
            .collect()
    }

    pub fn names(&self) -> Vec<String> {
        self.read()
            .iter()
            .map(|e| e.tool.name().to_owned())
            .collect()
    }

    /// The tools offered to the model: every one whose policy is not `never`, in the order
    /// they were added (the built-ins first, so their part of the prompt never moves).
    pub fn offered(&self) -> Vec<ToolSpec> {
        self.read()
            .iter()
            .filter(|e| e.policy != Policy::Never && !e.hidden)
            .map(|e| e.spec.clone())
            .collect()
    }

    /// Whether `name` is a registered tool that only reads.
    pub fn read_only(&self, name: &str) -> bool {
        self.get(name).is_some_and(|t| t.read_only())
    }

    /// The model's call, checked the way the agent's gate checks it: a known tool, not
    /// disabled, arguments that are a JSON object and that the tool can read. The error is
    /// the call's result.
    pub fn parse(&self, name: &str, raw_args: &str) -> Result<Call, String> {
        let Some((tool, policy)) = self
            .read()
            .iter()
            .find(|e| e.tool.name() == name)
            .map(|e| (e.tool.clone(), e.policy))
        else {
            return Err(format!(
                "there is no tool named `{name}`; the tools are: {}",
                self.names().join(", ")
            ));
        };
        if policy == Policy::Never {
            return Err(format!("the tool `{name}` is disabled in this workspace"));
        }
        let args = parse_args(raw_args).map_err(|e| {
            format!("error: {e}. Call `{name}` again with a JSON object of arguments.")
        })?;
        Call::parse(tool, args)
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Vec<Entry>> {
        // a panic while holding the lock leaves the list as it was: still usable
        self.entries.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Vec<Entry>> {
        self.entries.write().unwrap_or_else(|p| p.into_inner())
    }
}

/// Parses the model's argument text. Empty means `{}`; anything that is not a JSON
/// object is an error the model can act on.
pub fn parse_args(raw: &str) -> Result<Value, String> {
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return Ok(Value::Object(Default::default()));
    }
    match serde_json::from_str::<Value>(trimmed) {
        Ok(v @ Value::Object(_)) => Ok(v),
        Ok(other) => Err(format!(
            "the arguments must be a JSON object, got {}",
            kind(&other)
        )),
        Err(e) if e.is_eof() => Err(format!("the arguments are cut off (incomplete JSON: {e})")),
        Err(e) => Err(format!("the arguments are not valid JSON ({e})")),
    }
}

/// What a file-changing call was previewed as, kept by the agent while the user decides.
#[derive(Debug, Clone, Default)]
pub struct Previewed {
    /// Each file byte for byte as the preview read it and would leave it (the request's
    /// `changes` share this text): an approved call is checked against it.
    pub files: Vec<FileChange>,
    /// `write_file` / `edit_file`: the tool's result once `files` are written. An approved
    /// call whose file still holds what the preview read is written from here
    /// (`write_previewed`), not read and computed again.
    pub result: Option<String>,
    /// The preview showed the call cannot succeed (`old_string` not found, a patch that
    /// does not apply): the agent tells the model without asking the user.
    pub fails: Option<String>,
}

/// What the approval queue shows for a call, and the preview it was made from. The
/// preview reads files: call it on the blocking pool.
pub fn describe_call(
    ctx: &ToolContext,
    call_id: &str,
    call: &Call,
    raw_args: &str,
) -> (ApprovalRequest, Previewed) {
    super::isolate::fault_point("preview");
    let approval = call.approval();
    let mut req = ApprovalRequest {
        call_id: call_id.to_owned(),
        tool: call.name().to_owned(),
        kind: approval.kind,
        arguments: raw_args.to_owned(),
        edit_text: approval
            .edit_text
            .unwrap_or_else(|| pretty_arguments(raw_args)),
        summary: approval.summary.unwrap_or_else(|| one_line(raw_args, 120)),
        danger: approval.danger,
        session_prefix: approval.session_prefix,
        changes: Vec::new(),
    };
    let mut previewed = Previewed::default();
    if let Some(preview) = call.preview(ctx) {
        match preview {
            Ok(p) => {
                req.summary = p
                    .files
                    .iter()
                    .map(|c| change_summary(ctx, c))
                    .collect::<Vec<_>>()
                    .join(", ");
                // the same bytes, not copies: a 200 MB file is held once
                req.changes = p.files.iter().map(|c| proposed(ctx, c)).collect();
                previewed = Previewed {
                    files: p.files,
                    result: p.result,
                    fails: None,
                };
            }
            Err(e) => {
                let target = call.writes().into_iter().next().unwrap_or_default();
                req.summary = format!("{} (will fail: {e})", shown_path(&target));
                previewed.fails = Some(e);
            }
        }
        if req.danger.is_none() {
            req.danger = protected::protected_target(ctx, &call.writes());
        }
    }
    if req.danger.is_none() {
        req.danger = protected::denied_read(ctx, &call.reads());
    }
    (req, previewed)
}

/// The arguments as the edit box shows them: indented JSON, else as they came.
fn pretty_arguments(raw: &str) -> String {
    serde_json::from_str::<Value>(raw)
        .ok()
        .and_then(|v| serde_json::to_string_pretty(&v).ok())
        .unwrap_or_else(|| raw.to_owned())
}

/// Writes an approved `write_file` / `edit_file` preview as it is, on the blocking pool
/// like `execute`. The caller has checked that the file still holds what the preview read;
/// `None` for a preview that is not such a write (run the call with `execute`).
pub async fn write_previewed(ctx: &ToolContext, previewed: Previewed) -> Option<ToolOutput> {
    let summary = previewed.result?;
    let [change] = <[FileChange; 1]>::try_from(previewed.files).ok()?;
    let ctx = ctx.clone();
    let planned = fs::Planned { change, summary };
    Some(
        super::isolate::blocking(move || {
            super::isolate::fault_point("tool");
            fs::write_planned(&ctx, planned)
        })
        .await
        .unwrap_or_else(|p| {
            ToolOutput::error(super::isolate::internal_error("running this tool", &p))
        }),
    )
}

/// A call's result as the agent records it: a typed error becomes an error output.
pub fn into_output(r: RunResult) -> ToolOutput {
    match r {
        Ok(out) => out,
        Err(ToolError::Tell(e) | ToolError::Fatal(e)) => ToolOutput::error(e),
    }
}

/// The part of a shell command that "allow for this session" remembers: the program,
/// and for tools driven by subcommands the subcommand too (`cargo test`, `git status`),
/// read by the shell lexer the policy uses (`shell_policy::session_prefix`).
pub fn command_prefix(cmd: &str) -> String {
    super::shell_policy::session_prefix(cmd)
}

pub fn relative(ctx: &ToolContext, path: &std::path::Path) -> String {
    path.strip_prefix(&ctx.root)
        .unwrap_or(path)
        .display()
        .to_string()
}

/// The change as the queue, the diff pane and the card show it: the file's own bytes when
/// they are UTF-8 (shared, not copied), else a lossy copy.
pub fn proposed(ctx: &ToolContext, c: &FileChange) -> ProposedChange {
    let text = |b: &Option<std::sync::Arc<[u8]>>| {
        b.as_ref().map(|b| {
            crate::domain::shared::text(b)
                .unwrap_or_else(|| String::from_utf8_lossy(b).into_owned().into())
        })
    };
    ProposedChange {
        path: relative(ctx, &c.path),
        old: text(&c.old),
        new: text(&c.new),
    }
}

/// `src/a.rs +3 -1`, `new.rs (new) +10`, `old.rs (deleted) -7`.
pub fn change_summary(ctx: &ToolContext, c: &FileChange) -> String {
    fn as_text(b: &Option<std::sync::Arc<[u8]>>) -> std::borrow::Cow<'_, str> {
        b.as_deref()
            .map(String::from_utf8_lossy)
            .unwrap_or_default()
    }
    let (old, new) = (as_text(&c.old), as_text(&c.new));
    let (add, del) = crate::domain::patch::line_counts(&old, &new);
    let tag = match (&c.old, &c.new) {
        (None, _) => " (new)",
        (_, None) => " (deleted)",
        _ => "",
    };
    format!("{}{tag} +{add} -{del}", shown_path(&relative(ctx, &c.path)))
}

/// The first line of `s`, cut at `max` characters (`…` where cut or where more lines follow).
pub(crate) fn one_line(s: &str, max: usize) -> String {
    let first = s.lines().next().unwrap_or("");
    let more = if s.lines().count() > 1 { " …" } else { "" };
    if first.chars().count() > max {
        format!("{}…", first.chars().take(max).collect::<String>())
    } else {
        format!("{first}{more}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_malformed_truncated_or_wrong_type() {
        assert!(parse_args("").is_ok());
        assert!(parse_args("{\"path\": \"a\"}").is_ok());
        assert!(
            parse_args("{\"path\": \"a")
                .unwrap_err()
                .contains("cut off")
        );
        assert!(
            parse_args("{path: a}")
                .unwrap_err()
                .contains("not valid JSON")
        );
        assert!(parse_args("[1,2]").unwrap_err().contains("an array"));
        assert!(
            parse_args("\"just text\"")
                .unwrap_err()
                .contains("a string")
        );
    }

    #[test]
    fn session_prefixes() {
        assert_eq!(command_prefix("cargo test --all"), "cargo test");
        assert_eq!(command_prefix("ls -la"), "ls");
        assert_eq!(command_prefix("  git   status "), "git status");
        assert_eq!(command_prefix("python3 script.py"), "python3");
        assert_eq!(command_prefix(""), "");
    }
}
