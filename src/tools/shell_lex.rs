//! The one shell lexer: everything that reads a command line before it runs (the allow and
//! deny policy in `shell_policy`, the danger check in `danger`, the session prefix in
//! `registry::command_prefix`) reads it through [`parse`], so they cannot disagree about
//! what a line runs.
//!
//! It cuts a line the way POSIX `sh` does, as far as those checks need: words with quotes
//! removed (single, double, backslash, bash's `$'…'`), line continuations, the list and
//! pipeline operators (`;` `&&` `||` `|` `|&` `&`, newlines), redirections with their
//! descriptor and target, here-documents with their bodies, and the text of every command,
//! process and backtick substitution (for the checks to read in turn). It does not expand
//! anything: a word says which expansions it holds instead. What a pattern cannot see
//! through (substitutions, subshells, brace groups, control structures, function
//! definitions, here-documents, comments, invisible characters, syntax errors) is listed in
//! [`Parsed::opaque`].

/// How deep command lines inside command lines (substitutions, `sh -c`, `eval`) are read
/// by the checks that recurse.
pub const MAX_NESTING: usize = 32;

/// One word of a command, after quote removal.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Word {
    /// The word with quotes removed; expansions are left as written (`$HOME`, `$(…)`).
    pub text: String,
    /// Some part of it was quoted or escaped.
    pub quoted: bool,
    /// A parameter or arithmetic expansion (`$NAME`, `${…}`, `$1`, `$((…))`).
    pub var: bool,
    /// A command, process or backtick substitution.
    pub subst: bool,
    /// An unquoted glob character (`*`, `?`, `[…]`).
    pub glob: bool,
    /// It begins with an unquoted glob character, so it could expand to an option.
    pub glob_first: bool,
    /// It begins with an unquoted `~`.
    pub tilde: bool,
    /// ANSI-C (`$'…'`) or locale (`$"…"`) quoting, which `sh` and bash read differently.
    pub ansi_c: bool,
    /// An unquoted brace expansion (`{a,b}`, `{1..3}`; bash only).
    pub brace: bool,
    /// `NAME=value` (or `NAME+=value`) with an unquoted name: an assignment at the start of
    /// a command.
    pub assignment: bool,
    /// The substitutions inside it, in order.
    pub substitutions: Vec<Subst>,
}

/// A command, process or backtick substitution inside a word.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subst {
    /// How it stands in [`Word::text`] (`$(echo ~)`, `` `pwd` ``).
    pub raw: String,
    /// The command line it runs.
    pub inner: String,
}

impl Word {
    /// A word that is what it says: no expansion of any kind, printable ASCII only.
    pub fn is_plain(&self) -> bool {
        let expands =
            self.var || self.subst || self.glob || self.ansi_c || self.brace || self.tilde;
        !expands && !self.text.is_empty() && self.text.chars().all(|c| c.is_ascii_graphic())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RedirOp {
    /// `<`
    In,
    /// `>`
    Out,
    /// `>>`
    Append,
    /// `>|`
    Clobber,
    /// `<>`
    ReadWrite,
    /// `<&N`
    DupIn,
    /// `>&N`, `N>&M`
    DupOut,
    /// `&>file`, `>&file` (bash: both streams to a file)
    OutErr,
    /// `&>>file`
    AppendErr,
    /// `<<` / `<<-`
    HereDoc,
    /// `<<<`
    HereString,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redirect {
    pub fd: Option<u32>,
    pub op: RedirOp,
    pub target: Word,
    /// A here-document's body.
    pub body: Option<String>,
}

impl Redirect {
    /// Whether it writes to (or creates, or truncates) its target.
    pub fn writes(&self) -> bool {
        matches!(
            self.op,
            RedirOp::Out
                | RedirOp::Append
                | RedirOp::Clobber
                | RedirOp::ReadWrite
                | RedirOp::OutErr
                | RedirOp::AppendErr
        )
    }

    /// Whether the command's standard input comes from it.
    pub fn feeds_stdin(&self) -> bool {
        self.fd.is_none_or(|fd| fd == 0)
            && matches!(
                self.op,
                RedirOp::In | RedirOp::ReadWrite | RedirOp::HereDoc | RedirOp::HereString
            )
    }
}

/// One simple command: assignments, words and redirections.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SimpleCommand {
    pub assignments: Vec<Word>,
    pub words: Vec<Word>,
    pub redirects: Vec<Redirect>,
    /// Its standard input is the previous command's output (`a | b`: true for `b`).
    pub piped: bool,
    /// Which pipeline of the line it belongs to (counted from 0).
    pub pipeline: usize,
}

impl SimpleCommand {
    /// The words' texts.
    pub fn texts(&self) -> Vec<String> {
        self.words.iter().map(|w| w.text.clone()).collect()
    }

    /// Every substitution in its words, assignments, redirection targets and (unquoted)
    /// here-documents.
    pub fn substitutions(&self) -> Vec<Subst> {
        let mut out: Vec<Subst> = self
            .assignments
            .iter()
            .chain(&self.words)
            .chain(self.redirects.iter().map(|r| &r.target))
            .flat_map(|w| w.substitutions.iter().cloned())
            .collect();
        for r in &self.redirects {
            if let (Some(body), false) = (&r.body, r.target.quoted) {
                out.extend(scan_substitutions(body));
            }
        }
        out
    }
}

/// A command line as the checks see it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Parsed {
    /// Every simple command, in order, including those inside subshells, brace groups and
    /// control structures (not those inside substitutions: see [`Word::substitutions`]).
    pub commands: Vec<SimpleCommand>,
    /// What patterns cannot see through, once each (empty for a transparent line).
    pub opaque: Vec<&'static str>,
}

impl Parsed {
    fn mark(&mut self, why: &'static str) {
        if !self.opaque.contains(&why) {
            self.opaque.push(why);
        }
    }
}

pub const SUBSTITUTION: &str = "a command substitution";
pub const PROCESS_SUBSTITUTION: &str = "a process substitution";
pub const SUBSHELL: &str = "a subshell";
pub const BRACE_GROUP: &str = "a brace group";
pub const CONTROL: &str = "a control structure (if, for, while, case)";
pub const FUNCTION: &str = "a function definition";
pub const HEREDOC: &str = "a here-document";
pub const COMMENT: &str = "a comment";
pub const UNTERMINATED: &str = "an unterminated quote, substitution or here-document";
pub const INVISIBLE: &str = "control or invisible characters";
pub const SYNTAX: &str = "a syntax error";

/// Characters that change how a line looks without being seen: controls (other than tab
/// and newline), zero-width characters and bidirectional overrides.
pub fn is_invisible(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t')
        || matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2060}'..='\u{2069}' | '\u{feff}' | '\u{00ad}')
}

/// Reads `line` into its simple commands.
pub fn parse(line: &str) -> Parsed {
    let mut lx = Lexer {
        c: line.chars().collect(),
        i: 0,
        toks: Vec::new(),
        heredocs: Vec::new(),
        parsed: Parsed::default(),
        depth: 0,
    };
    if lx.c.iter().any(|&c| is_invisible(c)) {
        lx.parsed.mark(INVISIBLE);
    }
    lx.run();
    let Lexer {
        toks, mut parsed, ..
    } = lx;
    group::group(toks, &mut parsed);
    parsed
}

/// The substitutions in `text` read as if it stood between double quotes (a here-document
/// body, the inside of `${…}` or `$((…))`).
pub fn scan_substitutions(text: &str) -> Vec<Subst> {
    scan_substitutions_at(text, 0)
}

fn scan_substitutions_at(text: &str, depth: usize) -> Vec<Subst> {
    if depth > MAX_NESTING {
        return Vec::new();
    }
    let mut lx = Lexer {
        c: text.chars().collect(),
        i: 0,
        toks: Vec::new(),
        heredocs: Vec::new(),
        parsed: Parsed::default(),
        depth,
    };
    let mut w = Word::default();
    while lx.i < lx.c.len() {
        match lx.c[lx.i] {
            '\\' => lx.i += 2,
            '$' => lx.dollar(&mut w, true),
            '`' => lx.backtick(&mut w),
            _ => lx.i += 1,
        }
    }
    w.substitutions
}

/// `word` quoted for `sh` when it needs it, so that [`parse`] reads it back as one word.
pub fn quote(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_@%+=:,./-".contains(c));
    if plain {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    /// `;`, newline, `;;`, `&&`, `||`, `&`
    Sep,
    /// `|`, `|&`
    Pipe,
    Open,
    Close,
}

#[derive(Debug)]
enum Tok {
    Word(Word),
    Op(Op),
    Redir(Redirect),
}

struct Lexer {
    c: Vec<char>,
    i: usize,
    toks: Vec<Tok>,
    /// Here-documents waiting for their bodies: token index, `<<-`.
    heredocs: Vec<(usize, bool)>,
    parsed: Parsed,
    /// How deep inside `${…}` and `$((…))` this lexer reads.
    depth: usize,
}

fn ends_word(c: char) -> bool {
    matches!(
        c,
        ' ' | '\t' | '\n' | ';' | '&' | '|' | '(' | ')' | '<' | '>'
    )
}

impl Lexer {
    fn at(&self, k: usize) -> Option<char> {
        self.c.get(self.i + k).copied()
    }

    fn run(&mut self) {
        while let Some(c) = self.at(0) {
            let next = self.at(1);
            match c {
                ' ' | '\t' => self.i += 1,
                '\\' if next == Some('\n') => self.i += 2,
                '\n' => {
                    self.i += 1;
                    self.toks.push(Tok::Op(Op::Sep));
                    self.heredoc_bodies();
                }
                ';' => {
                    self.i += if matches!(next, Some(';' | '&')) {
                        2
                    } else {
                        1
                    };
                    if self.at(0) == Some('&') {
                        self.i += 1;
                    }
                    self.toks.push(Tok::Op(Op::Sep));
                }
                '&' => match next {
                    Some('&') => {
                        self.i += 2;
                        self.toks.push(Tok::Op(Op::Sep));
                    }
                    Some('>') => {
                        let append = self.at(2) == Some('>');
                        self.i += if append { 3 } else { 2 };
                        let op = if append {
                            RedirOp::AppendErr
                        } else {
                            RedirOp::OutErr
                        };
                        self.redirect(None, op);
                    }
                    _ => {
                        self.i += 1;
                        self.toks.push(Tok::Op(Op::Sep));
                    }
                },
                '|' => {
                    let or = next == Some('|');
                    self.i += if matches!(next, Some('|' | '&')) {
                        2
                    } else {
                        1
                    };
                    self.toks.push(Tok::Op(if or { Op::Sep } else { Op::Pipe }));
                }
                '(' => {
                    self.i += 1;
                    self.toks.push(Tok::Op(Op::Open));
                }
                ')' => {
                    self.i += 1;
                    self.toks.push(Tok::Op(Op::Close));
                }
                '<' | '>' if next == Some('(') => {
                    let w = self.word();
                    self.toks.push(Tok::Word(w));
                }
                '<' | '>' => self.redirect_op(None),
                '#' => {
                    self.parsed.mark(COMMENT);
                    while self.at(0).is_some_and(|c| c != '\n') {
                        self.i += 1;
                    }
                }
                _ => {
                    let w = self.word();
                    let fd_next = matches!(self.at(0), Some('<' | '>')) && self.at(1) != Some('(');
                    let fd = (fd_next && !w.quoted && w.substitutions.is_empty() && !w.var)
                        .then(|| w.text.parse::<u32>().ok())
                        .flatten();
                    match fd {
                        Some(fd) if w.text.chars().all(|c| c.is_ascii_digit()) => {
                            self.redirect_op(Some(fd));
                        }
                        _ => self.toks.push(Tok::Word(w)),
                    }
                }
            }
        }
        if !self.heredocs.is_empty() {
            self.parsed.mark(UNTERMINATED);
        }
    }

    /// At `<` or `>`: the redirection operator and its target.
    fn redirect_op(&mut self, fd: Option<u32>) {
        let c = self.at(0);
        let n1 = self.at(1);
        let n2 = self.at(2);
        let (op, len) = match (c, n1, n2) {
            (Some('<'), Some('<'), Some('<')) => (RedirOp::HereString, 3),
            (Some('<'), Some('<'), Some('-')) => (RedirOp::HereDoc, 3),
            (Some('<'), Some('<'), _) => (RedirOp::HereDoc, 2),
            (Some('<'), Some('&'), _) => (RedirOp::DupIn, 2),
            (Some('<'), Some('>'), _) => (RedirOp::ReadWrite, 2),
            (Some('<'), _, _) => (RedirOp::In, 1),
            (Some('>'), Some('>'), _) => (RedirOp::Append, 2),
            (Some('>'), Some('|'), _) => (RedirOp::Clobber, 2),
            (Some('>'), Some('&'), _) => (RedirOp::DupOut, 2),
            _ => (RedirOp::Out, 1),
        };
        let strip_tabs = len == 3 && op == RedirOp::HereDoc;
        self.i += len;
        let index = self.toks.len();
        self.redirect(fd, op);
        if op == RedirOp::HereDoc {
            self.parsed.mark(HEREDOC);
            if matches!(self.toks.get(index), Some(Tok::Redir(_))) {
                self.heredocs.push((index, strip_tabs));
            }
        }
    }

    /// After a redirection operator: its target word.
    fn redirect(&mut self, fd: Option<u32>, mut op: RedirOp) {
        while matches!(self.at(0), Some(' ' | '\t')) {
            self.i += 1;
        }
        if self
            .at(0)
            .is_none_or(|c| ends_word(c) && !matches!(c, '<' | '>'))
        {
            self.parsed.mark(SYNTAX);
            return;
        }
        let target = self.word();
        let is_fd = target.text == "-" || target.text.chars().all(|c| c.is_ascii_digit());
        if op == RedirOp::DupOut && !is_fd {
            // bash: `>&file` sends both streams to the file
            op = RedirOp::OutErr;
        }
        self.toks.push(Tok::Redir(Redirect {
            fd,
            op,
            target,
            body: None,
        }));
    }

    /// After a newline: the bodies of the here-documents started on the line it ends.
    fn heredoc_bodies(&mut self) {
        for (index, strip_tabs) in std::mem::take(&mut self.heredocs) {
            let Some(Tok::Redir(r)) = self.toks.get(index) else {
                continue;
            };
            let delimiter = r.target.text.clone();
            let mut body = String::new();
            let mut found = false;
            while self.i < self.c.len() {
                let end = self.c[self.i..]
                    .iter()
                    .position(|&c| c == '\n')
                    .map_or(self.c.len(), |p| self.i + p);
                let line: String = self.c[self.i..end].iter().collect();
                self.i = (end + 1).min(self.c.len());
                let line = if strip_tabs {
                    line.trim_start_matches('\t').to_owned()
                } else {
                    line
                };
                if line == delimiter {
                    found = true;
                    break;
                }
                body.push_str(&line);
                body.push('\n');
            }
            if !found {
                self.parsed.mark(UNTERMINATED);
            }
            if let Some(Tok::Redir(r)) = self.toks.get_mut(index) {
                r.body = Some(body);
            }
        }
    }

    /// One word, up to an unquoted blank or operator.
    fn word(&mut self) -> Word {
        let mut w = Word::default();
        let start = self.i;
        while let Some(c) = self.at(0) {
            let next = self.at(1);
            match c {
                '<' | '>' if next == Some('(') && self.i == start => {
                    self.parsed.mark(PROCESS_SUBSTITUTION);
                    let open = c;
                    self.i += 2;
                    let inner = self.until_close(')');
                    w.text.push_str(&format!("{open}({inner})"));
                    w.subst = true;
                    w.substitutions.push(Subst {
                        raw: format!("{open}({inner})"),
                        inner,
                    });
                }
                c if ends_word(c) => break,
                '\\' => {
                    w.quoted = true;
                    match next {
                        Some('\n') => {}
                        Some(n) => w.text.push(n),
                        None => {}
                    }
                    self.i += 2;
                }
                '\'' => {
                    w.quoted = true;
                    self.i += 1;
                    match self.c[self.i..].iter().position(|&c| c == '\'') {
                        Some(p) => {
                            w.text.extend(&self.c[self.i..self.i + p]);
                            self.i += p + 1;
                        }
                        None => {
                            w.text.extend(&self.c[self.i..]);
                            self.i = self.c.len();
                            self.parsed.mark(UNTERMINATED);
                        }
                    }
                }
                '"' => {
                    w.quoted = true;
                    self.i += 1;
                    self.double_quoted(&mut w);
                }
                '$' => self.dollar(&mut w, false),
                '`' => self.backtick(&mut w),
                '*' | '?' => {
                    w.glob = true;
                    w.glob_first |= w.text.is_empty();
                    w.text.push(c);
                    self.i += 1;
                }
                '[' => {
                    let closes = self.c[self.i + 1..]
                        .iter()
                        .take_while(|&&c| !ends_word(c))
                        .any(|&c| c == ']');
                    if closes {
                        w.glob = true;
                        w.glob_first |= w.text.is_empty();
                    }
                    w.text.push(c);
                    self.i += 1;
                }
                '~' if self.i == start => {
                    w.tilde = true;
                    w.text.push(c);
                    self.i += 1;
                }
                '{' => {
                    let rest: String = self.c[self.i + 1..]
                        .iter()
                        .take_while(|&&c| !ends_word(c) && c != '}')
                        .collect();
                    let closed = self.c.get(self.i + 1 + rest.chars().count()) == Some(&'}');
                    if closed && (rest.contains(',') || rest.contains("..")) {
                        w.brace = true;
                    }
                    w.text.push(c);
                    self.i += 1;
                }
                '=' => {
                    let name = w.text.strip_suffix('+').unwrap_or(&w.text);
                    let is_name = name
                        .chars()
                        .next()
                        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
                    if !w.assignment
                        && is_name
                        && !w.quoted
                        && !w.var
                        && !w.subst
                        && !w.glob
                        && !w.tilde
                    {
                        w.assignment = true;
                    }
                    w.text.push(c);
                    self.i += 1;
                }
                _ => {
                    w.text.push(c);
                    self.i += 1;
                }
            }
        }
        w
    }
}

mod group;
mod quoting;

#[cfg(test)]
mod tests;
