//! Shell commands that could wreck the machine, the home directory or a remote: named
//! so they always need explicit approval, whatever the configuration says. A heuristic
//! over the command line, not a sandbox.

use std::sync::LazyLock;

const RM_ROOT: &str = "recursively deletes /, the home directory or a top-level system directory";
const MKFS: &str = "formats a file system (mkfs), erasing the device";
const DD_DEVICE: &str = "dd writes straight to a device, destroying what is on it";
const BLOCK_WRITE: &str = "writes straight to a disk device, destroying what is on it";
const PIPE_SHELL: &str = "runs a script downloaded from the network without showing it first";
const FORCE_PUSH: &str = "force-pushes, which can overwrite commits on the remote";
const CHMOD_ROOT: &str =
    "recursively opens up (or strips) permissions on /, the home directory or a system directory";
const CHOWN_ROOT: &str =
    "recursively changes ownership of /, the home directory or a system directory";
const FORK_BOMB: &str = "a fork bomb: it starts processes until the machine stops responding";
const SHUTDOWN: &str = "shuts down or reboots the machine";

const TOP_DIRS: &[&str] = &[
    "/bin",
    "/boot",
    "/dev",
    "/etc",
    "/home",
    "/lib",
    "/lib32",
    "/lib64",
    "/libx32",
    "/media",
    "/mnt",
    "/nix",
    "/opt",
    "/proc",
    "/root",
    "/run",
    "/sbin",
    "/snap",
    "/srv",
    "/sys",
    "/tmp",
    "/usr",
    "/var",
    "/Applications",
    "/Library",
    "/System",
    "/Users",
    "/Volumes",
    "/private",
];
const SHELLS: &[&str] = &[
    "sh", "bash", "zsh", "dash", "ksh", "mksh", "ash", "fish", "csh", "tcsh",
];
const INTERPRETERS: &[&str] = &[
    "python", "python2", "python3", "perl", "ruby", "node", "php",
];
const DOWNLOADERS: &[&str] = &["curl", "wget", "fetch"];

static DOWNLOAD_SUBST: LazyLock<Option<regex::Regex>> = LazyLock::new(|| {
    regex::Regex::new(r"\b(?:sh|bash|zsh|dash|ksh|fish|eval|source|python[23]?|perl|ruby|node)\b[^;&|\n]*?(?:\$\(|<\(|`)\s*(?:curl|wget|fetch)\b").ok()
});

/// Why `command` is dangerous enough to need a second look, or `None`. Looks through
/// `sudo`/`env`/`nohup`…, quotes, extra spaces, flag orders, `sh -c '…'`, `$(…)` and
/// `;`/`&&`/`||`/`|` chains. A heuristic for the approval prompt, not a sandbox.
pub fn dangerous(command: &str) -> Option<&'static str> {
    dangerous_at(command, 0)
}

fn dangerous_at(command: &str, depth: usize) -> Option<&'static str> {
    if depth > 4 {
        return None;
    }
    if fork_bomb(command) {
        return Some(FORK_BOMB);
    }
    if DOWNLOAD_SUBST
        .as_ref()
        .is_some_and(|re| re.is_match(command))
    {
        return Some(PIPE_SHELL);
    }
    for pipeline in split(lex(command)) {
        let mut downloaded = false;
        for seg in &pipeline {
            if seg.redirects.iter().any(|t| is_block_device(t)) {
                return Some(BLOCK_WRITE);
            }
            for w in &seg.words {
                if let Some(i) = w.find("$(").or_else(|| w.find('`'))
                    && let Some(r) =
                        dangerous_at(w[i..].trim_start_matches(['$', '(', '`']), depth + 1)
                {
                    return Some(r);
                }
            }
            let words = strip_wrappers(&seg.words);
            let Some(first) = words.first() else { continue };
            let prog = basename(first);
            let args = &words[1..];
            if downloaded && runs_stdin(prog, args) {
                return Some(PIPE_SHELL);
            }
            if DOWNLOADERS.contains(&prog) {
                downloaded = true;
            }
            if let Some(r) = command_danger(prog, args, depth) {
                return Some(r);
            }
        }
    }
    None
}

fn command_danger(prog: &str, args: &[String], depth: usize) -> Option<&'static str> {
    let is_short =
        |a: &str, c: char| a.starts_with('-') && !a.starts_with("--") && a[1..].contains(c);
    match prog {
        "rm" => {
            let mut recursive = false;
            let mut targets = Vec::new();
            let mut options_done = false;
            for a in args {
                if !options_done && a == "--" {
                    options_done = true;
                } else if !options_done && a.starts_with("--") {
                    recursive |= a == "--recursive";
                } else if !options_done && a.len() > 1 && a.starts_with('-') {
                    recursive |= a.contains(['r', 'R']);
                } else {
                    targets.push(a.as_str());
                }
            }
            (recursive && targets.iter().any(|t| critical_target(t))).then_some(RM_ROOT)
        }
        p if p.starts_with("mkfs") || p == "mke2fs" || p == "wipefs" => Some(MKFS),
        "dd" => args
            .iter()
            .any(|a| {
                a.strip_prefix("of=")
                    .is_some_and(|t| t.starts_with("/dev/") && !harmless_device(t))
            })
            .then_some(DD_DEVICE),
        "tee" | "cp" | "shred" => args
            .iter()
            .any(|a| is_block_device(a))
            .then_some(BLOCK_WRITE),
        "git" => git_force_push(args).then_some(FORCE_PUSH),
        "chmod" | "chown" | "chgrp" => {
            let recursive = args.iter().any(|a| a == "--recursive" || is_short(a, 'R'));
            let mut operands = args.iter().filter(|a| !a.starts_with('-') || a.len() == 1);
            let spec = operands.next()?;
            let on_root = operands.any(|t| critical_target(t));
            if !(recursive && on_root) {
                return None;
            }
            if prog != "chmod" {
                return Some(CHOWN_ROOT);
            }
            let mode = spec.trim_start_matches('0');
            let wide_open = matches!(
                mode,
                "777"
                    | "666"
                    | "1777"
                    | ""
                    | "a+rwx"
                    | "a=rwx"
                    | "ugo+rwx"
                    | "ugo=rwx"
                    | "+rwx"
                    | "o+w"
                    | "a+w"
                    | "o+rwx"
                    | "a-rwx"
            );
            wide_open.then_some(CHMOD_ROOT)
        }
        "shutdown" | "reboot" | "halt" | "poweroff" => Some(SHUTDOWN),
        "systemctl" => args
            .iter()
            .any(|a| matches!(a.as_str(), "poweroff" | "reboot" | "halt" | "kexec"))
            .then_some(SHUTDOWN),
        "init" | "telinit" => args
            .first()
            .is_some_and(|a| a == "0" || a == "6")
            .then_some(SHUTDOWN),
        "eval" => dangerous_at(&args.join(" "), depth + 1),
        p if SHELLS.contains(&p) => {
            let i = args.iter().position(|a| is_short(a, 'c'))?;
            dangerous_at(args.get(i + 1)?, depth + 1)
        }
        _ => None,
    }
}

fn git_force_push(args: &[String]) -> bool {
    let mut rest = args;
    while let Some(first) = rest.first() {
        if !first.starts_with('-') {
            break;
        }
        let takes_value = matches!(
            first.as_str(),
            "-C" | "-c" | "--git-dir" | "--work-tree" | "--namespace"
        );
        rest = &rest[if takes_value { 2 } else { 1 }.min(rest.len())..];
    }
    if rest.first().map(String::as_str) != Some("push") {
        return false;
    }
    rest[1..].iter().any(|a| {
        a == "--force"
            || a.starts_with("--force-with-lease")
            || a.starts_with("--force-if-includes")
            || (a.starts_with('-') && !a.starts_with("--") && a.contains('f'))
            || (a.starts_with('+') && a.len() > 1)
    })
}

/// `/`, `/*`, `~`, `$HOME` and top-level system directories, however spelled.
fn critical_target(t: &str) -> bool {
    let mut s = t.trim().to_owned();
    while s.contains("//") {
        s = s.replace("//", "/");
    }
    loop {
        if s.len() > 1 && s.ends_with('/') {
            s.pop();
        } else if s.ends_with("/*") || s.ends_with("/.") {
            s.truncate(s.len() - 2);
        } else if s.ends_with("/..") {
            s.truncate(s.len() - 3);
        } else {
            break;
        }
    }
    if s.is_empty() || s == "/" {
        return true;
    }
    if s == "~" || s == "$HOME" || s == "${HOME}" || (s.starts_with('~') && !s.contains('/')) {
        return true;
    }
    TOP_DIRS.contains(&s.as_str())
}

fn harmless_device(t: &str) -> bool {
    matches!(
        t,
        "/dev/null" | "/dev/zero" | "/dev/stdout" | "/dev/stderr" | "/dev/tty" | "/dev/full"
    ) || t.starts_with("/dev/fd/")
        || t.starts_with("/dev/pts/")
        || t.starts_with("/dev/shm/")
}

fn is_block_device(t: &str) -> bool {
    let Some(dev) = t.strip_prefix("/dev/") else {
        return false;
    };
    const DISKS: &[&str] = &[
        "sd", "hd", "vd", "xvd", "nvme", "mmcblk", "disk", "rdisk", "mapper/", "md", "dm-", "sr",
        "loop", "nbd", "zd",
    ];
    DISKS.iter().any(|p| dev.starts_with(p)) || dev == "mem" || dev == "kmem"
}

fn fork_bomb(command: &str) -> bool {
    let s: String = command.chars().filter(|c| !c.is_whitespace()).collect();
    s.match_indices("(){").any(|(i, _)| {
        let start = s[..i]
            .rfind([';', '&', '|', '(', ')', '{', '}', '"', '\''])
            .map_or(0, |p| p + 1);
        let name = &s[start..i];
        let body = &s[i + 3..];
        [name, name.strip_prefix("function").unwrap_or(name)]
            .iter()
            .any(|n| !n.is_empty() && body.starts_with(&format!("{n}|{n}&")))
    })
}

/// A shell or interpreter that would run what arrives on its stdin.
fn runs_stdin(prog: &str, args: &[String]) -> bool {
    let shell = SHELLS.contains(&prog);
    if !shell && !INTERPRETERS.contains(&prog) {
        return false;
    }
    let short = |a: &str, c: char| a.starts_with('-') && !a.starts_with("--") && a[1..].contains(c);
    if args.iter().any(|a| short(a, 's')) && shell {
        return true;
    }
    if args.iter().any(|a| {
        if shell {
            short(a, 'c')
        } else {
            matches!(a.as_str(), "-c" | "-e" | "-E" | "-m" | "-r" | "-p")
        }
    }) {
        return false;
    }
    // A script file argument means stdin is data, not the program.
    !args.iter().any(|a| !a.starts_with('-'))
}

fn basename(word: &str) -> &str {
    word.rsplit('/').next().unwrap_or(word)
}

/// Drops `VAR=value` assignments and wrappers (`sudo`, `env`, `nohup`, `time`, …) from the
/// front of a command, leaving the program that really runs.
fn strip_wrappers(words: &[String]) -> &[String] {
    fn skip_options<'a>(w: &'a [String], with_value: &[&str]) -> &'a [String] {
        let mut w = w;
        while let Some(first) = w.first() {
            if first == "--" {
                return &w[1..];
            }
            if !first.starts_with('-') || first.len() == 1 {
                break;
            }
            let n = if with_value.contains(&first.as_str()) {
                2
            } else {
                1
            };
            w = &w[n.min(w.len())..];
        }
        w
    }
    let mut w = words;
    while let Some(first) = w.first() {
        let is_assignment = first.split_once('=').is_some_and(|(k, _)| {
            !k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        });
        if is_assignment {
            w = &w[1..];
            continue;
        }
        w = match basename(first) {
            "sudo" | "doas" | "run0" => skip_options(
                &w[1..],
                &["-u", "-g", "-C", "-p", "-U", "-r", "-t", "-D", "-h", "-T"],
            ),
            "env" => skip_options(&w[1..], &["-u", "-C", "-S", "--unset", "--chdir"]),
            "nice" => skip_options(&w[1..], &["-n", "--adjustment"]),
            "timeout" => {
                let rest = skip_options(&w[1..], &["-s", "-k", "--signal", "--kill-after"]);
                rest.get(1..).unwrap_or(&[])
            }
            "xargs" => skip_options(
                &w[1..],
                &[
                    "-I", "-i", "-n", "-P", "-L", "-l", "-s", "-d", "-E", "-e", "-a",
                ],
            ),
            "nohup" | "time" | "command" | "exec" | "builtin" | "stdbuf" | "ionice" | "busybox"
            | "unbuffer" => skip_options(&w[1..], &[]),
            "{" | "!" | "then" | "do" | "else" | "if" | "elif" | "while" | "until" => &w[1..],
            _ => break,
        };
    }
    w
}

#[derive(Debug, PartialEq, Eq)]
enum Tok {
    Word(String),
    /// `;`, `&&`, `||`, `&`, newline, `(`, `)`, `$(`, backtick, `<(`.
    Sep,
    /// `|`, `|&`.
    Pipe,
    /// `>`, `>>`, `>|`, `&>`, `N>`.
    RedirOut,
    /// `<`, `<<`, `<<<`.
    RedirIn,
}

/// Splits a command line into words (quotes removed) and operators, like sh would.
fn lex(s: &str) -> Vec<Tok> {
    let chars: Vec<char> = s.chars().collect();
    let mut toks = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut i = 0;
    fn end(toks: &mut Vec<Tok>, word: &mut String, in_word: &mut bool) {
        if *in_word {
            toks.push(Tok::Word(std::mem::take(word)));
            *in_word = false;
        }
    }
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        i += 1;
        match c {
            ' ' | '\t' | '\r' => end(&mut toks, &mut word, &mut in_word),
            '\n' | ';' | '(' | ')' | '`' => {
                end(&mut toks, &mut word, &mut in_word);
                toks.push(Tok::Sep);
            }
            '$' if next == Some('(') => {
                end(&mut toks, &mut word, &mut in_word);
                toks.push(Tok::Sep);
                i += 1;
            }
            '&' => {
                end(&mut toks, &mut word, &mut in_word);
                match next {
                    Some('&') => {
                        i += 1;
                        toks.push(Tok::Sep);
                    }
                    Some('>') => {
                        i += 1;
                        if chars.get(i) == Some(&'>') {
                            i += 1;
                        }
                        toks.push(Tok::RedirOut);
                    }
                    _ => toks.push(Tok::Sep),
                }
            }
            '|' => {
                end(&mut toks, &mut word, &mut in_word);
                match next {
                    Some('|') => {
                        i += 1;
                        toks.push(Tok::Sep);
                    }
                    Some('&') => {
                        i += 1;
                        toks.push(Tok::Pipe);
                    }
                    _ => toks.push(Tok::Pipe),
                }
            }
            '>' => {
                if in_word && word.chars().all(|c| c.is_ascii_digit()) {
                    word.clear();
                    in_word = false;
                }
                end(&mut toks, &mut word, &mut in_word);
                if matches!(next, Some('>' | '|' | '&')) {
                    i += 1;
                }
                toks.push(Tok::RedirOut);
            }
            '<' => {
                end(&mut toks, &mut word, &mut in_word);
                if next == Some('(') {
                    i += 1;
                    toks.push(Tok::Sep);
                } else {
                    while chars.get(i) == Some(&'<') {
                        i += 1;
                    }
                    toks.push(Tok::RedirIn);
                }
            }
            '\'' => {
                in_word = true;
                while i < chars.len() && chars[i] != '\'' {
                    word.push(chars[i]);
                    i += 1;
                }
                i += 1;
            }
            '"' => {
                in_word = true;
                while i < chars.len() && chars[i] != '"' {
                    if chars[i] == '\\' && matches!(chars.get(i + 1), Some('"' | '\\' | '$' | '`'))
                    {
                        i += 1;
                    }
                    if let Some(&ch) = chars.get(i) {
                        word.push(ch);
                    }
                    i += 1;
                }
                i += 1;
            }
            '\\' => {
                match next {
                    Some('\n') => {}
                    Some(ch) => {
                        word.push(ch);
                        in_word = true;
                    }
                    None => {}
                }
                i += 1;
            }
            '#' if !in_word => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
            }
            _ => {
                word.push(c);
                in_word = true;
            }
        }
    }
    end(&mut toks, &mut word, &mut in_word);
    toks
}

#[derive(Debug, Default)]
struct Segment {
    words: Vec<String>,
    /// Targets of output redirections.
    redirects: Vec<String>,
}

/// Groups tokens into pipelines of simple commands.
fn split(toks: Vec<Tok>) -> Vec<Vec<Segment>> {
    let mut pipelines = vec![vec![Segment::default()]];
    let mut redirect: Option<bool> = None;
    for tok in toks {
        let Some(pipeline) = pipelines.last_mut() else {
            break;
        };
        let Some(seg) = pipeline.last_mut() else {
            break;
        };
        match tok {
            Tok::Word(w) => match redirect.take() {
                Some(true) => seg.redirects.push(w),
                Some(false) => {}
                None => seg.words.push(w),
            },
            Tok::RedirOut => redirect = Some(true),
            Tok::RedirIn => redirect = Some(false),
            Tok::Pipe => pipeline.push(Segment::default()),
            Tok::Sep => pipelines.push(vec![Segment::default()]),
        }
    }
    pipelines
}

#[cfg(test)]
mod tests;
