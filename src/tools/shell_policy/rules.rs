//! What makes a command that an allow pattern (or a session prefix) matched ask again:
//! allowing a command allows its ordinary use, not options that run other code, write
//! outside the workspace or point it elsewhere. The one list is [`RULES`]; README.md's
//! shell section summarises it.

use super::{Ctx, subcommand_index};
use crate::tools::shell_command::{SHELLS, basename, option_is, option_value, unwrap_once};

/// Which arguments a rule looks at.
#[derive(Debug, Clone, Copy)]
pub enum Scope {
    Anywhere,
    /// Before the subcommand (git's `-c`, not `git commit -c`).
    BeforeSubcommand,
    /// After this subcommand only.
    Subcommand(&'static str),
}

/// What makes the command ask.
#[derive(Debug, Clone, Copy)]
pub enum Risk {
    /// Any of these options. `--name` also matches `--name=…` and abbreviations (`--out`
    /// for `--output`); `-x` (one letter) also matches inside a cluster (`-Bc`) or with a
    /// glued value; `-name` (one dash, longer) matches itself and `-name=…`.
    Options(&'static [&'static str]),
    /// The value of any of these options must be a path inside the workspace.
    Paths(&'static [&'static str]),
    /// Every operand must be a path inside the workspace (none means the home directory).
    Operands,
    /// Any of these words (`git bisect run`).
    Words(&'static [&'static str]),
    /// Always.
    Always,
    /// When it is given a command to run (`env CMD`).
    RunsCommand,
    /// When its standard input is a pipe or a redirection and it has no script operand:
    /// it runs what it reads.
    StdinCode,
    /// Unless one of these words is there (`git config --get` only reads).
    Unless(&'static [&'static str]),
    /// A sed script with `e` or `w` (runs a command, writes a file).
    SedScript,
    /// An awk program with `system`, `getline`, a pipe or `>`.
    AwkProgram,
}

pub struct Rule {
    /// Program names (the last part of the path; `python3.12` is also `python`).
    pub programs: &'static [&'static str],
    pub scope: Scope,
    pub risk: Risk,
    pub why: &'static str,
}

const fn rule(programs: &'static [&'static str], risk: Risk, why: &'static str) -> Rule {
    Rule {
        programs,
        scope: Scope::Anywhere,
        risk,
        why,
    }
}

const fn git(scope: Scope, risk: Risk, why: &'static str) -> Rule {
    Rule {
        programs: &["git"],
        scope,
        risk,
        why,
    }
}

const INTERPRETERS: &[&str] = &[
    "python",
    "pypy",
    "perl",
    "ruby",
    "node",
    "nodejs",
    "bun",
    "deno",
    "php",
    "lua",
    "luajit",
    "Rscript",
    "R",
    "osascript",
    "tclsh",
    "wish",
    "irb",
    "jshell",
    "pwsh",
    "powershell",
];

const RUNS_CODE: &str = "runs the code it is given";
const STDIN_CODE: &str = "runs the program it reads from its input";
const WRITES: &str = "writes a file wherever it is told";
const OUTSIDE: &str = "works on a path outside the workspace";

use Risk::*;
use Scope::*;

/// The one list of risky uses.
pub const RULES: &[Rule] = &[
    // runners and commands that change how later commands run
    rule(
        &["sudo", "doas", "run0", "su", "runuser", "pkexec"],
        Always,
        "runs commands with other privileges",
    ),
    rule(
        &["xargs", "parallel"],
        Always,
        "runs a command with arguments read from its input",
    ),
    rule(
        &["env"],
        RunsCommand,
        "runs the command that follows with a changed environment",
    ),
    rule(
        &["env"],
        Options(&["-S", "--split-string"]),
        "runs the command in its argument",
    ),
    rule(
        &[
            "watch",
            "chroot",
            "flock",
            "unshare",
            "nsenter",
            "systemd-run",
            "setpriv",
            "at",
            "batch",
            "crontab",
            "script",
        ],
        Always,
        "runs or schedules other commands",
    ),
    rule(
        &["eval", "source", ".", "trap", "fc"],
        Always,
        "runs text as commands",
    ),
    rule(
        &["alias", "export", "declare", "typeset", "enable"],
        Always,
        "changes what later commands run",
    ),
    rule(
        &["hash"],
        Options(&["-p"]),
        "changes what later commands run",
    ),
    rule(
        &["mapfile", "readarray"],
        Options(&["-C"]),
        "runs a callback command",
    ),
    rule(&["cd", "pushd"], Operands, "leaves the workspace"),
    rule(&["time"], Paths(&["-o", "--output"]), WRITES),
    // shells and interpreters
    rule(
        SHELLS,
        Options(&[
            "-c",
            "--command",
            "-C",
            "--init-command",
            "--init-file",
            "--rcfile",
        ]),
        "runs the command text it is given",
    ),
    rule(SHELLS, StdinCode, STDIN_CODE),
    rule(INTERPRETERS, StdinCode, STDIN_CODE),
    rule(&["python", "pypy"], Options(&["-c"]), RUNS_CODE),
    rule(&["perl"], Options(&["-e", "-E", "-i"]), RUNS_CODE),
    rule(&["ruby", "irb"], Options(&["-e", "-i"]), RUNS_CODE),
    rule(
        &["node", "nodejs", "bun"],
        Options(&[
            "-e",
            "--eval",
            "-p",
            "--print",
            "-r",
            "--require",
            "--import",
            "--loader",
            "--experimental-loader",
        ]),
        RUNS_CODE,
    ),
    Rule {
        programs: &["deno"],
        scope: Subcommand("eval"),
        risk: Always,
        why: RUNS_CODE,
    },
    rule(
        &["php"],
        Options(&["-r", "-B", "-R", "-E", "-F", "-d", "--define"]),
        RUNS_CODE,
    ),
    rule(&["lua", "luajit"], Options(&["-e", "-l"]), RUNS_CODE),
    rule(&["Rscript", "R", "osascript"], Options(&["-e"]), RUNS_CODE),
    rule(
        &["pwsh", "powershell"],
        Options(&["-c", "-command", "-Command", "-e", "-ec", "-EncodedCommand"]),
        RUNS_CODE,
    ),
    rule(
        &["sed", "gsed"],
        Options(&["-i", "--in-place", "-f", "--file"]),
        "edits files in place or runs a script file",
    ),
    rule(
        &["sed", "gsed"],
        SedScript,
        "its script runs a command or writes a file (e, w)",
    ),
    rule(
        &["awk", "gawk", "mawk", "nawk"],
        Options(&[
            "-f",
            "--file",
            "-i",
            "--include",
            "-l",
            "--load",
            "-E",
            "--exec",
        ]),
        "runs a program file",
    ),
    rule(
        &["awk", "gawk", "mawk", "nawk"],
        AwkProgram,
        "its program runs commands or writes files (system, getline, |, >)",
    ),
    // build tools
    rule(
        &["cargo"],
        Options(&["--config", "-Z", "-C"]),
        "cargo configuration and unstable flags can name programs to run (build.rustc-wrapper, target runners, linkers)",
    ),
    rule(
        &["cargo"],
        Paths(&[
            "--manifest-path",
            "--target-dir",
            "--artifact-dir",
            "--out-dir",
            "--root",
            "--lockfile-path",
        ]),
        OUTSIDE,
    ),
    rule(
        &["rustc", "rustdoc"],
        Options(&["-C", "--codegen", "-Z"]),
        "codegen options can run a linker of any choice",
    ),
    rule(
        &["make", "gmake"],
        Options(&["--eval", "-E"]),
        "evaluates makefile text it is given",
    ),
    rule(
        &["make", "gmake"],
        Paths(&["-C", "--directory", "-f", "--file", "--makefile"]),
        OUTSIDE,
    ),
    rule(
        &["go"],
        Options(&["-toolexec", "--toolexec", "-exec", "--exec"]),
        "runs a program of any choice around the build",
    ),
    rule(&["npm", "pnpm", "yarn"], Paths(&["--prefix"]), OUTSIDE),
    // git
    git(
        BeforeSubcommand,
        Options(&[
            "-c",
            "--config-env",
            "--exec-path",
            "--git-dir",
            "--work-tree",
        ]),
        "loads configuration, programs or a repository that can run code",
    ),
    git(BeforeSubcommand, Paths(&["-C"]), OUTSIDE),
    git(
        Anywhere,
        Options(&[
            "--output",
            "--output-directory",
            "--exec",
            "--upload-pack",
            "--receive-pack",
            "--ext-diff",
            "--extcmd",
            "--open-files-in-pager",
            "--template",
        ]),
        "runs a program or writes a file of any choice",
    ),
    git(
        Subcommand("rebase"),
        Options(&["-x"]),
        "runs a command after each commit",
    ),
    git(
        Subcommand("clone"),
        Options(&["-u", "-c", "--config"]),
        "runs a program or loads configuration that can",
    ),
    git(
        Subcommand("ls-remote"),
        Options(&["-u"]),
        "runs a program of any choice",
    ),
    git(Subcommand("format-patch"), Paths(&["-o"]), OUTSIDE),
    git(
        Subcommand("difftool"),
        Options(&["-x", "-t", "--tool", "-g", "--gui"]),
        "runs a diff program of any choice",
    ),
    git(
        Subcommand("grep"),
        Options(&["-O"]),
        "runs a pager of any choice",
    ),
    git(
        Subcommand("config"),
        Unless(&[
            "--get",
            "--get-all",
            "--get-regexp",
            "--get-urlmatch",
            "--list",
            "-l",
            "get",
            "list",
        ]),
        "changes git settings, some of which run programs (core.pager, core.fsmonitor, aliases)",
    ),
    git(
        Subcommand("bisect"),
        Words(&["run"]),
        "runs a command on each step",
    ),
    git(
        Subcommand("submodule"),
        Words(&["foreach"]),
        "runs a command in each submodule",
    ),
    git(
        Subcommand("filter-branch"),
        Always,
        "runs commands over the history",
    ),
    git(Subcommand("hook"), Always, "runs the repository's hooks"),
    // finding, archiving, copying, downloading
    rule(
        &["find"],
        Options(&[
            "-exec", "-execdir", "-ok", "-okdir", "-delete", "-fprint", "-fprint0", "-fprintf",
            "-fls",
        ]),
        "runs a command, deletes or writes files",
    ),
    rule(
        &["tar", "gtar", "bsdtar"],
        Options(&[
            "--to-command",
            "--use-compress-program",
            "-I",
            "--checkpoint-action",
            "--info-script",
            "-F",
            "--new-volume-script",
            "--rsh-command",
            "--rmt-command",
            "-P",
            "--absolute-names",
        ]),
        "runs a program or writes outside the workspace",
    ),
    rule(
        &["tar", "gtar", "bsdtar"],
        Paths(&["-C", "--directory"]),
        OUTSIDE,
    ),
    rule(&["unzip"], Paths(&["-d"]), OUTSIDE),
    rule(
        &["zip"],
        Options(&["-TT", "--unzip-command"]),
        "runs a program of any choice",
    ),
    rule(
        &["rsync"],
        Options(&["-e", "--rsh", "--rsync-path"]),
        "runs a program of any choice",
    ),
    rule(
        &["ssh", "scp", "sftp"],
        Options(&["-o", "-F", "-S"]),
        "options and configuration can run local commands (ProxyCommand)",
    ),
    rule(
        &["curl"],
        Paths(&[
            "-o",
            "--output",
            "--output-dir",
            "-D",
            "--dump-header",
            "-c",
            "--cookie-jar",
            "--trace",
            "--trace-ascii",
            "--libcurl",
            "--stderr",
            "--etag-save",
        ]),
        WRITES,
    ),
    rule(
        &["curl"],
        Options(&["-K", "--config"]),
        "reads options from a file",
    ),
    rule(
        &["wget"],
        Paths(&[
            "-O",
            "--output-document",
            "-o",
            "--output-file",
            "-a",
            "--append-output",
            "-P",
            "--directory-prefix",
        ]),
        WRITES,
    ),
    rule(
        &["wget"],
        Options(&["-e", "--execute", "--config", "--use-askpass"]),
        "runs commands or a program of any choice",
    ),
    rule(&["sort"], Paths(&["-o", "--output"]), WRITES),
];

/// `python3.12` → `python`, `pip3` → `pip`.
pub fn program_key(name: &str) -> &str {
    let k = name.trim_end_matches(|c: char| c.is_ascii_digit() || c == '.');
    if k.is_empty() { name } else { k }
}

/// Why `words` (a command with wrappers looked through up to here) asks, if it does.
pub fn risk(words: &[String], ctx: &Ctx) -> Option<String> {
    let prog = basename(words.first()?);
    let key = program_key(prog);
    let args = &words[1..];
    for rule in RULES
        .iter()
        .filter(|r| r.programs.contains(&prog) || r.programs.contains(&key))
    {
        let scoped = match rule.scope {
            Anywhere => args,
            BeforeSubcommand => &args[..subcommand_index(prog, args).unwrap_or(args.len())],
            Subcommand(s) => match subcommand_index(prog, args) {
                Some(k) if args[k] == s => &args[k + 1..],
                _ => continue,
            },
        };
        if let Some(found) = found(rule.risk, scoped, words, ctx) {
            let head = match rule.scope {
                Subcommand(s) => format!("{prog} {s}"),
                _ => prog.to_owned(),
            };
            let shown = if found.is_empty() {
                head
            } else {
                format!("{head} … {found}")
            };
            return Some(format!("`{shown}` {}", rule.why));
        }
    }
    None
}

fn found(risk: Risk, scoped: &[String], words: &[String], ctx: &Ctx) -> Option<String> {
    match risk {
        Options(specs) => scoped
            .iter()
            .find(|a| specs.iter().any(|s| option_is(a, s)))
            .cloned(),
        Paths(specs) => (0..scoped.len()).find_map(|k| {
            specs
                .iter()
                .filter_map(|s| option_value(scoped, k, s))
                .find(|v| !ctx.inside(v))
                .map(|v| {
                    if scoped[k].ends_with(v.as_str()) {
                        scoped[k].clone()
                    } else {
                        format!("{} {v}", scoped[k])
                    }
                })
        }),
        Operands => {
            let operands: Vec<&String> = scoped
                .iter()
                .filter(|a| !a.starts_with('-') || *a == "-")
                .collect();
            if operands.is_empty() {
                return Some("(the home directory)".to_owned());
            }
            operands
                .into_iter()
                .find(|a| *a == "-" || !ctx.inside(a))
                .cloned()
        }
        Words(list) => scoped.iter().find(|a| list.contains(&a.as_str())).cloned(),
        Always => Some(String::new()),
        RunsCommand => unwrap_once(words, true).and_then(|k| words.get(k)).cloned(),
        StdinCode => {
            let script = scoped
                .iter()
                .any(|a| !a.starts_with('-') && !a.starts_with('+'));
            let dash = scoped.iter().any(|a| a == "-");
            ((ctx.piped || ctx.stdin_redirected) && (dash || !script))
                .then(|| "(its standard input)".to_owned())
        }
        Unless(list) => (!scoped.iter().any(|a| list.contains(&a.as_str()))).then(String::new),
        SedScript => sed_scripts(scoped)
            .into_iter()
            .find(|s| sed_runs_or_writes(s)),
        AwkProgram => scoped
            .iter()
            .filter(|a| !a.starts_with('-'))
            .find(|a| {
                ["system", "getline", "|", ">"]
                    .iter()
                    .any(|m| a.contains(m))
            })
            .cloned(),
    }
}

/// The scripts of a sed command: `-e`/`--expression` values, else its first operand.
fn sed_scripts(args: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    let mut operand = None;
    let mut k = 0;
    while k < args.len() {
        let a = &args[k];
        if a == "-e" || a == "--expression" {
            out.extend(args.get(k + 1).cloned());
            k += 2;
            continue;
        }
        if let Some(v) = a.strip_prefix("--expression=") {
            out.push(v.to_owned());
        } else if a.starts_with('-') && !a.starts_with("--") && a.len() > 1 {
            // `-ne 's/…/'`: the script follows a cluster ending in `e`
            if a.ends_with('e') {
                out.extend(args.get(k + 1).cloned());
                k += 2;
                continue;
            } else if let Some(at) = a.find('e') {
                out.push(a[at + 1..].to_owned());
            } else if matches!(a.as_str(), "-l" | "-f") {
                k += 1;
            }
        } else if !a.starts_with('-') && operand.is_none() {
            operand = Some(a.clone());
        }
        k += 1;
    }
    if out.is_empty() {
        out.extend(operand);
    }
    out
}

/// Whether a sed script has a command (or `s` flag) that runs a command or writes a file:
/// `e`, `w`, `W`.
fn sed_runs_or_writes(script: &str) -> bool {
    let c: Vec<char> = script.chars().collect();
    let mut i = 0;
    // skips a delimited part (`/re/`, `\%re%`), from just after its opening delimiter
    let skip_delimited = |i: &mut usize, delim: char| {
        while *i < c.len() && c[*i] != delim {
            if c[*i] == '\\' {
                *i += 1;
            } else if c[*i] == '\n' {
                return;
            }
            *i += 1;
        }
        *i += 1;
    };
    while i < c.len() {
        let ch = c[i];
        match ch {
            ' ' | '\t' | '\n' | ';' | '{' | '}' | '!' | ',' | '$' | '~' | '+' => i += 1,
            '0'..='9' => i += 1,
            '/' => {
                i += 1;
                skip_delimited(&mut i, '/');
                // flags of an address regex (`/re/I`, `/re/M`)
                while i < c.len() && matches!(c[i], 'I' | 'M') {
                    i += 1;
                }
            }
            '\\' => {
                let d = c.get(i + 1).copied().unwrap_or('/');
                i += 2;
                skip_delimited(&mut i, d);
            }
            '#' | 'a' | 'i' | 'c' | ':' | 'b' | 't' | 'T' | 'r' | 'R' | 'q' | 'Q' | 'l' | 'L'
            | 'v' => {
                // text, a label, a file to read or an exit code: to the end of the command
                while i < c.len()
                    && c[i] != '\n'
                    && (c[i] != ';' || matches!(ch, 'a' | 'i' | 'c' | '#'))
                {
                    i += 1;
                }
            }
            's' | 'y' => {
                let Some(&d) = c.get(i + 1) else { return false };
                i += 2;
                skip_delimited(&mut i, d);
                skip_delimited(&mut i, d);
                if ch == 's' {
                    while i < c.len() && !matches!(c[i], ';' | '\n' | '}') {
                        if matches!(c[i], 'e' | 'w' | 'W') {
                            return true;
                        }
                        i += 1;
                    }
                }
            }
            'e' | 'w' | 'W' => return true,
            _ => i += 1,
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn options_match_clusters_values_and_abbreviations() {
        assert!(option_is("-c", "-c"));
        assert!(option_is("-Bc", "-c"));
        assert!(option_is("-cprint(1)", "-c"));
        assert!(!option_is("--config", "-c"));
        assert!(option_is("--config", "--config"));
        assert!(option_is("--config=x", "--config"));
        assert!(option_is("--conf", "--config"));
        assert!(!option_is("--color", "--config"));
        assert!(!option_is("--output-indicator-new=x", "--output"));
        assert!(option_is("-exec", "-exec"));
        assert!(!option_is("-executable", "-exec"));
        assert_eq!(
            option_value(&words("-sSLo /etc/x"), 0, "-o").as_deref(),
            Some("/etc/x")
        );
        assert_eq!(
            option_value(&words("-C/tmp"), 0, "-C").as_deref(),
            Some("/tmp")
        );
        assert_eq!(
            option_value(&words("--output=/x"), 0, "--output").as_deref(),
            Some("/x")
        );
    }

    #[test]
    fn sed_scripts_that_run_or_write() {
        for s in [
            "s/a/b/e",
            "s/a/b/w /tmp/x",
            "1e id",
            "w out",
            "/x/w out",
            "s|a|b|gw x",
            "$!N;W x",
        ] {
            assert!(sed_runs_or_writes(s), "{s}");
        }
        for s in [
            "s/a/b/g",
            "s/e/w/",
            "/error/d",
            "1i hello we",
            "y/abc/ewq/",
            "s/x/y/;p",
            ":a;N;ba",
        ] {
            assert!(!sed_runs_or_writes(s), "{s}");
        }
        assert_eq!(sed_scripts(&words("-n -e p -e q f")), ["p", "q"]);
        assert_eq!(sed_scripts(&words("-ne s/a/b/w f")), ["s/a/b/w"]);
        assert_eq!(sed_scripts(&words("s/a/b/ f")), ["s/a/b/"]);
    }

    #[test]
    fn every_rule_names_a_program_and_a_reason() {
        for r in RULES {
            assert!(!r.programs.is_empty() && !r.why.is_empty());
            if let Options(specs) | Paths(specs) = r.risk {
                assert!(specs.iter().all(|s| s.starts_with('-')), "{specs:?}");
            }
        }
        assert_eq!(program_key("python3.12"), "python");
        assert_eq!(program_key("R"), "R");
    }
}
