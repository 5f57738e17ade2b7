//! Shell commands that could wreck the machine, the home directory or a remote: named
//! so they always need explicit approval, whatever the configuration says. A heuristic
//! over the words [`shell_lex`](super::shell_lex) reads (the same ones the allow and deny
//! patterns read), not a sandbox.

mod code;
mod values;

use std::collections::HashMap;

use super::shell_command::{
    SHELLS, basename, find_exec_bodies, inline_lines, levels, shell_reads_stdin, short_cluster_has,
    stdin_texts,
};
use super::shell_lex::{self, MAX_NESTING, Parsed, Word};
use super::shell_policy::glob_match;

const RM_ROOT: &str = "recursively deletes /, the home directory or a top-level system directory";
const FIND_DELETE: &str =
    "deletes files found across /, the home directory or a top-level system directory";
const MOVE_ROOT: &str = "moves /, the home directory or a top-level system directory away";
const MKFS: &str = "formats a file system (mkfs), erasing the device";
const DD_DEVICE: &str = "dd writes straight to a device, destroying what is on it";
const BLOCK_WRITE: &str = "writes straight to a disk device, destroying what is on it";
const KERNEL_WRITE: &str =
    "writes to the kernel's control files (/proc/sysrq-trigger, /proc/sys, /sys)";
const DOTFILE: &str =
    "overwrites or changes a shell startup file or another dotfile in the home directory";
const PIPE_SHELL: &str = "runs a script downloaded from the network without showing it first";
const FORCE_PUSH: &str = "force-pushes, which can overwrite commits on the remote";
const DELETE_PUSH: &str = "deletes branches or tags on the remote";
const CHMOD_ROOT: &str =
    "recursively opens up (or strips) permissions on /, the home directory or a system directory";
const CHOWN_ROOT: &str =
    "recursively changes ownership of /, the home directory or a system directory";
const FORK_BOMB: &str = "a fork bomb: it starts processes until the machine stops responding";
const SHUTDOWN: &str = "shuts down or reboots the machine";
const KILL_ALL: &str = "signals every process you own (kill -1, pkill -u), which ends your session";

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
const INTERPRETERS: &[&str] = &[
    "python", "python2", "python3", "perl", "ruby", "node", "php",
];
const DOWNLOADERS: &[&str] = &["curl", "wget", "fetch"];
/// Programs this check knows, for a program named by a glob (`/bin/r? -rf /`).
const KNOWN: &[&str] = &[
    "rm",
    "mv",
    "find",
    "rsync",
    "dd",
    "tee",
    "cp",
    "shred",
    "truncate",
    "git",
    "chmod",
    "chown",
    "chgrp",
    "shutdown",
    "reboot",
    "halt",
    "poweroff",
    "systemctl",
    "kill",
    "pkill",
    "killall",
    "killall5",
    "mkfs",
    "wipefs",
    "mke2fs",
    "sh",
    "bash",
    "eval",
];

/// Why `command` is dangerous enough to need a second look, or `None`. Looks through
/// `sudo`/`env`/`nohup`/`xargs`…, quotes, extra spaces, flag orders, `sh -c '…'`, `eval`,
/// `$(…)`, here-documents fed to a shell, `cd` earlier in the line, variables set earlier
/// in the line, and `;`/`&&`/`||`/`|` chains. A heuristic for the approval prompt, not a
/// sandbox.
pub fn dangerous(command: &str) -> Option<&'static str> {
    dangerous_at(command, 0)
}

fn dangerous_at(command: &str, depth: usize) -> Option<&'static str> {
    if depth > MAX_NESTING {
        return None;
    }
    if fork_bomb(command) {
        return Some(FORK_BOMB);
    }
    let parsed = shell_lex::parse(command);
    let mut st = State::default();
    (0..parsed.commands.len()).find_map(|idx| command_at(&parsed, idx, &mut st, depth))
}

/// What earlier commands of the line left behind.
#[derive(Default)]
struct State {
    /// Variables set earlier in the line, with the values they may hold.
    vars: HashMap<String, Vec<String>>,
    /// Where a `cd` earlier in the line went, as written (`~`, `/`, `$HOME/x`); `None`
    /// for the workspace or somewhere unknown.
    cwd: Option<String>,
    /// Files a downloader wrote earlier in the line.
    downloaded: Vec<String>,
    /// The pipeline a downloader's output flows through.
    pipe_download: Option<usize>,
    /// The pipeline in which a command named a critical path (`ls / | xargs rm -rf`).
    pipe_critical: Option<usize>,
}

fn command_at(parsed: &Parsed, idx: usize, st: &mut State, depth: usize) -> Option<&'static str> {
    let cmd = &parsed.commands[idx];
    for s in cmd.substitutions() {
        if let Some(r) = dangerous_at(&s.inner, depth + 1) {
            return Some(r);
        }
    }
    for a in &cmd.assignments {
        if let Some((k, _)) = a.text.split_once('=') {
            let values: Vec<String> = st
                .values(a)
                .iter()
                .filter_map(|v| v.split_once('=').map(|(_, v)| v.to_owned()))
                .collect();
            st.vars.insert(k.trim_end_matches('+').to_owned(), values);
        }
    }
    for r in cmd.redirects.iter().filter(|r| r.writes()) {
        for t in st.values(&r.target) {
            if let Some(why) = written_danger(&t) {
                return Some(why);
            }
        }
    }
    let texts = cmd.texts();
    let lv = levels(&texts, true);
    for &start in &lv {
        for line in inline_lines(&texts[start..]) {
            if let Some(r) = dangerous_at(&line, depth + 1) {
                return Some(r);
            }
        }
        if shell_reads_stdin(&texts[start..]) {
            for text in stdin_texts(parsed, idx) {
                if let Some(r) = dangerous_at(&text, depth + 1) {
                    return Some(r);
                }
            }
        }
    }
    let start = lv.last().copied().unwrap_or(0);
    let words = &cmd.words[start.min(cmd.words.len())..];
    let prog_word = words.first()?;
    let args: Vec<String> = words[1..].iter().map(|w| w.text.clone()).collect();
    let vals: Vec<Vec<String>> = words[1..].iter().map(|w| st.values(w)).collect();
    let via_xargs = lv.iter().any(|&s| basename(&texts[s]) == "xargs");
    let mut progs: Vec<String> = st
        .values(prog_word)
        .iter()
        .map(|p| basename(p).to_owned())
        .collect();
    if prog_word.glob {
        let pattern = basename(&prog_word.text);
        progs.extend(
            KNOWN
                .iter()
                .filter(|k| glob_match(pattern, k))
                .map(|k| (*k).to_owned()),
        );
    }
    // a script from the network run through a substitution: `bash <(curl …)`,
    // `sh -c "$(curl …)"`, `eval "$(wget -O- …)"`, `$(curl …)` itself
    let fetches = |w: &Word| {
        w.substitutions
            .iter()
            .any(|s| code::downloads(&shell_lex::parse(&s.inner)))
    };
    let runs_text = progs.iter().any(|p| {
        SHELLS.contains(&p.as_str())
            || INTERPRETERS.contains(&p.as_str())
            || matches!(p.as_str(), "eval" | "source" | ".")
    });
    if fetches(prog_word)
        || (runs_text
            && (words[1..].iter().any(fetches) || cmd.redirects.iter().any(|r| fetches(&r.target))))
    {
        return Some(PIPE_SHELL);
    }
    for prog in &progs {
        if cmd.piped && st.pipe_download == Some(cmd.pipeline) && runs_stdin(prog, &args) {
            return Some(PIPE_SHELL);
        }
        if code::runs_downloaded(prog, &prog_word.text, &args, &st.downloaded) {
            return Some(PIPE_SHELL);
        }
        if let Some(r) = code::inline_code_danger(prog, &args, depth) {
            return Some(r);
        }
        let recursive_rm = prog == "rm"
            && args.iter().any(|a| {
                a == "--recursive" || short_cluster_has(a, 'r') || short_cluster_has(a, 'R')
            });
        if recursive_rm && via_xargs && cmd.piped && st.pipe_critical == Some(cmd.pipeline) {
            return Some(RM_ROOT);
        }
        if let Some(r) = command_danger(prog, &args, &vals, st) {
            return Some(r);
        }
    }
    // what this command leaves for the next ones
    if vals.iter().flatten().any(|v| st.critical(v)) {
        st.pipe_critical = Some(cmd.pipeline);
    }
    for prog in &progs {
        if DOWNLOADERS.contains(&prog.as_str()) {
            st.pipe_download = Some(cmd.pipeline);
            st.downloaded.extend(code::download_targets(prog, &args));
            st.downloaded.extend(
                cmd.redirects
                    .iter()
                    .filter(|r| r.writes())
                    .map(|r| code::normal_file(&r.target.text)),
            );
        }
        match prog.as_str() {
            "cd" | "pushd" => {
                let target = vals
                    .iter()
                    .zip(&args)
                    .find(|(_, a)| !a.starts_with('-') || *a == "-")
                    .map(|(v, _)| v.first().cloned().unwrap_or_default());
                st.cwd = match target.as_deref() {
                    None => Some("~".to_owned()),
                    Some("-") => None,
                    Some(t) if t.starts_with(['/', '~', '$']) => Some(t.to_owned()),
                    Some(t) => st.cwd.as_ref().map(|c| format!("{c}/{t}")),
                };
            }
            "for" | "select" => {
                if let (Some(name), Some("in")) = (args.first(), args.get(1).map(String::as_str)) {
                    let values = vals[2..].iter().flatten().cloned().collect();
                    st.vars.insert(name.clone(), values);
                }
            }
            "export" | "declare" | "typeset" | "local" | "readonly" => {
                for (a, v) in args.iter().zip(&vals) {
                    if let Some((k, _)) = a.split_once('=') {
                        let values = v
                            .iter()
                            .filter_map(|x| x.split_once('=').map(|(_, x)| x.to_owned()))
                            .collect();
                        st.vars.insert(k.to_owned(), values);
                    }
                }
            }
            _ => {}
        }
    }
    None
}

/// What writing to `target` (a redirection, `tee`, `cp`, `dd of=`) would do.
fn written_danger(target: &str) -> Option<&'static str> {
    if is_block_device(target) {
        Some(BLOCK_WRITE)
    } else if kernel_file(target) {
        Some(KERNEL_WRITE)
    } else if home_dotfile(target) {
        Some(DOTFILE)
    } else {
        None
    }
}

fn command_danger(
    prog: &str,
    args: &[String],
    vals: &[Vec<String>],
    st: &State,
) -> Option<&'static str> {
    let is_short =
        |a: &str, c: char| a.starts_with('-') && !a.starts_with("--") && a[1..].contains(c);
    let any_critical = |v: &Vec<String>| v.iter().any(|t| st.critical(t));
    // operands (not options), with their values
    let operands = || {
        let mut done = false;
        args.iter()
            .zip(vals)
            .filter(move |(a, _)| {
                if done {
                    return true;
                }
                if *a == "--" {
                    done = true;
                    return false;
                }
                !(a.starts_with('-') && a.len() > 1)
            })
            .map(|(_, v)| v)
            .collect::<Vec<_>>()
    };
    match prog {
        "rm" => {
            let mut recursive = false;
            for a in args.iter().take_while(|a| *a != "--") {
                if a.starts_with("--") {
                    recursive |= a == "--recursive";
                } else if a.len() > 1 && a.starts_with('-') {
                    recursive |= a.contains(['r', 'R']);
                }
            }
            (recursive && operands().into_iter().any(any_critical)).then_some(RM_ROOT)
        }
        "find" => {
            let start = args
                .iter()
                .position(|a| !matches!(a.as_str(), "-H" | "-L" | "-P") && !a.starts_with("-O"))
                .unwrap_or(args.len());
            let roots: Vec<&Vec<String>> = args[start..]
                .iter()
                .zip(&vals[start..])
                .take_while(|(a, _)| !a.starts_with('-') && !matches!(a.as_str(), "(" | "!" | ","))
                .map(|(_, v)| v)
                .collect();
            let here = vec![".".to_owned()];
            let critical_root = if roots.is_empty() {
                any_critical(&here)
            } else {
                roots.into_iter().any(any_critical)
            };
            let deletes = args.iter().any(|a| a == "-delete")
                || find_exec_bodies(args).iter().any(|b| {
                    b.first()
                        .is_some_and(|p| matches!(basename(p), "rm" | "shred" | "unlink" | "rmdir"))
                });
            (critical_root && deletes).then_some(FIND_DELETE)
        }
        "mv" => {
            let ops = operands();
            let explicit_target = args
                .iter()
                .any(|a| a == "-t" || a.starts_with("--target-directory") || is_short(a, 't'));
            let sources = if explicit_target {
                &ops[..]
            } else {
                &ops[..ops.len().saturating_sub(1)]
            };
            sources.iter().any(|v| any_critical(v)).then_some(MOVE_ROOT)
        }
        "rsync" => {
            let deletes = args
                .iter()
                .any(|a| a.starts_with("--delete") || a == "--remove-source-files");
            let ops = operands();
            (deletes && ops.last().is_some_and(|v| any_critical(v))).then_some(RM_ROOT)
        }
        p if p.starts_with("mkfs") || p == "mke2fs" || p == "wipefs" => Some(MKFS),
        "dd" => vals.iter().flatten().find_map(|a| {
            let t = a.strip_prefix("of=")?;
            if t.starts_with("/dev/") && !harmless_device(t) {
                Some(DD_DEVICE)
            } else {
                written_danger(t)
            }
        }),
        "tee" | "cp" | "shred" | "truncate" | "install" | "ln" => {
            let ops = operands();
            let written: Vec<&Vec<String>> = match prog {
                "tee" | "shred" | "truncate" => ops,
                _ => ops.last().copied().into_iter().collect(),
            };
            written
                .into_iter()
                .flatten()
                .find_map(|t| written_danger(t))
        }
        "sed" | "perl"
            if args
                .iter()
                .any(|a| a.starts_with("--in-place") || is_short(a, 'i')) =>
        {
            vals.iter()
                .flatten()
                .any(|t| home_dotfile(t))
                .then_some(DOTFILE)
        }
        "git" => git_push_danger(args),
        "chmod" | "chown" | "chgrp" => {
            let recursive = args.iter().any(|a| a == "--recursive" || is_short(a, 'R'));
            let ops: Vec<(&String, &Vec<String>)> = args
                .iter()
                .zip(vals)
                .filter(|(a, _)| !a.starts_with('-') || a.len() == 1)
                .collect();
            let (spec, rest) = ops.split_first()?;
            let on_root = rest.iter().any(|(_, v)| any_critical(v));
            if !(recursive && on_root) {
                return None;
            }
            if prog != "chmod" {
                return Some(CHOWN_ROOT);
            }
            let mode = spec.0.trim_start_matches('0');
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
        "kill" => kills_everything(args).then_some(KILL_ALL),
        "killall5" => Some(KILL_ALL),
        "pkill" | "killall" => {
            let by_user = args.iter().any(|a| {
                matches!(a.as_str(), "-u" | "-U" | "--uid" | "--euid" | "--user")
                    || a.starts_with("--user=")
            });
            let mut named = false;
            let mut k = 0;
            while k < args.len() {
                let a = &args[k];
                if matches!(
                    a.as_str(),
                    "-u" | "-U"
                        | "-g"
                        | "-G"
                        | "-P"
                        | "-s"
                        | "-t"
                        | "-F"
                        | "--signal"
                        | "--uid"
                        | "--euid"
                        | "--user"
                        | "--group"
                        | "--parent"
                        | "--session"
                        | "--terminal"
                        | "--pidfile"
                        | "-o"
                        | "-y"
                        | "--older-than"
                        | "--younger-than"
                ) {
                    k += 2;
                    continue;
                }
                named |= !a.starts_with('-');
                k += 1;
            }
            (by_user && !named).then_some(KILL_ALL)
        }
        _ => None,
    }
}

/// `kill … -1` (every process the user may signal).
fn kills_everything(args: &[String]) -> bool {
    let mut k = 0;
    let mut signal_seen = false;
    while let Some(a) = args.get(k) {
        if a == "--" {
            return args[k + 1..].iter().any(|t| t == "-1");
        }
        if matches!(a.as_str(), "-l" | "-L" | "--list" | "--table") {
            return false;
        }
        if matches!(a.as_str(), "-s" | "-n" | "--signal") {
            signal_seen = true;
            k += 2;
            continue;
        }
        if a.starts_with('-') && !signal_seen {
            // the first option is the signal (`-9`, `-KILL`, `-1` = SIGHUP)
            signal_seen = true;
        } else if a == "-1" {
            return true;
        }
        k += 1;
    }
    false
}

fn git_push_danger(args: &[String]) -> Option<&'static str> {
    let mut rest = args;
    while let Some(first) = rest.first() {
        if !first.starts_with('-') {
            break;
        }
        let takes_value = matches!(
            first.as_str(),
            "-C" | "-c" | "--git-dir" | "--work-tree" | "--namespace" | "--config-env"
        );
        rest = &rest[if takes_value { 2 } else { 1 }.min(rest.len())..];
    }
    if rest.first().map(String::as_str) != Some("push") {
        return None;
    }
    let push = &rest[1..];
    let force = push.iter().any(|a| {
        a == "--force"
            || a.starts_with("--force-with-lease")
            || a.starts_with("--force-if-includes")
            || (a.starts_with('-') && !a.starts_with("--") && a.contains('f'))
            || (a.starts_with('+') && a.len() > 1)
    });
    if force {
        return Some(FORCE_PUSH);
    }
    let delete = push.iter().any(|a| {
        matches!(a.as_str(), "--delete" | "--mirror" | "--prune")
            || (a.starts_with('-') && !a.starts_with("--") && a.contains('d'))
            || (a.starts_with(':') && a.len() > 1)
    });
    delete.then_some(DELETE_PUSH)
}

/// `/`, `/*`, `~`, `$HOME`, the home directory's path and top-level system directories,
/// however spelled.
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
    let home = std::env::var("HOME").unwrap_or_default();
    let home = home.trim_end_matches('/');
    if !home.is_empty() && s == home {
        return true;
    }
    TOP_DIRS.contains(&s.as_str())
}

/// A glob that takes everything (`*`, `.*`, `[a-z]*`, `???`) in a critical directory.
fn broad_glob_in_critical(t: &str) -> bool {
    let Some((dir, last)) = t.rsplit_once('/') else {
        return false;
    };
    if !last.contains(['*', '?', '[']) {
        return false;
    }
    let mut rest = String::new();
    let mut in_class = false;
    for c in last.chars() {
        match c {
            '[' => in_class = true,
            ']' => in_class = false,
            _ if !in_class => rest.push(c),
            _ => {}
        }
    }
    let broad = rest.chars().all(|c| matches!(c, '*' | '?' | '.'));
    broad && critical_target(if dir.is_empty() { "/" } else { dir })
}

/// A shell startup file or another dotfile in the home directory, or a file in a directory
/// whose contents run or grant access (`~/.ssh`, `~/.config/autostart`, `~/.cargo/bin`).
fn home_dotfile(t: &str) -> bool {
    let home = std::env::var("HOME").unwrap_or_default();
    let home = home.trim_end_matches('/');
    let rest = ["~/", "$HOME/", "${HOME}/"]
        .iter()
        .find_map(|p| t.strip_prefix(p))
        .or_else(|| {
            (!home.is_empty())
                .then(|| t.strip_prefix(home).and_then(|r| r.strip_prefix('/')))
                .flatten()
        });
    let Some(rest) = rest else { return false };
    let rest = rest.trim_start_matches("./");
    const DIRS: &[&str] = &[
        ".ssh/",
        ".gnupg/",
        ".aws/",
        ".kube/",
        ".docker/",
        ".config/autostart/",
        ".config/systemd/",
        ".config/fish/",
        ".config/git/",
        ".cargo/bin/",
        ".cargo/config",
        ".local/bin/",
    ];
    (rest.starts_with('.') && !rest.starts_with("..") && !rest.contains('/') && rest.len() > 1)
        || DIRS.iter().any(|d| rest.starts_with(d))
}

fn kernel_file(t: &str) -> bool {
    t == "/proc/sysrq-trigger" || t.starts_with("/proc/sys/") || t.starts_with("/sys/")
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

/// `name(){ name|name& }` however spaced: written without the spaces bash needs, it is not
/// a word-level construct, so it is matched on the text.
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
    if args.iter().any(|a| short_cluster_has(a, 's')) && shell {
        return true;
    }
    if args.iter().any(|a| {
        if shell {
            short_cluster_has(a, 'c')
        } else {
            matches!(a.as_str(), "-c" | "-e" | "-E" | "-m" | "-r" | "-p")
        }
    }) {
        return false;
    }
    // A script file argument means stdin is data, not the program.
    !args.iter().any(|a| !a.starts_with('-'))
}

#[cfg(test)]
mod tests;
