//! Peak memory of a one-line `edit_file` on a big file (default 200 MB) through the tool
//! path the agent takes: the approval preview (`describe`), held while the edit runs, as the
//! agent holds it, then the edit itself. Prints the peak (VmHWM) above the baseline as a
//! multiple of the file size. Run with `cargo bench --bench edit_memory` (release).

fn hwm_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

fn main() {
    let mb: usize = std::env::var("COVE_BENCH_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().canonicalize().expect("canonical");
    {
        use std::io::Write;
        let mut f =
            std::io::BufWriter::new(std::fs::File::create(root.join("big.txt")).expect("create"));
        let mut written = 0;
        let mut i = 0;
        while written < mb << 20 {
            let line = format!("line number {i} of a big file\n");
            f.write_all(line.as_bytes()).expect("write");
            written += line.len();
            i += 1;
        }
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let base = hwm_kib();
    let ctx = cove::tools::context::ToolContext::new(root.clone());
    let args = serde_json::json!({"path": "big.txt", "old_string": "line number 3000000 of a big file\n", "new_string": "CHANGED\n"});
    let req = cove::tools::registry::describe(&ctx, "c1", "edit_file", &args.to_string(), &args);
    let after_preview = hwm_kib();
    // the agent keeps the proposal (for the stale check and hunk choices) while the edit runs
    let kept = req.changes.clone();
    let out = rt.block_on(cove::tools::registry::execute(
        &ctx,
        "edit_file",
        &args,
        &[],
    ));
    // and the tool's result becomes the card's change (what `d` shows later): the agent
    // shares the proposal's text when the tool wrote exactly that
    let card: Vec<_> = out
        .changes
        .iter()
        .map(|c| {
            let same = kept.iter().any(|k| {
                k.new.as_deref().map(str::as_bytes) == c.new.as_deref()
                    && k.old.as_deref().map(str::as_bytes) == c.old.as_deref()
            });
            if same {
                kept[0].clone()
            } else {
                cove::tools::registry::proposed(&ctx, c)
            }
        })
        .collect();
    let after_edit = hwm_kib();
    drop((kept, card));
    assert!(!out.is_error, "{}", out.text);
    assert_eq!(req.changes.len(), 1);
    let size = (mb << 10) as f64;
    println!("edit_memory: one-line edit_file on a {mb} MB file");
    println!("preview_peak_x {:.2}", (after_preview - base) as f64 / size);
    println!("total_peak_x {:.2}", (after_edit - base) as f64 / size);
}
