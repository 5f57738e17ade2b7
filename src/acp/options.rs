//! What an editor may choose for a session (its approval mode, its model) and the
//! commands cove offers there, in ACP's shapes.

use serde_json::{Value, json};

use crate::protocol::{ApprovalMode, Op};

/// The modes as ACP's `SessionModeState`.
pub(super) fn modes(current: ApprovalMode) -> Value {
    let available: Vec<Value> = ApprovalMode::ALL
        .iter()
        .map(|m| {
            let (name, description) = mode_words(*m);
            json!({"id": m.id(), "name": name, "description": description})
        })
        .collect();
    json!({"currentModeId": current.id(), "availableModes": available})
}

fn mode_words(m: ApprovalMode) -> (&'static str, &'static str) {
    match m {
        ApprovalMode::Ask => ("Ask", "Every edit, command and commit asks first"),
        ApprovalMode::AcceptEdits => (
            "Accept edits",
            "File edits apply without asking; commands, commits and writes to protected files still ask",
        ),
        ApprovalMode::ReadOnly => (
            "Read only",
            "Only tools that read run; edits and commands are refused",
        ),
    }
}

/// The session's config options: the mode (as well as `modes`, for clients that only know
/// config options) and the model (`[model]` as configured, or one of the profiles).
pub(super) fn config_options(
    mode: ApprovalMode,
    models: &[(String, String)],
    model: &str,
) -> Value {
    let mode_options: Vec<Value> = ApprovalMode::ALL
        .iter()
        .map(|m| {
            let (name, description) = mode_words(*m);
            json!({"value": m.id(), "name": name, "description": description})
        })
        .collect();
    let model_options: Vec<Value> = models
        .iter()
        .map(|(value, name)| json!({"value": value, "name": name}))
        .collect();
    json!([
        {
            "id": "mode",
            "name": "Approvals",
            "category": "mode",
            "type": "select",
            "currentValue": mode.id(),
            "options": mode_options,
        },
        {
            "id": "model",
            "name": "Model",
            "category": "model",
            "type": "select",
            "currentValue": model,
            "options": model_options,
        },
    ])
}

/// How a command's work is known to have ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum CommandEnd {
    /// The agent says `Ready` (work it runs like a turn: compaction).
    Ready,
    /// The agent answers the `Op::ListSessions` sent after it: ops run in order, so
    /// everything the command said came before.
    Barrier,
}

/// The slash commands that make sense in an editor (the editor has its own diff, undo
/// history and pickers for the rest).
const COMMANDS: &[(&str, &str, Option<&str>)] = &[
    (
        "compact",
        "Summarise the older turns now, to free the context window",
        None,
    ),
    ("undo", "Revert the last turn's file changes", None),
    (
        "commit",
        "Commit the files cove changed in this session",
        Some("commit message"),
    ),
    (
        "permissions",
        "List this session's allowances and the configured policy",
        None,
    ),
    ("mcp", "The MCP servers, their state and tools", None),
    (
        "model",
        "Show the model, or switch to a profile or a model of the server",
        Some("profile or model name"),
    ),
];

/// `available_commands_update`'s list.
pub(super) fn available_commands() -> Value {
    let list: Vec<Value> = COMMANDS
        .iter()
        .map(|(name, description, hint)| match hint {
            Some(h) => json!({"name": name, "description": description, "input": {"hint": h}}),
            None => json!({"name": name, "description": description}),
        })
        .collect();
    json!(list)
}

/// A prompt that is one of the commands: the op to send and how its end is seen. `Err`:
/// a command used wrongly, with what to say.
pub(super) fn command(text: &str) -> Option<Result<(Op, CommandEnd), String>> {
    let rest = text.trim().strip_prefix('/')?;
    let (name, arg) = match rest.split_once(char::is_whitespace) {
        Some((n, a)) => (n, a.trim()),
        None => (rest, ""),
    };
    COMMANDS.iter().find(|(n, _, _)| *n == name)?;
    Some(match name {
        "compact" => Ok((Op::Compact, CommandEnd::Ready)),
        "undo" => Ok((Op::Undo, CommandEnd::Barrier)),
        "permissions" => Ok((Op::Permissions, CommandEnd::Barrier)),
        "mcp" => Ok((Op::McpStatus, CommandEnd::Barrier)),
        "commit" if arg.is_empty() => Err("Give the commit message: `/commit MESSAGE`.".into()),
        "commit" => Ok((
            Op::Commit {
                message: arg.to_owned(),
            },
            CommandEnd::Barrier,
        )),
        _ => Ok((
            Op::SwitchModel {
                name: (!arg.is_empty()).then(|| arg.to_owned()),
            },
            CommandEnd::Barrier,
        )),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_are_read_and_others_are_prompts() {
        assert!(matches!(
            command("/compact"),
            Some(Ok((Op::Compact, CommandEnd::Ready)))
        ));
        assert!(matches!(
            command("  /commit  fix the parser "),
            Some(Ok((Op::Commit { message }, CommandEnd::Barrier))) if message == "fix the parser"
        ));
        assert!(matches!(command("/commit"), Some(Err(_))));
        assert!(matches!(
            command("/model small"),
            Some(Ok((Op::SwitchModel { name: Some(n) }, _))) if n == "small"
        ));
        assert!(command("/etc/passwd is odd").is_none());
        assert!(command("please /compact").is_none());
        assert!(command("/").is_none());
    }

    #[test]
    fn every_mode_is_offered_and_named_by_its_id() {
        let m = modes(ApprovalMode::AcceptEdits);
        assert_eq!(m["currentModeId"], "accept-edits");
        assert_eq!(m["availableModes"].as_array().unwrap().len(), 3);
        let o = config_options(
            ApprovalMode::Ask,
            &[("default".into(), "qwen (config)".into())],
            "default",
        );
        assert_eq!(o[0]["currentValue"], "ask");
        assert_eq!(o[1]["options"][0]["value"], "default");
    }
}
