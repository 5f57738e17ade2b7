//! The project part of the system prompt, computed once per session: the workspace, a
//! short git state, the project's instructions (`AGENTS.md`, `.cove/instructions.md`) and
//! the top levels of the file tree. Deterministic (same inputs, same bytes) so that the
//! server's prefix cache keeps hitting, and bounded by a token budget.

use std::collections::VecDeque;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use ignore::Match;
use ignore::gitignore::{Gitignore, GitignoreBuilder};

use crate::session::tokens::estimate;

/// The project facts for the system prompt.
pub struct ProjectContext {
    /// Markdown-ish text to append to the system prompt, at most `budget` tokens by `crate::session::tokens::estimate`.
    pub text: String,
    /// The short git status it was built with (None outside a repository / git disabled), to compare later.
    pub git: Option<String>,
}

/// Instruction files, in the order they appear.
const INSTRUCTION_FILES: [&str; 2] = ["AGENTS.md", ".cove/instructions.md"];
/// Bytes read from one instruction file at most.
const MAX_INSTRUCTION_BYTES: u64 = 256 * 1024;
/// Tokens kept for the tree when the instructions are too long.
const TREE_MIN_TOKENS: usize = 60;
/// Deepest level of the tree (the root's entries are level 1).
const MAX_DEPTH: usize = 4;
/// Directory entries read in all, and from one directory.
const MAX_READ: usize = 10_000;
const MAX_READ_PER_DIR: usize = 2_000;
/// Entries shown from the root and from any other directory.
const ROOT_SHOWN: usize = 50;
const DIR_SHOWN: usize = 30;
/// Length bound of [`git_summary`] and how many paths it names.
const GIT_SUMMARY_BYTES: usize = 300;
const GIT_PATHS: usize = 8;

/// `root` is the canonical workspace root. `budget` in tokens (default 800). `git` = whether to use git.
pub fn build(root: &Path, budget: usize, git: bool) -> ProjectContext {
    let git = if git { git_summary(root) } else { None };
    let cap = byte_cap(budget);

    let mut text = format!("Workspace: {}\n", clean(&root.display().to_string()));
    if let Some(g) = &git {
        text.push_str(&format!("Git: {g}\n"));
    }
    if text.len() > cap {
        text.truncate(floor_char_boundary(&text, cap));
        return ProjectContext { text, git };
    }

    let room = cap.saturating_sub(text.len() + byte_cap(TREE_MIN_TOKENS));
    text.push_str(&instructions(root, room));
    let room = cap.saturating_sub(text.len());
    text.push_str(&tree(root, room));

    // `byte_cap` is the inverse of `estimate`; this only matters if the estimate changes.
    while estimate(&text) > budget {
        let keep = text.trim_end_matches('\n').rfind('\n').map_or(0, |i| i + 1);
        text.truncate(keep);
    }
    ProjectContext { text, git }
}

/// Short git state: branch + a compact status, e.g. "branch main · 2 modified, 1 untracked (src/a.rs, src/b.rs, notes.txt)"; None if not a repo. Bounded length (~300 bytes; name at most ~8 paths then "…").
pub fn git_summary(root: &Path) -> Option<String> {
    // confined to the workspace's part of an enclosing repository
    let confined = crate::git::Confined::open(root).ok()?;
    let branch = crate::git::branch(root).ok()?;
    let mut out = format!("branch {}", clean(&branch));
    match confined.statuses() {
        Err(_) => out.push_str(" · status unavailable"),
        Ok(statuses) => {
            let mut entries: Vec<(usize, String)> = statuses
                .into_iter()
                .filter_map(|(status, path)| Some((kind(status)?, clean(&path))))
                .collect();
            entries.sort();
            out.push_str(&status_line(&entries));
        }
    }
    if out.len() > GIT_SUMMARY_BYTES {
        out.truncate(floor_char_boundary(
            &out,
            GIT_SUMMARY_BYTES - '…'.len_utf8(),
        ));
        out.push('…');
    }
    Some(out)
}

/// The note for the model when the git state changed between turns, e.g. "(Note from cove: the git state changed outside this conversation; it is now: <new summary>)". None when equal.
pub fn git_change_note(before: Option<&str>, now: Option<&str>) -> Option<String> {
    if before == now {
        return None;
    }
    let now = now.unwrap_or("no longer inside a git repository");
    Some(format!(
        "(Note from cove: the git state changed outside this conversation; it is now: {now})"
    ))
}

/// Status kinds in the order the summary names them.
const KINDS: [&str; 6] = [
    "modified",
    "added",
    "deleted",
    "renamed",
    "conflicted",
    "untracked",
];

fn kind(s: git2::Status) -> Option<usize> {
    let index_any = s.is_index_new()
        || s.is_index_modified()
        || s.is_index_deleted()
        || s.is_index_renamed()
        || s.is_index_typechange();
    Some(if s.is_conflicted() {
        4
    } else if s.is_wt_new() && !index_any {
        5
    } else if s.is_index_new() {
        1
    } else if s.is_index_deleted() || s.is_wt_deleted() {
        2
    } else if s.is_index_renamed() || s.is_wt_renamed() {
        3
    } else if index_any || s.is_wt_modified() || s.is_wt_typechange() {
        0
    } else {
        return None;
    })
}

/// " · 2 modified, 1 untracked (a, b, c)" from sorted (kind, path) pairs, or " · clean".
fn status_line(entries: &[(usize, String)]) -> String {
    if entries.is_empty() {
        return " · clean".to_owned();
    }
    let counts: Vec<String> = KINDS
        .iter()
        .enumerate()
        .filter_map(|(k, name)| {
            let n = entries.iter().filter(|(kind, _)| *kind == k).count();
            (n > 0).then(|| format!("{n} {name}"))
        })
        .collect();
    let mut out = format!(" · {}", counts.join(", "));
    let mut paths = String::new();
    let mut named = 0;
    for (_, path) in entries.iter().take(GIT_PATHS) {
        if out.len() + paths.len() + path.len() + 8 > GIT_SUMMARY_BYTES {
            break;
        }
        if named > 0 {
            paths.push_str(", ");
        }
        paths.push_str(path);
        named += 1;
    }
    if named < entries.len() {
        paths.push_str(if named > 0 { ", …" } else { "…" });
    }
    out.push_str(&format!(" ({paths})"));
    out
}

/// The instruction sections, at most `room` bytes together; a file that does not fit is
/// cut at a line boundary with a note.
fn instructions(root: &Path, room: usize) -> String {
    let found: Vec<(&str, String, bool)> = INSTRUCTION_FILES
        .iter()
        .filter_map(|name| {
            let (content, whole) = read_inside(root, name)?;
            let content = content.replace("\r\n", "\n");
            let content = content.trim_end();
            (!content.is_empty()).then(|| (*name, content.to_owned(), whole))
        })
        .collect();
    let full: Vec<usize> = found
        .iter()
        .map(|(name, c, _)| section(name, c).len())
        .collect();
    let mut out = String::new();
    let mut left = room;
    for (i, (name, content, whole)) in found.iter().enumerate() {
        let rest: usize = full[i + 1..].iter().sum();
        let others = found.len() - i - 1;
        // Everything that fits; else a fair share, leaving the later files what they need.
        let share = if full[i] + rest <= left {
            left
        } else {
            (left / (others + 1)).max(left.saturating_sub(rest))
        };
        let part = fit_section(name, content, *whole, share);
        left -= part.len();
        out.push_str(&part);
    }
    out
}

fn section(name: &str, content: &str) -> String {
    format!("\nInstructions from {name}:\n{content}\n")
}

/// The section for `name`, at most `cap` bytes: whole, or cut at a line end with a note,
/// or nothing when not even the heading and the note fit.
fn fit_section(name: &str, content: &str, whole: bool, cap: usize) -> String {
    let full = section(name, content);
    if whole && full.len() <= cap {
        return full;
    }
    let note = format!("[… {name} cut to fit the context budget]\n");
    let mut out = format!("\nInstructions from {name}:\n");
    if out.len() + note.len() > cap {
        return String::new();
    }
    for line in content.lines() {
        if out.len() + line.len() + 1 + note.len() > cap {
            break;
        }
        out.push_str(line);
        out.push('\n');
    }
    out.push_str(&note);
    out
}

/// A file under `root`, read lossily and at most [`MAX_INSTRUCTION_BYTES`] (cut at a line
/// end; the flag says whether it is whole). None when missing, not a regular file, or a
/// symlink (of the file or a directory on the way) leading outside `root`.
fn read_inside(root: &Path, rel: &str) -> Option<(String, bool)> {
    let root = root.canonicalize().ok()?;
    let real = root.join(rel).canonicalize().ok()?;
    if !real.starts_with(&root) || !real.is_file() {
        return None;
    }
    let mut bytes = Vec::new();
    File::open(&real)
        .ok()?
        .take(MAX_INSTRUCTION_BYTES + 1)
        .read_to_end(&mut bytes)
        .ok()?;
    let whole = bytes.len() as u64 <= MAX_INSTRUCTION_BYTES;
    if !whole {
        let end = bytes.iter().rposition(|&b| b == b'\n').unwrap_or(0);
        bytes.truncate(end);
    }
    Some((String::from_utf8_lossy(&bytes).into_owned(), whole))
}

/// One tree entry; `children` is None for files and for directories not read.
struct Node {
    name: String,
    path: PathBuf,
    is_dir: bool,
    depth: usize,
    children: Option<Vec<usize>>,
    /// The directory had more entries than were read.
    partial: bool,
    /// How many of the children show.
    shown: usize,
}

impl Node {
    fn new(name: &str, path: PathBuf, is_dir: bool, depth: usize) -> Self {
        let name = clean(name);
        let (children, partial, shown) = (None, false, 0);
        Node {
            name,
            path,
            is_dir,
            depth,
            children,
            partial,
            shown,
        }
    }
}

/// The file tree section, at most `room` bytes, or nothing.
///
/// Breadth-first, so that the top levels show first: each directory is read when its turn
/// comes, shows as many of its entries as fit, and the tree stops at the first directory
/// that the budget cuts short. Only directories whose entries show are read.
fn tree(root: &Path, room: usize) -> String {
    let heading = "\nFiles (top levels; .gitignore'd omitted):\n";
    if room < heading.len() + 8 {
        return String::new();
    }
    let room = room - heading.len();
    let ignores = Ignores::new(root);
    let mut nodes = vec![Node::new("", root.to_path_buf(), true, 0)];
    let mut queue = VecDeque::from([(0, ignores.above_root.clone())]);
    let (mut used, mut read) = (0, 0);
    while let Some((id, parent_rules)) = queue.pop_front() {
        if read >= MAX_READ {
            break;
        }
        let limit = MAX_READ_PER_DIR.min(MAX_READ - read);
        let Listing {
            mut list,
            partial,
            seen,
            rules,
        } = ignores.read(&nodes[id].path, parent_rules, limit);
        read += seen;
        list.sort_by(|a, b| b.2.cmp(&a.2).then_with(|| a.0.cmp(&b.0)));
        let depth = nodes[id].depth + 1;
        let first = nodes.len();
        let new = list
            .into_iter()
            .map(|(name, path, is_dir)| Node::new(&name, path, is_dir, depth));
        nodes.extend(new);
        let children: Vec<usize> = (first..nodes.len()).collect();
        nodes[id].partial = partial;
        nodes[id].children = Some(children.clone());

        let limit = children
            .len()
            .min(if id == 0 { ROOT_SHOWN } else { DIR_SHOWN });
        let (mut best, mut best_cost, mut cost) = (0, 0, 0);
        for k in 1..=limit {
            cost += line(&nodes[children[k - 1]]).len();
            if used + cost > room {
                break;
            }
            let total = cost + more(&nodes[id], k).map_or(0, |m| m.len());
            if used + total <= room {
                (best, best_cost) = (k, total);
            }
        }
        used += best_cost;
        nodes[id].shown = best;
        if depth < MAX_DEPTH {
            let dirs = children[..best].iter().filter(|&&c| nodes[c].is_dir);
            queue.extend(dirs.map(|&c| (c, Some(rules.clone()))));
        }
        if best < limit {
            break;
        }
    }
    if nodes[0].shown == 0 {
        return String::new();
    }
    let mut out = heading.to_owned();
    render(&nodes, 0, &mut out);
    out
}

/// What [`Ignores::read`] found in one directory.
struct Listing {
    /// (name, path, is_dir) of the entries that show, in no particular order.
    list: Vec<(String, PathBuf, bool)>,
    /// There were more entries than the limit.
    partial: bool,
    /// Entries read, shown or not.
    seen: usize,
    /// The rules for the directory's subdirectories.
    rules: Rc<Rules>,
}

/// The ignore rules of one directory (`.ignore`, `.gitignore`), then its parent's.
struct Rules {
    ignore: Option<Gitignore>,
    git: Option<Gitignore>,
    parent: Option<Rc<Rules>>,
}

/// What decides whether an entry shows, as ripgrep decides: `.ignore` files (nearest
/// first) over `.gitignore` files (up to the repository's top, even outside a
/// repository) over `.git/info/exclude` over the global excludes file.
struct Ignores {
    above_root: Option<Rc<Rules>>,
    exclude: Option<Gitignore>,
    global: Gitignore,
}

impl Ignores {
    fn new(root: &Path) -> Self {
        // The directories above the root up to the repository's top, top first.
        let top = root.ancestors().find(|a| a.join(".git").exists());
        let above: Vec<&Path> = match top {
            Some(top) => root
                .ancestors()
                .skip(1)
                .take_while(|a| a.starts_with(top))
                .collect(),
            None => Vec::new(),
        };
        let above_root = above.iter().rev().fold(None, |parent, dir| {
            Some(Rc::new(Rules {
                ignore: load(dir, ".ignore"),
                git: load(dir, ".gitignore"),
                parent,
            }))
        });
        let exclude = top.and_then(|t| load_as(t, &t.join(".git/info/exclude")));
        Ignores {
            above_root,
            exclude,
            global: Gitignore::global().0,
        }
    }

    /// Reads up to `limit` entries of `dir`, leaving out hidden and ignored ones, not
    /// following symlinks. Past the limit, which entries were read depends on the
    /// file system's order (stable for an unchanged directory).
    fn read(&self, dir: &Path, parent: Option<Rc<Rules>>, limit: usize) -> Listing {
        let rules = Rc::new(Rules {
            ignore: load(dir, ".ignore"),
            git: load(dir, ".gitignore"),
            parent,
        });
        let mut out = Listing {
            list: Vec::new(),
            partial: false,
            seen: 0,
            rules,
        };
        let Ok(entries) = std::fs::read_dir(dir) else {
            return out;
        };
        for entry in entries.flatten() {
            if out.seen == limit {
                out.partial = true;
                break;
            }
            out.seen += 1;
            let name = entry.file_name().to_string_lossy().into_owned();
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            let path = entry.path();
            if name.starts_with('.') || self.ignored(&out.rules, &path, kind.is_dir()) {
                continue;
            }
            out.list.push((name, path, kind.is_dir()));
        }
        out
    }

    fn ignored(&self, rules: &Rules, path: &Path, is_dir: bool) -> bool {
        let pick: [fn(&Rules) -> Option<&Gitignore>; 2] =
            [|r| r.ignore.as_ref(), |r| r.git.as_ref()];
        for pick in pick {
            let mut at = Some(rules);
            while let Some(r) = at {
                if let Some(decided) = pick(r).and_then(|g| decide(g, path, is_dir)) {
                    return decided;
                }
                at = r.parent.as_deref();
            }
        }
        let last = self.exclude.iter().chain([&self.global]);
        last.filter_map(|g| decide(g, path, is_dir))
            .next()
            .unwrap_or(false)
    }
}

/// Some(true) ignored, Some(false) whitelisted, None no rule.
fn decide(g: &Gitignore, path: &Path, is_dir: bool) -> Option<bool> {
    match g.matched(path, is_dir) {
        Match::None => None,
        Match::Ignore(_) => Some(true),
        Match::Whitelist(_) => Some(false),
    }
}

/// The rules in `dir/name`, if that is a non-empty file.
fn load(dir: &Path, name: &str) -> Option<Gitignore> {
    load_as(dir, &dir.join(name))
}

/// The rules in `file`, for paths under `dir`.
fn load_as(dir: &Path, file: &Path) -> Option<Gitignore> {
    if !file.is_file() {
        return None;
    }
    let mut builder = GitignoreBuilder::new(dir);
    builder.add(file);
    builder.build().ok().filter(|g| !g.is_empty())
}

fn line(node: &Node) -> String {
    let slash = if node.is_dir { "/" } else { "" };
    let indent = (node.depth - 1) * 2;
    format!("{:indent$}{}{slash}\n", "", node.name)
}

/// The "… 37 more" line of directory `dir` when `k` of its children show.
fn more(dir: &Node, k: usize) -> Option<String> {
    let hidden = dir.children.as_ref().map_or(0, |c| c.len()) - k;
    if hidden == 0 && !dir.partial {
        return None;
    }
    let indent = dir.depth * 2;
    Some(match (hidden, dir.partial) {
        (0, _) => format!("{:indent$}… more\n", ""),
        (n, true) => format!("{:indent$}… {n}+ more\n", ""),
        (n, false) => format!("{:indent$}… {n} more\n", ""),
    })
}

fn render(nodes: &[Node], id: usize, out: &mut String) {
    let Some(children) = &nodes[id].children else {
        return;
    };
    let k = nodes[id].shown;
    for &c in &children[..k] {
        out.push_str(&line(&nodes[c]));
        render(nodes, c, out);
    }
    if k > 0
        && let Some(m) = more(&nodes[id], k)
    {
        out.push_str(&m);
    }
}

/// The most bytes that `estimate` counts as at most `tokens` (its inverse).
fn byte_cap(tokens: usize) -> usize {
    tokens.saturating_mul(7) / 2
}

/// Control characters (a newline in a file name) would break the prompt's layout.
fn clean(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    if i >= s.len() {
        return s.len();
    }
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;
    use std::path::PathBuf;

    fn dir() -> (tempfile::TempDir, PathBuf) {
        let t = tempfile::tempdir().expect("tempdir");
        let root = t.path().canonicalize().expect("canonical");
        (t, root)
    }

    fn write(root: &Path, rel: &str, content: &str) {
        let p = root.join(rel);
        if let Some(parent) = p.parent() {
            fs::create_dir_all(parent).expect("mkdir");
        }
        fs::write(p, content).expect("write");
    }

    /// 8 dirs x 8 subdirs x (deep/ with 6 files + mod.rs) + 70 files: more than 3000
    /// tokens of tree (file creation is slow on some disks, so not more).
    fn big_tree(root: &Path) {
        for a in 0..8 {
            for b in 0..8 {
                for c in 0..6 {
                    let name = format!("dir{a}/sub{b}/deep/a_component_source_file_{c}.rs");
                    write(root, &name, "x");
                }
                write(root, &format!("dir{a}/sub{b}/mod.rs"), "x");
            }
            write(root, &format!("dir{a}/lib.rs"), "x");
        }
        for f in 0..70 {
            write(root, &format!("top{f:02}.txt"), "x");
        }
    }

    #[test]
    fn budget_is_respected_and_top_levels_show_first() {
        let (_t, root) = dir();
        big_tree(&root);
        write(&root, "AGENTS.md", &"Use tabs, not spaces.\n".repeat(20));
        for budget in [100, 800, 3000] {
            let ctx = build(&root, budget, false);
            let used = estimate(&ctx.text);
            assert!(used <= budget, "{budget}: {}", ctx.text);
            assert!(used >= budget * 9 / 10, "{budget}: {used}");
            assert!(ctx.text.starts_with("Workspace: "));
        }
        // The root shows its first 50 entries (8 dirs, AGENTS.md, 41 files) and counts
        // the rest; the second level shows whole before the third starts.
        let text = build(&root, 800, false).text;
        assert!(text.contains("\ndir7/\n  sub0/\n"), "{text}");
        assert!(text.contains("  lib.rs\n"), "{text}");
        assert!(text.contains("top40.txt\n… 29 more\n"), "{text}");
        let text = build(&root, 3000, false).text;
        assert!(
            text.contains("\ndir0/\n  sub0/\n    deep/\n      a_comp"),
            "{text}"
        );
        assert!(text.contains("top40.txt\n… 29 more\n"), "{text}");
        // The budget ends the tree within the fourth level.
        assert!(
            !text.contains("\ndir7/\n  sub7/\n    deep/\n      a_comp"),
            "{text}"
        );
    }

    #[test]
    fn gitignored_and_hidden_entries_are_absent() {
        let (_t, root) = dir();
        write(&root, ".gitignore", "target/\n*.log\n");
        write(&root, "target/debug/app", "x");
        write(&root, "run.log", "x");
        write(&root, ".env", "SECRET=1");
        write(&root, "src/main.rs", "fn main() {}");
        write(&root, "src/.gitignore", "gen.rs\n");
        write(&root, "src/gen.rs", "x");
        let text = build(&root, 800, false).text;
        assert!(text.contains("src/\n  main.rs\n"), "{text}");
        for absent in ["target", "run.log", ".env", ".gitignore\n", "gen.rs"] {
            assert!(!text.contains(&format!("\n{absent}")), "{absent} in {text}");
            assert!(!text.contains(&format!(" {absent}")), "{absent} in {text}");
        }
    }

    #[test]
    fn rules_above_the_root_and_git_exclude_apply() {
        let (_t, top) = dir();
        git2::Repository::init(&top).expect("init");
        write(&top, ".gitignore", "*.tmp\n!keep.tmp\n");
        write(&top, ".git/info/exclude", "secret/\n");
        for f in ["sub/a.rs", "sub/b.tmp", "sub/keep.tmp", "sub/secret/x"] {
            write(&top, f, "x");
        }
        let text = build(&top.join("sub"), 800, false).text;
        assert!(text.ends_with(":\na.rs\nkeep.tmp\n"), "{text}");
    }

    #[test]
    fn the_git_summary_of_a_home_under_git_names_only_the_workspace() {
        let (_t, home) = dir();
        git2::Repository::init(&home).expect("init");
        write(&home, ".ssh/id_rsa", "KEY");
        write(&home, "proj/src/a.rs", "x");
        let summary = git_summary(&home.join("proj")).expect("a repository");
        assert!(summary.contains("src/a.rs"), "{summary}");
        assert!(
            !summary.contains("id_rsa") && !summary.contains(".ssh"),
            "{summary}"
        );
    }

    #[test]
    fn instructions_are_included_and_cut_with_a_note() {
        let (_t, root) = dir();
        write(&root, "AGENTS.md", "Run `cargo test` before you finish.\n");
        write(&root, ".cove/instructions.md", "Answer in French.\n");
        write(&root, "README.md", "x");
        let text = build(&root, 800, false).text;
        assert!(
            text.contains("Instructions from AGENTS.md:\nRun `cargo test` before you finish.\n")
        );
        assert!(text.contains("Instructions from .cove/instructions.md:\nAnswer in French.\n"));
        assert!(text.contains("README.md"));

        let long: String = (0..500).map(|i| format!("Rule number {i}.\n")).collect();
        write(&root, "AGENTS.md", &long);
        let text = build(&root, 800, false).text;
        assert!(estimate(&text) <= 800);
        assert!(text.contains("Rule number 0.\n"));
        assert!(!text.contains("Rule number 499."));
        assert!(
            text.contains("[… AGENTS.md cut to fit the context budget]\n"),
            "{text}"
        );
        // The other file and the tree keep a place.
        assert!(text.contains("Answer in French."), "{text}");
        assert!(text.contains("README.md"), "{text}");
        // The cut falls on a line boundary.
        let before_note = text.split("[… AGENTS.md").next().unwrap_or("");
        assert!(before_note.ends_with(".\n"), "{text}");
    }

    #[cfg(unix)]
    #[test]
    fn instructions_behind_a_symlink_outside_the_root_are_not_read() {
        let (_t, root) = dir();
        let (_o, outside) = dir();
        write(&outside, "secret.md", "TOP SECRET");
        std::os::unix::fs::symlink(outside.join("secret.md"), root.join("AGENTS.md"))
            .expect("symlink");
        std::os::unix::fs::symlink(&outside, root.join(".cove")).expect("symlink");
        write(&outside, "instructions.md", "ALSO SECRET");
        let text = build(&root, 800, false).text;
        assert!(!text.contains("SECRET"), "{text}");
        assert!(!text.contains("Instructions from"), "{text}");
        // A symlink inside the root is fine.
        write(&root, "docs/agents.md", "Be brief.");
        fs::remove_file(root.join("AGENTS.md")).expect("rm");
        std::os::unix::fs::symlink("docs/agents.md", root.join("AGENTS.md")).expect("symlink");
        assert!(build(&root, 800, false).text.contains("Be brief."));
    }

    #[test]
    fn output_is_deterministic() {
        let (_t, root) = dir();
        for f in ["src/main.rs", "src/lib.rs", "tests/a.rs", "Cargo.toml"] {
            write(&root, f, "x");
        }
        write(&root, "AGENTS.md", "Be nice.\n");
        git2::Repository::init(&root).expect("init");
        let a = build(&root, 800, true);
        let b = build(&root, 800, true);
        assert_eq!(a.text, b.text);
        assert_eq!(a.git, b.git);
    }

    #[test]
    fn tiny_budgets_stay_within_bounds() {
        let (_t, root) = dir();
        write(&root, "src/main.rs", "x");
        write(&root, "AGENTS.md", "Be nice.\n");
        for budget in [0, 1, 5, 20, 40] {
            assert!(estimate(&build(&root, budget, false).text) <= budget);
        }
    }
}
