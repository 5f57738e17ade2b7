//! The ten built-in tools as [`Tool`]s: each is its schema (`schema.rs`), its typed
//! arguments (`args.rs`, `shell::ShellArgs`, `patch::PatchArgs`) and the code in `fs`,
//! `patch`, `shell` and `git` that does the work.

use std::sync::Arc;

use futures_util::future::BoxFuture;
use serde_json::Value;

use super::args::{self, EditArgs, ListArgs, ReadArgs, SearchArgs, WriteArgs};
use super::context::{ToolContext, ToolOutput};
use super::patch::PatchArgs;
use super::registry::one_line;
use super::shell::ShellArgs;
use super::tool::{Approval, Call, Preview, RunResult, Tool, Turn};
use super::{fs, isolate, patch, schema, shell};
use crate::domain::conversation::ToolSpec;
use crate::protocol::ApprovalKind;

/// Every built-in tool, in the order they are offered to the model.
pub fn all() -> Vec<Arc<dyn super::tool::DynTool>> {
    vec![
        Arc::new(ReadFile),
        Arc::new(ListFiles),
        Arc::new(Search),
        Arc::new(WriteFile),
        Arc::new(EditFile),
        Arc::new(ApplyPatch),
        Arc::new(Shell),
        Arc::new(GitStatus),
        Arc::new(GitDiff),
        Arc::new(GitCommit),
    ]
}

/// A built-in call by name with its JSON arguments (for code that has no registry at hand).
pub fn parse(name: &str, args: Value) -> Result<Call, String> {
    let tool = all()
        .into_iter()
        .find(|t| t.name() == name)
        .ok_or_else(|| format!("`{name}` is not a built-in tool"))?;
    Call::parse(tool, args)
}

/// Runs `f` on the blocking pool (file system and git work must not stall the agent's
/// task); a panic in it becomes an error result.
fn blocking<A: Send + Sync + 'static>(
    ctx: &ToolContext,
    args: Arc<A>,
    f: impl FnOnce(&ToolContext, &A) -> ToolOutput + Send + 'static,
) -> BoxFuture<'static, RunResult> {
    let ctx = ctx.clone();
    Box::pin(async move {
        Ok(isolate::blocking(move || {
            isolate::fault_point("tool");
            f(&ctx, &args)
        })
        .await
        .unwrap_or_else(|p| ToolOutput::error(isolate::internal_error("running this tool", &p))))
    })
}

fn output(r: Result<String, String>) -> ToolOutput {
    match r {
        Ok(text) => ToolOutput::ok(text),
        Err(e) => ToolOutput::error(e),
    }
}

fn git_output(r: Result<String, crate::git::GitError>) -> ToolOutput {
    output(r.map_err(|e| e.to_string()))
}

/// A one-file change whose whole new content the user may write in `$EDITOR`.
fn one_file() -> Approval {
    Approval {
        kind: ApprovalKind::Files { in_editor: true },
        ..Approval::default()
    }
}

/// The call that writes `content` to `path` (`e` in `$EDITOR` on a write or an edit).
fn write_content(path: &str, content: String) -> Call {
    Call::new(
        Arc::new(WriteFile),
        WriteArgs {
            path: path.to_owned(),
            content,
        },
    )
}

pub struct ReadFile;

impl Tool for ReadFile {
    type Args = ReadArgs;

    fn name(&self) -> &str {
        "read_file"
    }

    fn spec(&self) -> ToolSpec {
        schema::builtin(self.name())
    }

    fn read_only(&self) -> bool {
        true
    }

    fn parse(&self, args: Value) -> Result<ReadArgs, String> {
        args::read(args)
    }

    fn reads(&self, args: &ReadArgs) -> Vec<String> {
        vec![args.path.clone()]
    }

    fn run(
        &self,
        ctx: &ToolContext,
        args: Arc<ReadArgs>,
        _: &Turn,
    ) -> BoxFuture<'static, RunResult> {
        blocking(ctx, args, |ctx, a| output(fs::read(ctx, a)))
    }
}

pub struct ListFiles;

impl Tool for ListFiles {
    type Args = ListArgs;

    fn name(&self) -> &str {
        "list_files"
    }

    fn spec(&self) -> ToolSpec {
        schema::builtin(self.name())
    }

    fn read_only(&self) -> bool {
        true
    }

    fn parse(&self, args: Value) -> Result<ListArgs, String> {
        args::list(args)
    }

    fn run(
        &self,
        ctx: &ToolContext,
        args: Arc<ListArgs>,
        _: &Turn,
    ) -> BoxFuture<'static, RunResult> {
        blocking(ctx, args, |ctx, a| output(fs::list(ctx, a)))
    }
}

pub struct Search;

impl Tool for Search {
    type Args = SearchArgs;

    fn name(&self) -> &str {
        "search"
    }

    fn spec(&self) -> ToolSpec {
        schema::builtin(self.name())
    }

    fn read_only(&self) -> bool {
        true
    }

    fn parse(&self, args: Value) -> Result<SearchArgs, String> {
        args::search(args)
    }

    fn run(
        &self,
        ctx: &ToolContext,
        args: Arc<SearchArgs>,
        _: &Turn,
    ) -> BoxFuture<'static, RunResult> {
        // (a search also ends when the user presses Esc: the agent stops waiting for it,
        // and its time limit ends the work itself)
        blocking(ctx, args, |ctx, a| output(fs::find(ctx, a)))
    }
}

pub struct WriteFile;

impl Tool for WriteFile {
    type Args = WriteArgs;

    fn name(&self) -> &str {
        "write_file"
    }

    fn spec(&self) -> ToolSpec {
        schema::builtin(self.name())
    }

    fn read_only(&self) -> bool {
        false
    }

    fn parse(&self, args: Value) -> Result<WriteArgs, String> {
        args::write(args)
    }

    fn approval(&self, _: &WriteArgs) -> Approval {
        one_file()
    }

    fn writes(&self, args: &WriteArgs) -> Vec<String> {
        vec![args.path.clone()]
    }

    fn preview(&self, ctx: &ToolContext, args: &WriteArgs) -> Option<Result<Preview, String>> {
        Some(fs::plan_write(ctx, args).map(|p| Preview {
            files: vec![p.change],
            result: Some(p.summary),
        }))
    }

    fn with_content(&self, args: &WriteArgs, content: String) -> Option<Call> {
        Some(write_content(&args.path, content))
    }

    fn run(
        &self,
        ctx: &ToolContext,
        args: Arc<WriteArgs>,
        _: &Turn,
    ) -> BoxFuture<'static, RunResult> {
        blocking(ctx, args, |ctx, a| match fs::plan_write(ctx, a) {
            Ok(p) => fs::write_planned(ctx, p),
            Err(e) => ToolOutput::error(e),
        })
    }
}

pub struct EditFile;

impl Tool for EditFile {
    type Args = EditArgs;

    fn name(&self) -> &str {
        "edit_file"
    }

    fn spec(&self) -> ToolSpec {
        schema::builtin(self.name())
    }

    fn read_only(&self) -> bool {
        false
    }

    fn parse(&self, args: Value) -> Result<EditArgs, String> {
        args::edit(args)
    }

    fn approval(&self, _: &EditArgs) -> Approval {
        one_file()
    }

    fn writes(&self, args: &EditArgs) -> Vec<String> {
        vec![args.path.clone()]
    }

    fn preview(&self, ctx: &ToolContext, args: &EditArgs) -> Option<Result<Preview, String>> {
        Some(fs::plan_edit(ctx, args).map(|p| Preview {
            files: vec![p.change],
            result: Some(p.summary),
        }))
    }

    fn with_content(&self, args: &EditArgs, content: String) -> Option<Call> {
        Some(write_content(&args.path, content))
    }

    fn run(
        &self,
        ctx: &ToolContext,
        args: Arc<EditArgs>,
        _: &Turn,
    ) -> BoxFuture<'static, RunResult> {
        blocking(ctx, args, |ctx, a| match fs::plan_edit(ctx, a) {
            Ok(p) => fs::write_planned(ctx, p),
            Err(e) => ToolOutput::error(e),
        })
    }
}

pub struct ApplyPatch;

impl Tool for ApplyPatch {
    type Args = PatchArgs;

    fn name(&self) -> &str {
        "apply_patch"
    }

    fn spec(&self) -> ToolSpec {
        schema::builtin(self.name())
    }

    fn read_only(&self) -> bool {
        false
    }

    fn parse(&self, args: Value) -> Result<PatchArgs, String> {
        patch::parse_args(args)
    }

    fn approval(&self, _: &PatchArgs) -> Approval {
        Approval {
            kind: ApprovalKind::Files { in_editor: false },
            ..Approval::default()
        }
    }

    fn writes(&self, args: &PatchArgs) -> Vec<String> {
        args.paths()
    }

    fn preview(&self, ctx: &ToolContext, args: &PatchArgs) -> Option<Result<Preview, String>> {
        Some(patch::preview_parsed(ctx, args).map(|files| Preview {
            files,
            result: None,
        }))
    }

    fn run(
        &self,
        ctx: &ToolContext,
        args: Arc<PatchArgs>,
        _: &Turn,
    ) -> BoxFuture<'static, RunResult> {
        blocking(ctx, args, patch::apply_parsed)
    }
}

pub struct Shell;

impl Tool for Shell {
    type Args = ShellArgs;

    fn name(&self) -> &str {
        "shell"
    }

    fn spec(&self) -> ToolSpec {
        schema::builtin(self.name())
    }

    fn read_only(&self) -> bool {
        false
    }

    fn abandonable(&self) -> bool {
        // its whole process group is killed
        true
    }

    fn parse(&self, args: Value) -> Result<ShellArgs, String> {
        shell::parse(args)
    }

    fn approval(&self, args: &ShellArgs) -> Approval {
        let cmd = &args.command;
        Approval {
            kind: ApprovalKind::Command(cmd.clone()),
            summary: Some(one_line(cmd, 200)),
            danger: shell::dangerous(cmd).map(str::to_owned),
            session_prefix: Some(super::registry::command_prefix(cmd)),
            edit_text: Some(cmd.clone()),
        }
    }

    fn command<'a>(&self, args: &'a ShellArgs) -> Option<&'a str> {
        Some(&args.command)
    }

    /// The user edits the command line itself.
    fn edited(&self, args: &ShellArgs, text: &str) -> Result<ShellArgs, String> {
        Ok(ShellArgs {
            command: text.trim().to_owned(),
            timeout_secs: args.timeout_secs,
        })
    }

    fn run(
        &self,
        ctx: &ToolContext,
        args: Arc<ShellArgs>,
        _: &Turn,
    ) -> BoxFuture<'static, RunResult> {
        let ctx = ctx.clone();
        Box::pin(async move { Ok(isolate::guarded(shell::run(&ctx, &args)).await) })
    }
}

pub struct GitStatus;

impl Tool for GitStatus {
    type Args = ();

    fn name(&self) -> &str {
        "git_status"
    }

    fn spec(&self) -> ToolSpec {
        schema::builtin(self.name())
    }

    fn read_only(&self) -> bool {
        true
    }

    fn parse(&self, _: Value) -> Result<(), String> {
        Ok(())
    }

    fn run(&self, ctx: &ToolContext, args: Arc<()>, _: &Turn) -> BoxFuture<'static, RunResult> {
        blocking(ctx, args, |ctx, _| {
            git_output(crate::git::status(&ctx.root))
        })
    }
}

/// `git_diff{path?}`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GitDiffArgs {
    pub path: Option<String>,
}

pub struct GitDiff;

impl Tool for GitDiff {
    type Args = GitDiffArgs;

    fn name(&self) -> &str {
        "git_diff"
    }

    fn spec(&self) -> ToolSpec {
        schema::builtin(self.name())
    }

    fn read_only(&self) -> bool {
        true
    }

    fn parse(&self, args: Value) -> Result<GitDiffArgs, String> {
        // a `path` that is not a string is ignored, as it always was
        Ok(GitDiffArgs {
            path: args.get("path").and_then(Value::as_str).map(str::to_owned),
        })
    }

    fn run(
        &self,
        ctx: &ToolContext,
        args: Arc<GitDiffArgs>,
        _: &Turn,
    ) -> BoxFuture<'static, RunResult> {
        blocking(ctx, args, |ctx, a| {
            git_output(crate::git::diff(&ctx.root, a.path.as_deref()))
        })
    }
}

/// `git_commit{message}`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GitCommitArgs {
    pub message: String,
}

pub struct GitCommit;

impl Tool for GitCommit {
    type Args = GitCommitArgs;

    fn name(&self) -> &str {
        "git_commit"
    }

    fn spec(&self) -> ToolSpec {
        schema::builtin(self.name())
    }

    fn read_only(&self) -> bool {
        false
    }

    fn parse(&self, args: Value) -> Result<GitCommitArgs, String> {
        match args.get("message").and_then(Value::as_str) {
            Some(m) => Ok(GitCommitArgs {
                message: m.to_owned(),
            }),
            None => Err("git_commit needs `message` (a string)".to_owned()),
        }
    }

    fn approval(&self, args: &GitCommitArgs) -> Approval {
        Approval {
            kind: ApprovalKind::Commit(args.message.clone()),
            summary: Some(format!("commit: {}", one_line(&args.message, 120))),
            ..Approval::default()
        }
    }

    fn run(
        &self,
        ctx: &ToolContext,
        args: Arc<GitCommitArgs>,
        turn: &Turn,
    ) -> BoxFuture<'static, RunResult> {
        let changed = turn.changed.clone();
        blocking(ctx, args, move |ctx, a| {
            git_output(
                crate::git::commit(&ctx.root, &changed, &a.message)
                    .map(|id| format!("committed {id}: {}", one_line(&a.message, 80))),
            )
        })
    }
}

#[cfg(test)]
mod tests;
