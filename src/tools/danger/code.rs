//! Downloads that are then run, and code handed to an interpreter on the command line
//! (`python -c "shutil.rmtree(…)"`, `perl -e 'system "…"'`).

use super::{DOWNLOADERS, INTERPRETERS, RM_ROOT, broad_glob_in_critical, critical_target};
use crate::tools::shell_command::{SHELLS, basename, levels, option_value};
use crate::tools::shell_lex::Parsed;

/// Whether a line runs a downloader (`curl`, `wget`) anywhere.
pub(super) fn downloads(parsed: &Parsed) -> bool {
    parsed.commands.iter().any(|c| {
        let texts = c.texts();
        levels(&texts, true)
            .iter()
            .any(|&s| DOWNLOADERS.contains(&basename(&texts[s])))
    })
}

/// `./file` → `file`.
pub(super) fn normal_file(t: &str) -> String {
    let mut s = t;
    while let Some(r) = s.strip_prefix("./") {
        s = r;
    }
    s.to_owned()
}

/// The files a downloader writes (`curl -o f`, `curl -O URL`, `wget URL`).
pub(super) fn download_targets(prog: &str, args: &[String]) -> Vec<String> {
    let (named, remote): (&[&str], &[&str]) = match prog {
        "curl" => (
            &["-o", "--output"],
            &["-O", "--remote-name", "--remote-name-all"],
        ),
        "wget" => (&["-O", "--output-document"], &[]),
        _ => (&[], &[]),
    };
    let given: Vec<String> = (0..args.len())
        .flat_map(|k| named.iter().filter_map(move |s| option_value(args, k, s)))
        .collect();
    let remote_name = args.iter().any(|a| {
        remote.contains(&a.as_str())
            || (prog == "curl" && a.starts_with('-') && !a.starts_with("--") && a.contains('O'))
    });
    let from_url = (prog == "wget" && given.is_empty()) || remote_name;
    let mut out: Vec<String> = given
        .iter()
        .filter(|f| *f != "-")
        .map(|f| normal_file(f))
        .collect();
    if from_url {
        for url in args.iter().filter(|a| a.contains("://")) {
            let path = url.split(['?', '#']).next().unwrap_or(url);
            let name = path.rsplit('/').next().unwrap_or("");
            out.push(if name.is_empty() {
                "index.html".to_owned()
            } else {
                name.to_owned()
            });
        }
    }
    out
}

/// Whether the command runs a file a downloader wrote earlier in the line (`./f`,
/// `sh f`, `. f`, `python3 f`).
pub(super) fn runs_downloaded(
    prog: &str,
    prog_text: &str,
    args: &[String],
    downloaded: &[String],
) -> bool {
    if downloaded.is_empty() {
        return false;
    }
    if prog_text.contains('/') && downloaded.contains(&normal_file(prog_text)) {
        return true;
    }
    let runner = SHELLS.contains(&prog)
        || INTERPRETERS.contains(&prog)
        || matches!(prog, "source" | "." | "exec");
    runner
        && args
            .iter()
            .find(|a| !a.starts_with('-'))
            .is_some_and(|a| downloaded.contains(&normal_file(a)))
}

/// Calls that delete a directory tree, in the languages run with `-c`/`-e`.
const DELETE_APIS: &[&str] = &[
    "rmtree",
    "rm_rf",
    "rm_r",
    "remove_tree",
    "remove_dir_all",
    "remove_entry",
    "rmSync",
    "rmdirSync",
    "fs.rm(",
    "fs.rmdir(",
    "promises.rm",
    "removedirs",
    "rimraf",
];
/// Ways code names the home directory.
const HOME_MARKERS: &[&str] = &[
    "expanduser",
    "Path.home",
    "homedir",
    "Dir.home",
    "HOME",
    "~",
];
/// Ways code runs a shell command.
const RUNS_SHELL: &[&str] = &[
    "system",
    "popen",
    "subprocess",
    "exec",
    "spawn",
    "`",
    "Command",
    "shell_exec",
    "passthru",
];

/// The code given to an interpreter on its command line, and what it would do.
pub(super) fn inline_code_danger(
    prog: &str,
    args: &[String],
    depth: usize,
) -> Option<&'static str> {
    let key = prog.trim_end_matches(|c: char| c.is_ascii_digit() || c == '.');
    let specs: &[&str] = match key {
        "python" | "pypy" => &["-c"],
        "perl" => &["-e", "-E"],
        "ruby" => &["-e"],
        "node" | "nodejs" | "bun" | "deno" => &["-e", "--eval", "-p", "--print"],
        "php" => &["-r"],
        "lua" | "luajit" | "Rscript" => &["-e"],
        _ => return None,
    };
    (0..args.len())
        .flat_map(|k| specs.iter().filter_map(move |s| option_value(args, k, s)))
        .find_map(|code| code_danger(&code, depth))
}

fn code_danger(code: &str, depth: usize) -> Option<&'static str> {
    let literals = string_literals(code);
    if DELETE_APIS.iter().any(|a| code.contains(a))
        && (HOME_MARKERS.iter().any(|m| code.contains(m))
            || literals
                .iter()
                .any(|l| critical_target(l) || broad_glob_in_critical(l)))
    {
        return Some(RM_ROOT);
    }
    if RUNS_SHELL.iter().any(|m| code.contains(m)) {
        return literals
            .iter()
            .find_map(|l| super::dangerous_at(l, depth + 1));
    }
    None
}

/// The contents of the quoted strings in some code (`'…'`, `"…"`, `` `…` ``).
fn string_literals(code: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut chars = code.chars();
    while let Some(c) = chars.next() {
        if !matches!(c, '\'' | '"' | '`') {
            continue;
        }
        let mut lit = String::new();
        while let Some(n) = chars.next() {
            if n == '\\' {
                if let Some(e) = chars.next() {
                    lit.push(e);
                }
            } else if n == c {
                break;
            } else {
                lit.push(n);
            }
        }
        out.push(lit);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn download_targets_are_named() {
        assert_eq!(
            download_targets("curl", &w("-fsSLo x.sh https://a/b")),
            ["x.sh"]
        );
        assert_eq!(
            download_targets("curl", &w("-O https://a/i.sh?x=1")),
            ["i.sh"]
        );
        assert_eq!(download_targets("wget", &w("https://a/run")), ["run"]);
        assert_eq!(
            download_targets("wget", &w("-qO- https://a/run")),
            Vec::<String>::new()
        );
        assert_eq!(
            download_targets("curl", &w("https://a/run")),
            Vec::<String>::new()
        );
    }

    #[test]
    fn literals_are_read() {
        assert_eq!(
            string_literals(r#"os.system('rm -rf ~'); x = "a\"b""#),
            ["rm -rf ~", "a\"b"]
        );
    }
}
