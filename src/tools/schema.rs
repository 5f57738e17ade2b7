//! Names, descriptions and JSON schemas of the built-in tools, written for small local
//! models: short, concrete, each argument described.

use serde_json::{Value, json};

use crate::config::{Policy, ToolsConfig};
use crate::domain::conversation::ToolSpec;

pub const BUILTIN_TOOLS: [&str; 10] = [
    "read_file",
    "list_files",
    "search",
    "write_file",
    "edit_file",
    "apply_patch",
    "shell",
    "git_status",
    "git_diff",
    "git_commit",
];

fn spec(name: &str, description: &str, properties: Value, required: &[&str]) -> ToolSpec {
    ToolSpec {
        name: name.to_owned(),
        description: description.to_owned(),
        parameters: json!({ "type": "object", "properties": properties, "required": required }),
    }
}

fn all() -> Vec<ToolSpec> {
    let path = json!({ "type": "string", "description": "Path relative to the workspace root." });
    vec![
        spec(
            "read_file",
            "Read a text file from the workspace. Returns numbered lines.",
            json!({
                "path": path,
                "offset": { "type": "integer", "description": "First line to return (1-based). Default 1." },
                "limit": { "type": "integer", "description": "Maximum number of lines to return." }
            }),
            &["path"],
        ),
        spec(
            "list_files",
            "List files in the workspace (respects .gitignore).",
            json!({
                "path": { "type": "string", "description": "Directory relative to the workspace root. Default: the root." },
                "glob": { "type": "string", "description": "Only files matching this glob, e.g. \"*.rs\"." }
            }),
            &[],
        ),
        spec(
            "search",
            "Search file contents with a regular expression (respects .gitignore). Returns path:line: text.",
            json!({
                "pattern": { "type": "string", "description": "Regular expression to search for." },
                "path": { "type": "string", "description": "Directory or file to search. Default: the root." },
                "glob": { "type": "string", "description": "Only files matching this glob." }
            }),
            &["pattern"],
        ),
        spec(
            "write_file",
            "Create a file or replace its whole content.",
            json!({ "path": path, "content": { "type": "string", "description": "The complete new content." } }),
            &["path", "content"],
        ),
        spec(
            "edit_file",
            "Replace an exact piece of text in a file. old_string must match exactly once unless replace_all is true.",
            json!({
                "path": path,
                "old_string": { "type": "string", "description": "Exact text to replace, including indentation." },
                "new_string": { "type": "string", "description": "Text to put in its place." },
                "replace_all": { "type": "boolean", "description": "Replace every occurrence. Default false." }
            }),
            &["path", "old_string", "new_string"],
        ),
        spec(
            "apply_patch",
            "Apply a unified diff that may modify, create or delete several files. All or nothing.",
            json!({ "patch": { "type": "string", "description": "The unified diff (--- a/path, +++ b/path, @@ hunks)." } }),
            &["patch"],
        ),
        spec(
            "shell",
            "Run a shell command in the workspace root and return its output and exit code.",
            json!({
                "command": { "type": "string", "description": "The command line to run with sh -c." },
                "timeout_secs": { "type": "integer", "description": "Kill the command after this many seconds. Default 120." }
            }),
            &["command"],
        ),
        spec(
            "git_status",
            "Show the git status of the workspace.",
            json!({}),
            &[],
        ),
        spec(
            "git_diff",
            "Show uncommitted changes as a unified diff.",
            json!({ "path": { "type": "string", "description": "Only this file or directory." } }),
            &[],
        ),
        spec(
            "git_commit",
            "Commit the changes made in this turn.",
            json!({ "message": { "type": "string", "description": "The commit message." } }),
            &["message"],
        ),
    ]
}

/// The spec of the built-in tool `name` (built once per process).
///
/// # Panics
/// For a name that is not in [`BUILTIN_TOOLS`]: only the built-in tools call this.
pub(crate) fn builtin(name: &str) -> ToolSpec {
    static ALL: std::sync::OnceLock<Vec<ToolSpec>> = std::sync::OnceLock::new();
    ALL.get_or_init(all)
        .iter()
        .find(|t| t.name == name)
        .cloned()
        .unwrap_or_else(|| panic!("`{name}` is not a built-in tool"))
}

/// The built-in tools offered to the model: every one whose policy is not `never` (the
/// registry's `offered` adds custom and MCP tools).
pub fn offered_tools(config: &ToolsConfig) -> Vec<ToolSpec> {
    all()
        .into_iter()
        .filter(|t| config.policy(&t.name) != Some(Policy::Never))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_match_the_contract_and_never_is_not_offered() {
        let names: Vec<String> = all().into_iter().map(|t| t.name).collect();
        assert_eq!(names, BUILTIN_TOOLS);
        let cfg = ToolsConfig {
            shell: Some(Policy::Never),
            ..ToolsConfig::default()
        };
        let offered = offered_tools(&cfg);
        assert_eq!(offered.len(), 9);
        assert!(offered.iter().all(|t| t.name != "shell"));
        for t in offered {
            assert_eq!(t.parameters["type"], "object");
        }
    }
}
