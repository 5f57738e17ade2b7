//! Slash commands typed in the composer.

use super::msg::Command;
use super::state::{Activity, AgentWork, Overlay, State};
use crate::protocol::Op;

pub const COMMANDS: &[(&str, &str)] = &[
    ("/help", "every key and command"),
    (
        "/clear",
        "start a new session (this one stays in its journal)",
    ),
    (
        "/model",
        "the model in use and the profiles; /model NAME switches profile (or model)",
    ),
    (
        "/compact",
        "summarise the older turns now to free context (the journal keeps everything)",
    ),
    (
        "/undo",
        "revert the file changes of the last turn that made any (repeat to go further back)",
    ),
    (
        "/diff",
        "everything cove changed this session, file by file (d in the chat: one tool call's change)",
    ),
    (
        "/commit",
        "commit cove's changes: /commit MESSAGE, or /commit alone to have the model write it",
    ),
    ("/image", "attach an image file: /image PATH"),
    ("/screenshot", "take a screenshot and attach it"),
    ("/sessions", "this workspace's sessions; Enter resumes one"),
    (
        "/export",
        "write this session as Markdown: /export [PATH] (default cove-session-ID.md)",
    ),
    (
        "/permissions",
        "list what was allowed for this session; `/permissions revoke N|all` takes it back",
    ),
    (
        "/mcp",
        "the MCP servers of this session: state, tools, why one is down",
    ),
    (
        "/ledger",
        "what this session sent to model servers (privacy ledger): bytes, tokens, redactions",
    ),
    ("/quit", "leave cove"),
];

/// Handles `text` if it is a slash command; false when it is an ordinary message.
pub fn run(s: &mut State, text: &str, cmds: &mut Vec<Command>) -> bool {
    let trimmed = text.trim();
    if !trimmed.starts_with('/') || trimmed.starts_with("//") {
        return false;
    }
    let mut words = trimmed.split_whitespace();
    let name = words.next().unwrap_or("");
    let rest: Vec<&str> = words.collect();
    let needs_idle = matches!(
        name,
        "/undo"
            | "/permissions"
            | "/clear"
            | "/model"
            | "/compact"
            | "/commit"
            | "/sessions"
            | "/export"
            | "/diff"
    );
    if needs_idle && s.is_running() {
        s.flash(format!("{name} waits until the reply has finished"));
        return true;
    }
    match (name, rest.as_slice()) {
        ("/undo", []) => {
            // what the pane showed of the changes being undone is no longer true
            s.diff.shown = None;
            cmds.push(Command::Agent(Op::Undo));
        }
        ("/permissions", []) => cmds.push(Command::Agent(Op::Permissions)),
        ("/mcp", []) => cmds.push(Command::Agent(Op::McpStatus)),
        ("/ledger", []) => cmds.push(Command::Agent(Op::Ledger)),
        ("/permissions", ["revoke", "all"]) => cmds.push(Command::Agent(Op::Revoke { which: None })),
        ("/permissions", ["revoke", n]) => match n.parse::<usize>() {
            Ok(n) => cmds.push(Command::Agent(Op::Revoke { which: Some(n) })),
            Err(_) => s.flash("Usage: /permissions revoke N (a number from /permissions) or /permissions revoke all"),
        },
        ("/diff", _) => cmds.push(Command::Agent(Op::SessionDiff)),
        ("/clear", _) => {
            s.activity = Activity::Agent(AgentWork::NewSession);
            cmds.push(Command::Agent(Op::NewSession));
        }
        ("/model", []) => cmds.push(Command::Agent(Op::SwitchModel { name: None })),
        ("/model", [name]) => cmds.push(Command::Agent(Op::SwitchModel {
            name: Some((*name).to_owned()),
        })),
        ("/model", _) => s.flash("Usage: /model [NAME]"),
        ("/compact", _) => {
            s.activity = Activity::Agent(AgentWork::Compacting);
            s.flash("Compacting the conversation… (Esc stops)");
            cmds.push(Command::Agent(Op::Compact));
        }
        ("/commit", []) => {
            // the session's uncommitted changes, with a message the model writes (Esc stops)
            s.activity = Activity::Agent(AgentWork::Committing);
            cmds.push(Command::Agent(Op::Commit {
                message: String::new(),
            }));
        }
        ("/commit", _) => cmds.push(Command::Agent(Op::Commit {
            message: trimmed["/commit".len()..].trim().to_owned(),
        })),
        ("/sessions", _) => {
            s.overlay = Overlay::Sessions(super::state::SessionPicker::loading());
            cmds.push(Command::Agent(Op::ListSessions));
        }
        ("/export", _) => {
            let path = trimmed["/export".len()..].trim();
            cmds.push(Command::Agent(Op::Export {
                path: (!path.is_empty()).then(|| crate::domain::text::expand_home(path).display().to_string()),
            }));
        }
        ("/image", []) => s.flash("Usage: /image PATH"),
        ("/image", _) => {
            let path = trimmed["/image".len()..].trim();
            let path = crate::domain::text::expand_home(path.trim_matches(|c| c == '"' || c == '\''));
            cmds.push(Command::AttachFile(path));
        }
        ("/screenshot", _) if s.taking_screenshot => {
            s.flash("A screenshot is already being taken: select a region, or Esc to cancel it")
        }
        ("/screenshot", _) => {
            s.taking_screenshot = true;
            cmds.push(Command::Screenshot);
        }
        ("/help", _) => {
            s.overlay = Overlay::help();
        }
        ("/quit" | "/exit", _) => {
            s.should_quit = true;
            cmds.push(Command::Quit);
        }
        _ => match closest(name) {
            Some(near) => s.flash(format!(
                "Unknown command {name}: did you mean {near}? (start with // to send a literal /)"
            )),
            None => {
                let known: Vec<&str> = COMMANDS.iter().map(|(c, _)| *c).collect();
                s.flash(format!(
                    "Unknown command {name}; commands: {} (start with // to send a literal /)",
                    known.join(" ")
                ));
            }
        },
    }
    true
}

/// The known command nearest to `name` (edit distance at most 2, or a unique prefix).
pub fn closest(name: &str) -> Option<&'static str> {
    let names = COMMANDS.iter().map(|(c, _)| *c).chain(["/quit"]);
    let prefixed: Vec<&str> = names.clone().filter(|c| c.starts_with(name)).collect();
    if let [one] = prefixed.as_slice() {
        return Some(one);
    }
    names
        .map(|c| (distance(name, c), c))
        .filter(|(d, _)| *d <= 2)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// The completion of a partly typed command (`/pe` → `/permissions`), when only one fits.
pub fn complete(typed: &str) -> Option<&'static str> {
    let t = typed.trim_end();
    if !t.starts_with('/') || t.contains(char::is_whitespace) {
        return None;
    }
    let fits: Vec<&str> = COMMANDS
        .iter()
        .map(|(c, _)| *c)
        .filter(|c| c.starts_with(t) && *c != t)
        .collect();
    match fits.as_slice() {
        [one] => Some(one),
        _ => None,
    }
}

/// Levenshtein distance, for short command names.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for j in 0..b.len() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != b[j]))
                .min(row[j] + 1)
                .min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn near_misses_and_prefixes_find_their_command() {
        assert_eq!(closest("/permisions"), Some("/permissions"));
        assert_eq!(closest("/dif"), Some("/diff"));
        assert_eq!(closest("/screen"), Some("/screenshot"));
        assert_eq!(closest("/xyzzy"), None);
        assert_eq!(complete("/pe"), Some("/permissions"));
        assert_eq!(complete("/u"), Some("/undo"));
        assert_eq!(complete("/cl"), Some("/clear"));
        assert_eq!(complete("/c"), None, "/clear, /compact, /commit");
        assert_eq!(closest("/sesions"), Some("/sessions"));
        assert_eq!(closest("/exprot"), Some("/export"));
        assert_eq!(complete("/mc"), Some("/mcp"));
        assert_eq!(complete("/m"), None, "/model, /mcp");
        assert_eq!(complete("/image x"), None);
        assert_eq!(complete("hello"), None);
    }
}
