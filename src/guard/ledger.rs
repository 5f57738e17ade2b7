//! The privacy ledger: one JSON line per request cove sends to any server (model servers,
//! MCP servers over HTTP) and per guard event, appended to `<data dir>/ledger.jsonl`
//! (0600 in a 0700 directory), each line written whole with one `write` and fsync'd
//! before the caller goes on. A compliance reviewer reads one file.
//!
//! Lines are bounded (`MAX_LINE`): text fields are cut so a line never grows past it. A
//! line never holds message text, only sizes, names and counts.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use super::GuardError;

/// Longest line written (bytes, newline included).
pub const MAX_LINE: usize = 8 * 1024;
/// Longest text field kept in a line.
const MAX_FIELD: usize = 1024;

/// What a request was for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Purpose {
    /// A turn of the conversation (also `cove ask`, `cove exec`).
    #[default]
    Turn,
    /// Describing images with the vision model.
    Vision,
    /// Summarising the conversation to compact it.
    Compaction,
    /// The commit message `cove exec --commit` asks for.
    CommitMessage,
    /// Finding the model, the server kind, the context window, tool support.
    Probe,
    /// An MCP server over HTTP.
    Mcp,
}

impl Purpose {
    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::Turn => "turn",
            Purpose::Vision => "vision",
            Purpose::Compaction => "compaction",
            Purpose::CommitMessage => "commit_message",
            Purpose::Probe => "probe",
            Purpose::Mcp => "mcp",
        }
    }
}

/// One ledger line.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    /// RFC 3339, UTC, milliseconds.
    pub time: String,
    pub unix_ms: u64,
    /// The cove process that wrote the line.
    pub pid: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session: Option<String>,
    /// `request` (something was sent) or `guard` (a guard event, nothing sent).
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purpose: Option<Purpose>,
    /// `POST`, `GET`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// The URL without credentials or query.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    #[serde(default)]
    pub bytes_out: u64,
    #[serde(default)]
    pub bytes_in: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt_tokens: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completion_tokens: Option<u64>,
    /// `ok`, `http 503`, `unreachable: …`, `cancelled`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
    /// Placeholders put in the request, by kind (never the values).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub redactions: BTreeMap<String, u64>,
    /// Guard events: `redaction`, `deny_prompt`, `stop_on`, `deny_read`, `content_filter`,
    /// `retry_filtered`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event: Option<String>,
    /// The event's detail (the rule, the path); never secret values.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

impl Entry {
    /// A request line stamped now.
    pub fn request(purpose: Purpose, method: &str, url: &str) -> Entry {
        Entry {
            kind: "request".into(),
            purpose: Some(purpose),
            method: Some(method.into()),
            endpoint: Some(endpoint(url)),
            ..Entry::stamped()
        }
    }

    /// A guard event line stamped now.
    pub fn event(event: &str, detail: impl Into<String>) -> Entry {
        Entry {
            kind: "guard".into(),
            event: Some(event.into()),
            detail: Some(detail.into()),
            ..Entry::stamped()
        }
    }

    fn stamped() -> Entry {
        let ms = now_ms();
        Entry {
            time: rfc3339(ms),
            unix_ms: ms,
            pid: std::process::id(),
            ..Entry::default()
        }
    }

    /// The line as written: JSON, bounded, with its newline.
    pub fn line(&self) -> Vec<u8> {
        let mut e = self.clone();
        for f in [&mut e.endpoint, &mut e.model, &mut e.outcome, &mut e.detail]
            .into_iter()
            .flatten()
        {
            cut(f, MAX_FIELD);
        }
        if e.redactions.len() > 64 {
            let rest: u64 = e.redactions.values().skip(64).sum();
            e.redactions = e.redactions.into_iter().take(64).collect();
            e.redactions.insert("(other kinds)".into(), rest);
        }
        let mut line = serde_json::to_vec(&e).unwrap_or_default();
        if line.len() >= MAX_LINE {
            // cannot happen with the cuts above; stay bounded anyway
            e.detail = Some("(line too long; detail dropped)".into());
            e.redactions.clear();
            line = serde_json::to_vec(&e).unwrap_or_default();
            line.truncate(MAX_LINE - 1);
        }
        line.push(b'\n');
        line
    }
}

fn cut(s: &mut String, max: usize) {
    if s.len() > max {
        let mut at = max;
        while !s.is_char_boundary(at) {
            at -= 1;
        }
        s.truncate(at);
        s.push('…');
    }
}

/// A URL as the ledger records it: no user name, password, query or fragment.
pub fn endpoint(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) => {
            let _ = u.set_username("");
            let _ = u.set_password(None);
            u.set_query(None);
            u.set_fragment(None);
            u.to_string()
        }
        Err(_) => crate::config::mask_url_credentials(url).into_owned(),
    }
}

/// Where the ledger lives: `$XDG_DATA_HOME/cove/ledger.jsonl`.
pub fn default_path() -> Option<PathBuf> {
    directories::ProjectDirs::from("", "", "cove").map(|d| d.data_dir().join("ledger.jsonl"))
}

/// The ledger file, opened on first use.
#[derive(Debug)]
pub struct Ledger {
    path: Option<PathBuf>,
    file: Mutex<Option<File>>,
}

impl Ledger {
    pub fn new(path: Option<PathBuf>) -> Self {
        Ledger {
            path,
            file: Mutex::new(None),
        }
    }

    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// Appends one line and syncs it to disk.
    pub fn append(&self, entry: &Entry) -> Result<(), GuardError> {
        let path = self.path.as_ref().ok_or(GuardError::NoDataDir)?;
        let io = |source| GuardError::Ledger {
            path: path.clone(),
            source,
        };
        let mut slot = self
            .file
            .lock()
            .map_err(|_| io(std::io::Error::other("the ledger's lock was poisoned")))?;
        if slot.is_none() {
            *slot = Some(crate::private_files::open_append(path).map_err(io)?);
        }
        let Some(file) = slot.as_mut() else {
            return Ok(());
        };
        let written = file.write_all(&entry.line()).and_then(|_| file.sync_data());
        if let Err(e) = written {
            // opened again next time (the disk may come back)
            *slot = None;
            return Err(io(e));
        }
        Ok(())
    }
}

/// The ledger's lines at `path` from `since_ms` on (unix milliseconds); lines that do
/// not parse (a torn tail) are skipped and counted.
pub fn read(path: &Path, since_ms: u64) -> std::io::Result<(Vec<Entry>, usize)> {
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((Vec::new(), 0)),
        Err(e) => return Err(e),
    };
    let mut out = Vec::new();
    let mut bad = 0;
    for line in std::io::BufReader::new(file).split(b'\n') {
        let line = line?;
        if line.is_empty() {
            continue;
        }
        match serde_json::from_slice::<Entry>(&line) {
            Ok(e) if e.unix_ms >= since_ms => out.push(e),
            Ok(_) => {}
            Err(_) => bad += 1,
        }
    }
    Ok((out, bad))
}

/// The lines as a table for people: one row each, newest last; sizes and counts only.
pub fn table(entries: &[Entry]) -> String {
    let mut rows: Vec<[String; 8]> = vec![[
        "time (UTC)".into(),
        "session".into(),
        "what".into(),
        "endpoint".into(),
        "model".into(),
        "out/in".into(),
        "tokens".into(),
        "outcome, guard".into(),
    ]];
    for e in entries {
        let what = match (&e.purpose, &e.event) {
            (Some(p), _) => format!("{} {}", e.method.as_deref().unwrap_or(""), p.as_str()),
            (None, Some(ev)) => format!("guard {ev}"),
            (None, None) => e.kind.clone(),
        };
        let tokens = match (e.prompt_tokens, e.completion_tokens) {
            (Some(p), Some(c)) => format!("{p}+{c}"),
            _ => String::new(),
        };
        let mut notes: Vec<String> = Vec::new();
        notes.extend(e.outcome.clone());
        if e.kind == "request" {
            notes.extend(e.event.clone());
        }
        if !e.redactions.is_empty() {
            notes.push(format!("redacted {}", super::kinds(&e.redactions)));
        }
        notes.extend(e.detail.clone());
        let io = if e.kind == "request" {
            format!("{}/{}", human(e.bytes_out), human(e.bytes_in))
        } else {
            String::new()
        };
        rows.push([
            e.time.get(..19).unwrap_or(&e.time).replace('T', " "),
            e.session
                .as_deref()
                .map_or(String::new(), |s| s.chars().take(8).collect()),
            what.trim().to_owned(),
            e.endpoint.clone().unwrap_or_default(),
            e.model.clone().unwrap_or_default(),
            io,
            tokens,
            crate::domain::text::neutralize_controls(&notes.join("; ")).into_owned(),
        ]);
    }
    let mut width = [0usize; 8];
    for r in &rows {
        for (w, c) in width.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let mut out = String::new();
    for r in &rows {
        let mut line = String::new();
        for (i, (c, w)) in r.iter().zip(width).enumerate() {
            if i == 7 {
                line.push_str(c);
            } else {
                line.push_str(&format!("{c:<w$}  "));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

fn human(n: u64) -> String {
    match n {
        n if n >= 1024 * 1024 => format!("{:.1}M", n as f64 / (1024.0 * 1024.0)),
        n if n >= 1024 => format!("{:.1}K", n as f64 / 1024.0),
        n => format!("{n}B"),
    }
}

pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// `2026-12-02T09:30:00.123Z`.
pub fn rfc3339(ms: u64) -> String {
    let secs = ms / 1000;
    let (y, m, d) = crate::session::store::civil_from_days((secs / 86_400) as i64);
    let rem = secs % 86_400;
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        ms % 1000
    )
}

/// Unix milliseconds of an RFC 3339 time (`2026-12-02T09:30:00Z`, `…+01:00`, a fraction),
/// or of a date alone (`2026-12-02`, midnight UTC).
pub fn parse_rfc3339(s: &str) -> Option<u64> {
    let s = s.trim();
    let num = |a: usize, b: usize| s.get(a..b).and_then(|t| t.parse::<i64>().ok());
    let (y, mo, d) = (num(0, 4)?, num(5, 7)?, num(8, 10)?);
    if s.get(4..5) != Some("-")
        || s.get(7..8) != Some("-")
        || !(1..=12).contains(&mo)
        || !(1..=31).contains(&d)
    {
        return None;
    }
    let days = days_from_civil(y, mo, d);
    if s.len() == 10 {
        return u64::try_from(days * 86_400_000).ok();
    }
    if !matches!(s.get(10..11), Some("T" | "t" | " "))
        || s.get(13..14) != Some(":")
        || s.get(16..17) != Some(":")
    {
        return None;
    }
    let (h, mi, se) = (num(11, 13)?, num(14, 16)?, num(17, 19)?);
    if h > 23 || mi > 59 || se > 60 {
        return None;
    }
    let mut rest = s.get(19..)?;
    let mut frac_ms = 0;
    if let Some(f) = rest.strip_prefix('.') {
        let digits = f.bytes().take_while(u8::is_ascii_digit).count();
        let first3: String = f[..digits].chars().chain("000".chars()).take(3).collect();
        frac_ms = first3.parse::<i64>().ok()?;
        rest = &f[digits..];
    }
    let offset_secs = match rest {
        "Z" | "z" => 0,
        o if o.len() == 6 && matches!(&o[..1], "+" | "-") && &o[3..4] == ":" => {
            let sign = if o.starts_with('-') { -1 } else { 1 };
            sign * (o[1..3].parse::<i64>().ok()? * 3600 + o[4..6].parse::<i64>().ok()? * 60)
        }
        _ => return None,
    };
    let secs = days * 86_400 + h * 3600 + mi * 60 + se - offset_secs;
    u64::try_from(secs * 1000 + frac_ms).ok()
}

// Howard Hinnant's civil-calendar algorithm (days since 1970-01-01); the other
// direction is `session::store::civil_from_days`.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `30m`, `2h`, `7d`, `45s`, `1w` as milliseconds.
pub fn parse_duration(s: &str) -> Option<u64> {
    let s = s.trim();
    let unit_at = s.find(|c: char| !c.is_ascii_digit())?;
    let n: u64 = s[..unit_at].parse().ok()?;
    let unit = match &s[unit_at..] {
        "s" => 1_000,
        "m" | "min" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        "w" => 7 * 86_400_000,
        _ => return None,
    };
    n.checked_mul(unit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_round_trip() {
        let ms = 1_796_203_800_123; // 2026-12-02T09:30:00.123Z
        assert_eq!(rfc3339(ms), "2026-12-02T09:30:00.123Z");
        assert_eq!(parse_rfc3339("2026-12-02T09:30:00.123Z"), Some(ms));
        assert_eq!(parse_rfc3339("2026-12-02T10:30:00.123+01:00"), Some(ms));
        assert_eq!(parse_rfc3339("2026-12-02"), Some(ms - 34_200_123));
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339(951_782_400_000), "2000-02-29T00:00:00.000Z");
        for bad in [
            "",
            "2026-13-01",
            "yesterday",
            "2026-12-02T9:30:00Z",
            "2026-12-02T09:30:00",
        ] {
            assert_eq!(parse_rfc3339(bad), None, "{bad}");
        }
        assert_eq!(parse_duration("90m"), Some(5_400_000));
        assert_eq!(parse_duration("2d"), Some(172_800_000));
        assert_eq!(parse_duration("2"), None);
        assert_eq!(parse_duration("2y"), None);
    }

    #[test]
    fn endpoints_lose_credentials_and_queries() {
        assert_eq!(
            endpoint("https://bob:hunter2@models.internal:8443/v1/chat/completions?key=abc#x"),
            "https://models.internal:8443/v1/chat/completions"
        );
        assert_eq!(
            endpoint("http://127.0.0.1:8080/v1/models"),
            "http://127.0.0.1:8080/v1/models"
        );
    }

    #[test]
    fn lines_are_private_synced_bounded_and_read_back() {
        use std::os::unix::fs::PermissionsExt;
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("d/ledger.jsonl");
        let ledger = Ledger::new(Some(path.clone()));
        let mut e = Entry::request(Purpose::Turn, "POST", "http://h/v1/chat/completions");
        e.detail = Some("x".repeat(100_000));
        e.redactions = (0..500).map(|i| (format!("kind-{i}"), 1)).collect();
        ledger.append(&e).unwrap();
        ledger
            .append(&Entry::event("deny_prompt", "rule 1"))
            .unwrap();
        let text = std::fs::read(&path).unwrap();
        assert!(text.split(|&b| b == b'\n').all(|l| l.len() < MAX_LINE));
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let (all, bad) = read(&path, 0).unwrap();
        assert_eq!((all.len(), bad), (2, 0));
        assert_eq!(all[0].redactions.len(), 65);
        assert_eq!(all[1].event.as_deref(), Some("deny_prompt"));
        // a torn tail is skipped, not fatal
        std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap()
            .write_all(b"{\"time\":")
            .unwrap();
        // (both lines may carry the same millisecond: count what `since` keeps)
        let since = all[1].unix_ms;
        let kept = all.iter().filter(|e| e.unix_ms >= since).count();
        let (all, bad) = read(&path, since).unwrap();
        assert_eq!((all.len(), bad), (kept, 1));
    }

    #[test]
    fn no_data_dir_is_an_error_not_a_panic() {
        let e = Ledger::new(None)
            .append(&Entry::event("x", "y"))
            .unwrap_err();
        assert!(e.to_string().contains("data directory"), "{e}");
    }
}
