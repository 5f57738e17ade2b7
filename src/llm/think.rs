//! Reasoning that arrives inside the content as `<think>…</think>` (reasoning models
//! served without a reasoning parser: Qwen3, DeepSeek-R1 distills, many GGUF builds).
//! Only a block at the very start of the content is taken; the tags may be split across
//! deltas anywhere.

const OPEN: &str = "<think>";
const CLOSE: &str = "</think>";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    Reasoning(String),
    Content(String),
}

#[derive(Debug, Default)]
enum Mode {
    /// Not yet known whether the content opens with `<think>`.
    #[default]
    Undecided,
    Inside,
    Outside,
}

#[derive(Debug, Default)]
pub struct ThinkSplitter {
    mode: Mode,
    /// Text held back: the start of the content while undecided, or a tail that may be
    /// the beginning of `</think>` while inside.
    held: String,
    /// Drop newlines right after `</think>`.
    after_close: bool,
}

impl ThinkSplitter {
    pub fn push(&mut self, text: &str, out: &mut Vec<Piece>) {
        match self.mode {
            Mode::Outside => self.content(text, out),
            Mode::Undecided => {
                self.held.push_str(text);
                let trimmed = self.held.trim_start();
                if let Some(rest) = trimmed.strip_prefix(OPEN) {
                    let rest = rest.to_owned();
                    self.held.clear();
                    self.mode = Mode::Inside;
                    self.inside(&rest, out);
                } else if !OPEN.starts_with(trimmed) {
                    self.mode = Mode::Outside;
                    let held = std::mem::take(&mut self.held);
                    self.content(&held, out);
                }
            }
            Mode::Inside => self.inside(text, out),
        }
    }

    pub fn finish(&mut self, out: &mut Vec<Piece>) {
        let held = std::mem::take(&mut self.held);
        match self.mode {
            Mode::Inside => push_piece(out, Piece::Reasoning(held)),
            Mode::Undecided | Mode::Outside => push_piece(out, Piece::Content(held)),
        }
    }

    fn inside(&mut self, text: &str, out: &mut Vec<Piece>) {
        self.held.push_str(text);
        if let Some(end) = self.held.find(CLOSE) {
            let reasoning = self.held[..end].to_owned();
            let rest = self.held[end + CLOSE.len()..].to_owned();
            self.held.clear();
            push_piece(out, Piece::Reasoning(reasoning));
            self.mode = Mode::Outside;
            self.after_close = true;
            self.content(&rest, out);
            return;
        }
        // Keep back what could be the start of `</think>`; the rest is reasoning.
        let mut keep = self.held.len().saturating_sub(CLOSE.len() - 1);
        while !self.held.is_char_boundary(keep) {
            keep -= 1;
        }
        let tail = self.held.split_off(keep);
        let done = std::mem::replace(&mut self.held, tail);
        push_piece(out, Piece::Reasoning(done));
    }

    fn content(&mut self, text: &str, out: &mut Vec<Piece>) {
        let text = if self.after_close {
            let t = text.trim_start_matches(['\n', '\r']);
            if !t.is_empty() {
                self.after_close = false;
            }
            t
        } else {
            text
        };
        push_piece(out, Piece::Content(text.to_owned()));
    }
}

fn push_piece(out: &mut Vec<Piece>, piece: Piece) {
    let empty = match &piece {
        Piece::Reasoning(t) | Piece::Content(t) => t.is_empty(),
    };
    if !empty {
        out.push(piece);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(deltas: &[&str]) -> (String, String) {
        let mut s = ThinkSplitter::default();
        let mut out = Vec::new();
        for d in deltas {
            s.push(d, &mut out);
        }
        s.finish(&mut out);
        let (mut r, mut c) = (String::new(), String::new());
        for p in out {
            match p {
                Piece::Reasoning(t) => r.push_str(&t),
                Piece::Content(t) => c.push_str(&t),
            }
        }
        (r, c)
    }

    #[test]
    fn think_block_at_the_start_becomes_reasoning_wherever_the_tags_split() {
        let text = "<think>\nLet me see: 2+2.\n</think>\n\nIt is 4.";
        for i in 0..=text.len() {
            for j in i..=text.len() {
                if !text.is_char_boundary(i) || !text.is_char_boundary(j) {
                    continue;
                }
                let (r, c) = split(&[&text[..i], &text[i..j], &text[j..]]);
                assert_eq!(r, "\nLet me see: 2+2.\n", "split at {i},{j}");
                assert_eq!(c, "It is 4.", "split at {i},{j}");
            }
        }
    }

    #[test]
    fn ordinary_content_and_later_tags_are_left_alone() {
        assert_eq!(
            split(&["Hello ", "<think>x</think>"]),
            (String::new(), "Hello <think>x</think>".into())
        );
        assert_eq!(split(&["<thin", "g>"]), (String::new(), "<thing>".into()));
        assert_eq!(split(&["<"]), (String::new(), "<".into()));
        assert_eq!(
            split(&["  <think>unfinished é"]),
            ("unfinished é".into(), String::new())
        );
    }
}
