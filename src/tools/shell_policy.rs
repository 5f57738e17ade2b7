//! Whether a shell command runs, asks or is refused: `tools.shell_deny`, the danger check,
//! `tools.shell_allow` and the session's allowed prefixes, over the words
//! [`shell_lex`] reads (one lexer for all of them).
//!
//! - **Patterns are words.** A pattern is split into words like a command; a `*` at its end
//!   means "and any further words". `cargo test*` matches `cargo test` and
//!   `cargo test --release`, not `cargo testx`; `ls*` matches `ls -la`, not `lsblk` or
//!   `ls=1 touch x`. A session prefix (`cargo test`) matches the same way.
//! - **Deny sees everything the line could run**, normalised: quotes, spacing and `\` are
//!   gone (`'git'  push` is `git push`), `/usr/bin/git` is also `git`, wrappers are looked
//!   through level by level (`sudo env A=1 nice git push`), git's options before the
//!   subcommand are dropped (`git -C . push`), and nested lines are read too
//!   (substitutions, subshells, `sh -c`, `eval`, here-documents fed to a shell,
//!   `find -exec`, `xargs`). An opaque line is also cut at every operator, bracket and quote.
//! - **Allow runs a line only when every command is plainly seen and matched**: no
//!   substitution, subshell, brace group, control structure, function, here-document,
//!   comment or invisible character anywhere; no assignment (`A=1 cmd`), no write
//!   redirection (other than to `/dev/null`), no variable, `$'…'` or brace expansion in a
//!   word, no glob that could expand to an option, a program named by a plain ASCII word;
//!   and no risky use from [`rules::RULES`] (options that run code or write anywhere,
//!   runners such as `sudo`, `xargs`, `env CMD`, paths outside the workspace). Transparent
//!   wrappers (`timeout 60 cargo test`) are looked through.

mod rules;

use std::path::{Path, PathBuf};

use super::shell_command::{basename, levels, nested_lines};
use super::shell_lex::{MAX_NESTING, Parsed, SimpleCommand, Word, parse, quote};

pub use rules::{RULES, Risk, Rule, Scope};

/// What the policy says about a command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ShellGate {
    /// A `shell_deny` pattern matches a command the line could run: refused.
    Deny { pattern: String },
    /// The danger check names it: it asks, whatever the policy says.
    Dangerous { reason: &'static str },
    /// Every command is allowed by a pattern or a session prefix.
    Run,
    /// Patterns do not let it run on their own (why, when one thing is to blame): the
    /// tool's policy decides.
    Ask { reason: Option<String> },
}

/// Decides `line` against the deny and allow patterns, the session prefixes and the danger
/// check. `root` is the workspace (paths a command names must stay inside it).
pub fn check(
    line: &str,
    allow: &[String],
    deny: &[String],
    prefixes: &[String],
    root: &Path,
) -> ShellGate {
    let parsed = parse(line);
    if let Some(pattern) = denied(line, &parsed, deny, 0) {
        return ShellGate::Deny { pattern };
    }
    if let Some(reason) = super::danger::dangerous(line) {
        return ShellGate::Dangerous { reason };
    }
    if allow.is_empty() && prefixes.is_empty() {
        return ShellGate::Ask { reason: None };
    }
    match allowed(&parsed, allow, prefixes, root) {
        Ok(()) => ShellGate::Run,
        Err(reason) => ShellGate::Ask { reason },
    }
}

/// A pattern as words, and whether it ends in `*`.
fn pattern_words(pattern: &str) -> (Vec<String>, bool) {
    let t = pattern.trim();
    let (body, open) = match t.strip_suffix('*') {
        Some(b) => (b, true),
        None => (t, false),
    };
    let words = parse(body)
        .commands
        .iter()
        .flat_map(|c| c.assignments.iter().chain(&c.words))
        .map(|w| w.text.clone())
        .collect();
    (words, open)
}

/// Whether the command `words` matches `pattern`: word for word, and any further words when
/// the pattern ends in `*`.
pub fn pattern_matches(pattern: &str, words: &[String]) -> bool {
    view_matches(&pattern_words(pattern), words, false)
}

fn view_matches((pw, open): &(Vec<String>, bool), words: &[String], glob_program: bool) -> bool {
    let fits = if *open {
        words.len() >= pw.len()
    } else {
        words.len() == pw.len()
    };
    fits && pw
        .iter()
        .zip(words)
        .enumerate()
        .all(|(k, (p, w))| p == w || (k == 0 && glob_program && glob_match(w, p)))
}

/// Whether shell glob `pattern` (`*`, `?`, `[…]`) matches `name`.
pub fn glob_match(pattern: &str, name: &str) -> bool {
    fn go(p: &[char], n: &[char]) -> bool {
        match p.first() {
            None => n.is_empty(),
            Some('*') => (0..=n.len()).any(|k| go(&p[1..], &n[k..])),
            Some('?') => !n.is_empty() && go(&p[1..], &n[1..]),
            Some('[') => {
                let Some(end) = p.iter().skip(2).position(|&c| c == ']').map(|e| e + 2) else {
                    return n.first() == Some(&'[') && go(&p[1..], &n[1..]);
                };
                let Some(&c) = n.first() else { return false };
                let set = &p[1..end];
                let (negate, set) = match set.first() {
                    Some('!' | '^') => (true, &set[1..]),
                    _ => (false, set),
                };
                let mut hit = false;
                let mut k = 0;
                while k < set.len() {
                    if k + 2 < set.len() && set[k + 1] == '-' {
                        hit |= set[k] <= c && c <= set[k + 2];
                        k += 3;
                    } else {
                        hit |= set[k] == c;
                        k += 1;
                    }
                }
                hit != negate && go(&p[end + 1..], &n[1..])
            }
            Some(&c) => n.first() == Some(&c) && go(&p[1..], &n[1..]),
        }
    }
    let p: Vec<char> = pattern.chars().take(256).collect();
    let n: Vec<char> = name.chars().take(256).collect();
    go(&p, &n)
}

/// Programs driven by subcommands: their options before the subcommand that take a value,
/// and whether those options are dropped when matching (`git -C . push` is `git push`;
/// what they could do is checked by the rules first).
pub struct Subcommands {
    pub program: &'static str,
    pub value_options: &'static [&'static str],
    pub drop_globals: bool,
}

pub const SUBCOMMANDS: &[Subcommands] = &[
    Subcommands {
        program: "git",
        value_options: &[
            "-C",
            "-c",
            "--git-dir",
            "--work-tree",
            "--namespace",
            "--config-env",
            "--super-prefix",
        ],
        drop_globals: true,
    },
    Subcommands {
        program: "cargo",
        value_options: &["--config", "-Z", "-C", "--color"],
        drop_globals: true,
    },
    sub("npm"),
    sub("npx"),
    sub("yarn"),
    sub("pnpm"),
    sub("go"),
    sub("docker"),
    sub("podman"),
    sub("kubectl"),
    sub("pip"),
    sub("pip3"),
    sub("uv"),
    sub("poetry"),
    sub("make"),
    sub("just"),
    sub("dotnet"),
    sub("mvn"),
    sub("gradle"),
    sub("bundle"),
    sub("rake"),
    sub("mix"),
    sub("deno"),
    sub("bun"),
    sub("rustup"),
    sub("systemctl"),
];

const fn sub(program: &'static str) -> Subcommands {
    Subcommands {
        program,
        value_options: &[],
        drop_globals: false,
    }
}

/// Where the subcommand of `program`'s `args` is (`None` when there is none).
pub fn subcommand_index(program: &str, args: &[String]) -> Option<usize> {
    let values = SUBCOMMANDS
        .iter()
        .find(|s| s.program == program)
        .map_or(&[][..], |s| s.value_options);
    let mut k = 0;
    while let Some(a) = args.get(k) {
        if a == "--" {
            return (k + 1 < args.len()).then_some(k + 1);
        }
        if a.starts_with('-') || (program == "cargo" && a.starts_with('+')) {
            k += if values.contains(&a.as_str()) { 2 } else { 1 };
            continue;
        }
        return Some(k);
    }
    None
}

/// `words` with the options before the subcommand dropped (git, cargo), and git's
/// `-c alias.NAME=…` applied; `None` when that changes nothing.
fn normalised(words: &[String]) -> Option<Vec<String>> {
    let prog = basename(words.first()?);
    let spec = SUBCOMMANDS
        .iter()
        .find(|s| s.program == prog && s.drop_globals)?;
    let args = &words[1..];
    let k = subcommand_index(spec.program, args)?;
    let mut out = vec![prog.to_owned()];
    let alias = args[..k].windows(2).find_map(|w| {
        let v = w[1].strip_prefix("alias.")?;
        let (name, value) = v.split_once('=')?;
        (w[0] == "-c" && name == args[k]).then(|| value.to_owned())
    });
    match alias {
        Some(a) if !a.starts_with('!') => {
            out.extend(parse(&a).commands.iter().flat_map(SimpleCommand::texts))
        }
        _ => out.push(args[k].clone()),
    }
    out.extend(args[k + 1..].iter().cloned());
    (out != words).then_some(out)
}

/// Every way a deny pattern could see `cmd`: each level of wrapping, with the program's
/// path dropped, normalised; known variables put in.
fn deny_views(cmd: &SimpleCommand, vars: &[(String, String)]) -> Vec<(Vec<String>, bool)> {
    let resolve = |w: &Word| -> String {
        let name = w
            .text
            .strip_prefix("${")
            .and_then(|t| t.strip_suffix('}'))
            .or_else(|| w.text.strip_prefix('$'));
        name.and_then(|n| vars.iter().rev().find(|(k, _)| k == n))
            .map_or_else(|| w.text.clone(), |(_, v)| v.clone())
    };
    let texts: Vec<String> = cmd.words.iter().map(resolve).collect();
    let mut out = Vec::new();
    for start in levels(&texts, true) {
        let view = texts[start..].to_vec();
        if view.is_empty() {
            continue;
        }
        let glob = cmd.words.get(start).is_some_and(|w| w.glob);
        let mut add = |v: Vec<String>| {
            if !out.iter().any(|(o, _)| *o == v) {
                out.push((v, glob));
            }
        };
        let base = basename(&view[0]).to_owned();
        if base != view[0] {
            let mut b = view.clone();
            b[0] = base;
            add(b);
        }
        if let Some(n) = normalised(&view) {
            add(n);
        }
        add(view);
    }
    out
}

/// The first deny pattern matching a command `line` could run.
fn denied(line: &str, parsed: &Parsed, deny: &[String], depth: usize) -> Option<String> {
    if deny.is_empty() {
        return None;
    }
    let patterns: Vec<(&String, (Vec<String>, bool))> =
        deny.iter().map(|p| (p, pattern_words(p))).collect();
    let hit = |cmd: &SimpleCommand, vars: &[(String, String)]| {
        let views = deny_views(cmd, vars);
        patterns
            .iter()
            .find(|(_, pw)| views.iter().any(|(v, glob)| view_matches(pw, v, *glob)))
            .map(|(p, _)| (*p).clone())
    };
    let mut vars: Vec<(String, String)> = Vec::new();
    for (idx, cmd) in parsed.commands.iter().enumerate() {
        for a in &cmd.assignments {
            if let Some((k, v)) = a.text.split_once('=') {
                vars.push((k.to_owned(), v.to_owned()));
            }
        }
        if let Some(p) = hit(cmd, &vars) {
            return Some(p);
        }
        if depth < MAX_NESTING {
            for inner in nested_lines(parsed, idx) {
                if let Some(p) = denied(&inner, &parse(&inner), deny, depth + 1) {
                    return Some(p);
                }
            }
        }
    }
    if parsed.opaque.is_empty() {
        return None;
    }
    // whatever the lexer made of it, every stretch between operators, brackets and quotes
    for piece in line.split(|c: char| ";&|()`{}<>\n\"'$".contains(c)) {
        if piece.trim().is_empty() {
            continue;
        }
        for cmd in &parse(piece).commands {
            if let Some(p) = hit(cmd, &[]) {
                return Some(p);
            }
        }
    }
    None
}

/// What the rules need to know about where a command runs.
pub struct Ctx<'a> {
    pub root: &'a Path,
    /// The directories the command may run in (the root, and where `cd`s in the line lead).
    pub cwds: &'a [PathBuf],
    /// Its standard input is a pipe.
    pub piped: bool,
    /// Its standard input is redirected (`<`, here-document, here-string).
    pub stdin_redirected: bool,
}

impl Ctx<'_> {
    /// Whether `path` (as a command would read it, from any of the directories it may run
    /// in) is inside the workspace. Symlinks that exist are followed.
    pub fn inside(&self, path: &str) -> bool {
        if path.is_empty() || path == "-" {
            return true;
        }
        if path.starts_with('~') || path.contains('$') || path.contains('`') {
            return false;
        }
        self.cwds.iter().all(|cwd| {
            let p = resolve(cwd, path);
            p.starts_with(self.root)
        })
    }
}

/// `path` from `cwd`, `.` and `..` resolved, symlinks followed as far as the path exists.
fn resolve(cwd: &Path, path: &str) -> PathBuf {
    let joined = cwd.join(path);
    let mut clean = PathBuf::new();
    for part in joined.components() {
        match part {
            std::path::Component::ParentDir => {
                clean.pop();
            }
            std::path::Component::CurDir => {}
            other => clean.push(other),
        }
    }
    // the longest part that exists, with its symlinks resolved, then the rest
    let mut existing = clean.clone();
    let mut rest = Vec::new();
    loop {
        if let Ok(real) = std::fs::canonicalize(&existing) {
            let mut out = real;
            out.extend(rest.iter().rev());
            return out;
        }
        match (
            existing.file_name().map(ToOwned::to_owned),
            existing.parent(),
        ) {
            (Some(name), Some(parent)) => {
                rest.push(name);
                existing = parent.to_path_buf();
            }
            _ => return clean,
        }
    }
}

/// Files a redirection may write to without asking.
fn harmless_sink(target: &str) -> bool {
    matches!(target, "/dev/null" | "/dev/stdout" | "/dev/stderr")
}

/// Whether every command of `parsed` is allowed; why not, when something is to blame.
fn allowed(
    parsed: &Parsed,
    allow: &[String],
    prefixes: &[String],
    root: &Path,
) -> Result<(), Option<String>> {
    if !parsed.opaque.is_empty() {
        return Err(Some(format!(
            "the line has {}, which patterns cannot see into",
            parsed.opaque.join(", ")
        )));
    }
    if parsed.commands.is_empty() {
        return Err(None);
    }
    let root = std::fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf());
    let allow: Vec<(Vec<String>, bool)> = allow.iter().map(|p| pattern_words(p)).collect();
    let prefixes: Vec<(Vec<String>, bool)> = prefixes
        .iter()
        .map(|p| (pattern_words(p).0, true))
        .filter(|(w, _)| !w.is_empty())
        .collect();
    let mut cwds = vec![root.clone()];
    for cmd in &parsed.commands {
        let ctx = Ctx {
            root: &root,
            cwds: &cwds,
            piped: cmd.piped,
            stdin_redirected: cmd.redirects.iter().any(|r| r.feeds_stdin()),
        };
        let words = allowed_command(cmd, &allow, &prefixes, &ctx)?;
        if let Some(first) = words.first()
            && matches!(basename(first), "cd" | "pushd")
        {
            let targets: Vec<&String> = words[1..].iter().filter(|a| !a.starts_with('-')).collect();
            let mut next = cwds.clone();
            for t in targets {
                for c in &cwds {
                    let r = resolve(c, t);
                    if !next.contains(&r) {
                        next.push(r);
                    }
                }
            }
            cwds = next;
        }
    }
    Ok(())
}

/// Checks one command for allow; the words that run (wrappers looked through).
fn allowed_command(
    cmd: &SimpleCommand,
    allow: &[(Vec<String>, bool)],
    prefixes: &[(Vec<String>, bool)],
    ctx: &Ctx,
) -> Result<Vec<String>, Option<String>> {
    if let Some(a) = cmd.assignments.first() {
        return Err(Some(format!(
            "`{}` sets a variable for the command, which can change what it runs",
            a.text
        )));
    }
    if let Some(r) = cmd
        .redirects
        .iter()
        .find(|r| r.writes() && !harmless_sink(&r.target.text))
    {
        return Err(Some(format!("it writes to `{}`", r.target.text)));
    }
    if cmd.words.is_empty() {
        return Ok(Vec::new());
    }
    for w in &cmd.words {
        let why = if w.var {
            "is an expansion (a variable or arithmetic), which could add words or options"
        } else if w.glob_first {
            "is a glob that could expand to an option"
        } else if w.ansi_c {
            "uses $'…' quoting, which sh and bash read differently"
        } else if w.brace {
            "is a brace expansion"
        } else {
            continue;
        };
        return Err(Some(format!("`{}` {why}", w.text)));
    }
    let texts = cmd.texts();
    let lv = levels(&texts, false);
    for &start in &lv {
        let program = &cmd.words[start];
        if !program.is_plain() {
            return Err(Some(format!(
                "the program `{}` is not named by a plain word",
                program.text.escape_debug()
            )));
        }
        if let Some(why) = rules::risk(&texts[start..], ctx) {
            return Err(Some(why));
        }
    }
    let start = lv.last().copied().unwrap_or(0);
    let words = texts[start..].to_vec();
    let normal = normalised(&words);
    let views = std::iter::once(&words).chain(normal.as_ref());
    let matched = views.into_iter().any(|v| {
        allow
            .iter()
            .chain(prefixes)
            .any(|p| view_matches(p, v, false))
    });
    if matched { Ok(words) } else { Err(None) }
}

/// What "allow for this session" offers for `line`: the first command's program (wrappers
/// looked through), and the subcommand of a program driven by subcommands (`cargo test`,
/// `git status`), quoted so that it reads back as the same words; empty when the program is
/// not a plain word.
pub fn session_prefix(line: &str) -> String {
    let parsed = parse(line);
    let Some(cmd) = parsed.commands.iter().find(|c| !c.words.is_empty()) else {
        return String::new();
    };
    let texts = cmd.texts();
    let start = levels(&texts, false).last().copied().unwrap_or(0);
    let Some(prog) = cmd.words.get(start).filter(|w| w.is_plain()) else {
        return String::new();
    };
    let args = &texts[start + 1..];
    let sub = SUBCOMMANDS
        .iter()
        .find(|s| s.program == prog.text)
        .and_then(|s| {
            if s.drop_globals {
                subcommand_index(s.program, args)
            } else {
                args.first().filter(|a| !a.starts_with('-')).map(|_| 0)
            }
        })
        .filter(|&k| cmd.words[start + 1 + k].is_plain());
    match sub {
        Some(k) => format!("{} {}", quote(&prog.text), quote(&args[k])),
        None => quote(&prog.text),
    }
}

#[cfg(test)]
mod tests;
