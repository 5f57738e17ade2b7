//! The redactor's cost per MB of outgoing text (`src/guard/`), and its false positives.
//!
//! `cargo bench --bench guard`: a conversation of 4 MiB made of cove's own source (code,
//! tests, docs: the text a coding session sends) with a secret of each kind every 64 KiB,
//! redacted as a request is (every message through the session's vault); and 1 MiB of
//! hostile text (rule keywords on every few bytes of one endless line).
//!
//! `COVE_GUARD_SCAN=DIR cargo bench --bench guard`: no timing; every finding in the text
//! files under DIR (git-ignored files left out), one line each with the file, line, rule
//! and the value masked, then the totals. What is not a real secret there is a false
//! positive (the figures in README come from this).

use std::path::Path;

use cove::config::GuardConfig;
use cove::domain::conversation::Message;
use cove::guard::Guard;
use cove::guard::redact::Scanner;
use cove::guard::rules::{self, RuleSet};
use cove::guard::samples;
use criterion::{Criterion, Throughput, criterion_group};

fn source_text(limit: usize) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut text = String::new();
    for dir in ["src", "tests", "benches"] {
        for entry in ignore::WalkBuilder::new(root.join(dir)).build().flatten() {
            if text.len() >= limit {
                return text;
            }
            if entry.file_type().is_some_and(|t| t.is_file())
                && let Ok(s) = std::fs::read_to_string(entry.path())
            {
                text.push_str(&s);
            }
        }
    }
    text
}

fn conversation() -> Vec<Message> {
    let source = source_text(4 << 20);
    let secrets = samples::secrets();
    let mut messages = vec![Message::system("You are cove.")];
    // 64 KiB tool results, each with one secret in it
    let mut at = 0;
    let mut i = 0;
    while at < source.len() {
        let mut end = (at + (64 << 10)).min(source.len());
        while !source.is_char_boundary(end) {
            end += 1;
        }
        let (_, line, _) = &secrets[i % secrets.len()];
        messages.push(Message::tool_result(
            format!("c{i}"),
            format!("{}\n{line}\n", &source[at..end]),
        ));
        at = end;
        i += 1;
    }
    messages
}

fn bytes(messages: &[Message]) -> u64 {
    messages
        .iter()
        .map(|m| serde_json::to_string(m).map_or(0, |s| s.len() as u64))
        .sum()
}

fn redaction(c: &mut Criterion) {
    let guard = Guard::with_ledger(&GuardConfig::default(), None);
    let messages = conversation();
    let mut group = c.benchmark_group("guard");
    group.sample_size(20);
    group.throughput(Throughput::Bytes(bytes(&messages)));
    // the second request of a session and every one after: the vault knows the secrets
    let mut warm = messages.clone();
    guard.redact_messages(&mut warm);
    group.bench_function("redact_4mib_conversation", |b| {
        b.iter_batched(
            || messages.clone(),
            |mut m| guard.redact_messages(&mut m),
            criterion::BatchSize::LargeInput,
        )
    });
    let hostile = "key=token secret:password api_key auth ey -----BEGIN x ".repeat(1 << 14);
    let hostile = vec![Message::user(hostile)];
    group.throughput(Throughput::Bytes(bytes(&hostile)));
    group.bench_function("redact_1mib_hostile", |b| {
        b.iter_batched(
            || hostile.clone(),
            |mut m| guard.redact_messages(&mut m),
            criterion::BatchSize::LargeInput,
        )
    });
    group.finish();
}

criterion_group!(benches, redaction);

/// Every finding under `dir`, and the totals.
fn scan(dir: &Path) {
    let scanner = match (rules::builtin(), RuleSet::user(&[])) {
        (Ok(b), Ok(u)) => Scanner::new(b, u),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    };
    let (mut files, mut bytes, mut hits) = (0usize, 0usize, 0usize);
    let mut by_kind: std::collections::BTreeMap<String, usize> = Default::default();
    for entry in ignore::WalkBuilder::new(dir).build().flatten() {
        if !entry.file_type().is_some_and(|t| t.is_file()) {
            continue;
        }
        let Ok(data) = std::fs::read(entry.path()) else {
            continue;
        };
        if data[..data.len().min(8000)].contains(&0) {
            continue;
        }
        files += 1;
        bytes += data.len();
        for f in scanner.find(&data) {
            hits += 1;
            *by_kind.entry(scanner.kind(&f).to_owned()).or_default() += 1;
            let line = data[..f.start].iter().filter(|&&b| b == b'\n').count() + 1;
            let value = String::from_utf8_lossy(&data[f.start..f.end]);
            let shown: String = value.chars().take(6).collect();
            println!(
                "{}:{line}: {} `{shown}…` ({} bytes)",
                entry
                    .path()
                    .strip_prefix(dir)
                    .unwrap_or(entry.path())
                    .display(),
                scanner.kind(&f),
                f.end - f.start
            );
        }
    }
    println!(
        "{files} files, {:.1} MiB, {hits} findings: {by_kind:?}",
        bytes as f64 / (1 << 20) as f64
    );
}

/// The process's CPU time (user + system): what the redaction costs, whatever else
/// the machine is busy with.
fn cpu_time() -> std::time::Duration {
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: getrusage writes into the struct it is given
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut u) };
    let t = |v: libc::timeval| {
        std::time::Duration::from_secs(v.tv_sec as u64)
            + std::time::Duration::from_micros(v.tv_usec as u64)
    };
    t(u.ru_utime) + t(u.ru_stime)
}

/// `COVE_GUARD_CPU=1`: the conversation redacted 50 times, CPU milliseconds per MiB.
fn cpu() {
    let guard = Guard::with_ledger(&GuardConfig::default(), None);
    let messages = conversation();
    let mib = bytes(&messages) as f64 / (1 << 20) as f64;
    let runs = 50;
    let copies: Vec<Vec<Message>> = (0..runs).map(|_| messages.clone()).collect();
    let started = cpu_time();
    for mut m in copies {
        guard.redact_messages(&mut m);
    }
    let ms = (cpu_time() - started).as_secs_f64() * 1000.0 / runs as f64;
    println!("cpu_ms_per_mib {:.2}", ms / mib);
    println!("conversation_mib {mib:.2}");
}

fn main() {
    if let Some(dir) = std::env::var_os("COVE_GUARD_SCAN") {
        scan(Path::new(&dir));
        return;
    }
    if std::env::var_os("COVE_GUARD_CPU").is_some() {
        cpu();
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
