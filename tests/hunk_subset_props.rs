//! Taking a change hunk by hunk: for random old/new texts, applying any subset of the hunks
//! of `diff(old, new)` to `old` gives exactly the old text with those regions replaced by
//! their new side, and nothing else.

use cove::domain::patch::{Hunk, apply, diff_hunks};
use proptest::prelude::*;

fn text() -> impl Strategy<Value = Vec<String>> {
    // few distinct lines, so that edits leave plenty of equal lines and several hunks
    prop::collection::vec(
        prop::sample::select(vec!["a", "b", "c", "fn x() {", "}", "", "    y"]),
        0..60,
    )
    .prop_map(|v| v.into_iter().map(str::to_owned).collect())
}

fn join(lines: &[String]) -> String {
    lines.iter().map(|l| format!("{l}\n")).collect()
}

/// The old lines, with the regions of the chosen hunks replaced by their new lines.
fn expected(old: &[String], hunks: &[Hunk], chosen: &[bool]) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut at = 0; // next old line (0-based) not yet copied
    for (h, &take) in hunks.iter().zip(chosen) {
        let old_count = h.old_lines().count();
        let start = if old_count == 0 {
            h.old_start
        } else {
            h.old_start - 1
        };
        out.extend(old[at..start].iter().cloned());
        if take {
            out.extend(h.new_lines().map(str::to_owned));
        } else {
            out.extend(old[start..start + old_count].iter().cloned());
        }
        at = start + old_count;
    }
    out.extend(old[at..].iter().cloned());
    join(&out)
}

proptest! {
    #[test]
    fn any_subset_of_hunks_gives_exactly_the_expected_text(
        old in text(),
        new in text(),
        mask in prop::collection::vec(any::<bool>(), 64),
    ) {
        let (a, b) = (join(&old), join(&new));
        let hunks = diff_hunks(&a, &b, 3);
        let chosen = &mask[..hunks.len().min(64)];
        prop_assume!(hunks.len() <= 64);
        let subset: Vec<Hunk> = hunks.iter().zip(chosen).filter(|(_, t)| **t).map(|(h, _)| h.clone()).collect();
        let got = apply(&a, &subset).expect("hunks of the file's own diff apply");
        prop_assert_eq!(got, expected(&old, &hunks, chosen));
        // all of them give the new text, none the old
        prop_assert_eq!(apply(&a, &hunks).unwrap(), b.clone());
        prop_assert_eq!(apply(&a, &[]).unwrap(), a.clone());
    }
}
