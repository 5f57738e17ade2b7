//! Finding secrets in text and replacing them with stable placeholders.
//!
//! The scan is linear in the text: one Aho-Corasick pass finds the rules' keywords; each
//! rule that has a keyword on a line runs its regex over a bounded window around it
//! (the line, at most `BEFORE` bytes before the keyword and `AFTER` after; a multi-line
//! rule such as a private key block `MULTILINE` after), and a window already scanned for a
//! rule is not scanned again for it. The regex crate matches in linear time, so no input
//! (huge text, many secrets, pathological lines) costs more than a few passes.
//!
//! A secret becomes `[REDACTED:<rule>-<n>]`, the same placeholder for the same value for
//! the whole session (the `Vault`), so the model can refer to it and a placeholder it
//! writes back into a file edit can be put back locally (`Vault::restore`). Values seen
//! once are also found again literally wherever they recur, whatever surrounds them.

use std::collections::{BTreeMap, HashMap};

use aho_corasick::{AhoCorasick, MatchKind};

use super::rules::{Rule, RuleSet, entropy};

/// How far before a keyword a match may start (the generic rule's key name).
const BEFORE: usize = 1024;
/// How far after a keyword a one-line rule looks.
const AFTER: usize = 4096;
/// How far after a keyword a multi-line rule (a private key block) looks.
const MULTILINE: usize = 64 * 1024;
/// A window is scanned again for a rule only when a keyword falls this close to its end.
const OVERLAP: usize = 256;
/// Longest secret value kept (a private key block is ~3.3 KB; longer is not a credential).
const MAX_SECRET: usize = 16 * 1024;

const PREFIX: &str = "[REDACTED:";
/// Values shorter than this are replaced where a rule finds them, not wherever they recur.
const MIN_KNOWN: usize = 8;

/// One secret found: its byte range in the text and the rule that found it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Finding {
    pub start: usize,
    pub end: usize,
    rule: usize,
    user: bool,
    /// Found by a catch-all rule (a generic assignment): a specific rule's finding that
    /// overlaps it wins (`github-pat`, not `generic-api-key`).
    generic: bool,
}

/// The rules a session scans with: the vendored set and the user's patterns.
pub struct Scanner {
    builtin: &'static RuleSet,
    user: RuleSet,
}

impl Scanner {
    pub fn new(builtin: &'static RuleSet, user: RuleSet) -> Self {
        Scanner { builtin, user }
    }

    fn rule(&self, f: &Finding) -> &Rule {
        if f.user {
            &self.user.rules[f.rule]
        } else {
            &self.builtin.rules[f.rule]
        }
    }

    /// The rule id of a finding (the placeholder's kind).
    pub fn kind(&self, f: &Finding) -> &str {
        &self.rule(f).id
    }

    /// Every secret in `text`, sorted, not overlapping.
    pub fn find(&self, text: &[u8]) -> Vec<Finding> {
        let mut out = Vec::new();
        let set = self.builtin;
        if let Some(index) = &set.index {
            let mut scanned_to = vec![0usize; set.rules.len()];
            // every start of a keyword, with its longest keyword (see `RuleSet::load`)
            let mut at = 0;
            while let Some(m) = index.find(aho_corasick::Input::new(text).range(at..)) {
                at = m.start() + 1;
                for &ri in &set.by_keyword[m.pattern().as_usize()] {
                    if m.end() + OVERLAP <= scanned_to[ri] {
                        continue;
                    }
                    let rule = &set.rules[ri];
                    let (mut from, to) = window(text, m.start(), m.end(), rule.multiline);
                    from = from.max(scanned_to[ri].saturating_sub(OVERLAP));
                    scanned_to[ri] = to;
                    scan(rule, ri, false, &set.global, text, from, to, &mut out);
                }
            }
        }
        for (ri, rule) in self.user.rules.iter().enumerate() {
            scan(rule, ri, true, &[], text, 0, text.len(), &mut out);
        }
        settle(out)
    }
}

/// The bytes a keyword at `start..end` makes a rule look at.
fn window(text: &[u8], start: usize, end: usize, multiline: bool) -> (usize, usize) {
    let floor = start.saturating_sub(BEFORE);
    let from = memchr::memrchr(b'\n', &text[floor..start]).map_or(floor, |i| floor + i + 1);
    if multiline {
        return (from, text.len().min(end + MULTILINE));
    }
    let ceil = text.len().min(end + AFTER);
    let to = memchr::memchr(b'\n', &text[end..ceil]).map_or(ceil, |i| end + i);
    (from, to)
}

#[allow(clippy::too_many_arguments)]
fn scan(
    rule: &Rule,
    ri: usize,
    user: bool,
    global: &[super::rules::Allow],
    text: &[u8],
    from: usize,
    to: usize,
    out: &mut Vec<Finding>,
) {
    let Some(c) = rule.compiled() else { return };
    let hay = &text[from..to];
    for caps in c.regex.captures_iter(hay) {
        let Some(whole) = caps.get(0) else { continue };
        let secret = if rule.secret_group > 0 {
            caps.get(rule.secret_group)
        } else {
            caps.iter().skip(1).flatten().find(|m| !m.is_empty())
        }
        .unwrap_or(whole);
        let value = secret.as_bytes();
        if value.is_empty() || value.len() > MAX_SECRET {
            continue;
        }
        if rule.entropy > 0.0 && entropy(value) <= rule.entropy {
            continue;
        }
        let line = line_of(hay, whole.start());
        if c.allows
            .iter()
            .any(|a| a.allows(value, whole.as_bytes(), line))
            || global
                .iter()
                .any(|a| a.allows(value, whole.as_bytes(), line))
        {
            continue;
        }
        out.push(Finding {
            start: from + secret.start(),
            end: from + secret.end(),
            rule: ri,
            user,
            generic: rule.id.starts_with("generic-") || rule.id == "password-assignment",
        });
    }
}

/// The line of `hay` holding byte `at`, at most `AFTER` bytes either side.
fn line_of(hay: &[u8], at: usize) -> &[u8] {
    let floor = at.saturating_sub(AFTER);
    let start = memchr::memrchr(b'\n', &hay[floor..at]).map_or(floor, |i| floor + i + 1);
    let ceil = hay.len().min(at + AFTER);
    let end = memchr::memchr(b'\n', &hay[at..ceil]).map_or(ceil, |i| at + i);
    &hay[start..end]
}

/// Sorted by start, without overlaps: specific rules' findings first (the longest where
/// two start together), then the generic ones that overlap none of them.
fn settle(found: Vec<Finding>) -> Vec<Finding> {
    let (generic, specific): (Vec<_>, Vec<_>) = found.into_iter().partition(|f| f.generic);
    let specific = greedy(specific);
    let generic = greedy(generic);
    let mut out = Vec::with_capacity(specific.len() + generic.len());
    let mut s = specific.into_iter().peekable();
    for g in generic {
        while let Some(f) = s.next_if(|f| f.start < g.end) {
            out.push(f);
        }
        if out.last().is_none_or(|f: &Finding| f.end <= g.start)
            && s.peek().is_none_or(|f| f.start >= g.end)
        {
            out.push(g);
        }
    }
    out.extend(s);
    out
}

fn greedy(mut found: Vec<Finding>) -> Vec<Finding> {
    found.sort_by(|a, b| a.start.cmp(&b.start).then(b.end.cmp(&a.end)));
    let mut out: Vec<Finding> = Vec::with_capacity(found.len());
    for f in found {
        match out.last() {
            Some(last) if f.start < last.end => {}
            _ => out.push(f),
        }
    }
    out
}

/// What one pass of redaction replaced: placeholders by kind, and how many of them were
/// new to the session.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Tally {
    /// kind -> occurrences replaced
    pub replaced: BTreeMap<String, u64>,
    /// kind -> secrets seen for the first time
    pub new: BTreeMap<String, u64>,
}

impl Tally {
    pub fn is_empty(&self) -> bool {
        self.replaced.is_empty()
    }

    pub fn total(&self) -> u64 {
        self.replaced.values().sum()
    }

    pub fn total_new(&self) -> u64 {
        self.new.values().sum()
    }

    pub fn add(&mut self, other: &Tally) {
        for (k, n) in &other.replaced {
            *self.replaced.entry(k.clone()).or_default() += n;
        }
        for (k, n) in &other.new {
            *self.new.entry(k.clone()).or_default() += n;
        }
    }
}

/// The session's secrets: value <-> placeholder, numbered per kind.
#[derive(Debug, Default)]
pub struct Vault {
    by_value: HashMap<String, String>,
    by_placeholder: HashMap<String, String>,
    numbers: HashMap<String, u64>,
    /// The known values, for finding them again anywhere (rebuilt after new ones).
    known: Option<AhoCorasick>,
    values: Vec<String>,
}

impl Vault {
    pub fn len(&self) -> usize {
        self.by_value.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_value.is_empty()
    }

    fn placeholder(&mut self, kind: &str, value: &str, tally: &mut Tally) -> String {
        if let Some(p) = self.by_value.get(value) {
            return p.clone();
        }
        let n = self.numbers.entry(kind.to_owned()).or_default();
        *n += 1;
        let p = format!("{PREFIX}{kind}-{n}]");
        self.by_value.insert(value.to_owned(), p.clone());
        self.by_placeholder.insert(p.clone(), value.to_owned());
        // found again literally only when long enough not to hit ordinary words
        if value.len() >= MIN_KNOWN {
            self.values.push(value.to_owned());
            self.known = None;
        }
        *tally.new.entry(kind.to_owned()).or_default() += 1;
        p
    }

    fn known(&mut self) -> Option<&AhoCorasick> {
        if self.known.is_none() && !self.values.is_empty() {
            self.known = AhoCorasick::builder()
                .match_kind(MatchKind::LeftmostLongest)
                .build(&self.values)
                .ok();
        }
        self.known.as_ref()
    }

    /// `text` with every secret replaced; `None` when there was none.
    pub fn redact(&mut self, scanner: &Scanner, text: &str, tally: &mut Tally) -> Option<String> {
        let bytes = text.as_bytes();
        let mut found: Vec<(usize, usize, Option<Finding>)> = scanner
            .find(bytes)
            .into_iter()
            .map(|f| (f.start, f.end, Some(f)))
            .collect();
        if let Some(known) = self.known() {
            found.extend(known.find_iter(bytes).map(|m| (m.start(), m.end(), None)));
            found.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
        }
        if found.is_empty() {
            return None;
        }
        let mut out = String::with_capacity(text.len());
        let mut at = 0;
        for (start, end, finding) in found {
            let (start, end) = (floor_char(text, start), ceil_char(text, end));
            if start < at || start >= end {
                continue;
            }
            let value = &text[start..end];
            let placeholder = match (finding, self.by_value.get(value)) {
                (_, Some(p)) => p.clone(),
                (Some(f), None) => self.placeholder(scanner.kind(&f), value, tally),
                (None, None) => continue,
            };
            let kind = placeholder[PREFIX.len()..]
                .rsplit_once('-')
                .map_or("secret", |(k, _)| k);
            *tally.replaced.entry(kind.to_owned()).or_default() += 1;
            out.push_str(&text[at..start]);
            out.push_str(&placeholder);
            at = end;
        }
        if at == 0 {
            return None;
        }
        out.push_str(&text[at..]);
        Some(out)
    }

    /// `text` with every placeholder of this session put back to its value; `None` when
    /// it holds none.
    pub fn restore(&self, text: &str) -> Option<String> {
        if self.by_placeholder.is_empty() || !text.contains(PREFIX) {
            return None;
        }
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        let mut changed = false;
        while let Some(i) = rest.find(PREFIX) {
            out.push_str(&rest[..i]);
            let tail = &rest[i..];
            let close = tail.as_bytes()[..128.min(tail.len())]
                .iter()
                .position(|&b| b == b']');
            match close.and_then(|c| self.by_placeholder.get(&tail[..=c]).map(|v| (c, v))) {
                Some((c, value)) => {
                    out.push_str(value);
                    rest = &tail[c + 1..];
                    changed = true;
                }
                None => {
                    out.push_str(PREFIX);
                    rest = &tail[PREFIX.len()..];
                }
            }
        }
        out.push_str(rest);
        changed.then_some(out)
    }
}

fn floor_char(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn ceil_char(s: &str, mut i: usize) -> usize {
    while i < s.len() && !s.is_char_boundary(i) {
        i += 1;
    }
    i
}

#[cfg(test)]
mod tests;
