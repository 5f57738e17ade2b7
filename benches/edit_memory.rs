//! Peak memory of a one-line `edit_file` on a big file (default 200 MB), the whole way the
//! session takes it: the agent (against the fake server) proposes the edit, the approval
//! request is held as the queue holds it, the user approves, the agent checks the file is
//! still what was proposed, writes it, journals the change (a real journal) and keeps it
//! for undo; the card's change is held as the chat holds it. Prints the peak (VmHWM) above
//! the start, at the approval and at the end of the turn, as multiples of the file size,
//! and what is still resident then. Run with `cargo bench --bench edit_memory` (release).

#[path = "../tests/agent_support/mod.rs"]
mod agent_support;
#[path = "../tests/common/mod.rs"]
mod common;

use agent_support::*;
use common::*;
use cove::protocol::{AgentEvent, Decision, Op};

fn status_kib(key: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(key))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

fn write_big_file(path: &std::path::Path, mb: usize) {
    use std::io::Write;
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).expect("create"));
    let mut written = 0;
    let mut i = 0;
    while written < mb << 20 {
        let line = format!("line number {i} of a big file\n");
        f.write_all(line.as_bytes()).expect("write");
        written += line.len();
        i += 1;
    }
}

fn main() {
    let mb: usize = std::env::var("COVE_BENCH_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let sessions = tempfile::tempdir().expect("tempdir");
    let args = serde_json::json!({"path": "big.txt", "old_string": "line number 3000000 of a big file\n", "new_string": "CHANGED\n"});
    let server = FakeServer::start(vec![
        tool_call_reply(&[("c1", "edit_file", args)]),
        answer("done"),
    ]);
    let (base, after_preview, after_turn, resident, journal_bytes) = rt.block_on(async {
        let sessions_dir = sessions.path().to_owned();
        let mut h = start_with(&server.base_url(), "", |s, root| {
            write_big_file(&root.join("big.txt"), mb);
            s.sessions_dir = Some(sessions_dir);
        })
        .await;
        let base = status_kib("VmHWM:");
        h.say(1, "change line 3000000");
        // the queue holds the request while the user decides
        let AgentEvent::ApprovalNeeded { request, .. } = h
            .until(|e| matches!(e, AgentEvent::ApprovalNeeded { .. }))
            .await
        else {
            unreachable!()
        };
        assert_eq!(request.changes.len(), 1, "{}", request.summary);
        let after_preview = status_kib("VmHWM:");
        h.ops
            .send(Op::Decide {
                call_id: "c1".into(),
                decision: Decision::Approve,
            })
            .unwrap();
        // the card keeps the change the tool made (what `d` shows later)
        let AgentEvent::ToolFinished {
            changes,
            kind,
            summary,
            ..
        } = h
            .until(|e| matches!(e, AgentEvent::ToolFinished { .. }))
            .await
        else {
            unreachable!()
        };
        assert_eq!(kind, cove::protocol::ToolResultKind::Done, "{summary}");
        h.until(|e| matches!(e, AgentEvent::TurnDone { .. })).await;
        let after_turn = status_kib("VmHWM:");
        let resident = status_kib("VmRSS:");
        drop((request, changes));
        let journal_bytes: u64 = walk(sessions.path())
            .iter()
            .map(|p| std::fs::metadata(p).map_or(0, |m| m.len()))
            .sum();
        let edited = std::fs::read(h.root.join("big.txt")).expect("edited file");
        assert!(memchr::memmem::find(&edited, b"\nCHANGED\nline number 3000001 ").is_some());
        (base, after_preview, after_turn, resident, journal_bytes)
    });
    let size = (mb << 10) as f64;
    println!(
        "edit_memory: one-line edit_file on a {mb} MB file, proposed, approved, written, journaled"
    );
    println!("preview_peak_x {:.2}", (after_preview - base) as f64 / size);
    println!("total_peak_x {:.2}", (after_turn - base) as f64 / size);
    println!(
        "resident_after_x {:.2}",
        resident.saturating_sub(base) as f64 / size
    );
    println!("journal_mb {:.1}", journal_bytes as f64 / (1 << 20) as f64);
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}
