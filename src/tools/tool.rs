//! The Tool trait: what cove needs to know of a tool to offer it, gate a call, put it to the
//! user and run it. Built-in tools, custom command tools and MCP tools implement it alike,
//! so approval, journaling, sandboxing and the live diff treat them the same way.
//!
//! A tool is written against typed arguments ([`Tool::Args`]): the model's JSON is parsed
//! once, when the call is gated, and every later step (approval, preview, run) gets the
//! typed value. The registry holds tools as `Arc<dyn DynTool>`: [`DynTool`] is implemented
//! for every [`Tool`] and carries the arguments as `Arc<dyn Any>` between the steps, inside
//! a [`Call`].

use std::any::Any;
use std::path::PathBuf;
use std::sync::Arc;

use futures_util::future::BoxFuture;
use serde_json::Value;

use super::context::{FileChange, ToolContext, ToolOutput};
use crate::domain::conversation::ToolSpec;
use crate::protocol::ApprovalKind;

/// How a call failed when it did not produce an output.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ToolError {
    /// Something the model can act on (a bad path, a command that could not start): the
    /// text is the call's result and the turn goes on. The same as an output with
    /// `is_error`.
    #[error("{0}")]
    Tell(String),
    /// The turn cannot usefully go on (the tool's server went away, its process cannot be
    /// started at all): the model gets the text as the call's result, the calls after it
    /// are not run, and the turn ends with the text shown to the user.
    #[error("{0}")]
    Fatal(String),
}

/// What the approval queue shows of a call, as the tool describes it. The registry fills
/// in what it can compute for any tool (the summary from a preview, the arguments).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Approval {
    pub kind: ApprovalKind,
    /// One line; `None`: the registry summarises (the change's files and counts for a tool
    /// with a preview, else the arguments' first line).
    pub summary: Option<String>,
    /// Why the call is dangerous (it always asks, and is never approved in a batch).
    pub danger: Option<String>,
    /// For `a`: the command prefix that would run without asking for the session.
    pub session_prefix: Option<String>,
    /// The text `e` opens for editing; `None`: the arguments as pretty JSON.
    pub edit_text: Option<String>,
}

/// A change a call would make, computed without making it.
#[derive(Debug, Clone, Default)]
pub struct Preview {
    /// Each file byte for byte as the preview read it and would leave it.
    pub files: Vec<FileChange>,
    /// The call's result once exactly `files` are written, when writing them is all the
    /// call does (`write_file`, `edit_file`): an approved call whose file is unchanged
    /// since is then written from the preview instead of computed again.
    pub result: Option<String>,
}

/// What a running call may know of its turn.
#[derive(Debug, Clone, Default)]
pub struct Turn {
    /// The files cove changed in this turn so far (`git_commit` commits exactly these).
    pub changed: Vec<PathBuf>,
}

/// A result or a typed error, as a running tool returns it.
pub type RunResult = Result<ToolOutput, ToolError>;

/// A tool the model may call. Implement this; the registry holds it as [`DynTool`].
pub trait Tool: Send + Sync + 'static {
    /// The call's arguments, parsed once when the call is gated.
    type Args: Send + Sync + 'static;

    /// The name the model calls it by (also the key of its policy and its allowance).
    fn name(&self) -> &str;

    /// Name, description and JSON schema of the arguments, as offered to the model.
    fn spec(&self) -> ToolSpec;

    /// Whether it only reads: such calls of one reply run together, and Esc abandons them.
    fn read_only(&self) -> bool;

    /// Reads the model's arguments (always a JSON object; the registry checks that) into
    /// [`Tool::Args`]. The error is the call's result: say what is wrong and how to call it.
    fn parse(&self, args: Value) -> Result<Self::Args, String>;

    /// What the approval queue shows (see [`Approval`]); the default: an ordinary call
    /// summarised by the registry.
    fn approval(&self, _args: &Self::Args) -> Approval {
        Approval::default()
    }

    /// The paths the call writes, as the model wrote them: a write to a protected path
    /// (`.git/`, `.cove/`, secrets) always asks.
    fn writes(&self, _args: &Self::Args) -> Vec<String> {
        Vec::new()
    }

    /// The files the call reads whole, as the model wrote them: reading a secret-looking
    /// file or one in `[guard] deny_read` asks first, even for a read-only tool.
    fn reads(&self, _args: &Self::Args) -> Vec<String> {
        Vec::new()
    }

    /// The command line the call hands to `sh -c`, when that is what it does: the shell
    /// patterns, the danger check and session prefixes apply to it.
    fn command<'a>(&self, _args: &'a Self::Args) -> Option<&'a str> {
        None
    }

    /// The change the call would make, without making it (`None`: the tool changes no
    /// files it can show). The error is the one the call itself would fail with.
    fn preview(&self, _ctx: &ToolContext, _args: &Self::Args) -> Option<Result<Preview, String>> {
        None
    }

    /// Whether Esc may drop the call while it runs (reads, processes that are killed with
    /// their group). File writes are let finish, so no change goes unrecorded.
    fn abandonable(&self) -> bool {
        self.read_only()
    }

    /// The arguments after the user edited the text `e` opened ([`Approval::edit_text`]);
    /// by default that text is the arguments as JSON.
    fn edited(&self, _args: &Self::Args, text: &str) -> Result<Self::Args, String> {
        self.parse(super::registry::parse_args(text)?)
    }

    /// For `e` in `$EDITOR` on a one-file change: the call that writes `content` to that
    /// file instead of the model's change. `None`: not offered.
    fn with_content(&self, _args: &Self::Args, _content: String) -> Option<Call> {
        None
    }

    /// Runs the call. Blocking work belongs on the blocking pool
    /// ([`super::isolate::blocking`]); a dropped future must stop what it started.
    fn run(
        &self,
        ctx: &ToolContext,
        args: Arc<Self::Args>,
        turn: &Turn,
    ) -> BoxFuture<'static, RunResult>;
}

/// Type-erased arguments of a [`Call`].
pub type AnyArgs = Arc<dyn Any + Send + Sync>;

/// A [`Tool`] as the registry holds it: the same methods, with the arguments erased.
/// Implemented for every `Tool`; implement `Tool`, not this.
pub trait DynTool: Send + Sync {
    fn name(&self) -> &str;
    fn spec(&self) -> ToolSpec;
    fn read_only(&self) -> bool;
    fn abandonable(&self) -> bool;
    fn parse_any(&self, args: Value) -> Result<AnyArgs, String>;
    fn approval_any(&self, args: &AnyArgs) -> Approval;
    fn writes_any(&self, args: &AnyArgs) -> Vec<String>;
    fn reads_any(&self, args: &AnyArgs) -> Vec<String>;
    fn command_any<'a>(&self, args: &'a AnyArgs) -> Option<&'a str>;
    fn preview_any(&self, ctx: &ToolContext, args: &AnyArgs) -> Option<Result<Preview, String>>;
    fn edited_any(&self, args: &AnyArgs, text: &str) -> Result<AnyArgs, String>;
    fn with_content_any(&self, args: &AnyArgs, content: String) -> Option<Call>;
    fn run_any(
        &self,
        ctx: &ToolContext,
        args: AnyArgs,
        turn: &Turn,
    ) -> BoxFuture<'static, RunResult>;
}

/// Arguments that do not belong to the tool: only a bug in cove pairs them so.
fn mismatch(tool: &str) -> String {
    super::isolate::internal_error(
        "running this tool",
        &format!("the arguments given to `{tool}` are of another tool"),
    )
}

impl<T: Tool> DynTool for T {
    fn name(&self) -> &str {
        Tool::name(self)
    }

    fn spec(&self) -> ToolSpec {
        Tool::spec(self)
    }

    fn read_only(&self) -> bool {
        Tool::read_only(self)
    }

    fn abandonable(&self) -> bool {
        Tool::abandonable(self)
    }

    fn parse_any(&self, args: Value) -> Result<AnyArgs, String> {
        Ok(Arc::new(self.parse(args)?))
    }

    fn approval_any(&self, args: &AnyArgs) -> Approval {
        args.downcast_ref::<T::Args>()
            .map(|a| self.approval(a))
            .unwrap_or_default()
    }

    fn writes_any(&self, args: &AnyArgs) -> Vec<String> {
        args.downcast_ref::<T::Args>()
            .map(|a| self.writes(a))
            .unwrap_or_default()
    }

    fn reads_any(&self, args: &AnyArgs) -> Vec<String> {
        args.downcast_ref::<T::Args>()
            .map(|a| self.reads(a))
            .unwrap_or_default()
    }

    fn command_any<'a>(&self, args: &'a AnyArgs) -> Option<&'a str> {
        self.command(args.downcast_ref::<T::Args>()?)
    }

    fn preview_any(&self, ctx: &ToolContext, args: &AnyArgs) -> Option<Result<Preview, String>> {
        match args.downcast_ref::<T::Args>() {
            Some(a) => self.preview(ctx, a),
            None => Some(Err(mismatch(Tool::name(self)))),
        }
    }

    fn edited_any(&self, args: &AnyArgs, text: &str) -> Result<AnyArgs, String> {
        let a = args
            .downcast_ref::<T::Args>()
            .ok_or_else(|| mismatch(Tool::name(self)))?;
        Ok(Arc::new(self.edited(a, text)?))
    }

    fn with_content_any(&self, args: &AnyArgs, content: String) -> Option<Call> {
        self.with_content(args.downcast_ref::<T::Args>()?, content)
    }

    fn run_any(
        &self,
        ctx: &ToolContext,
        args: AnyArgs,
        turn: &Turn,
    ) -> BoxFuture<'static, RunResult> {
        match args.downcast::<T::Args>() {
            Ok(a) => self.run(ctx, a, turn),
            Err(_) => {
                let e = mismatch(Tool::name(self));
                Box::pin(async move { Err(ToolError::Tell(e)) })
            }
        }
    }
}

/// A call whose arguments parsed: the tool and its typed arguments. Cheap to clone.
#[derive(Clone)]
pub struct Call {
    tool: Arc<dyn DynTool>,
    args: AnyArgs,
}

impl std::fmt::Debug for Call {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Call")
            .field("tool", &self.name())
            .finish_non_exhaustive()
    }
}

impl Call {
    /// A call of `tool` with arguments already typed (e.g. a call a tool makes of another,
    /// [`Tool::with_content`]).
    pub fn new<T: Tool>(tool: Arc<T>, args: T::Args) -> Call {
        Call {
            tool,
            args: Arc::new(args),
        }
    }

    /// Parses `args` for `tool`.
    pub fn parse(tool: Arc<dyn DynTool>, args: Value) -> Result<Call, String> {
        let args = tool.parse_any(args)?;
        Ok(Call { tool, args })
    }

    pub fn name(&self) -> &str {
        self.tool.name()
    }

    pub fn read_only(&self) -> bool {
        self.tool.read_only()
    }

    pub fn abandonable(&self) -> bool {
        self.tool.abandonable()
    }

    pub fn approval(&self) -> Approval {
        self.tool.approval_any(&self.args)
    }

    pub fn writes(&self) -> Vec<String> {
        self.tool.writes_any(&self.args)
    }

    pub fn reads(&self) -> Vec<String> {
        self.tool.reads_any(&self.args)
    }

    pub fn command(&self) -> Option<&str> {
        self.tool.command_any(&self.args)
    }

    pub fn preview(&self, ctx: &ToolContext) -> Option<Result<Preview, String>> {
        self.tool.preview_any(ctx, &self.args)
    }

    /// The same tool with the arguments the user edited.
    pub fn edited(&self, text: &str) -> Result<Call, String> {
        Ok(Call {
            tool: self.tool.clone(),
            args: self.tool.edited_any(&self.args, text)?,
        })
    }

    pub fn with_content(&self, content: String) -> Option<Call> {
        self.tool.with_content_any(&self.args, content)
    }

    /// Runs the call; a panic in the tool becomes an error result.
    pub fn run(&self, ctx: &ToolContext, turn: &Turn) -> BoxFuture<'static, RunResult> {
        let fut = self.tool.run_any(ctx, self.args.clone(), turn);
        Box::pin(async move {
            use futures_util::FutureExt;
            match std::panic::AssertUnwindSafe(fut).catch_unwind().await {
                Ok(r) => r,
                Err(p) => Err(ToolError::Tell(super::isolate::internal_error(
                    "running this tool",
                    &super::isolate::panic_message(p),
                ))),
            }
        })
    }
}
