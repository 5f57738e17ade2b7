//! Where journals live and what `cove sessions` / the picker show about them:
//! `<data dir>/sessions/<workspace key>/<session id>.jsonl`.

use std::path::{Path, PathBuf};

use super::record::Record;

/// The directory of one workspace's sessions.
pub fn sessions_dir(data_dir: &Path, workspace: &Path) -> PathBuf {
    data_dir
        .join("sessions")
        .join(crate::domain::paths::workspace_key(workspace))
}

/// The journal of session `id`.
pub fn journal_path(dir: &Path, id: &str) -> PathBuf {
    dir.join(format!("{id}.jsonl"))
}

/// One line of `cove sessions`.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionInfo {
    pub id: String,
    pub path: PathBuf,
    /// Unix seconds.
    pub started: u64,
    /// The first thing the user asked (one line, shortened).
    pub first_prompt: String,
    pub turns: usize,
    pub files_changed: usize,
    /// Unix seconds of the last record (the journal's modification time).
    pub last_active: u64,
}

/// The sessions in `dir`, newest first. Files that are not journals are left out.
pub fn list(dir: &Path) -> Vec<SessionInfo> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out: Vec<SessionInfo> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
        .filter_map(|p| info(&p))
        .collect();
    // most recently used first: `--continue` takes the session last worked in
    out.sort_by(|a, b| {
        b.last_active
            .cmp(&a.last_active)
            .then(b.started.cmp(&a.started))
            .then(b.id.cmp(&a.id))
    });
    out
}

/// What one journal holds, for the list; `None` when it is not a journal. Lines are
/// only skimmed (file contents, images and tool output are skipped, not kept); the first
/// user message is read whole for its text.
pub fn info(path: &Path) -> Option<SessionInfo> {
    let bytes = std::fs::read(path).ok()?;
    let mut lines = bytes.split(|&b| b == b'\n').filter(|l| !l.is_empty());
    let Ok(Record::Start { id, started, .. }) = serde_json::from_slice::<Record>(lines.next()?)
    else {
        return None;
    };
    let mut info = SessionInfo {
        id,
        path: path.to_owned(),
        started,
        first_prompt: String::new(),
        turns: 0,
        files_changed: 0,
        last_active: std::fs::metadata(path)
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(started, |d| d.as_secs()),
    };
    let mut files: Vec<String> = Vec::new();
    for line in lines {
        let Ok(peek) = serde_json::from_slice::<Peek>(line) else {
            continue; // a torn or damaged line: `load` reports those
        };
        match peek.kind.as_str() {
            "message"
                if peek.message.as_ref().is_some_and(|m| m.role == "user")
                    && peek.shown.as_deref() != Some("") =>
            {
                info.turns += 1;
                if info.first_prompt.is_empty()
                    && let Ok(Record::Message { message, shown, .. }) =
                        serde_json::from_slice::<Record>(line)
                {
                    let text = shown.unwrap_or_else(|| message.text_content());
                    info.first_prompt = one_line(&text, 60);
                }
            }
            "change" => {
                if let Some(p) = peek.path
                    && !files.contains(&p)
                {
                    files.push(p);
                }
            }
            _ => {}
        }
    }
    info.files_changed = files.len();
    Some(info)
}

/// The few fields of a record the session list needs; the rest is skipped unread.
#[derive(serde::Deserialize)]
struct Peek {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    message: Option<PeekMessage>,
    #[serde(default)]
    shown: Option<String>,
    #[serde(default)]
    path: Option<String>,
}

#[derive(serde::Deserialize)]
struct PeekMessage {
    role: String,
}

/// The first line of `text`, at most `max` characters.
pub fn one_line(text: &str, max: usize) -> String {
    let line = text.trim().lines().next().unwrap_or("").trim();
    if line.chars().count() > max {
        format!("{}…", line.chars().take(max - 1).collect::<String>())
    } else {
        line.to_owned()
    }
}

/// The journal for a session id, or a unique prefix of one.
pub fn find(dir: &Path, id: &str) -> Result<PathBuf, String> {
    let exact = journal_path(dir, id);
    if exact.is_file() {
        return Ok(exact);
    }
    let matches: Vec<SessionInfo> = list(dir)
        .into_iter()
        .filter(|s| s.id.starts_with(id))
        .collect();
    match matches.as_slice() {
        [one] => Ok(one.path.clone()),
        [] => Err(format!(
            "no session `{id}` in this workspace (`cove sessions` lists them)"
        )),
        many => Err(format!(
            "`{id}` matches {} sessions ({}); give more of the id",
            many.len(),
            many.iter()
                .take(4)
                .map(|s| s.id.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

/// Unix seconds as `2026-11-30 10:44` (UTC).
pub fn format_time(secs: u64) -> String {
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (y, m, d) = civil_from_days(days as i64);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}",
        rem / 3600,
        rem % 3600 / 60
    )
}

/// A short, sortable, unique-enough session id: UTC date-time plus 4 hex digits.
pub fn new_id() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let secs = now.as_secs();
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (y, m, d) = civil_from_days(days as i64);
    format!(
        "{y:04}{m:02}{d:02}-{:02}{:02}{:02}-{:04x}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        (now.subsec_nanos() >> 8) & 0xffff
    )
}

pub fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian.
pub(crate) fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(format_time(0), "1970-01-01 00:00");
        assert_eq!(format_time(1_796_000_000), "2026-11-30 00:53");
    }

    #[test]
    fn one_line_shortens() {
        assert_eq!(one_line("  fix the bug\nmore", 60), "fix the bug");
        assert_eq!(one_line("abcdef", 4), "abc…");
    }
}
