//! A model that goes round in circles: the same call (name and arguments) again and again,
//! or a short cycle of calls (A, B, A, B), within one turn. Small local models do this
//! until `max_iterations`; cove stops the turn instead, tells the user, and tells the
//! model with the next message.
//!
//! `[tools] repeat_limit` (default 3, 0 = off) is how many times one call may come in a
//! row; a cycle of 2 to 4 calls may come `repeat_limit - 1` times in a row (A, B, A, B
//! with the default).

use serde_json::Value;

use crate::domain::conversation::ToolCall;

pub const DEFAULT_REPEAT_LIMIT: u32 = 3;
/// The longest cycle looked for.
const MAX_PERIOD: usize = 4;
/// Calls remembered per turn (enough for the longest pattern looked for).
const KEEP: usize = 64;

/// The calls of the running turn, as comparable signatures.
#[derive(Debug, Default)]
pub struct Repeats {
    seen: Vec<Signature>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Signature {
    name: String,
    /// The arguments as JSON with keys sorted (the raw text when it is not JSON).
    args: String,
}

impl Signature {
    fn of(call: &ToolCall) -> Self {
        let args = serde_json::from_str::<Value>(&call.arguments)
            .map(|v| v.to_string())
            .unwrap_or_else(|_| call.arguments.trim().to_owned());
        Signature {
            name: call.name.clone(),
            args,
        }
    }

    fn shown(&self) -> String {
        const MAX: usize = 120;
        let mut args = self.args.clone();
        if args.len() > MAX {
            let mut cut = MAX;
            while !args.is_char_boundary(cut) {
                cut -= 1;
            }
            args.truncate(cut);
            args.push('…');
        }
        format!("{} {args}", self.name)
    }
}

impl Repeats {
    /// Takes the calls of one response. When they close a loop, says what the loop is
    /// ("the same call 3 times in a row: read_file {...}") and the calls are not kept.
    pub fn check(&mut self, calls: &[ToolCall], limit: u32) -> Option<String> {
        let before = self.seen.len();
        self.seen.extend(calls.iter().map(Signature::of));
        let found = (limit >= 2)
            .then(|| {
                (before + 1..=self.seen.len())
                    .find_map(|end| loop_at(&self.seen[..end], limit as usize))
            })
            .flatten();
        if found.is_some() {
            self.seen.truncate(before);
        } else if self.seen.len() > KEEP {
            self.seen.drain(..self.seen.len() - KEEP);
        }
        found
    }
}

/// The loop that `seen` ends with, if any.
fn loop_at(seen: &[Signature], limit: usize) -> Option<String> {
    if seen.len() >= limit
        && seen[seen.len() - limit..]
            .iter()
            .all(|s| *s == seen[seen.len() - 1])
    {
        return Some(format!(
            "the same call {limit} times in a row: {}",
            seen[seen.len() - 1].shown()
        ));
    }
    let times = limit - 1;
    for period in 2..=MAX_PERIOD {
        let span = period * times;
        if times < 2 || seen.len() < span {
            continue;
        }
        let tail = &seen[seen.len() - span..];
        let block = &tail[..period];
        if block.iter().all(|s| *s == block[0]) {
            continue; // that is the same call repeated, handled above
        }
        if tail.chunks(period).all(|c| c == block) {
            let names: Vec<String> = block.iter().map(Signature::shown).collect();
            return Some(format!(
                "the same {period} calls {times} times over: {}",
                names.join(", then ")
            ));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(name: &str, args: &str) -> ToolCall {
        ToolCall {
            id: ToolCall::synthetic_id(),
            name: name.into(),
            arguments: args.into(),
            ..ToolCall::default()
        }
    }

    #[test]
    fn the_third_identical_call_is_a_loop() {
        let mut r = Repeats::default();
        let read = c("read_file", r#"{"path": "a.rs"}"#);
        assert_eq!(r.check(std::slice::from_ref(&read), 3), None);
        // the same arguments written differently are the same call
        assert_eq!(r.check(&[c("read_file", r#"{ "path":"a.rs" }"#)], 3), None);
        let why = r.check(&[read], 3).unwrap();
        assert_eq!(
            why,
            r#"the same call 3 times in a row: read_file {"path":"a.rs"}"#
        );
    }

    #[test]
    fn different_calls_between_break_the_run() {
        let mut r = Repeats::default();
        for i in 0..10 {
            assert_eq!(
                r.check(&[c("shell", r#"{"command":"cargo test"}"#)], 3),
                None
            );
            assert_eq!(
                r.check(
                    &[c(
                        "edit_file",
                        &format!(r#"{{"path":"a","old":"{i}","new":"{}"}}"#, i + 1)
                    )],
                    3
                ),
                None
            );
        }
    }

    #[test]
    fn a_cycle_of_two_is_a_loop() {
        let mut r = Repeats::default();
        let (a, b) = (c("read_file", r#"{"path":"a"}"#), c("list_files", "{}"));
        assert_eq!(r.check(std::slice::from_ref(&a), 3), None);
        assert_eq!(r.check(std::slice::from_ref(&b), 3), None);
        assert_eq!(r.check(std::slice::from_ref(&a), 3), None);
        let why = r.check(&[b], 3).unwrap();
        assert!(why.starts_with("the same 2 calls 2 times over"), "{why}");
    }

    #[test]
    fn calls_of_one_response_count_and_the_limit_is_configurable() {
        let mut r = Repeats::default();
        let a = c("git_status", "{}");
        assert!(r.check(&[a.clone(), a.clone(), a.clone()], 3).is_some());
        let mut r = Repeats::default();
        for _ in 0..4 {
            assert_eq!(r.check(std::slice::from_ref(&a), 5), None);
        }
        assert!(r.check(std::slice::from_ref(&a), 5).is_some());
        // 0 (and 1) turn the check off
        let mut r = Repeats::default();
        for _ in 0..50 {
            assert_eq!(r.check(std::slice::from_ref(&a), 0), None);
        }
    }

    #[test]
    fn a_refused_response_is_not_remembered_and_memory_is_bounded() {
        let mut r = Repeats::default();
        let a = c("git_status", "{}");
        r.check(&[a.clone(), a.clone()], 3);
        assert!(r.check(std::slice::from_ref(&a), 3).is_some());
        assert_eq!(r.seen.len(), 2);
        let mut r = Repeats::default();
        for i in 0..1000 {
            r.check(&[c("read_file", &format!(r#"{{"path":"{i}"}}"#))], 3);
        }
        assert!(r.seen.len() <= KEEP);
    }
}
