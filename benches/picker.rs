//! The `@` file picker on a 100,000-file workspace: the cost of each keystroke (the
//! query's matches recomputed, then the 20 shown rows with their highlights), typed one
//! character at a time, and the walk that builds the file list. The budget is 50 ms per
//! keystroke.

use std::hint::black_box;
use std::path::Path;

use cove::app::file_picker::FilePicker;
use cove::session::files::index;
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};

const FILES: usize = 100_000;
const TYPED: &str = "srcmod17fil12";

/// A deterministic pseudo-random sequence (an LCG; the benchmark needs no `rand`).
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((self.0 >> 33) % n as u64) as usize
    }
}

/// 100,000 distinct relative paths of mixed depth and extension, like a large monorepo,
/// about ten files a directory: `src/module_17/sub_3/file_1234.rs`,
/// `crates/net/tests/module_2/case_88.py`, `docs/module_5/index_7.md`, …
fn paths() -> Vec<String> {
    const TOPS: &[&str] = &["src", "crates", "docs", "tests", "tools", "web", "vendor"];
    const CRATES: &[&str] = &["net", "core", "cli", "storage", "render", "proto"];
    const EXTS: &[&str] = &["rs", "rs", "rs", "md", "toml", "json", "ts", "py", "c", "h"];
    const STEMS: &[&str] = &["file", "mod", "case", "util", "handler", "test", "index"];
    let mut rng = Lcg(42);
    let mut out = Vec::with_capacity(FILES);
    for i in 0..FILES {
        let top = TOPS[rng.below(TOPS.len())];
        let mut p = String::from(top);
        if top == "crates" || top == "vendor" {
            p.push('/');
            p.push_str(CRATES[rng.below(CRATES.len())]);
            p.push_str(if rng.below(3) == 0 { "/tests" } else { "/src" });
        }
        p.push_str(&format!("/module_{}", rng.below(40)));
        if rng.below(3) != 0 {
            p.push_str(&format!("/sub_{}", rng.below(8)));
        }
        let stem = STEMS[rng.below(STEMS.len())];
        let ext = EXTS[rng.below(EXTS.len())];
        // `i` keeps every path distinct
        p.push_str(&format!("/{stem}_{i}.{ext}"));
        out.push(p);
    }
    out.sort();
    out
}

fn bench_matching(c: &mut Criterion) {
    let paths = paths();
    // `@` typed: the picker made, the list packed, the shallowest paths shown
    let open = || {
        let mut p = FilePicker::new();
        p.set_query("", &paths);
        p
    };
    let opened = open();
    let mut g = c.benchmark_group("picker_100k");
    g.bench_function("open_empty_query", |b| {
        b.iter(|| open().visible(&paths, 20).len())
    });
    // The keystrokes below start from the open picker; each is `set_query` plus the 20
    // rows drawn. Typing the query one key at a time: the throughput line is per key.
    g.throughput(Throughput::Elements(TYPED.len() as u64));
    g.bench_function("type_srcmod17fil12_per_keystroke", |b| {
        b.iter_batched_ref(
            || opened.clone(),
            |p| {
                let mut rows = 0;
                for end in 1..=TYPED.len() {
                    p.set_query(&TYPED[..end], &paths);
                    rows += p.visible(&paths, 20).len();
                }
                rows
            },
            BatchSize::LargeInput,
        )
    });
    g.throughput(Throughput::Elements(1));
    // the costliest single keys
    let key = |g: &mut criterion::BenchmarkGroup<_>, name: &str, from: &str, to: &str| {
        let mut primed = opened.clone();
        primed.set_query(from, &paths);
        g.bench_function(name, |b| {
            b.iter_batched_ref(
                || primed.clone(),
                |p| {
                    p.set_query(to, &paths);
                    p.visible(&paths, 20).len()
                },
                BatchSize::LargeInput,
            )
        });
    };
    // every path scored
    key(&mut g, "first_keystroke_s", "", "s");
    // the previous matches (nearly all paths) rescored with a longer needle
    key(&mut g, "second_keystroke_sr", "s", "sr");
    key(&mut g, "third_keystroke_src", "sr", "src");
    // Backspace, or a pasted query: a long query scored against every path.
    key(
        &mut g,
        "backspace_to_srcmod17fil1",
        TYPED,
        &TYPED[..TYPED.len() - 1],
    );
    g.finish();
}

/// The same paths as files in a temporary directory, with a `.gitignore` that hides one
/// directory tree (which is also written).
fn write_tree(root: &Path, paths: &[String]) {
    let dirs: std::collections::BTreeSet<&str> = paths
        .iter()
        .filter_map(|p| p.rsplit_once('/').map(|(dir, _)| dir))
        .collect();
    for dir in dirs {
        std::fs::create_dir_all(root.join(dir)).expect("mkdir");
    }
    for p in paths {
        std::fs::write(root.join(p), b"").expect("write");
    }
    std::fs::write(root.join(".gitignore"), "target/\n*.log\n").expect("write");
    for i in 0..1_000 {
        let dir = root.join(format!("target/debug/deps/d{}", i % 10));
        std::fs::create_dir_all(&dir).expect("mkdir");
        std::fs::write(dir.join(format!("x{i}.o")), b"").expect("write");
    }
}

fn bench_index(c: &mut Criterion) {
    // written only when this benchmark is selected (it takes a while on a slow disk)
    let tree = std::cell::OnceCell::new();
    let mut g = c.benchmark_group("index_100k");
    g.sample_size(10);
    g.bench_function("walk_100k_files", |b| {
        let dir = tree.get_or_init(|| {
            let dir = tempfile::tempdir().expect("tempdir");
            let paths = paths();
            write_tree(dir.path(), &paths);
            assert_eq!(index(dir.path(), 200_000).paths, paths);
            dir
        });
        b.iter(|| index(black_box(dir.path()), 200_000).paths.len())
    });
    g.finish();
}

criterion_group!(benches, bench_matching, bench_index);
criterion_main!(benches);
