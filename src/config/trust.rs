//! Trust in a workspace's `.cove/config.toml`. A cloned repository is not the user: until
//! the user trusts the file as it is now (`cove trust`, or the prompt at the start of a
//! session), only the keys in [`harmless`] apply and everything else is ignored with a
//! notice naming the keys. Trust is recorded in the user's data dir with the file's
//! SHA-256, so any change to the file asks again.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use toml::{Table, Value};

/// How `load` decides whether the workspace file is trusted.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum TrustCheck {
    /// Nothing to check against: the workspace file is untrusted (the safe default).
    #[default]
    Untrusted,
    /// Look the file's hash up in this trust store (the real program).
    Store(PathBuf),
    /// Apply the workspace file whole (tests that use it as their only config).
    Trusted,
}

/// What became of a workspace file that is not trusted.
#[derive(Debug, Clone, PartialEq)]
pub struct Untrusted {
    pub path: PathBuf,
    /// SHA-256 of the file as read, hex.
    pub sha256: String,
    /// Each ignored key (dotted) with its value as the file sets it (keys masked).
    pub ignored: Vec<(String, String)>,
    /// The user already answered "not now" for this version of the file: no prompt.
    pub declined: bool,
}

impl Untrusted {
    /// One line for a notice: which keys were ignored and how to apply them.
    pub fn notice(&self) -> String {
        let keys: Vec<&str> = self.ignored.iter().map(|(k, _)| k.as_str()).collect();
        format!(
            "{} is not trusted: ignored {} ({}). Run `cove trust` in this workspace to apply them.",
            self.path.display(),
            if keys.len() == 1 {
                "the key"
            } else {
                "the keys"
            },
            keys.join(", ")
        )
    }
}

/// Whether an untrusted workspace file may set `dotted` to `value`: settings of the screen,
/// keys and context budgets, the model's name and sampling, and anything that only makes
/// cove stricter (a tool set to `ask` or `never`, more denied commands). Endpoints and keys,
/// the offline rule, profiles, tool allowances, commands, MCP servers, the sandbox, the
/// guard, the screenshot command and auto-commit are not.
pub fn harmless(dotted: &str, value: &Value) -> bool {
    let mut parts = dotted.splitn(2, '.');
    let top = parts.next().unwrap_or("");
    let rest = parts.next().unwrap_or("");
    match top {
        "ui" | "keys" | "context" => true,
        "model" => matches!(
            rest,
            "name"
                | "max_tokens"
                | "temperature"
                | "context_window"
                | "vision"
                | "connect_timeout_secs"
                | "idle_timeout_secs"
                | "max_retries"
                | "max_reply_bytes"
                | "min_tokens_per_s"
                | "retry_slow"
        ),
        "vision" => matches!(
            rest,
            "name"
                | "max_tokens"
                | "temperature"
                | "context_window"
                | "max_edge"
                | "max_bytes"
                | "max_images"
        ),
        "git" => rest == "enabled",
        // more protected files only make cove stricter
        "guard" => rest == "deny_read",
        "tools" => match rest {
            "max_iterations" | "repeat_limit" | "shell_deny" => true,
            "read_file" | "list_files" | "search" | "write_file" | "edit_file" | "apply_patch"
            | "shell" | "git_status" | "git_diff" | "git_commit" => {
                matches!(value.as_str(), Some("ask" | "never"))
            }
            _ => false,
        },
        _ => false,
    }
}

/// Splits a workspace file's table into what applies untrusted and the ignored keys.
pub fn split_untrusted(table: &Table) -> (Table, Vec<(String, String)>) {
    let mut ignored = Vec::new();
    let safe = keep_harmless(table, "", &mut ignored);
    (safe, ignored)
}

fn keep_harmless(table: &Table, prefix: &str, ignored: &mut Vec<(String, String)>) -> Table {
    let mut out = Table::new();
    for (key, value) in table {
        let path = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        match value {
            // `[keys]`, `[ui]`, `[context]` whole; other tables key by key
            Value::Table(t) if !harmless(&path, value) => {
                let kept = keep_harmless(t, &path, ignored);
                if !kept.is_empty() {
                    out.insert(key.clone(), Value::Table(kept));
                }
            }
            _ if harmless(&path, value) => {
                out.insert(key.clone(), value.clone());
            }
            _ => ignored.push((path.clone(), shown_value(&path, value))),
        }
    }
    out
}

/// A value as the trust prompt and `cove config` show it: keys masked, credentials in URLs
/// masked, long values cut.
pub fn shown_value(dotted: &str, value: &Value) -> String {
    if dotted.ends_with("api_key") {
        return "\"****\"".into();
    }
    let text = match value {
        Value::String(s) => format!("{:?}", super::mask_url_credentials(s)),
        Value::Array(items) => format!(
            "[{}]",
            items
                .iter()
                .map(|v| shown_value(dotted, v))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Value::Table(t) => {
            let mut lines = Vec::new();
            for (k, v) in t {
                lines.push(format!(
                    "{k} = {}",
                    shown_value(&format!("{dotted}.{k}"), v)
                ));
            }
            format!("{{ {} }}", lines.join(", "))
        }
        other => other.to_string(),
    };
    let text = crate::domain::text::neutralize_controls(&text).into_owned();
    if text.chars().count() > 160 {
        let cut: String = text.chars().take(157).collect();
        format!("{cut}...")
    } else {
        text
    }
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

#[derive(Debug, thiserror::Error)]
pub enum TrustError {
    #[error("cannot read the trust store {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the trust store {} is damaged ({message}); remove it to start over", path.display())]
    Damaged { path: PathBuf, message: String },
    #[error("cannot write the trust store {}: {source}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// One answer the user gave about one version of a workspace file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Answer {
    Trusted,
    /// "Not now" in the prompt: stay untrusted and do not ask again for this version.
    Declined,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Entry {
    sha256: String,
    answer: Answer,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct StoreFile {
    #[serde(default)]
    workspaces: BTreeMap<String, Entry>,
}

/// The trust store: `trust.json` in the user's data dir (0600 in a 0700 dir).
#[derive(Debug, Clone)]
pub struct TrustStore {
    path: PathBuf,
}

impl TrustStore {
    pub fn new(path: PathBuf) -> Self {
        TrustStore { path }
    }

    /// `$XDG_DATA_HOME/cove/trust.json` (or the platform's data dir).
    pub fn default_path() -> Option<PathBuf> {
        directories::ProjectDirs::from("", "", "cove").map(|d| d.data_dir().join("trust.json"))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn read(&self) -> Result<StoreFile, TrustError> {
        match std::fs::read_to_string(&self.path) {
            Ok(text) => serde_json::from_str(&text).map_err(|e| TrustError::Damaged {
                path: self.path.clone(),
                message: e.to_string(),
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(StoreFile::default()),
            Err(source) => Err(TrustError::Read {
                path: self.path.clone(),
                source,
            }),
        }
    }

    /// The answer recorded for `workspace` when it was given for this exact file.
    pub fn answer(&self, workspace: &Path, sha256: &str) -> Option<Answer> {
        let store = self.read().ok()?;
        store
            .workspaces
            .get(&workspace_key(workspace))
            .filter(|e| e.sha256 == sha256)
            .map(|e| e.answer)
    }

    pub fn record(&self, workspace: &Path, sha256: &str, answer: Answer) -> Result<(), TrustError> {
        let mut store = self.read()?;
        store.workspaces.insert(
            workspace_key(workspace),
            Entry {
                sha256: sha256.to_owned(),
                answer,
            },
        );
        self.write(&store)
    }

    /// Forgets `workspace`; whether there was anything to forget.
    pub fn revoke(&self, workspace: &Path) -> Result<bool, TrustError> {
        let mut store = self.read()?;
        let had = store.workspaces.remove(&workspace_key(workspace)).is_some();
        if had {
            self.write(&store)?;
        }
        Ok(had)
    }

    fn write(&self, store: &StoreFile) -> Result<(), TrustError> {
        let err = |source| TrustError::Write {
            path: self.path.clone(),
            source,
        };
        let dir = self.path.parent().unwrap_or(Path::new("."));
        crate::private_files::create_dir(dir).map_err(err)?;
        let text =
            serde_json::to_string_pretty(store).map_err(|e| err(std::io::Error::other(e)))?;
        let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(err)?;
        tmp.write_all(text.as_bytes()).map_err(err)?;
        tmp.as_file().sync_all().map_err(err)?;
        // NamedTempFile is created 0600
        tmp.persist(&self.path).map_err(|e| err(e.error))?;
        Ok(())
    }
}

/// The workspace as the store names it: canonical when it can be.
fn workspace_key(workspace: &Path) -> String {
    workspace
        .canonicalize()
        .unwrap_or_else(|_| workspace.to_owned())
        .to_string_lossy()
        .into_owned()
}

#[cfg(test)]
mod tests;
