//! The new side of a journaled change as its old side with byte ranges replaced: exact
//! whatever the line endings, and made, checked and applied without a second copy of the
//! file (a one-line edit of a 200 MB file journals a few bytes).

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::domain::patch::diff_hunks;

/// `removed` bytes of the old text from byte `at` give way to `text`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Splice {
    pub at: usize,
    pub removed: usize,
    pub text: String,
}

/// The splices that turn `old` into `new`: one per changed stretch of lines, in order, or
/// `None` when they would not give `new` back exactly (a change of line endings alone,
/// which the line diff does not see).
pub fn between(old: &str, new: &str) -> Option<Vec<Splice>> {
    let (mut old_lines, mut new_lines) = (LineStarts::new(old), LineStarts::new(new));
    let splices: Vec<Splice> = diff_hunks(old, new, 0)
        .iter()
        .map(|h| {
            // 0-based first lines (a hunk that adds or removes nothing names the line
            // before it)
            let first = |start: usize, count: usize| if count == 0 { start } else { start - 1 };
            let (o, n) = (
                first(h.old_start, h.removed()),
                first(h.new_start, h.added()),
            );
            let at = old_lines.byte_of(o);
            let end = old_lines.byte_of(o + h.removed());
            let (from, to) = (new_lines.byte_of(n), new_lines.byte_of(n + h.added()));
            Splice {
                at,
                removed: end - at,
                text: new[from..to].to_owned(),
            }
        })
        .collect();
    gives(old.as_bytes(), &splices, new.as_bytes()).then_some(splices)
}

/// `old` with the splices made, in one allocation; `None` for splices that do not fit it
/// (a damaged journal).
pub fn apply(old: &[u8], splices: &[Splice]) -> Option<Arc<[u8]>> {
    let pieces = pieces(old, splices)?;
    Some(crate::domain::shared::concat(&pieces))
}

/// Whether the splices turn `old` into exactly `new`, compared piece by piece.
fn gives(old: &[u8], splices: &[Splice], new: &[u8]) -> bool {
    let Some(pieces) = pieces(old, splices) else {
        return false;
    };
    let mut at = 0;
    for p in pieces {
        if new.get(at..at + p.len()) != Some(p) {
            return false;
        }
        at += p.len();
    }
    at == new.len()
}

/// The new text as pieces of the old and the splices' texts.
fn pieces<'a>(old: &'a [u8], splices: &'a [Splice]) -> Option<Vec<&'a [u8]>> {
    let mut pieces = Vec::with_capacity(splices.len() * 2 + 1);
    let mut kept_from = 0;
    for s in splices {
        let end = s.at.checked_add(s.removed)?;
        pieces.push(old.get(kept_from..s.at)?);
        pieces.push(s.text.as_bytes());
        kept_from = end;
    }
    pieces.push(old.get(kept_from..)?);
    Some(pieces)
}

/// Byte offsets of line starts, found walking forward (hunks come in order).
struct LineStarts<'a> {
    text: &'a [u8],
    line: usize,
    byte: usize,
}

impl<'a> LineStarts<'a> {
    fn new(text: &'a str) -> Self {
        LineStarts {
            text: text.as_bytes(),
            line: 0,
            byte: 0,
        }
    }

    /// Where 0-based line `line` starts (the end of the text past the last line).
    fn byte_of(&mut self, line: usize) -> usize {
        if line < self.line {
            // not in order: start again
            self.line = 0;
            self.byte = 0;
        }
        while self.line < line {
            match memchr::memchr(b'\n', &self.text[self.byte..]) {
                Some(i) => self.byte += i + 1,
                None => {
                    self.byte = self.text.len();
                    self.line = line;
                    break;
                }
            }
            self.line += 1;
        }
        self.byte
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_one_line_edit_is_one_small_splice() {
        let old: String = (0..50_000).map(|i| format!("line {i}\n")).collect();
        let new = old.replace("line 25000\n", "line 25000 changed\n");
        let s = between(&old, &new).unwrap();
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].text, "line 25000 changed\n");
        assert_eq!(&*apply(old.as_bytes(), &s).unwrap(), new.as_bytes());
    }

    #[test]
    fn edges_and_damage() {
        for (old, new) in [
            ("", "a\n"),
            ("a\n", ""),
            ("a", "a\n"),
            ("a\n", "a"),
            ("a\nb\nc", "x\nb\ny"),
            ("a\r\nb\r\n", "a\r\nc\r\n"),
            ("a\nb\n", "b\na\n"),
        ] {
            let s = between(old, new).unwrap_or_else(|| panic!("{old:?} -> {new:?}"));
            assert_eq!(&*apply(old.as_bytes(), &s).unwrap(), new.as_bytes());
        }
        // line endings alone: the line diff sees nothing, so no splices claim to do it
        assert!(between("a\nb\n", "a\r\nb\r\n").is_none());
        let bad = [Splice {
            at: 5,
            removed: 10,
            text: "x".into(),
        }];
        assert!(apply(b"short", &bad).is_none());
    }

    proptest! {
        #[test]
        fn splices_give_the_new_text_back(
            lines in prop::collection::vec("[a-c]{0,3}(\r)?", 0..60),
            edits in prop::collection::vec((any::<prop::sample::Index>(), "[a-d]{0,4}(\r?\n)?"), 0..6),
            final_newline in any::<bool>(),
        ) {
            let mut old: String = lines.iter().map(|l| format!("{l}\n")).collect();
            if !final_newline { old.pop(); }
            let mut new_lines: Vec<String> = old.split('\n').map(str::to_owned).collect();
            for (at, text) in &edits {
                let i = at.index(new_lines.len());
                new_lines[i] = text.clone();
            }
            let new = new_lines.join("\n");
            if let Some(s) = between(&old, &new) {
                prop_assert_eq!(&*apply(old.as_bytes(), &s).unwrap(), new.as_bytes());
            }
        }
    }
}
