//! Custom command tools (`[tools.custom.NAME]`): a command line from the user's config,
//! offered to the model under its own name and schema. A call runs `sh -c COMMAND` in the
//! workspace exactly as `shell` runs the model's commands (sandboxed, secrets removed from
//! the environment, its own process group, output capped, stopped at its timeout or on Esc).
//!
//! The model's arguments never become part of the command line: they arrive as JSON on
//! stdin, and each top-level scalar also as `COVE_ARG_<NAME>` (the name upper-cased), so
//! `"; rm -rf ~"` in an argument is just text in a variable. A `read_only` tool runs with
//! the workspace read-only (when the sandbox is on) and with the other reads of a reply.

use std::ffi::OsString;
use std::sync::Arc;
use std::time::Duration;

use futures_util::future::BoxFuture;
use serde_json::{Map, Value};

use super::context::{ToolContext, json_kind};
use super::shell::{Process, run_process};
use super::tool::{RunResult, Tool, Turn};
use crate::config::CustomToolConfig;
use crate::domain::conversation::ToolSpec;

/// Prefix of the variables that carry the arguments.
pub const ARG_PREFIX: &str = "COVE_ARG_";
/// A string argument longer than this reaches the command on stdin only (a single
/// variable may not exceed 128 KiB on Linux; the command would not start).
pub const MAX_ENV_VALUE: usize = 32 * 1024;
/// At most this many `COVE_ARG_` variables (the rest are on stdin).
pub const MAX_ENV_ARGS: usize = 64;
/// The longest argument name that becomes a variable.
const MAX_ENV_NAME: usize = 64;

pub struct CustomTool {
    name: String,
    description: String,
    command: String,
    parameters: Value,
    read_only: bool,
    timeout_secs: Option<u64>,
}

impl CustomTool {
    pub fn new(name: &str, config: &CustomToolConfig) -> Self {
        CustomTool {
            name: name.to_owned(),
            description: config.description.clone(),
            command: config.command.clone(),
            parameters: config.schema(),
            read_only: config.read_only,
            timeout_secs: config.timeout_secs,
        }
    }

    /// The schema's declared type of argument `name`, if any.
    fn declared(&self, name: &str) -> Option<&Value> {
        self.parameters.get("properties")?.get(name)?.get("type")
    }
}

/// Whether `v` is of the JSON schema type `t` (`integer`: a number without a fraction).
fn of_type(v: &Value, t: &str) -> bool {
    match t {
        "string" => v.is_string(),
        "number" => v.is_number(),
        "integer" => v.is_i64() || v.is_u64() || v.as_f64().is_some_and(|f| f.fract() == 0.0),
        "boolean" => v.is_boolean(),
        "array" => v.is_array(),
        "object" => v.is_object(),
        "null" => v.is_null(),
        _ => true,
    }
}

impl Tool for CustomTool {
    /// The arguments as the model sent them (a JSON object), checked against the schema's
    /// `required` list and the declared types of its properties.
    type Args = Map<String, Value>;

    fn name(&self) -> &str {
        &self.name
    }

    fn spec(&self) -> ToolSpec {
        ToolSpec {
            name: self.name.clone(),
            description: self.description.clone(),
            parameters: self.parameters.clone(),
        }
    }

    fn read_only(&self) -> bool {
        self.read_only
    }

    fn abandonable(&self) -> bool {
        // a process: its whole group is killed
        true
    }

    fn parse(&self, args: Value) -> Result<Self::Args, String> {
        let Value::Object(map) = args else {
            return Err(format!(
                "{}: the arguments must be a JSON object, got {}",
                self.name,
                json_kind(&args)
            ));
        };
        let required = self
            .parameters
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str);
        for r in required {
            if map.get(r).is_none_or(Value::is_null) {
                return Err(format!("{}: `{r}` is required", self.name));
            }
        }
        for (k, v) in &map {
            let Some(t) = self.declared(k) else {
                continue;
            };
            let types: Vec<&str> = match t {
                Value::String(t) => vec![t.as_str()],
                Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
                _ => continue,
            };
            if !v.is_null() && !types.iter().any(|t| of_type(v, t)) {
                return Err(format!(
                    "{}: `{k}` must be {}, got {}",
                    self.name,
                    types.join(" or "),
                    json_kind(v)
                ));
            }
        }
        Ok(map)
    }

    fn run(
        &self,
        ctx: &ToolContext,
        args: Arc<Self::Args>,
        _: &Turn,
    ) -> BoxFuture<'static, RunResult> {
        let mut ctx = ctx.clone();
        if self.read_only && ctx.sandbox.mode == crate::sandbox::Mode::WorkspaceWrite {
            // it says it only reads: hold it to that
            ctx.sandbox.mode = crate::sandbox::Mode::ReadOnly;
        }
        let timeout =
            Duration::from_secs(self.timeout_secs.unwrap_or(ctx.shell_timeout_secs).max(1));
        let argv: [OsString; 3] = ["sh".into(), "-c".into(), self.command.clone().into()];
        Box::pin(async move {
            // a map of JSON values always serialises
            let stdin = serde_json::to_vec(&*args).unwrap_or_default();
            let process = Process {
                argv: &argv,
                stdin: Some(stdin),
                env: arg_env(&args),
                timeout,
            };
            Ok(super::isolate::guarded(run_process(&ctx, process, Vec::new())).await)
        })
    }
}

/// `COVE_ARG_<NAME>` for each top-level scalar argument: strings as they are, numbers and
/// booleans as JSON writes them. Left out (they are on stdin all the same): arrays,
/// objects and nulls; names that are not ASCII letters, digits and `_` (or longer than 64);
/// strings holding a NUL byte or longer than [`MAX_ENV_VALUE`]; a name that differs from an
/// earlier one only in case; everything past [`MAX_ENV_ARGS`].
pub fn arg_env(args: &Map<String, Value>) -> Vec<(OsString, OsString)> {
    let mut out: Vec<(OsString, OsString)> = Vec::new();
    for (k, v) in args {
        if out.len() >= MAX_ENV_ARGS {
            break;
        }
        let plain = !k.is_empty()
            && k.len() <= MAX_ENV_NAME
            && k.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        if !plain {
            continue;
        }
        let value = match v {
            Value::String(s) if s.len() <= MAX_ENV_VALUE && !s.contains('\0') => s.clone(),
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            _ => continue,
        };
        let name = OsString::from(format!("{ARG_PREFIX}{}", k.to_ascii_uppercase()));
        if out.iter().any(|(n, _)| *n == name) {
            continue;
        }
        out.push((name, value.into()));
    }
    out
}

#[cfg(test)]
mod tests;
