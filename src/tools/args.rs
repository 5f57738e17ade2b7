//! Typed arguments of the file tools, read from the model's JSON once, when the call is
//! gated. Every error names the argument and the type it should have; the checks run in
//! the order the tools always ran them, so the model gets the same first complaint.

use serde_json::{Map, Value};

use super::context::json_kind as kind;

/// `read_file{path, offset?, limit?}`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadArgs {
    pub path: String,
    /// First line (1-based).
    pub offset: u64,
    pub limit: u64,
}

/// `list_files{path?, glob?}`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListArgs {
    /// `.` when not given.
    pub path: String,
    pub glob: Option<String>,
}

/// `search{pattern, path?, glob?}`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchArgs {
    pub pattern: String,
    pub path: String,
    pub glob: Option<String>,
}

/// `write_file{path, content}`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriteArgs {
    pub path: String,
    pub content: String,
}

/// `edit_file{path, old_string, new_string, replace_all?}`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EditArgs {
    pub path: String,
    pub old_string: String,
    pub new_string: String,
    pub replace_all: bool,
}

pub fn read(args: Value) -> Result<ReadArgs, String> {
    let mut a = Args::new("read_file", args)?;
    let path = a.string("path")?;
    let offset = a.count("offset")?.unwrap_or(1).max(1);
    let limit = match a.count("limit")? {
        Some(0) => return Err("read_file: `limit` must be at least 1".to_owned()),
        Some(n) => n,
        None => super::fs::DEFAULT_READ_LIMIT,
    };
    Ok(ReadArgs {
        path,
        offset,
        limit,
    })
}

pub fn list(args: Value) -> Result<ListArgs, String> {
    let mut a = Args::new("list_files", args)?;
    let path = a.optional_string("path")?;
    let glob = a.optional_string("glob")?;
    Ok(ListArgs {
        path: non_blank(path).unwrap_or_else(|| ".".to_owned()),
        glob: non_blank(glob),
    })
}

pub fn search(args: Value) -> Result<SearchArgs, String> {
    let mut a = Args::new("search", args)?;
    let pattern = a.string("pattern")?;
    if pattern.is_empty() {
        return Err("search: `pattern` is empty; give a regular expression to look for".to_owned());
    }
    let path = a.optional_string("path")?;
    let glob = a.optional_string("glob")?;
    Ok(SearchArgs {
        pattern,
        path: non_blank(path).unwrap_or_else(|| ".".to_owned()),
        glob: non_blank(glob),
    })
}

pub fn write(args: Value) -> Result<WriteArgs, String> {
    let mut a = Args::new("write_file", args)?;
    let path = a.string("path")?;
    let content = a.string("content")?;
    Ok(WriteArgs { path, content })
}

pub fn edit(args: Value) -> Result<EditArgs, String> {
    let mut a = Args::new("edit_file", args)?;
    let path = a.string("path")?;
    let old_string = a.string("old_string")?;
    let new_string = a.string("new_string")?;
    let replace_all = a.boolean("replace_all")?.unwrap_or(false);
    if old_string.is_empty() {
        return Err("edit_file: `old_string` is empty; give the exact text to replace (to write a whole file, use write_file)".to_owned());
    }
    if old_string == new_string {
        return Err(
            "edit_file: `old_string` and `new_string` are the same; there is nothing to change"
                .to_owned(),
        );
    }
    Ok(EditArgs {
        path,
        old_string,
        new_string,
        replace_all,
    })
}

fn non_blank(s: Option<String>) -> Option<String> {
    s.filter(|s| !s.trim().is_empty())
}

/// The model's arguments, taken out one by one (strings are moved, not copied: a
/// `write_file` of a large file holds its content once), with errors that name the
/// argument.
pub(crate) struct Args {
    tool: &'static str,
    map: Map<String, Value>,
}

impl Args {
    pub(crate) fn new(tool: &'static str, args: Value) -> Result<Self, String> {
        match args {
            Value::Object(map) => Ok(Args { tool, map }),
            other => Err(format!(
                "{tool}: the arguments must be a JSON object, got {}",
                kind(&other)
            )),
        }
    }

    /// A present, non-null argument.
    fn take(&mut self, key: &str) -> Option<Value> {
        self.map.remove(key).filter(|v| !v.is_null())
    }

    pub(crate) fn string(&mut self, key: &str) -> Result<String, String> {
        match self.take(key) {
            None => Err(format!("{}: `{key}` is required (a string)", self.tool)),
            Some(v) => self.as_string(key, v),
        }
    }

    pub(crate) fn optional_string(&mut self, key: &str) -> Result<Option<String>, String> {
        self.take(key).map(|v| self.as_string(key, v)).transpose()
    }

    fn as_string(&self, key: &str, v: Value) -> Result<String, String> {
        match v {
            Value::String(s) => Ok(s),
            v => Err(format!(
                "{}: `{key}` must be a string, got {}",
                self.tool,
                kind(&v)
            )),
        }
    }

    /// A non-negative integer (`3` or `3.0`).
    pub(crate) fn count(&mut self, key: &str) -> Result<Option<u64>, String> {
        let Some(v) = self.take(key) else {
            return Ok(None);
        };
        let n = match &v {
            Value::Number(n) => n.as_u64().or_else(|| {
                n.as_f64()
                    .filter(|f| f.fract() == 0.0 && *f >= 0.0 && *f < 1e15)
                    .map(|f| f as u64)
            }),
            _ => {
                return Err(format!(
                    "{}: `{key}` must be an integer, got {}",
                    self.tool,
                    kind(&v)
                ));
            }
        };
        n.map(Some).ok_or_else(|| {
            format!(
                "{}: `{key}` must be a non-negative integer, got {v}",
                self.tool
            )
        })
    }

    pub(crate) fn boolean(&mut self, key: &str) -> Result<Option<bool>, String> {
        match self.take(key) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(b)),
            Some(v) => Err(format!(
                "{}: `{key}` must be true or false, got {}",
                self.tool,
                kind(&v)
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn errors_name_the_argument_in_the_order_the_tools_check_them() {
        assert_eq!(
            read(json!({})).unwrap_err(),
            "read_file: `path` is required (a string)"
        );
        assert_eq!(
            read(json!({"path": "a", "limit": 0})).unwrap_err(),
            "read_file: `limit` must be at least 1"
        );
        assert!(
            read(json!({"path": "a", "offset": -1}))
                .unwrap_err()
                .contains("non-negative integer")
        );
        assert_eq!(
            read(json!({"path": "a", "offset": 3.0, "limit": null})).unwrap(),
            ReadArgs {
                path: "a".into(),
                offset: 3,
                limit: super::super::fs::DEFAULT_READ_LIMIT
            }
        );
        assert_eq!(
            list(json!({"path": " ", "glob": ""})).unwrap(),
            ListArgs {
                path: ".".into(),
                glob: None
            }
        );
        assert!(
            search(json!({"pattern": ""}))
                .unwrap_err()
                .contains("empty")
        );
        assert!(
            edit(json!({"path": "a", "old_string": "x", "new_string": "x"}))
                .unwrap_err()
                .contains("the same")
        );
        assert!(
            edit(json!({"path": "a", "old_string": "x", "new_string": "y", "replace_all": "yes"}))
                .unwrap_err()
                .contains("true or false")
        );
        assert!(
            write(json!({"path": 5, "content": "x"}))
                .unwrap_err()
                .contains("`path` must be a string, got a number")
        );
    }
}
