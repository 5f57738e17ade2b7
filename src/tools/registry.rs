//! Dispatch: a tool call by name with the model's raw argument text, checked, described
//! for the approval queue, and run.

use std::path::PathBuf;

use serde_json::Value;

use super::context::json_kind as kind;
use super::context::{FileChange, ToolContext, ToolOutput};
use super::{fs, patch, protected, shell};
use crate::domain::text::shown_path;
use crate::protocol::{ApprovalRequest, ProposedChange};

/// Tools that only read: run without asking unless configured otherwise.
pub fn read_only(tool: &str) -> bool {
    matches!(
        tool,
        "read_file" | "list_files" | "search" | "git_status" | "git_diff"
    )
}

pub fn is_known(tool: &str) -> bool {
    super::BUILTIN_TOOLS.contains(&tool)
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

/// What the approval queue shows for a call, and the preview it was made from.
pub fn describe(
    ctx: &ToolContext,
    call_id: &str,
    tool: &str,
    raw_args: &str,
    args: &Value,
) -> (ApprovalRequest, Previewed) {
    let mut req = ApprovalRequest {
        call_id: call_id.to_owned(),
        tool: tool.to_owned(),
        arguments: raw_args.to_owned(),
        ..Default::default()
    };
    let mut previewed = Previewed::default();
    super::isolate::fault_point("preview");
    let s = |k: &str| args.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
    match tool {
        "write_file" | "edit_file" | "apply_patch" => {
            let preview = if tool == "apply_patch" {
                patch::preview(ctx, args).map(|files| (files, None))
            } else {
                fs::plan(ctx, tool, args).map(|p| (vec![p.change], Some(p.summary)))
            };
            match preview {
                Ok((files, result)) => {
                    req.summary = files
                        .iter()
                        .map(|c| change_summary(ctx, c))
                        .collect::<Vec<_>>()
                        .join(", ");
                    // the same bytes, not copies: a 200 MB file is held once
                    req.changes = files.iter().map(|c| proposed(ctx, c)).collect();
                    previewed = Previewed {
                        files,
                        result,
                        fails: None,
                    };
                }
                Err(e) => {
                    req.summary = format!("{} (will fail: {e})", shown_path(&s("path")));
                    previewed.fails = Some(e);
                }
            }
            req.danger = protected::protected_write(ctx, tool, args);
        }
        "shell" => {
            let cmd = s("command");
            req.danger = shell::dangerous(&cmd).map(str::to_owned);
            req.session_prefix = Some(command_prefix(&cmd));
            req.summary = one_line(&cmd, 200);
        }
        "git_commit" => req.summary = format!("commit: {}", one_line(&s("message"), 120)),
        _ => req.summary = one_line(raw_args, 120),
    }
    (req, previewed)
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

/// Runs a call. `turn_changes` are the files cove changed in this turn (for git_commit).
///
/// File work runs on the blocking pool (a 200 MB edit must not stall the agent's task) and
/// a panic anywhere in a tool becomes an error result.
pub async fn execute(
    ctx: &ToolContext,
    tool: &str,
    args: &Value,
    turn_changes: &[PathBuf],
) -> ToolOutput {
    if tool == "shell" {
        return super::isolate::guarded(shell::shell(ctx, args)).await;
    }
    let (ctx, tool, args, turn_changes) = (
        ctx.clone(),
        tool.to_owned(),
        args.clone(),
        turn_changes.to_vec(),
    );
    super::isolate::blocking(move || execute_blocking(&ctx, &tool, &args, &turn_changes))
        .await
        .unwrap_or_else(|p| {
            ToolOutput::error(super::isolate::internal_error("running this tool", &p))
        })
}

/// Every tool but `shell`, synchronously.
fn execute_blocking(
    ctx: &ToolContext,
    tool: &str,
    args: &Value,
    turn_changes: &[PathBuf],
) -> ToolOutput {
    super::isolate::fault_point("tool");
    if let Some(out) = execute_read_only(ctx, tool, args) {
        return out;
    }
    match tool {
        "write_file" => fs::write_file(ctx, args),
        "edit_file" => fs::edit_file(ctx, args),
        "apply_patch" => patch::apply_patch(ctx, args),
        "git_commit" => match args.get("message").and_then(Value::as_str) {
            Some(msg) => git_result(
                crate::git::commit(&ctx.root, turn_changes, msg)
                    .map(|id| format!("committed {id}: {}", one_line(msg, 80))),
            ),
            None => ToolOutput::error("git_commit needs `message` (a string)"),
        },
        other => ToolOutput::error(format!(
            "there is no tool named `{other}`; the tools are: {}",
            super::BUILTIN_TOOLS.join(", ")
        )),
    }
}

/// Runs a read-only call (blocking: file system or git); `None` for other tools. Read-only
/// calls change nothing, so several can run at once.
pub fn execute_read_only(ctx: &ToolContext, tool: &str, args: &Value) -> Option<ToolOutput> {
    Some(match tool {
        "read_file" => fs::read_file(ctx, args),
        "list_files" => fs::list_files(ctx, args),
        "search" => fs::search(ctx, args),
        "git_status" => git_result(crate::git::status(&ctx.root)),
        "git_diff" => git_result(crate::git::diff(
            &ctx.root,
            args.get("path").and_then(Value::as_str),
        )),
        _ => return None,
    })
}

fn git_result(r: Result<String, crate::git::GitError>) -> ToolOutput {
    match r {
        Ok(text) => ToolOutput::ok(text),
        Err(e) => ToolOutput::error(e.to_string()),
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

fn one_line(s: &str, max: usize) -> String {
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
