//! The editor's file system (`fs/read_text_file`, `fs/write_text_file`) as the tools'
//! `EditorFiles`: the model reads the editor's buffers, unsaved changes included, and its
//! approved edits land in them. Requests go out on the protocol's writer with ids of their
//! own (`fs-N`); the answer is routed back by `Server::response`. The tools wait on the
//! blocking pool, never on the loop that reads the answer.

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::sync::mpsc::UnboundedSender;

use crate::tools::files::EditorFiles;

/// How long a tool waits for the editor's answer before it reads the disk instead (a read)
/// or fails (a write).
const ANSWER_TIMEOUT: Duration = Duration::from_secs(10);

/// Answers awaited, by request id, for every session of the connection.
pub(super) type Waiting =
    Arc<Mutex<HashMap<String, std::sync::mpsc::Sender<Result<Value, String>>>>>;

#[derive(Debug)]
pub(super) struct EditorFs {
    out: UnboundedSender<Value>,
    waiting: Waiting,
    next: Arc<AtomicU64>,
    /// The session's id as the editor knows it (set once the agent named it).
    pub(super) session: OnceLock<String>,
    can_read: bool,
    can_write: bool,
}

impl EditorFs {
    pub(super) fn new(
        out: UnboundedSender<Value>,
        waiting: Waiting,
        next: Arc<AtomicU64>,
        can_read: bool,
        can_write: bool,
    ) -> Self {
        EditorFs {
            out,
            waiting,
            next,
            session: OnceLock::new(),
            can_read,
            can_write,
        }
    }

    /// Sends `method` and waits for its answer (or `ANSWER_TIMEOUT`).
    fn call(&self, method: &str, mut params: Value) -> Result<Value, String> {
        let session = self.session.get().ok_or("the session has no id yet")?;
        params["sessionId"] = json!(session);
        let id = format!("fs-{}", self.next.fetch_add(1, Ordering::Relaxed) + 1);
        let (tx, rx) = std::sync::mpsc::channel();
        if let Ok(mut w) = self.waiting.lock() {
            w.insert(id.clone(), tx);
        }
        let sent = self
            .out
            .send(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        let answer = if sent.is_err() {
            Err("the editor has gone".to_owned())
        } else {
            wait(|| rx.recv_timeout(ANSWER_TIMEOUT))
                .map_err(|_| format!("the editor did not answer {method} in time"))
                .and_then(|r| r)
        };
        if let Ok(mut w) = self.waiting.lock() {
            w.remove(&id);
        }
        answer
    }
}

/// Runs a blocking wait; on a runtime worker thread it tells tokio first, so the other
/// tasks (the one that reads the answer among them) move elsewhere.
fn wait<T>(f: impl FnOnce() -> T) -> T {
    match tokio::runtime::Handle::try_current() {
        Ok(h) if h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(f)
        }
        _ => f(),
    }
}

impl EditorFiles for EditorFs {
    fn read(&self, path: &Path) -> Option<String> {
        if !self.can_read {
            return None;
        }
        match self.call("fs/read_text_file", json!({"path": path})) {
            Ok(v) => v.get("content").and_then(Value::as_str).map(str::to_owned),
            Err(e) => {
                tracing::debug!("acp: reading {} through the editor: {e}", path.display());
                None
            }
        }
    }

    fn write(&self, path: &Path, text: &str) -> Result<(), String> {
        self.call("fs/write_text_file", json!({"path": path, "content": text}))
            .map(|_| ())
    }

    fn writes(&self) -> bool {
        self.can_write
    }
}

/// Routes an answer to an `fs-N` request; `false` when `id` is not one of them.
pub(super) fn answer(waiting: &Waiting, id: &Value, v: &Value) -> bool {
    let Some(id) = id.as_str().filter(|i| i.starts_with("fs-")) else {
        return false;
    };
    let tx = waiting.lock().ok().and_then(|mut w| w.remove(id));
    if let Some(tx) = tx {
        let r = match (v.get("result"), v.get("error")) {
            (Some(r), _) => Ok(r.clone()),
            (None, Some(e)) => Err(format!(
                "the editor refused: {}",
                e.get("message")
                    .and_then(Value::as_str)
                    .unwrap_or("an error")
            )),
            (None, None) => Err("an empty answer".into()),
        };
        let _ = tx.send(r);
    }
    true
}
