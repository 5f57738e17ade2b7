//! The live diff's cost per fragment: a 10,000-line Rust file, an `edit_file` in its middle
//! whose arguments stream in 8-character fragments. Per fragment: the partial-JSON read,
//! the change so far (diffed over the lines it touches) and the drawing of the diff pane's
//! visible region with syntax highlighting. `scripts/bench-check.sh` holds the median
//! under 1 ms.

use cove::config::theme::Theme;
use cove::domain::live_edit::{LiveView, view};
use cove::domain::partial_json::PartialObject;
use cove::ui::diff_view::{Look, draw};
use criterion::{Criterion, criterion_group, criterion_main};

fn source() -> String {
    let mut s = String::new();
    for i in 0..2_000 {
        s.push_str(&format!(
            "/// Doc for item {i}.\npub fn item_{i}(x: u64) -> u64 {{\n    let y = x * {i} + 1;\n    y.rotate_left(3)\n}}\n"
        ));
    }
    s
}

fn bench(c: &mut Criterion) {
    let file = source();
    assert_eq!(file.lines().count(), 10_000);
    let old_string =
        "pub fn item_1000(x: u64) -> u64 {\n    let y = x * 1000 + 1;\n    y.rotate_left(3)\n}\n";
    let new_string = "pub fn item_1000(x: u64) -> u64 {\n    // checked: the product cannot overflow here\n    let y = x.saturating_mul(1000).saturating_add(1);\n    y.rotate_left(5)\n}\n";
    let args = format!(
        r#"{{"path":"src/big.rs","old_string":{},"new_string":{}}}"#,
        serde_json::json!(old_string),
        serde_json::json!(new_string)
    );
    let chars: Vec<char> = args.chars().collect();
    let fragments: Vec<String> = chars.chunks(8).map(|c| c.iter().collect()).collect();
    let theme = Theme::builtin("dark").expect("dark theme");
    cove::ui::highlight::warm_up();
    let mut g = c.benchmark_group("live_diff");
    // all fragments of the call, one after another, as the UI sees them
    g.bench_function("edit_10k_lines_all_fragments", |b| {
        b.iter(|| {
            let mut p = PartialObject::new();
            let mut rows = 0;
            for f in &fragments {
                p.feed(f);
                if let LiveView::Hunks { hunks, path, .. } =
                    view("edit_file", &p, Some(Some(&file)))
                {
                    let drawn = draw(&path, Some(&file), &hunks, Look::default(), 60, &theme);
                    rows += drawn.lines.len().min(40);
                }
            }
            rows
        })
    });
    // the costliest single fragment: the last one, when the hunk is whole
    let (last, before) = fragments.split_last().expect("fragments");
    let mut primed = PartialObject::new();
    for f in before {
        primed.feed(f);
    }
    g.bench_function("edit_10k_lines_last_fragment", |b| {
        b.iter(|| {
            let mut p = primed.clone();
            p.feed(last);
            match view("edit_file", &p, Some(Some(&file))) {
                LiveView::Hunks { hunks, path, .. } => {
                    draw(&path, Some(&file), &hunks, Look::default(), 60, &theme)
                        .lines
                        .len()
                }
                _ => 0,
            }
        })
    });
    g.finish();
    assert_eq!(
        fragments.len(),
        39,
        "scripts/bench-check.sh divides by this"
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);
