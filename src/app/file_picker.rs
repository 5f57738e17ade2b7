//! The `@` file picker's state: a query fuzzy-matched (nucleo, path-aware, smart case)
//! against the workspace's file list, the matches ranked, a selection. Pure: the paths are
//! passed in by the caller (see `session::files::index`), nothing here does I/O.
//!
//! Cost per keystroke: a query that extends the previous one rescores only the previous
//! matches; any other query scores every path. The picker keeps its own packed copy of the
//! list (one buffer, made when the list changes) because scoring 100,000 separately
//! allocated strings is dominated by cache misses; the matches stay in list order for the
//! same reason. Many candidates (a large repository's first keystrokes) are scored on
//! several threads (scoped, joined before returning; the result is the same as on one).
//! Only the best [`MAX_RANKED`] matches are sorted (a bounded heap, comparing numbers
//! only: ties go to the earlier path in the list, which is alphabetical for a sorted
//! list), and highlight positions are computed only for the rows asked for.
//!
//! Words separated by spaces must all match (`mod fil` finds `src/module_1/file.rs`);
//! `\ ` is a literal space. Lower-case words ignore case, a word with a capital letter
//! respects it; `e` also matches `é`.

use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::ops::Range;
use std::sync::OnceLock;

use nucleo_matcher::pattern::{AtomKind, CaseMatching, Normalization, Pattern};
use nucleo_matcher::{Config, Matcher, Utf32Str};

/// How many of the best matches are ranked, so shown and selectable.
pub const MAX_RANKED: usize = 200;

/// Below this many paths to score, one thread does it all.
const PARALLEL_MIN: usize = 8_192;

/// At most this many threads score a query.
const MAX_THREADS: usize = 8;

/// One matching path: its index into the path list and its sort key (greater is better).
/// Ordered best first: `a < b` when `a` ranks above `b`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Hit {
    /// With a query: the score above, the path's length below (shorter is greater).
    /// Without: the path's depth (shallower is greater).
    key: u64,
    index: u32,
}

impl Ord for Hit {
    fn cmp(&self, other: &Self) -> Ordering {
        other.key.cmp(&self.key).then(self.index.cmp(&other.index))
    }
}

impl PartialOrd for Hit {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// The paths in one buffer: path `i` is `text[starts[i]..starts[i + 1]]`.
#[derive(Debug, Clone, Default)]
struct Packed {
    text: String,
    starts: Vec<usize>,
}

impl Packed {
    fn new(paths: &[String]) -> Packed {
        let mut text = String::with_capacity(paths.iter().map(String::len).sum());
        let mut starts = Vec::with_capacity(paths.len() + 1);
        starts.push(0);
        for p in paths {
            text.push_str(p);
            starts.push(text.len());
        }
        Packed { text, starts }
    }

    fn len(&self) -> usize {
        self.starts.len().saturating_sub(1)
    }

    fn get(&self, i: usize) -> Option<&str> {
        let start = *self.starts.get(i)?;
        let end = *self.starts.get(i.checked_add(1)?)?;
        self.text.get(start..end)
    }
}

#[derive(Debug, Clone)]
pub struct FilePicker {
    query: String,
    pattern: Pattern,
    /// Every path that matches `query`, in list order.
    hits: Vec<Hit>,
    /// The best `MAX_RANKED` of `hits`, best first.
    top: Vec<Hit>,
    /// The list scored: its address and length (to tell when it changed) and a copy.
    source: (usize, usize),
    packed: Packed,
    selected: usize,
    /// One per scoring thread (each holds ~135 KB of scratch space).
    matchers: Vec<Matcher>,
}

impl Default for FilePicker {
    fn default() -> Self {
        Self::new()
    }
}

fn config() -> Config {
    Config::DEFAULT.match_paths()
}

/// `path` as the matcher reads it: indices into it are char indices into `path`.
fn haystack<'a>(path: &'a str, buf: &'a mut Vec<char>) -> Utf32Str<'a> {
    if path.is_ascii() {
        Utf32Str::Ascii(path.as_bytes())
    } else {
        buf.clear();
        buf.extend(path.chars());
        Utf32Str::Unicode(buf)
    }
}

fn source_of(paths: &[String]) -> (usize, usize) {
    (paths.as_ptr() as usize, paths.len())
}

/// How many threads may score: the machine's parallelism, asked once per process.
fn threads() -> usize {
    static THREADS: OnceLock<usize> = OnceLock::new();
    *THREADS.get_or_init(|| {
        std::thread::available_parallelism().map_or(1, |n| n.get().min(MAX_THREADS))
    })
}

/// The paths to score: all of them, or the previous matches.
#[derive(Clone, Copy)]
enum Candidates<'a> {
    All(usize),
    Hits(&'a [Hit]),
}

impl Candidates<'_> {
    fn len(self) -> usize {
        match self {
            Candidates::All(n) => n,
            Candidates::Hits(h) => h.len(),
        }
    }

    fn index(self, i: usize) -> Option<u32> {
        match self {
            Candidates::All(_) => u32::try_from(i).ok(),
            Candidates::Hits(h) => h.get(i).map(|h| h.index),
        }
    }
}

/// Scores candidates `range` against `pattern` (an empty pattern ranks by depth), in
/// candidate order.
fn score_range(
    pattern: &Pattern,
    matcher: &mut Matcher,
    paths: &Packed,
    candidates: Candidates<'_>,
    range: Range<usize>,
) -> Vec<Hit> {
    let mut buf = Vec::new();
    let mut out = Vec::new();
    for i in range {
        let Some(index) = candidates.index(i) else {
            break;
        };
        let Some(path) = paths.get(index as usize) else {
            continue;
        };
        let key = if pattern.atoms.is_empty() {
            u64::from(u32::MAX - depth(path))
        } else {
            let Some(score) = pattern.score(haystack(path, &mut buf), matcher) else {
                continue;
            };
            let len = u32::try_from(path.len()).unwrap_or(u32::MAX);
            u64::from(score) << 32 | u64::from(u32::MAX - len)
        };
        out.push(Hit { key, index });
    }
    out
}

/// The best `n` hits, best first.
fn best(hits: &[Hit], n: usize) -> Vec<Hit> {
    // a max-heap of the best so far: its top is the worst of them
    let mut heap = BinaryHeap::with_capacity(n + 1);
    for &h in hits {
        if heap.len() < n {
            heap.push(h);
        } else if let Some(mut worst) = heap.peek_mut()
            && h < *worst
        {
            *worst = h;
        }
    }
    heap.into_sorted_vec()
}

impl FilePicker {
    /// An empty query (every path matches, the shallowest first).
    pub fn new() -> Self {
        FilePicker {
            query: String::new(),
            pattern: Pattern::default(),
            hits: Vec::new(),
            top: Vec::new(),
            // no list yet: the first `set_query` scores from scratch
            source: (0, usize::MAX),
            packed: Packed::default(),
            selected: 0,
            matchers: Vec::new(),
        }
    }

    pub fn query(&self) -> &str {
        &self.query
    }

    /// Sets the query and recomputes the matches against `paths` (sorted, as
    /// `session::files::index` returns them, so that ties are alphabetical); when the new
    /// query extends the previous one (and `paths` is the same list), only the previous
    /// matches are rescored. The same query against the same list changes nothing.
    /// The selection goes back to the best match when the query changes.
    pub fn set_query(&mut self, query: &str, paths: &[String]) {
        let same_list = self.source == source_of(paths);
        if same_list && query == self.query {
            return;
        }
        if !same_list {
            self.pack(paths);
        }
        // A trailing `\` escapes what comes next, so `a\` + ` ` is not a narrowing.
        let narrows = same_list
            && !self.query.is_empty()
            && query.starts_with(self.query.as_str())
            && !self.query.ends_with('\\');
        self.query.clear();
        self.query.push_str(query);
        self.pattern = fuzzy_pattern(query);
        self.recompute(narrows);
    }

    /// Recomputes the matches of the current query from every path, after the path list
    /// changed in place (a list at another address or of another length is noticed by
    /// `set_query`).
    pub fn refresh(&mut self, paths: &[String]) {
        self.pack(paths);
        self.recompute(false);
    }

    fn pack(&mut self, paths: &[String]) {
        self.source = source_of(paths);
        self.packed = Packed::new(paths);
    }

    fn recompute(&mut self, narrows: bool) {
        self.selected = 0;
        let previous = std::mem::take(&mut self.hits);
        let candidates = if narrows {
            Candidates::Hits(&previous)
        } else {
            Candidates::All(self.packed.len())
        };
        let n = candidates.len();
        let threads = if n >= PARALLEL_MIN { threads() } else { 1 };
        while self.matchers.len() < threads {
            self.matchers.push(Matcher::new(config()));
        }
        let (pattern, packed) = (&self.pattern, &self.packed);
        let chunk = n.div_ceil(threads).max(1);
        let mut parts = self.matchers[..threads]
            .iter_mut()
            .enumerate()
            .map(|(t, m)| (m, (t * chunk).min(n)..((t + 1) * chunk).min(n)));
        self.hits = match parts.next() {
            None => Vec::new(),
            Some((first, range)) => std::thread::scope(|s| {
                let others: Vec<_> = parts
                    .map(|(m, r)| s.spawn(move || score_range(pattern, m, packed, candidates, r)))
                    .collect();
                // this thread does the first part; the parts are joined in order
                let mut hits = score_range(pattern, first, packed, candidates, range);
                for h in others {
                    match h.join() {
                        Ok(part) => hits.extend(part),
                        Err(panic) => std::panic::resume_unwind(panic),
                    }
                }
                hits
            }),
        };
        self.top = best(&self.hits, MAX_RANKED);
    }

    /// The best matches first (score, then the shorter path, then list order), at most
    /// `limit` (and [`MAX_RANKED`]), each with the char indices of the matched
    /// characters, ascending. With an empty query: the shallowest paths, in list order.
    pub fn visible<'a>(&self, paths: &'a [String], limit: usize) -> Vec<(&'a str, Vec<u32>)> {
        let rows = &self.top[..self.top.len().min(limit)];
        let highlight = !self.pattern.atoms.is_empty();
        let mut matcher = highlight.then(|| Matcher::new(config()));
        let mut buf = Vec::new();
        rows.iter()
            .filter_map(|h| {
                let path = paths.get(h.index as usize)?;
                let mut indices = Vec::new();
                if let Some(m) = matcher.as_mut() {
                    self.pattern
                        .indices(haystack(path, &mut buf), m, &mut indices);
                    indices.sort_unstable();
                    indices.dedup();
                }
                Some((path.as_str(), indices))
            })
            .collect()
    }

    /// How many paths match the query (all of them for an empty query).
    pub fn total_matches(&self) -> usize {
        self.hits.len()
    }

    /// The selected row of [`visible`](Self::visible), 0 being the best match.
    pub fn selected(&self) -> usize {
        self.selected
    }

    /// Moves the selection by `delta` rows, staying within the ranked matches.
    pub fn move_selection(&mut self, delta: isize) {
        let last = self.top.len().saturating_sub(1);
        self.selected = if delta < 0 {
            self.selected.saturating_sub(delta.unsigned_abs())
        } else {
            self.selected.saturating_add(delta.unsigned_abs()).min(last)
        };
    }

    pub fn selected_path<'a>(&self, paths: &'a [String]) -> Option<&'a str> {
        let hit = self.top.get(self.selected)?;
        paths.get(hit.index as usize).map(String::as_str)
    }
}

/// How many directories deep `path` is.
fn depth(path: &str) -> u32 {
    u32::try_from(memchr::memchr_iter(b'/', path.as_bytes()).count()).unwrap_or(u32::MAX)
}

/// Words, each fuzzy: no `^`, `$`, `!` or `'` syntax (paths contain those characters).
fn fuzzy_pattern(query: &str) -> Pattern {
    Pattern::new(
        query,
        CaseMatching::Smart,
        Normalization::Smart,
        AtomKind::Fuzzy,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paths(list: &[&str]) -> Vec<String> {
        let mut v: Vec<String> = list.iter().map(|s| (*s).to_owned()).collect();
        v.sort();
        v
    }

    fn shown(p: &FilePicker, paths: &[String]) -> Vec<String> {
        p.visible(paths, usize::MAX)
            .into_iter()
            .map(|(s, _)| s.to_owned())
            .collect()
    }

    /// Many generated paths, so narrowing has something to drop.
    fn many() -> Vec<String> {
        let mut v = Vec::new();
        for m in 0..20 {
            for f in 0..50 {
                v.push(format!("src/module_{m}/file_{f}.rs"));
                v.push(format!("docs/m{m}/notes_{f}.md"));
            }
        }
        v.push("README.md".to_owned());
        v.push("src/main.rs".to_owned());
        v.sort();
        v
    }

    #[test]
    fn exact_basename_beats_scattered_match() {
        let list = paths(&[
            "src/app/mod.rs",
            "src/ui/main_menu.rs",
            "src/main.rs",
            "assets/mountain/icon.rs",
            "mxaxixn.rs",
        ]);
        let mut p = FilePicker::new();
        p.set_query("main.rs", &list);
        let got = shown(&p, &list);
        assert_eq!(got.first().map(String::as_str), Some("src/main.rs"));
        assert_eq!(p.selected_path(&list), Some("src/main.rs"));
        assert!(!got.iter().any(|s| s == "src/app/mod.rs"));
        let rows = p.visible(&list, 1);
        assert_eq!(rows.len(), 1);
        // "main.rs" at 4..11 of "src/main.rs"
        assert_eq!(rows[0].1, vec![4, 5, 6, 7, 8, 9, 10]);
    }

    #[test]
    fn ties_prefer_shorter_then_alphabetical() {
        let list = paths(&["b/x.rs", "a/x.rs", "long/dir/x.rs"]);
        let mut p = FilePicker::new();
        p.set_query("x.rs", &list);
        assert_eq!(shown(&p, &list), ["a/x.rs", "b/x.rs", "long/dir/x.rs"]);
    }

    #[test]
    fn smart_case_and_words() {
        let list = paths(&["src/Main.rs", "src/main.rs", "docs/module/file.md"]);
        let mut p = FilePicker::new();
        p.set_query("main", &list);
        assert_eq!(p.total_matches(), 2);
        p.set_query("Main", &list);
        assert_eq!(shown(&p, &list), ["src/Main.rs"]);
        p.set_query("fil mod", &list);
        assert_eq!(shown(&p, &list), ["docs/module/file.md"]);
        // literal characters of other pattern syntaxes are plain characters
        p.set_query("!main", &list);
        assert_eq!(p.total_matches(), 0);
    }

    #[test]
    fn incremental_narrowing_equals_fresh_query() {
        let list = many();
        let query = "srcmod17fil12";
        let mut typed = FilePicker::new();
        for end in 1..=query.len() {
            let q = &query[..end];
            typed.set_query(q, &list);
            let mut fresh = FilePicker::new();
            fresh.set_query(q, &list);
            assert_eq!(typed.total_matches(), fresh.total_matches(), "{q}");
            assert_eq!(
                typed.visible(&list, MAX_RANKED),
                fresh.visible(&list, MAX_RANKED),
                "{q}"
            );
            assert_eq!(typed.hits, fresh.hits, "{q}");
        }
        assert!(typed.total_matches() > 0);
        assert_eq!(typed.selected_path(&list), Some("src/module_17/file_12.rs"));
    }

    #[test]
    fn many_threads_score_like_one() {
        let list: Vec<String> = {
            let mut v: Vec<String> = (0..3 * PARALLEL_MIN)
                .map(|i| format!("src/m{}/f{i}.rs", i % 97))
                .collect();
            v.sort();
            v
        };
        let packed = Packed::new(&list);
        let mut p = FilePicker::new();
        for q in ["", "f1", "f12", "m9f12", "m9 f"] {
            p.set_query(q, &list);
            let pattern = fuzzy_pattern(q);
            let mut m = Matcher::new(config());
            let all = Candidates::All(list.len());
            let mut want = score_range(&pattern, &mut m, &packed, all, 0..list.len());
            assert_eq!(p.hits, want, "{q}: every match, in list order");
            want.sort_unstable();
            want.truncate(MAX_RANKED);
            assert_eq!(p.top, want, "{q}");
        }
    }

    #[test]
    fn backspace_recomputes_from_all_paths() {
        let list = many();
        let mut p = FilePicker::new();
        p.set_query("notes", &list);
        let notes = p.total_matches();
        p.set_query("notesx", &list);
        assert_eq!(p.total_matches(), 0);
        p.set_query("notes", &list);
        assert_eq!(p.total_matches(), notes);
        p.set_query("note", &list);
        assert_eq!(p.total_matches(), notes);
        p.set_query("mai", &list);
        assert_eq!(p.selected_path(&list), Some("src/main.rs"));
        // an escaped space is not a narrowing of the backslash before it
        let spaced = paths(&["a b.rs", "a\\b.rs"]);
        p.set_query("a\\", &spaced);
        assert_eq!(shown(&p, &spaced), ["a\\b.rs"]);
        p.set_query("a\\ ", &spaced);
        assert_eq!(shown(&p, &spaced), ["a b.rs"]);
    }

    #[test]
    fn a_changed_list_is_rescored() {
        let mut p = FilePicker::new();
        let first = paths(&["a.rs"]);
        p.set_query("b", &first);
        assert_eq!(p.total_matches(), 0);
        let second = paths(&["a.rs", "b.rs"]);
        p.set_query("b", &second);
        assert_eq!(shown(&p, &second), ["b.rs"]);
        p.set_query("b.", &second);
        assert_eq!(shown(&p, &second), ["b.rs"]);
        p.refresh(&first);
        assert_eq!(p.total_matches(), 0);
        assert_eq!(p.selected_path(&first), None);
    }

    #[test]
    fn selection_clamps() {
        let list = many();
        let mut p = FilePicker::new();
        p.move_selection(-3);
        assert_eq!(p.selected(), 0);
        p.set_query("file_1", &list);
        let ranked = p.total_matches().min(MAX_RANKED);
        p.move_selection(2);
        assert_eq!(p.selected(), 2);
        let third = p.visible(&list, 3)[2].0;
        assert_eq!(p.selected_path(&list), Some(third));
        p.move_selection(isize::MAX);
        assert_eq!(p.selected(), ranked - 1);
        p.move_selection(isize::MIN);
        assert_eq!(p.selected(), 0);
        p.move_selection(1);
        p.set_query("file_12", &list);
        assert_eq!(p.selected(), 0, "a new query selects the best match");
        p.set_query("zzzz", &list);
        p.move_selection(1);
        assert_eq!(p.selected(), 0);
        assert_eq!(p.selected_path(&list), None);
        assert!(p.visible(&list, 10).is_empty());
    }

    #[test]
    fn empty_query_lists_shallow_paths_first() {
        let list = paths(&[
            "src/b.rs",
            "Cargo.toml",
            "a/b/c.rs",
            "README.md",
            "src/a.rs",
        ]);
        let mut p = FilePicker::new();
        assert_eq!(p.query(), "");
        assert!(
            p.visible(&list, 10).is_empty(),
            "nothing before the first set_query"
        );
        p.set_query("", &list);
        assert_eq!(p.total_matches(), 5);
        let rows = p.visible(&list, 4);
        assert!(rows.iter().all(|(_, idx)| idx.is_empty()));
        let names: Vec<&str> = rows.iter().map(|(s, _)| *s).collect();
        assert_eq!(names, ["Cargo.toml", "README.md", "src/a.rs", "src/b.rs"]);
        p.set_query("c", &list);
        p.set_query("", &list);
        assert_eq!(p.total_matches(), 5);
    }

    #[test]
    fn highlights_are_char_indices() {
        let list = paths(&["docs/été/über.md"]);
        let mut p = FilePicker::new();
        p.set_query("uber", &list);
        let rows = p.visible(&list, 5);
        assert_eq!(rows.len(), 1);
        let chars: Vec<char> = rows[0].0.chars().collect();
        let hit: String = rows[0].1.iter().map(|&i| chars[i as usize]).collect();
        assert_eq!(hit, "über");
    }
}
