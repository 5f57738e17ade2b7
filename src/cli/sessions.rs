//! `cove sessions`: this workspace's sessions, newest first.

use std::path::{Path, PathBuf};

use cove::domain::text::neutralize_controls;
use cove::session::store;

/// The data directory's sessions folder for `workspace`, when there is a home.
pub fn sessions_dir(workspace: &Path) -> Option<PathBuf> {
    directories::ProjectDirs::from("", "", "cove")
        .map(|d| store::sessions_dir(d.data_dir(), workspace))
}

pub fn run(workspace: &Path, json: bool) -> u8 {
    let Some(dir) = sessions_dir(workspace) else {
        super::say_error("no home directory: sessions cannot be found");
        return 1;
    };
    let list = store::list(&dir);
    if json {
        for s in &list {
            let line = serde_json::json!({
                "id": s.id,
                "started": store::format_time(s.started),
                "first_prompt": s.first_prompt,
                "turns": s.turns,
                "files_changed": s.files_changed,
                "path": s.path,
            });
            println!("{line}");
        }
        return 0;
    }
    if list.is_empty() {
        println!(
            "No sessions in {} yet (they are kept in {}).",
            workspace.display(),
            dir.display()
        );
        return 0;
    }
    println!(
        "{:<22}  {:<16}  {:>5}  {:>5}  FIRST PROMPT",
        "ID", "STARTED (UTC)", "TURNS", "FILES"
    );
    for s in &list {
        println!(
            "{:<22}  {:<16}  {:>5}  {:>5}  {}",
            s.id,
            store::format_time(s.started),
            s.turns,
            s.files_changed,
            neutralize_controls(&s.first_prompt)
        );
    }
    println!("\n`cove --resume ID` continues one; `cove --continue` the newest.");
    0
}
