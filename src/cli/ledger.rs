//! `cove ledger [--json] [--since DURATION|TIME] [--session ID]`: what cove sent, and the
//! guard's events, from the privacy ledger (`src/guard/ledger.rs`). Needs no config or
//! server: a reviewer can read it even where cove cannot start.

use cove::guard::ledger;

pub fn run(json: bool, since: Option<&str>, session: Option<&str>) -> u8 {
    let since_ms = match since.map(parse_since) {
        None => 0,
        Some(Some(ms)) => ms,
        Some(None) => {
            super::say_error(&format!(
                "--since {}: give a duration (90m, 12h, 7d, 2w) or a time (2026-12-01, 2026-12-01T09:00:00Z)",
                since.unwrap_or_default()
            ));
            return crate::EXIT_USAGE;
        }
    };
    let Some(path) = ledger::default_path() else {
        super::say_error("no home directory: the ledger cannot be found");
        return 1;
    };
    let (mut entries, bad) = match ledger::read(&path, since_ms) {
        Ok(r) => r,
        Err(e) => {
            super::say_error(&format!("cannot read {}: {e}", path.display()));
            return 1;
        }
    };
    if let Some(id) = session {
        entries.retain(|e| e.session.as_deref().is_some_and(|s| s.starts_with(id)));
    }
    if bad > 0 {
        eprintln!(
            "cove: {bad} line(s) of {} could not be read (a write cut short) and are left out",
            path.display()
        );
    }
    if json {
        for e in &entries {
            match serde_json::to_string(e) {
                Ok(line) => println!("{line}"),
                Err(e) => eprintln!("cove: {e}"),
            }
        }
        return 0;
    }
    if entries.is_empty() {
        println!(
            "Nothing in the ledger{} ({}).",
            if since.is_some() {
                " for that time"
            } else {
                ""
            },
            path.display()
        );
        return 0;
    }
    print!("{}", ledger::table(&entries));
    let sent = entries.iter().filter(|e| e.kind == "request").count();
    let out: u64 = entries.iter().map(|e| e.bytes_out).sum();
    println!(
        "{sent} request(s), {out} bytes sent; {} guard event(s). The ledger: {}",
        entries.len() - sent,
        path.display()
    );
    0
}

/// `--since`: a duration back from now, or an RFC 3339 time or date.
fn parse_since(s: &str) -> Option<u64> {
    ledger::parse_duration(s)
        .map(|d| ledger::now_ms().saturating_sub(d))
        .or_else(|| ledger::parse_rfc3339(s))
}
