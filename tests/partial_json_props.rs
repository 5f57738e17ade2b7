//! The partial-JSON reader on random tool arguments: fed in any pieces (one character at a
//! time included), every string value it reports is a prefix of the final one, and the end
//! result equals serde_json's; arbitrary text never panics.

use cove::domain::partial_json::PartialObject;
use proptest::prelude::*;

fn args() -> impl Strategy<Value = Vec<(String, String)>> {
    // keys distinct; values with quotes, backslashes, control characters and astral chars
    prop::collection::btree_map("[a-z_]{1,8}", any::<String>(), 1..4)
        .prop_map(|m| m.into_iter().collect())
}

fn pieces(text: &str, cuts: &[usize]) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut at: Vec<usize> = cuts.iter().map(|c| c % (chars.len() + 1)).collect();
    at.push(0);
    at.push(chars.len());
    at.sort_unstable();
    at.dedup();
    at.windows(2)
        .map(|w| chars[w[0]..w[1]].iter().collect())
        .collect()
}

proptest! {
    #[test]
    fn any_split_yields_growing_prefixes_and_the_exact_values(
        fields in args(),
        cuts in prop::collection::vec(any::<usize>(), 0..40),
    ) {
        let obj: serde_json::Map<String, serde_json::Value> = fields
            .iter()
            .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
            .collect();
        let text = serde_json::Value::Object(obj).to_string();
        let mut p = PartialObject::new();
        for piece in pieces(&text, &cuts) {
            p.feed(&piece);
            for (k, v) in &fields {
                if let Some(got) = p.get(k) {
                    prop_assert!(v.starts_with(got), "{k}: {got:?} is not a prefix of {v:?}");
                }
            }
        }
        prop_assert!(p.done(), "{:?}", p.error());
        for (k, v) in &fields {
            prop_assert_eq!(p.get(k), Some(v.as_str()));
            prop_assert!(p.complete(k));
        }
    }

    #[test]
    fn one_character_at_a_time(fields in args()) {
        let obj: serde_json::Map<String, serde_json::Value> = fields
            .iter()
            .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
            .collect();
        let text = serde_json::to_string_pretty(&serde_json::Value::Object(obj)).unwrap();
        let mut p = PartialObject::new();
        for c in text.chars() {
            p.feed(&c.to_string());
        }
        for (k, v) in &fields {
            prop_assert_eq!(p.get(k), Some(v.as_str()));
        }
    }

    #[test]
    fn arbitrary_text_never_panics(text in any::<String>(), cuts in prop::collection::vec(any::<usize>(), 0..10)) {
        let mut p = PartialObject::new();
        for piece in pieces(&text, &cuts) {
            p.feed(&piece);
        }
        let _ = (p.done(), p.error(), p.fields().len());
    }
}
