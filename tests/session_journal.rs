//! The journal survives kill -9 at any moment: a child process appends records as fast as
//! it can and reports each one after `append` returned (written and fsync'd); the parent
//! kills it at a random point and reloads. Every acknowledged record must be there, in
//! order; a torn last line is skipped with a warning and cut before appending goes on.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use cove::session::journal::{self, Journal};
use cove::session::record::Record;

const CHILD_ENV: &str = "COVE_JOURNAL_CHILD";

fn record(i: usize) -> Record {
    // sizes vary from a few bytes to ~200 KB, so kills land inside writes too
    let size = (i * 7919) % 200_000;
    Record::Note {
        text: format!("{i}:{}", "x".repeat(size)),
    }
}

/// In the child: append records until killed, printing each index once it is durable.
#[test]
fn journal_writer_child() {
    let Ok(path) = std::env::var(CHILD_ENV) else {
        return; // run normally: nothing to do
    };
    let path = std::path::PathBuf::from(path);
    let mut j = if path.exists() {
        Journal::reopen(&path).unwrap()
    } else {
        Journal::create(&path).unwrap()
    };
    let start: usize = std::env::var("COVE_JOURNAL_FROM")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let out = std::io::stdout();
    for i in start.. {
        j.append(&record(i)).unwrap();
        use std::io::Write;
        let mut o = out.lock();
        writeln!(o, "acked {i}").unwrap();
        o.flush().unwrap();
    }
}

/// Starts the child on `path`, waits until it acknowledged `after` records (counted from
/// `from`), sleeps a little more, then kills it with SIGKILL. Returns the last acknowledged index.
fn run_and_kill(
    path: &std::path::Path,
    from: usize,
    after: usize,
    extra: Duration,
) -> Option<usize> {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "journal_writer_child",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, path)
        .env("COVE_JOURNAL_FROM", from.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(n) = line.strip_prefix("acked ") {
                let _ = tx.send(n.trim().parse::<usize>().unwrap());
            }
        }
    });
    let mut last = None;
    let deadline = Instant::now() + Duration::from_secs(20);
    while last.map_or(0, |l: usize| l + 1 - from) < after && Instant::now() < deadline {
        if let Ok(n) = rx.recv_timeout(Duration::from_millis(50)) {
            last = Some(n);
        }
    }
    std::thread::sleep(extra);
    unsafe {
        libc::kill(child.id() as i32, libc::SIGKILL);
    }
    let _ = child.wait();
    // acknowledgements that were already on their way count too
    while let Ok(n) = rx.try_recv() {
        last = Some(n);
    }
    last
}

#[test]
fn kill_9_at_random_points_loses_no_acknowledged_record() {
    let dir = tempfile::tempdir().unwrap();
    let mut seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos() as u64
        | 1;
    let mut rand = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut torn_seen = 0;
    for round in 0..12 {
        let path = dir.path().join(format!("s{round}.jsonl"));
        // a first life, killed; then a second life appending to the same journal, killed
        let after = 1 + (rand() % 20) as usize;
        let extra = Duration::from_micros(rand() % 3_000);
        let last = run_and_kill(&path, 0, after, extra).expect("the child acknowledged records");
        let first = journal::load(&path).unwrap();
        torn_seen += first.warnings.len();
        assert!(first.warnings.len() <= 1, "{:?}", first.warnings);
        assert!(
            first.records.len() > last,
            "round {round}: {} records on disk, {} acknowledged",
            first.records.len(),
            last + 1
        );
        for (i, r) in first.records.iter().enumerate() {
            assert_eq!(
                r,
                &record(i),
                "round {round}: record {i} intact and in order"
            );
        }
        let from = first.records.len();
        let last2 = run_and_kill(&path, from, 1 + (rand() % 10) as usize, extra)
            .expect("the second life acknowledged records");
        let second = journal::load(&path).unwrap();
        assert!(second.warnings.len() <= 1, "{:?}", second.warnings);
        assert!(second.records.len() > last2);
        for (i, r) in second.records.iter().enumerate() {
            assert_eq!(r, &record(i), "round {round}: after reopening, record {i}");
        }
    }
    // not an assertion (timing decides), but worth seeing in the log
    eprintln!("torn tails seen and skipped: {torn_seen}");
}
