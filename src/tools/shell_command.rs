//! What one simple command runs, for the policy and the danger check alike: the program
//! behind wrappers (`sudo`, `env`, `nice`, `timeout`, …) and the command lines nested in it
//! (`sh -c '…'`, `eval`, substitutions, here-documents and `echo … |` fed to a shell,
//! `find -exec`, `trap`, `alias`, `watch`, `su -c`, `env -S`). Both read [`shell_lex`]'s
//! output; neither has a lexer of its own.

use super::shell_lex::{Parsed, RedirOp, quote};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WrapperKind {
    /// Runs the command as it is, changing only when, how long or how nicely: allow
    /// patterns look through it (`timeout 60 cargo test` is matched as `cargo test`).
    Transparent,
    /// Runs the command in another way (other privileges or environment, arguments read
    /// from input, another root): deny patterns and the danger check look through it; for
    /// allow patterns it is the program, and it asks (see `shell_policy`'s rules).
    Runner,
}

pub struct Wrapper {
    pub name: &'static str,
    pub kind: WrapperKind,
    /// Its options that take the next word as their value.
    pub value_options: &'static [&'static str],
    /// Words after its options before the command (`timeout`'s duration).
    pub operands: usize,
    /// Options after which it runs no command (`command -v`).
    pub no_command: &'static [&'static str],
}

const fn wrapper(
    name: &'static str,
    kind: WrapperKind,
    value_options: &'static [&'static str],
    operands: usize,
) -> Wrapper {
    Wrapper {
        name,
        kind,
        value_options,
        operands,
        no_command: &[],
    }
}

use WrapperKind::{Runner, Transparent};

/// The wrappers, in one place.
pub const WRAPPERS: &[Wrapper] = &[
    Wrapper {
        name: "command",
        kind: Transparent,
        value_options: &[],
        operands: 0,
        no_command: &["-v", "-V"],
    },
    wrapper("builtin", Transparent, &[], 0),
    wrapper("exec", Transparent, &["-a"], 0),
    wrapper("nice", Transparent, &["-n", "--adjustment"], 0),
    wrapper("nohup", Transparent, &[], 0),
    wrapper(
        "time",
        Transparent,
        &["-f", "--format", "-o", "--output"],
        0,
    ),
    wrapper(
        "timeout",
        Transparent,
        &["-s", "--signal", "-k", "--kill-after"],
        1,
    ),
    wrapper(
        "stdbuf",
        Transparent,
        &["-i", "-o", "-e", "--input", "--output", "--error"],
        0,
    ),
    wrapper(
        "ionice",
        Transparent,
        &["-c", "-n", "--class", "--classdata"],
        0,
    ),
    wrapper("setsid", Transparent, &[], 0),
    wrapper("unbuffer", Transparent, &[], 0),
    wrapper("busybox", Transparent, &[], 0),
    wrapper(
        "sudo",
        Runner,
        &[
            "-u",
            "-g",
            "-C",
            "-p",
            "-U",
            "-r",
            "-t",
            "-D",
            "-h",
            "-T",
            "-R",
            "--user",
            "--group",
            "--prompt",
            "--chdir",
            "--chroot",
            "--role",
            "--type",
            "--host",
            "--close-from",
            "--other-user",
            "--command-timeout",
        ],
        0,
    ),
    wrapper("doas", Runner, &["-u", "-C"], 0),
    wrapper(
        "run0",
        Runner,
        &["-u", "--user", "-g", "--group", "-D", "--chdir", "--setenv"],
        0,
    ),
    wrapper("pkexec", Runner, &["--user"], 0),
    wrapper(
        "env",
        Runner,
        &["-u", "--unset", "-C", "--chdir", "-S", "--split-string"],
        0,
    ),
    wrapper(
        "xargs",
        Runner,
        &[
            "-I",
            "-n",
            "-P",
            "-L",
            "-s",
            "-d",
            "-E",
            "-a",
            "--arg-file",
            "--delimiter",
            "--max-args",
            "--max-procs",
            "--max-lines",
            "--max-chars",
            "--replace",
            "--eof",
            "--process-slot-var",
        ],
        0,
    ),
    wrapper("eval", Runner, &[], 0),
    wrapper("chroot", Runner, &["--userspec", "--groups"], 1),
    wrapper(
        "flock",
        Runner,
        &["-w", "--timeout", "-E", "--conflict-exit-code"],
        1,
    ),
    wrapper(
        "unshare",
        Runner,
        &[
            "-S", "-G", "-R", "-w", "--setuid", "--setgid", "--root", "--wd",
        ],
        0,
    ),
    wrapper(
        "nsenter",
        Runner,
        &["-t", "-S", "-G", "-r", "-w", "--target", "--root", "--wd"],
        0,
    ),
    wrapper(
        "systemd-run",
        Runner,
        &[
            "-u",
            "-p",
            "-E",
            "-M",
            "--unit",
            "--property",
            "--setenv",
            "--uid",
            "--gid",
            "--machine",
            "--working-directory",
            "--description",
            "--slice",
        ],
        0,
    ),
];

/// Shells: `-c` runs its argument, stdin runs as a script.
pub const SHELLS: &[&str] = &[
    "sh", "bash", "zsh", "dash", "ksh", "mksh", "ash", "fish", "csh", "tcsh", "yash", "posh",
    "rbash", "pdksh", "oksh",
];

/// The last part of a path: the program a word names.
pub fn basename(word: &str) -> &str {
    word.rsplit('/').next().unwrap_or(word)
}

/// `NAME=value`.
pub fn is_assignment(word: &str) -> bool {
    word.split_once('=').is_some_and(|(k, _)| {
        let k = k.strip_suffix('+').unwrap_or(k);
        k.chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    })
}

/// The wrapper `word` names, if any.
pub fn wrapper_named(word: &str) -> Option<&'static Wrapper> {
    let name = basename(word);
    WRAPPERS.iter().find(|w| w.name == name)
}

/// When `words` is a wrapper running a command: where that command starts.
pub fn unwrap_once(words: &[String], runners: bool) -> Option<usize> {
    let w = wrapper_named(words.first()?)?;
    if w.kind == Runner && !runners {
        return None;
    }
    let mut i = 1;
    while let Some(a) = words.get(i) {
        if a == "--" {
            i += 1;
            break;
        }
        if w.name == "env" && (is_assignment(a) || a == "-") {
            i += 1;
            continue;
        }
        if !a.starts_with('-') || a == "-" {
            break;
        }
        if w.no_command.contains(&a.as_str()) {
            return None;
        }
        i += if w.value_options.contains(&a.as_str()) {
            2
        } else {
            1
        };
    }
    i += w.operands;
    (i < words.len()).then_some(i)
}

/// Where each level of wrapping starts: `[0]` for an unwrapped command, `[0, 2]` for
/// `nohup sudo rm …` seen through `nohup` only, `[0, 1, 2]` through both.
pub fn levels(words: &[String], runners: bool) -> Vec<usize> {
    let mut out = vec![0];
    let mut start = 0;
    while out.len() < 64
        && let Some(next) = unwrap_once(&words[start..], runners)
    {
        start += next;
        out.push(start);
    }
    out
}

/// Whether `a` is a short-option cluster (`-lc`) holding `letter`.
pub fn short_cluster_has(a: &str, letter: char) -> bool {
    a.len() > 1 && a.starts_with('-') && !a.starts_with("--") && a[1..].contains(letter)
}

/// Whether `a` is option `spec` (`--name` also as `--name=…` and abbreviated; `-x` also inside a cluster or with a glued value; `-name` itself or `-name=…`).
pub fn option_is(a: &str, spec: &str) -> bool {
    if let Some(name) = spec.strip_prefix("--") {
        return a.strip_prefix("--").is_some_and(|rest| {
            let n = rest.split('=').next().unwrap_or(rest);
            !n.is_empty() && name.starts_with(n)
        });
    }
    let mut letters = spec.chars().skip(1);
    match (letters.next(), letters.next()) {
        (Some(letter), None) => short_cluster_has(a, letter),
        _ => a == spec || a.starts_with(&format!("{spec}=")),
    }
}

/// The value `a` (at `k` in `args`) gives option `spec`, if it is that option.
pub fn option_value(args: &[String], k: usize, spec: &str) -> Option<String> {
    let a = &args[k];
    let next = || args.get(k + 1).cloned();
    if spec.starts_with("--") {
        if a == spec {
            return next();
        }
        return a.strip_prefix(&format!("{spec}=")).map(str::to_owned);
    }
    let mut letters = spec.chars().skip(1);
    let letter = match (letters.next(), letters.next()) {
        (Some(l), None) => l,
        _ => {
            if a == spec {
                return next();
            }
            return a.strip_prefix(&format!("{spec}=")).map(str::to_owned);
        }
    };
    if !short_cluster_has(a, letter) {
        return None;
    }
    let at = a[1..].find(letter)? + 1;
    let rest = &a[at + letter.len_utf8()..];
    if rest.is_empty() {
        next()
    } else {
        Some(rest.trim_start_matches('=').to_owned())
    }
}

/// The command lines a command (at one level of wrapping) runs itself: `sh -c`, `eval`,
/// `su -c`, `env -S`, `watch`, `trap`, `alias`, `find -exec`.
pub fn inline_lines(words: &[String]) -> Vec<String> {
    let Some(first) = words.first() else {
        return Vec::new();
    };
    let prog = basename(first);
    let args = &words[1..];
    let value_of = |names: &[&str]| -> Vec<String> {
        let mut out = Vec::new();
        for (k, a) in args.iter().enumerate() {
            for n in names {
                if a == n {
                    out.extend(args.get(k + 1).cloned());
                } else if let Some(v) = a.strip_prefix(&format!("{n}=")) {
                    out.push(v.to_owned());
                }
            }
        }
        out
    };
    match prog {
        p if SHELLS.contains(&p) => {
            let mut out = value_of(&["--command"]);
            if let Some(k) = args
                .iter()
                .position(|a| short_cluster_has(a, 'c') && !a.starts_with("--"))
            {
                out.extend(
                    args[k + 1..]
                        .iter()
                        .find(|a| !a.starts_with('-') && !a.starts_with('+'))
                        .cloned(),
                );
            }
            out
        }
        "eval" => vec![args.join(" ")],
        "su" | "runuser" | "script" => value_of(&["-c", "--command"]),
        "flock" => value_of(&["-c", "--command"]),
        "env" => {
            for (k, a) in args.iter().enumerate() {
                let split = if a == "-S" || a == "--split-string" {
                    args.get(k + 1).map(|s| (s.as_str(), k + 2))
                } else if let Some(s) = a.strip_prefix("--split-string=") {
                    Some((s, k + 1))
                } else {
                    a.strip_prefix("-S")
                        .filter(|s| !s.is_empty() && !a.starts_with("--"))
                        .map(|s| (s, k + 1))
                };
                if let Some((s, rest)) = split {
                    let tail: Vec<String> = args[rest.min(args.len())..]
                        .iter()
                        .map(|w| quote(w))
                        .collect();
                    return vec![format!("{s} {}", tail.join(" ")).trim_end().to_owned()];
                }
            }
            Vec::new()
        }
        "watch" => {
            let mut i = 0;
            while let Some(a) = args.get(i).filter(|a| a.starts_with('-')) {
                i += if matches!(a.as_str(), "-n" | "--interval" | "-q" | "--equexit") {
                    2
                } else {
                    1
                };
            }
            vec![args[i.min(args.len())..].join(" ")]
        }
        "trap" => args
            .first()
            .filter(|a| !a.starts_with('-'))
            .cloned()
            .into_iter()
            .collect(),
        "alias" => args
            .iter()
            .filter_map(|a| a.split_once('=').map(|(_, v)| v.to_owned()))
            .collect(),
        "find" => find_exec_bodies(args)
            .into_iter()
            .map(|body| body.iter().map(|w| quote(w)).collect::<Vec<_>>().join(" "))
            .collect(),
        _ => Vec::new(),
    }
}

/// The commands of `find`'s `-exec`, `-execdir`, `-ok` and `-okdir`.
pub fn find_exec_bodies(args: &[String]) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let mut k = 0;
    while k < args.len() {
        if matches!(args[k].as_str(), "-exec" | "-execdir" | "-ok" | "-okdir") {
            let body: Vec<String> = args[k + 1..]
                .iter()
                .take_while(|a| *a != ";" && *a != "+")
                .cloned()
                .collect();
            k += body.len() + 1;
            out.push(body);
        }
        k += 1;
    }
    out
}

/// Whether a shell runs what arrives on its standard input as a script: no `-c` and no
/// script operand (or `-s`).
pub fn shell_reads_stdin(words: &[String]) -> bool {
    let Some(first) = words.first() else {
        return false;
    };
    if !SHELLS.contains(&basename(first)) {
        return false;
    }
    let args = &words[1..];
    if args.iter().any(|a| short_cluster_has(a, 's')) {
        return true;
    }
    if args
        .iter()
        .any(|a| short_cluster_has(a, 'c') || a.starts_with("--command"))
    {
        return false;
    }
    !args
        .iter()
        .any(|a| !a.starts_with('-') && !a.starts_with('+'))
}

/// What command `idx` of `parsed` gets on its standard input when that can be read from the
/// line: here-documents, here-strings, and the output of an `echo`/`printf`/`cat <<…`
/// piped into it.
pub fn stdin_texts(parsed: &Parsed, idx: usize) -> Vec<String> {
    let Some(cmd) = parsed.commands.get(idx) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for r in cmd.redirects.iter().filter(|r| r.feeds_stdin()) {
        match r.op {
            RedirOp::HereDoc => out.extend(r.body.clone()),
            RedirOp::HereString => out.push(r.target.text.clone()),
            _ => {}
        }
    }
    let upstream = idx
        .checked_sub(1)
        .and_then(|k| parsed.commands.get(k))
        .filter(|_| cmd.piped);
    if let Some(up) = upstream {
        let texts = up.texts();
        let lv = levels(&texts, true);
        let start = lv.last().copied().unwrap_or(0);
        let words = &texts[start..];
        match words.first().map(|w| basename(w)) {
            Some("echo") => out.push(
                words[1..]
                    .iter()
                    .skip_while(|w| matches!(w.as_str(), "-e" | "-n" | "-E" | "-ne" | "-en"))
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(" "),
            ),
            Some("printf") => out.push(
                words[1..]
                    .iter()
                    .filter(|w| *w != "--")
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(" ")
                    .replace("\\n", "\n"),
            ),
            Some("cat") => out.extend(stdin_texts(parsed, idx - 1)),
            _ => {}
        }
    }
    out
}

/// Every command line nested in command `idx` of `parsed`: its substitutions, what it
/// runs inline at any level of wrapping, and what a shell reads on its standard input.
pub fn nested_lines(parsed: &Parsed, idx: usize) -> Vec<String> {
    let Some(cmd) = parsed.commands.get(idx) else {
        return Vec::new();
    };
    let mut out: Vec<String> = cmd.substitutions().into_iter().map(|s| s.inner).collect();
    let texts = cmd.texts();
    for start in levels(&texts, true) {
        let words = &texts[start..];
        out.extend(inline_lines(words));
        if shell_reads_stdin(words) {
            out.extend(stdin_texts(parsed, idx));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tools::shell_lex::parse;

    fn w(s: &str) -> Vec<String> {
        parse(s).commands[0].texts()
    }

    #[test]
    fn wrappers_are_seen_through_level_by_level() {
        let words = w("nohup sudo -u root env A=1 B=2 timeout -s KILL 5 rm -rf x");
        let lv = levels(&words, true);
        let programs: Vec<&str> = lv.iter().map(|&i| words[i].as_str()).collect();
        assert_eq!(programs, ["nohup", "sudo", "env", "timeout", "rm"]);
        // allow patterns stop at a runner
        let lv = levels(&words, false);
        assert_eq!(words[*lv.last().unwrap()], "sudo");
        assert_eq!(levels(&w("command -v rm"), true), [0]);
        assert_eq!(levels(&w("env"), true), [0]);
        assert_eq!(
            levels(&w("xargs -0 -I {} rm -rf {}"), true).last(),
            Some(&4)
        );
    }

    #[test]
    fn nested_lines_are_found() {
        let p = parse("bash -lc 'git push' && eval git  fetch; su -c 'rm x' root");
        assert_eq!(nested_lines(&p, 0), ["git push"]);
        assert_eq!(nested_lines(&p, 1), ["git fetch"]);
        assert_eq!(nested_lines(&p, 2), ["rm x"]);
        let p = parse("find . -name x -exec rm -rf {} \\; -print");
        assert_eq!(nested_lines(&p, 0), ["rm -rf '{}'"]);
        let p = parse("echo 'git push' | sh");
        assert_eq!(nested_lines(&p, 1), ["git push"]);
        let p = parse("sh <<EOF\ngit push\nEOF\n");
        assert_eq!(nested_lines(&p, 0), ["git push\n"]);
        let p = parse("cat <<'EOF' | bash -s\nrm -rf ~\nEOF");
        assert_eq!(nested_lines(&p, 1), ["rm -rf ~\n"]);
        let p = parse("env -S 'git push' origin");
        assert_eq!(nested_lines(&p, 0), ["git push origin"]);
        let p = parse("trap 'rm -rf x' EXIT; watch -n 1 git status");
        assert_eq!(nested_lines(&p, 0), ["rm -rf x"]);
        assert_eq!(nested_lines(&p, 1), ["git status"]);
        // a script operand: stdin is data
        let p = parse("echo x | bash ./run.sh");
        assert!(nested_lines(&p, 1).is_empty());
    }
}
