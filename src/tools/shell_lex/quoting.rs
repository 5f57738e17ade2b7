//! Quoting and expansions inside a word: double quotes, `$…` in all its forms, ANSI-C
//! quoting, backticks, and bracketed text up to its match.

use super::*;

impl Lexer {
    /// After an opening `"`: up to and including the closing one.
    pub(super) fn double_quoted(&mut self, w: &mut Word) {
        while let Some(c) = self.at(0) {
            match c {
                '"' => {
                    self.i += 1;
                    return;
                }
                '\\' => {
                    match self.at(1) {
                        Some('\n') => {}
                        Some(n @ ('$' | '`' | '"' | '\\')) => w.text.push(n),
                        Some(n) => {
                            w.text.push('\\');
                            w.text.push(n);
                        }
                        None => w.text.push('\\'),
                    }
                    self.i += 2;
                }
                '$' => self.dollar(w, true),
                '`' => self.backtick(w),
                _ => {
                    w.text.push(c);
                    self.i += 1;
                }
            }
        }
        self.parsed.mark(UNTERMINATED);
    }

    /// At `$`: an expansion, ANSI-C or locale quoting, or a plain `$`.
    pub(super) fn dollar(&mut self, w: &mut Word, in_double: bool) {
        let next = self.at(1);
        match next {
            Some('(') if self.at(2) == Some('(') => {
                self.i += 3;
                // `$((…))`: the first `)` closes the inner group, the second the expansion
                let inner = self.until_close(')');
                if self.at(0) == Some(')') {
                    self.i += 1;
                }
                w.var = true;
                let raw = format!("$(({inner}))");
                w.text.push_str(&raw);
                w.substitutions
                    .extend(scan_substitutions_at(&inner, self.depth + 1));
                // bash reads it as a command substitution of a subshell when it is not
                // arithmetic: the checks read it both ways
                w.substitutions.push(Subst {
                    raw,
                    inner: format!("({inner})"),
                });
            }
            Some('(') => {
                self.parsed.mark(SUBSTITUTION);
                self.i += 2;
                let inner = self.until_close(')');
                let raw = format!("$({inner})");
                w.text.push_str(&raw);
                w.subst = true;
                w.substitutions.push(Subst { raw, inner });
            }
            Some('{') => {
                self.i += 2;
                let inner = self.until_close('}');
                w.var = true;
                w.text.push_str(&format!("${{{inner}}}"));
                let nested = scan_substitutions_at(&inner, self.depth + 1);
                if !nested.is_empty() {
                    self.parsed.mark(SUBSTITUTION);
                    w.subst = true;
                }
                w.substitutions.extend(nested);
            }
            Some('\'') if !in_double => {
                w.quoted = true;
                w.ansi_c = true;
                self.i += 2;
                self.ansi_c(w);
            }
            Some('"') if !in_double => {
                w.quoted = true;
                w.ansi_c = true;
                self.i += 2;
                self.double_quoted(w);
            }
            Some(c) if c.is_ascii_alphabetic() || c == '_' => {
                self.i += 1;
                w.text.push('$');
                while let Some(c) = self
                    .at(0)
                    .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
                {
                    w.text.push(c);
                    self.i += 1;
                }
                w.var = true;
            }
            Some(c) if c.is_ascii_digit() || "@*#?-$!".contains(c) => {
                self.i += 2;
                w.text.push('$');
                w.text.push(c);
                w.var = true;
            }
            _ => {
                self.i += 1;
                w.text.push('$');
            }
        }
    }

    /// After `$'`: the ANSI-C quoted text, escapes decoded the way bash does.
    fn ansi_c(&mut self, w: &mut Word) {
        while let Some(c) = self.at(0) {
            self.i += 1;
            match c {
                '\'' => return,
                '\\' => {
                    let Some(e) = self.at(0) else { break };
                    self.i += 1;
                    let simple = match e {
                        'n' => Some('\n'),
                        't' => Some('\t'),
                        'r' => Some('\r'),
                        'a' => Some('\u{7}'),
                        'b' => Some('\u{8}'),
                        'e' | 'E' => Some('\u{1b}'),
                        'f' => Some('\u{c}'),
                        'v' => Some('\u{b}'),
                        '\\' | '\'' | '"' | '?' => Some(e),
                        _ => None,
                    };
                    if let Some(s) = simple {
                        w.text.push(s);
                        continue;
                    }
                    let (radix, max) = match e {
                        'x' => (16, 2),
                        'u' => (16, 4),
                        'U' => (16, 8),
                        '0'..='7' => (8, 3),
                        'c' => {
                            if let Some(k) = self.at(0) {
                                self.i += 1;
                                w.text
                                    .push(char::from((k as u8 & 0x1f) * u8::from(k.is_ascii())));
                            }
                            continue;
                        }
                        _ => {
                            w.text.push('\\');
                            w.text.push(e);
                            continue;
                        }
                    };
                    let mut digits = String::new();
                    if radix == 8 {
                        digits.push(e);
                    }
                    while digits.len() < max
                        && let Some(d) = self.at(0).filter(|d| d.is_digit(radix))
                    {
                        digits.push(d);
                        self.i += 1;
                    }
                    match u32::from_str_radix(&digits, radix)
                        .ok()
                        .and_then(char::from_u32)
                    {
                        Some(ch) => w.text.push(ch),
                        None => {
                            w.text.push('\\');
                            w.text.push(e);
                        }
                    }
                }
                _ => w.text.push(c),
            }
        }
        self.parsed.mark(UNTERMINATED);
    }

    /// At a backtick: the command substitution up to the closing one.
    pub(super) fn backtick(&mut self, w: &mut Word) {
        self.parsed.mark(SUBSTITUTION);
        self.i += 1;
        let mut inner = String::new();
        let mut raw = String::from("`");
        let mut closed = false;
        while let Some(c) = self.at(0) {
            self.i += 1;
            match c {
                '`' => {
                    closed = true;
                    break;
                }
                '\\' => {
                    let n = self.at(0);
                    self.i += 1;
                    raw.push('\\');
                    match n {
                        Some(n @ ('`' | '\\' | '$')) => {
                            inner.push(n);
                            raw.push(n);
                        }
                        Some(n) => {
                            inner.push('\\');
                            inner.push(n);
                            raw.push(n);
                        }
                        None => {}
                    }
                }
                _ => {
                    inner.push(c);
                    raw.push(c);
                }
            }
        }
        if closed {
            raw.push('`');
        } else {
            self.parsed.mark(UNTERMINATED);
        }
        w.text.push_str(&raw);
        w.subst = true;
        w.substitutions.push(Subst { raw, inner });
    }

    /// After an opening `(` or `{`: the text up to its matching `close` (consumed), with
    /// quotes, escapes and nested brackets skipped over.
    pub(super) fn until_close(&mut self, close: char) -> String {
        let open = if close == ')' { '(' } else { '{' };
        let start = self.i;
        let mut depth = 1usize;
        while let Some(c) = self.at(0) {
            match c {
                '\\' => self.i += 1,
                '\'' if close == ')' => {
                    self.i += 1;
                    while self.at(0).is_some_and(|c| c != '\'') {
                        self.i += 1;
                    }
                }
                '"' => {
                    self.i += 1;
                    while let Some(c) = self.at(0) {
                        if c == '\\' {
                            self.i += 1;
                        } else if c == '"' {
                            break;
                        }
                        self.i += 1;
                    }
                }
                '`' => {
                    self.i += 1;
                    while let Some(c) = self.at(0) {
                        if c == '\\' {
                            self.i += 1;
                        } else if c == '`' {
                            break;
                        }
                        self.i += 1;
                    }
                }
                c if c == open => depth += 1,
                c if c == close => {
                    depth -= 1;
                    if depth == 0 {
                        let inner = self.c[start..self.i].iter().collect();
                        self.i += 1;
                        return inner;
                    }
                }
                _ => {}
            }
            self.i += 1;
        }
        self.parsed.mark(UNTERMINATED);
        let end = self.c.len();
        self.i = end;
        self.c[start.min(end)..end].iter().collect()
    }
}
