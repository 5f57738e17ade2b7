//! The composer's input history: walked with Up/Down, kept per workspace across runs
//! (one JSON string per line in the state dir, so multi-line entries survive).

use std::io::Write;
use std::path::{Path, PathBuf};

pub const MAX_ENTRIES: usize = 500;

#[derive(Debug, Clone, Default)]
pub struct InputHistory {
    entries: Vec<String>,
    /// Position while walking: `None` = editing a fresh line.
    cursor: Option<usize>,
    /// What the user had typed before starting to walk.
    draft: String,
}

impl InputHistory {
    pub fn new(entries: Vec<String>) -> Self {
        InputHistory {
            entries,
            cursor: None,
            draft: String::new(),
        }
    }

    pub fn entries(&self) -> &[String] {
        &self.entries
    }

    /// Records a sent message (not a repeat of the last one).
    pub fn push(&mut self, text: &str) {
        self.cursor = None;
        if text.trim().is_empty() || self.entries.last().map(String::as_str) == Some(text) {
            return;
        }
        self.entries.push(text.to_owned());
        if self.entries.len() > MAX_ENTRIES {
            self.entries.remove(0);
        }
    }

    /// One step back; returns the text to show, or `None` at the oldest entry.
    pub fn older(&mut self, current: &str) -> Option<String> {
        let next = match self.cursor {
            None if self.entries.is_empty() => return None,
            None => {
                self.draft = current.to_owned();
                self.entries.len() - 1
            }
            Some(0) => return None,
            Some(i) => i - 1,
        };
        self.cursor = Some(next);
        Some(self.entries[next].clone())
    }

    /// One step forward; past the newest entry gives back the draft.
    pub fn newer(&mut self) -> Option<String> {
        let i = self.cursor?;
        if i + 1 < self.entries.len() {
            self.cursor = Some(i + 1);
            Some(self.entries[i + 1].clone())
        } else {
            self.cursor = None;
            Some(std::mem::take(&mut self.draft))
        }
    }

    pub fn is_walking(&self) -> bool {
        self.cursor.is_some()
    }
}

/// The history file for a workspace: `<state dir>/history/<name>-<hash>.jsonl`.
pub fn history_path(state_dir: &Path, workspace: &Path) -> PathBuf {
    state_dir.join("history").join(format!(
        "{}.jsonl",
        crate::domain::paths::workspace_key(workspace)
    ))
}

/// Reads a history file; a missing or damaged file gives what could be read.
pub fn load(path: &Path) -> Vec<String> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return Vec::new();
    };
    let mut entries: Vec<String> = text
        .lines()
        .filter_map(|l| serde_json::from_str::<String>(l).ok())
        .collect();
    if entries.len() > MAX_ENTRIES {
        entries.drain(..entries.len() - MAX_ENTRIES);
    }
    entries
}

/// Appends one entry.
pub fn append(path: &Path, text: &str) -> std::io::Result<()> {
    let line = serde_json::to_string(text).map_err(std::io::Error::other)?;
    // what the user typed may hold anything: 0600 in a 0700 dir
    let mut f = crate::private_files::open_append(path)?;
    f.write_all(format!("{line}\n").as_bytes())
}

#[cfg(test)]
mod tests;
