//! A JSON object read as it arrives, a fragment at a time: the string values of its top-level
//! keys are decoded as far as they have come, so a tool call's `content` or `new_string` can
//! be shown while the model is still writing it.
//!
//! Each fragment is read once, character by character (no re-parse from the start); the state
//! between fragments is a small machine. Values that are not strings (numbers, booleans,
//! nested objects and arrays) are skipped. Input that is not a JSON object stops the reader:
//! what was decoded stays, and `error` says why.

/// The decoded state of one top-level key.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    pub key: String,
    /// The string value decoded so far; for numbers, booleans and null their text; empty
    /// for objects and arrays.
    pub value: String,
    /// The closing quote has arrived.
    pub complete: bool,
    pub is_string: bool,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum St {
    Start,
    ExpectKey,
    Key,
    Colon,
    Value,
    Str,
    Scalar,
    /// Inside a nested object/array: its depth, and whether inside a string in it.
    Nested {
        depth: u32,
        in_str: bool,
        esc: bool,
    },
    AfterValue,
    Done,
    Failed,
}

#[derive(Debug, Clone)]
pub struct PartialObject {
    st: St,
    fields: Vec<Field>,
    key: String,
    /// An escape sequence being read (`\` seen, maybe `u` and some hex digits).
    esc: Option<String>,
    /// A high surrogate waiting for its low half.
    high: Option<u16>,
    error: Option<String>,
}

impl Default for PartialObject {
    fn default() -> Self {
        PartialObject {
            st: St::Start,
            fields: Vec::new(),
            key: String::new(),
            esc: None,
            high: None,
            error: None,
        }
    }
}

impl PartialObject {
    pub fn new() -> Self {
        Self::default()
    }

    /// Reads the next piece of the JSON text.
    pub fn feed(&mut self, fragment: &str) {
        for c in fragment.chars() {
            if matches!(self.st, St::Done | St::Failed) {
                if self.st == St::Done && !c.is_whitespace() {
                    self.fail(format!("text after the end of the object: {c:?}"));
                }
                if self.st == St::Failed {
                    return;
                }
                continue;
            }
            self.step(c);
        }
    }

    /// The string value of `key` so far.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.field(key)
            .filter(|f| f.is_string)
            .map(|f| f.value.as_str())
    }

    pub fn field(&self, key: &str) -> Option<&Field> {
        self.fields.iter().rev().find(|f| f.key == key)
    }

    /// Whether the string value of `key` has been read to its closing quote.
    pub fn complete(&self, key: &str) -> bool {
        self.field(key).is_some_and(|f| f.complete)
    }

    pub fn fields(&self) -> &[Field] {
        &self.fields
    }

    /// The whole object has been read.
    pub fn done(&self) -> bool {
        self.st == St::Done
    }

    /// Why reading stopped, when the text is not a JSON object.
    pub fn error(&self) -> Option<&str> {
        self.error.as_deref()
    }

    fn fail(&mut self, why: String) {
        self.st = St::Failed;
        self.error = Some(why);
    }

    fn step(&mut self, c: char) {
        match self.st {
            St::Start => match c {
                '{' => self.st = St::ExpectKey,
                c if c.is_whitespace() => {}
                c => self.fail(format!("expected an object, found {c:?}")),
            },
            St::ExpectKey => match c {
                '"' => {
                    self.key.clear();
                    self.st = St::Key;
                }
                '}' if self.fields.is_empty() => self.st = St::Done,
                c if c.is_whitespace() => {}
                c => self.fail(format!("expected a key, found {c:?}")),
            },
            St::Key => {
                let mut key = std::mem::take(&mut self.key);
                let closed = self.string_char(c, &mut key);
                self.key = key;
                if closed {
                    self.st = St::Colon;
                }
            }
            St::Colon => match c {
                ':' => self.st = St::Value,
                c if c.is_whitespace() => {}
                c => self.fail(format!("expected ':', found {c:?}")),
            },
            St::Value => {
                if c.is_whitespace() {
                    return;
                }
                let key = std::mem::take(&mut self.key);
                let scalar = !matches!(c, '"' | '{' | '[');
                self.fields.push(Field {
                    key,
                    value: if scalar { c.to_string() } else { String::new() },
                    complete: false,
                    is_string: c == '"',
                });
                self.st = match c {
                    '"' => St::Str,
                    '{' | '[' => St::Nested {
                        depth: 1,
                        in_str: false,
                        esc: false,
                    },
                    _ => St::Scalar,
                };
            }
            St::Str => {
                let mut value = self
                    .fields
                    .last_mut()
                    .map(|f| std::mem::take(&mut f.value))
                    .unwrap_or_default();
                let closed = self.string_char(c, &mut value);
                if let Some(f) = self.fields.last_mut() {
                    f.value = value;
                    if closed {
                        f.complete = true;
                    }
                }
                if closed {
                    self.st = St::AfterValue;
                }
            }
            St::Scalar => match c {
                ',' => self.end_value(St::ExpectKey),
                '}' => self.end_value(St::Done),
                c if c.is_whitespace() => {}
                c => {
                    if let Some(f) = self.fields.last_mut()
                        && f.value.len() < 64
                    {
                        f.value.push(c);
                    }
                }
            },
            St::Nested { depth, in_str, esc } => {
                self.st = match (in_str, esc, c) {
                    (true, true, _) => St::Nested {
                        depth,
                        in_str,
                        esc: false,
                    },
                    (true, false, '\\') => St::Nested {
                        depth,
                        in_str,
                        esc: true,
                    },
                    (true, false, '"') => St::Nested {
                        depth,
                        in_str: false,
                        esc: false,
                    },
                    (true, false, _) => St::Nested { depth, in_str, esc },
                    (false, _, '"') => St::Nested {
                        depth,
                        in_str: true,
                        esc: false,
                    },
                    (false, _, '{' | '[') => St::Nested {
                        depth: depth + 1,
                        in_str,
                        esc,
                    },
                    (false, _, '}' | ']') if depth == 1 => {
                        self.end_value(St::AfterValue);
                        return;
                    }
                    (false, _, '}' | ']') => St::Nested {
                        depth: depth - 1,
                        in_str,
                        esc,
                    },
                    _ => St::Nested { depth, in_str, esc },
                };
            }
            St::AfterValue => match c {
                ',' => self.st = St::ExpectKey,
                '}' => self.st = St::Done,
                c if c.is_whitespace() => {}
                c => self.fail(format!("expected ',' or '}}', found {c:?}")),
            },
            St::Done | St::Failed => {}
        }
    }

    fn end_value(&mut self, next: St) {
        if let Some(f) = self.fields.last_mut() {
            f.complete = true;
        }
        self.st = next;
    }

    /// One character inside a string; true when it is the closing quote.
    fn string_char(&mut self, c: char, out: &mut String) -> bool {
        if let Some(mut esc) = self.esc.take() {
            esc.push(c);
            match decode_escape(&esc) {
                Escape::More => self.esc = Some(esc),
                Escape::Char(ch) => self.push_char(ch, out),
                Escape::Unit(u) => self.push_unit(u, out),
                Escape::Bad => {
                    self.flush_high(out);
                    out.push('\u{FFFD}');
                }
            }
            return false;
        }
        match c {
            '\\' => {
                self.esc = Some(String::new());
                false
            }
            '"' => {
                self.flush_high(out);
                true
            }
            c => {
                self.push_char(c, out);
                false
            }
        }
    }

    fn push_char(&mut self, c: char, out: &mut String) {
        self.flush_high(out);
        out.push(c);
    }

    fn push_unit(&mut self, u: u16, out: &mut String) {
        match (self.high.take(), u) {
            (Some(hi), 0xDC00..=0xDFFF) => {
                let code = 0x10000 + ((u32::from(hi) - 0xD800) << 10) + (u32::from(u) - 0xDC00);
                out.push(char::from_u32(code).unwrap_or('\u{FFFD}'));
            }
            (prev, 0xD800..=0xDBFF) => {
                if prev.is_some() {
                    out.push('\u{FFFD}');
                }
                self.high = Some(u);
            }
            (prev, u) => {
                if prev.is_some() {
                    out.push('\u{FFFD}');
                }
                out.push(char::from_u32(u32::from(u)).unwrap_or('\u{FFFD}'));
            }
        }
    }

    fn flush_high(&mut self, out: &mut String) {
        if self.high.take().is_some() {
            out.push('\u{FFFD}');
        }
    }
}

enum Escape {
    More,
    Char(char),
    Unit(u16),
    Bad,
}

/// `esc` is what followed a backslash so far.
fn decode_escape(esc: &str) -> Escape {
    let mut chars = esc.chars();
    match chars.next() {
        None => Escape::More,
        Some('u') => {
            let hex: String = chars.collect();
            if hex.len() < 4 {
                if hex.chars().all(|c| c.is_ascii_hexdigit()) {
                    Escape::More
                } else {
                    Escape::Bad
                }
            } else {
                u16::from_str_radix(&hex, 16).map_or(Escape::Bad, Escape::Unit)
            }
        }
        Some(c) => match c {
            '"' => Escape::Char('"'),
            '\\' => Escape::Char('\\'),
            '/' => Escape::Char('/'),
            'b' => Escape::Char('\u{8}'),
            'f' => Escape::Char('\u{c}'),
            'n' => Escape::Char('\n'),
            'r' => Escape::Char('\r'),
            't' => Escape::Char('\t'),
            _ => Escape::Bad,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(s: &str) -> PartialObject {
        let mut p = PartialObject::new();
        p.feed(s);
        p
    }

    #[test]
    fn string_values_grow_as_fragments_arrive() {
        let mut p = PartialObject::new();
        p.feed(r#"{"path": "src/ma"#);
        assert_eq!(p.get("path"), Some("src/ma"));
        assert!(!p.complete("path"));
        p.feed(r#"in.rs", "content": "fn main() {\n    println!(\"h"#);
        assert_eq!(p.get("path"), Some("src/main.rs"));
        assert!(p.complete("path"));
        assert_eq!(p.get("content"), Some("fn main() {\n    println!(\"h"));
        p.feed(r#"i\");\n}\n"}"#);
        assert_eq!(
            p.get("content"),
            Some("fn main() {\n    println!(\"hi\");\n}\n")
        );
        assert!(p.done() && p.error().is_none());
    }

    #[test]
    fn escapes_split_anywhere_and_surrogate_pairs() {
        let text = r#"{"a": "x\u00e9\ud83d\ude00\\\"\n\t/\/y"}"#;
        let want = "xé😀\\\"\n\t//y";
        let mut p = PartialObject::new();
        for c in text.chars() {
            p.feed(&c.to_string());
            let got = p.get("a").unwrap_or("");
            assert!(want.starts_with(got), "{got:?}");
        }
        assert_eq!(p.get("a"), Some(want));
        // a lone surrogate is replaced, not a panic
        assert_eq!(read(r#"{"a": "\ud800x"}"#).get("a"), Some("\u{FFFD}x"));
        assert_eq!(read(r#"{"a": "\q"}"#).get("a"), Some("\u{FFFD}"));
    }

    #[test]
    fn other_values_are_skipped() {
        let p = read(r#"{"n": 12, "o": {"k": ["}", "\""]}, "b": true, "s": "yes", "z": null}"#);
        assert_eq!(p.get("s"), Some("yes"));
        assert_eq!(p.get("n"), None);
        assert_eq!(p.field("n").map(|f| f.value.as_str()), Some("12"));
        assert_eq!(p.field("b").map(|f| f.value.as_str()), Some("true"));
        assert!(p.complete("o") && p.complete("b"));
        assert!(p.done(), "{:?}", p.error());
    }

    #[test]
    fn not_an_object_stops_with_an_error() {
        assert!(read("[1, 2]").error().is_some());
        assert!(read(r#"{"a" 1}"#).error().is_some());
        let p = read(r#"{"a": "b"} x"#);
        assert_eq!(p.get("a"), Some("b"));
        assert!(p.error().is_some());
        assert!(read("{}").done());
    }
}
