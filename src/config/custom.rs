//! `[tools.custom.NAME]`: the user's own commands, offered to the model as tools
//! (`tools::custom`). Untrusted from a workspace file (`config::trust`): a cloned
//! repository cannot add commands. Checked when the config is loaded, every error naming
//! its key.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::Policy;

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub struct CustomToolConfig {
    /// What the tool does, for the model.
    pub description: String,
    /// A command line run by `sh -c` in the workspace, sandboxed. The call's arguments
    /// arrive as JSON on stdin and as `COVE_ARG_<NAME>` variables.
    pub command: String,
    /// A JSON schema of the arguments (an object), written as a TOML table; unset: none.
    pub parameters: Option<Value>,
    /// Whether calls ask (the default), run without asking, or are refused.
    pub permission: Option<Policy>,
    /// The command only reads: it runs with the workspace read-only (when sandboxed), and
    /// with other reads of a reply.
    pub read_only: bool,
    /// Stopped after this long (default: the shell tool's 120 s).
    pub timeout_secs: Option<u64>,
}

impl CustomToolConfig {
    pub fn policy(&self) -> Policy {
        self.permission.unwrap_or(Policy::Ask)
    }

    /// The schema offered to the model: `parameters`, or an object without properties.
    pub fn schema(&self) -> Value {
        self.parameters
            .clone()
            .unwrap_or_else(|| serde_json::json!({ "type": "object", "properties": {} }))
    }
}

/// JSON schema types a property may have.
const TYPES: &[&str] = &[
    "string", "number", "integer", "boolean", "array", "object", "null",
];

/// What is wrong with `[tools.custom.NAME]`: the key (dotted, from `tools`) and why.
pub fn check(name: &str, t: &CustomToolConfig) -> Result<(), (String, String)> {
    let key = |k: &str| {
        if k.is_empty() {
            format!("tools.custom.{name}")
        } else {
            format!("tools.custom.{name}.{k}")
        }
    };
    let valid = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if !valid {
        return Err((
            key(""),
            format!(
                "`{name}` is not a usable tool name: use ASCII letters, digits, `_` and `-` (at most 64 characters)"
            ),
        ));
    }
    if name.contains("__") {
        return Err((
            key(""),
            format!("`{name}` contains `__`, which cove keeps for MCP tools (`<server>__<tool>`)"),
        ));
    }
    if name == "tool_search" {
        return Err((
            key(""),
            "`tool_search` is the tool cove offers for finding MCP tools; give the custom tool another name".into(),
        ));
    }
    if super::ToolsConfig::is_builtin(name) {
        return Err((
            key(""),
            format!(
                "`{name}` is the name of a built-in tool; give the custom tool another name (to set the built-in's policy, use `[tools] {name} = \"always\"|\"ask\"|\"never\"`)"
            ),
        ));
    }
    if t.command.trim().is_empty() {
        return Err((
            key("command"),
            "is empty: give the command line to run (with `sh -c`, in the workspace)".into(),
        ));
    }
    if t.description.trim().is_empty() {
        return Err((
            key("description"),
            "is empty: say what the tool does, for the model".into(),
        ));
    }
    if t.timeout_secs == Some(0) {
        return Err((key("timeout_secs"), "must be at least 1".into()));
    }
    if let Some(p) = &t.parameters {
        check_schema(p).map_err(|(k, m)| (key(&format!("parameters{k}")), m))?;
    }
    Ok(())
}

/// A schema for a tool's arguments: an object whose properties are schemas with known
/// types, `required` naming some of them. The key returned is relative (`.properties.x`).
fn check_schema(p: &Value) -> Result<(), (String, String)> {
    let Some(obj) = p.as_object() else {
        return Err((
            String::new(),
            "must be a table (a JSON schema of the arguments, `type = \"object\"`)".into(),
        ));
    };
    match obj.get("type") {
        Some(Value::String(t)) if t == "object" => {}
        Some(other) => {
            return Err((
                ".type".into(),
                format!("must be \"object\" (the arguments are a JSON object), not {other}"),
            ));
        }
        None => {
            return Err((
                ".type".into(),
                "is missing: a tool's parameters are `type = \"object\"` with `properties`".into(),
            ));
        }
    }
    let props = match obj.get("properties") {
        None => None,
        Some(Value::Object(m)) => Some(m),
        Some(_) => {
            return Err((
                ".properties".into(),
                "must be a table: one schema per argument".into(),
            ));
        }
    };
    for (name, prop) in props.into_iter().flatten() {
        let at = format!(".properties.{name}");
        let Some(prop) = prop.as_object() else {
            return Err((
                at,
                "must be a table (a schema such as `{ type = \"string\", description = \"…\" }`)"
                    .into(),
            ));
        };
        let known = |t: &Value| t.as_str().is_some_and(|t| TYPES.contains(&t));
        match prop.get("type") {
            None => {}
            Some(t) if known(t) => {}
            Some(Value::Array(ts)) if !ts.is_empty() && ts.iter().all(known) => {}
            Some(t) => {
                return Err((
                    format!("{at}.type"),
                    format!(
                        "{t} is not a JSON schema type (one of {})",
                        TYPES.join(", ")
                    ),
                ));
            }
        }
    }
    match obj.get("required") {
        None => {}
        Some(Value::Array(names)) => {
            for n in names {
                let Some(n) = n.as_str() else {
                    return Err((
                        ".required".into(),
                        format!("must list argument names (strings), not {n}"),
                    ));
                };
                if !props.is_some_and(|p| p.contains_key(n)) {
                    return Err((
                        ".required".into(),
                        format!("names `{n}`, which is not in `properties`"),
                    ));
                }
            }
        }
        Some(_) => {
            return Err((
                ".required".into(),
                "must be a list of argument names".into(),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tool(toml_text: &str) -> CustomToolConfig {
        toml::from_str(toml_text).unwrap()
    }

    fn err(name: &str, toml_text: &str) -> (String, String) {
        check(name, &tool(toml_text)).unwrap_err()
    }

    const OK: &str = "description = \"d\"\ncommand = \"true\"\n";

    #[test]
    fn a_good_tool_passes_and_its_schema_defaults_to_no_arguments() {
        let t = tool(&format!(
            "{OK}[parameters]\ntype = \"object\"\nrequired = [\"x\"]\n[parameters.properties.x]\ntype = \"string\"\n[parameters.properties.n]\ntype = [\"integer\", \"null\"]\n"
        ));
        assert_eq!(check("clippy_fix", &t), Ok(()));
        assert_eq!(t.schema()["properties"]["x"]["type"], "string");
        assert_eq!(
            tool(OK).schema(),
            serde_json::json!({"type": "object", "properties": {}})
        );
        assert_eq!(tool(OK).policy(), Policy::Ask);
    }

    #[test]
    fn every_error_names_its_key() {
        assert_eq!(err("bad name", OK).0, "tools.custom.bad name");
        assert!(err("a.b", OK).1.contains("not a usable tool name"));
        assert!(err(&"x".repeat(65), OK).1.contains("at most 64"));
        assert!(err("srv__tool", OK).1.contains("MCP"));
        assert!(err("tool_search", OK).1.contains("MCP tools"));
        let (k, m) = err("shell", OK);
        assert_eq!(k, "tools.custom.shell");
        assert!(m.contains("built-in"), "{m}");
        assert_eq!(
            err("t", "description = \"d\"\ncommand = \"  \"\n").0,
            "tools.custom.t.command"
        );
        assert_eq!(
            err("t", "description = \"d\"\n").0,
            "tools.custom.t.command"
        );
        assert_eq!(
            err("t", "command = \"x\"\n").0,
            "tools.custom.t.description"
        );
        assert_eq!(
            err("t", &format!("{OK}timeout_secs = 0\n")).0,
            "tools.custom.t.timeout_secs"
        );
        assert_eq!(
            err("t", &format!("{OK}parameters = \"x\"\n")).0,
            "tools.custom.t.parameters"
        );
        assert_eq!(
            err("t", &format!("{OK}[parameters]\ntype = \"string\"\n")).0,
            "tools.custom.t.parameters.type"
        );
        assert_eq!(
            err("t", &format!("{OK}[parameters]\nproperties = {{}}\n")).0,
            "tools.custom.t.parameters.type"
        );
        assert_eq!(
            err(
                "t",
                &format!("{OK}[parameters]\ntype = \"object\"\nproperties = 3\n")
            )
            .0,
            "tools.custom.t.parameters.properties"
        );
        assert_eq!(
            err(
                "t",
                &format!("{OK}[parameters]\ntype = \"object\"\n[parameters.properties]\nx = 1\n")
            )
            .0,
            "tools.custom.t.parameters.properties.x"
        );
        let (k, m) = err(
            "t",
            &format!(
                "{OK}[parameters]\ntype = \"object\"\n[parameters.properties.x]\ntype = \"str\"\n"
            ),
        );
        assert_eq!(k, "tools.custom.t.parameters.properties.x.type");
        assert!(m.contains("not a JSON schema type"), "{m}");
        let (k, m) = err(
            "t",
            &format!("{OK}[parameters]\ntype = \"object\"\nrequired = [\"y\"]\n"),
        );
        assert_eq!(k, "tools.custom.t.parameters.required");
        assert!(m.contains("`y`"), "{m}");
    }
}
