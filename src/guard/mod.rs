//! Guardrails (`[guard]`) and the privacy ledger: what cove lets leave the machine and
//! the record of everything that did.
//!
//! One `Guard` per session, shared (`Arc`) by the model clients (main and vision), which
//! redact every chat request before it is serialised and write a ledger line for every
//! request they send, and by the agent, which checks the user's messages (`deny_prompt`),
//! puts placeholders back in file edits, and records the guard events it sees.
//! `rules.rs` reads the rule data, `redact.rs` finds and replaces secrets, `ledger.rs`
//! writes and reads the ledger.

pub mod ledger;
pub mod redact;
pub mod rules;
#[doc(hidden)]
pub mod samples;

use std::path::PathBuf;
use std::sync::Mutex;

use regex::bytes::Regex;

use crate::config::GuardConfig;
use crate::domain::conversation::{Content, ContentPart, Message};
use ledger::{Entry, Ledger};
use redact::{Scanner, Tally, Vault};

#[derive(Debug, thiserror::Error)]
pub enum GuardError {
    #[error("the secret rules in {file} cannot be read: {message}")]
    Rules { file: &'static str, message: String },
    #[error("`{pattern}` is not a regex the guard can use: {message}")]
    Pattern { pattern: String, message: String },
    #[error("no data directory for the ledger (is $HOME set?)")]
    NoDataDir,
    #[error("cannot write the ledger {}: {source}", path.display())]
    Ledger {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// A user's rule: its place in the list (1-based), the regex as written, compiled.
struct UserRule {
    n: usize,
    source: String,
    regex: Regex,
}

impl UserRule {
    fn list(sources: &[String]) -> Vec<UserRule> {
        sources
            .iter()
            .enumerate()
            .filter_map(|(i, s)| match rules::user_regex(s) {
                Ok(regex) => Some(UserRule {
                    n: i + 1,
                    source: s.clone(),
                    regex,
                }),
                Err(e) => {
                    // the config's validation refuses these; a guard built without it
                    // (a test) logs and goes on
                    tracing::error!("{e}");
                    None
                }
            })
            .collect()
    }

    fn name(&self, key: &str) -> String {
        format!("guard.{key} rule {} (`{}`)", self.n, self.source)
    }
}

/// The session's guard. See the module documentation.
pub struct Guard {
    /// `None`: `[guard] redact = false`.
    scanner: Option<Scanner>,
    vault: Mutex<Vault>,
    ledger: Ledger,
    deny_prompt: Vec<UserRule>,
    stop_on: Vec<UserRule>,
    retry_filtered: u32,
    session: Mutex<Option<String>>,
    /// The first ledger failure, until a front-end has told the user (once).
    failure: Mutex<FailureNotice>,
}

#[derive(Default)]
enum FailureNotice {
    #[default]
    None,
    Pending(String),
    Told,
}

impl std::fmt::Debug for Guard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Guard")
            .field("redact", &self.scanner.is_some())
            .field("ledger", &self.ledger.path())
            .field("deny_prompt", &self.deny_prompt.len())
            .field("stop_on", &self.stop_on.len())
            .finish()
    }
}

impl Guard {
    /// The guard `[guard]` asks for, recording to the ledger in the data dir.
    pub fn from_config(config: &GuardConfig) -> Guard {
        Guard::with_ledger(config, ledger::default_path())
    }

    /// The same with the ledger at `path` (`None`: every record fails, and says so).
    pub fn with_ledger(config: &GuardConfig, path: Option<PathBuf>) -> Guard {
        let scanner = if config.redact == Some(false) {
            None
        } else {
            let user = rules::RuleSet::user(&config.patterns).unwrap_or_else(|e| {
                tracing::error!("{e}");
                rules::RuleSet::empty()
            });
            match rules::builtin() {
                Ok(set) => Some(Scanner::new(set, user)),
                Err(e) => {
                    // the vendored rules are checked by a test; fail loudly if not
                    tracing::error!("{e}");
                    None
                }
            }
        };
        Guard {
            scanner,
            vault: Mutex::new(Vault::default()),
            ledger: Ledger::new(path),
            deny_prompt: UserRule::list(&config.deny_prompt),
            stop_on: UserRule::list(&config.stop_on),
            retry_filtered: config.retry_filtered.unwrap_or(0).min(5),
            session: Mutex::new(None),
            failure: Mutex::new(FailureNotice::None),
        }
    }

    pub fn redacting(&self) -> bool {
        self.scanner.is_some()
    }

    pub fn ledger_path(&self) -> Option<&std::path::Path> {
        self.ledger.path()
    }

    /// Every text of `messages` (content, text parts, tool-call arguments) with secrets
    /// replaced by their placeholders.
    pub fn redact_messages(&self, messages: &mut [Message]) -> Tally {
        let mut tally = Tally::default();
        let Some(scanner) = &self.scanner else {
            return tally;
        };
        let Ok(mut vault) = self.vault.lock() else {
            return tally;
        };
        let mut fix = |s: &mut String| {
            if let Some(r) = vault.redact(scanner, s, &mut tally) {
                *s = r;
            }
        };
        for m in messages.iter_mut() {
            match &mut m.content {
                Some(Content::Text(t)) => fix(t),
                Some(Content::Parts(parts)) => {
                    for p in parts {
                        if let ContentPart::Text(t) = p {
                            fix(t);
                        }
                    }
                }
                None => {}
            }
            for c in &mut m.tool_calls {
                fix(&mut c.arguments);
            }
        }
        tally
    }

    /// One text redacted (`None`: nothing to redact, or redaction is off).
    pub fn redact_text(&self, text: &str, tally: &mut Tally) -> Option<String> {
        let scanner = self.scanner.as_ref()?;
        self.vault.lock().ok()?.redact(scanner, text, tally)
    }

    /// `text` with this session's placeholders put back (`None`: there were none).
    pub fn restore(&self, text: &str) -> Option<String> {
        self.vault.lock().ok()?.restore(text)
    }

    /// The `deny_prompt` rule `text` matches, named for the user.
    pub fn denied_prompt(&self, text: &str) -> Option<String> {
        self.deny_prompt
            .iter()
            .find(|r| r.regex.is_match(text.as_bytes()))
            .map(|r| r.name("deny_prompt"))
    }

    pub fn has_stop_rules(&self) -> bool {
        !self.stop_on.is_empty()
    }

    /// The `stop_on` rule `text` matches, named for the user.
    pub fn stop_rule(&self, text: &[u8]) -> Option<String> {
        self.stop_on
            .iter()
            .find(|r| r.regex.is_match(text))
            .map(|r| r.name("stop_on"))
    }

    /// How many times a reply stopped by the server's content filter is asked again.
    pub fn retry_filtered(&self) -> u32 {
        self.retry_filtered
    }

    /// The session the ledger's next lines belong to.
    pub fn set_session(&self, id: &str) {
        if let Ok(mut s) = self.session.lock() {
            *s = Some(id.to_owned());
        }
    }

    pub fn session(&self) -> Option<String> {
        self.session.lock().ok().and_then(|s| s.clone())
    }

    /// Appends `entry` (with the session) to the ledger. A failure never stops the work:
    /// it is logged, and the first one waits in `take_notice` for the user.
    pub fn record(&self, mut entry: Entry) {
        if entry.session.is_none() {
            entry.session = self.session();
        }
        if let Err(e) = self.ledger.append(&entry) {
            tracing::error!("{e}");
            if let Ok(mut f) = self.failure.lock()
                && matches!(*f, FailureNotice::None)
            {
                *f = FailureNotice::Pending(format!(
                    "The privacy ledger is not being written ({e}); requests still go out. Fix the data directory and restart to keep the record whole."
                ));
            }
        }
    }

    /// Records a guard event.
    pub fn event(&self, event: &str, detail: impl Into<String>) {
        self.record(Entry::event(event, detail));
    }

    /// The ledger failure to tell the user, once.
    pub fn take_notice(&self) -> Option<String> {
        let mut f = self.failure.lock().ok()?;
        match std::mem::take(&mut *f) {
            FailureNotice::Pending(text) => {
                *f = FailureNotice::Told;
                Some(text)
            }
            other => {
                *f = other;
                None
            }
        }
    }
}

/// What the user is told when a request had secrets new to the session: counts and
/// kinds, never values.
pub fn redaction_notice(tally: &Tally) -> Option<String> {
    let n = tally.total_new();
    if n == 0 {
        return None;
    }
    let kinds = tally
        .new
        .iter()
        .map(|(k, c)| format!("{c} {k}"))
        .collect::<Vec<_>>()
        .join(", ");
    Some(format!(
        "Redacted {n} secret{} before sending ({kinds}): the model sees placeholders, and edits that use them get the real values back locally.",
        if n == 1 { "" } else { "s" }
    ))
}

/// The kinds of a tally as the ledger's detail: `github-pat 2, jwt 1`.
pub fn kinds(counts: &std::collections::BTreeMap<String, u64>) -> String {
    counts
        .iter()
        .map(|(k, c)| format!("{k} {c}"))
        .collect::<Vec<_>>()
        .join(", ")
}
