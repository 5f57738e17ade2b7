//! The secret rules, read from gitleaks' rule file (`assets/gitleaks.toml`, vendored as
//! data), cove's additions (`assets/guard-rules.toml`, same format) and the user's
//! `[guard] patterns`. A rule's regex is compiled the first time one of its keywords is
//! seen, so start-up pays for none of them and a session pays only for the rules its text
//! touches.
//!
//! Matching follows gitleaks: the secret is the rule's `secretGroup`, else the first
//! capture group that matched, else the whole match; a rule with `entropy` drops secrets
//! whose Shannon entropy is not above it; allow lists (regexes on the secret, the match or
//! the line; stop words; `condition = "AND"`) and the global allow list drop the rest.
//! Rules that only look at file paths, and allow lists that need a path, do not apply
//! (cove redacts text, not files). Regexes run on bytes without Unicode classes, as Go's
//! RE2 does for `\w`, `\s` and `\b`.

use std::sync::OnceLock;

use aho_corasick::AhoCorasick;
use regex::bytes::{Regex, RegexBuilder};
use serde::Deserialize;

use super::GuardError;

const GITLEAKS: &str = include_str!("../../assets/gitleaks.toml");
const COVE_RULES: &str = include_str!("../../assets/guard-rules.toml");

/// Past this a compiled regex is refused (a user pattern that explodes).
const REGEX_SIZE_LIMIT: usize = 8 * 1024 * 1024;

#[derive(Debug, Deserialize)]
struct RuleFile {
    #[serde(default)]
    allowlist: Option<AllowFile>,
    #[serde(default)]
    rules: Vec<RuleEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RuleEntry {
    id: String,
    regex: Option<String>,
    #[serde(default)]
    secret_group: usize,
    #[serde(default)]
    entropy: f64,
    #[serde(default)]
    keywords: Vec<String>,
    path: Option<String>,
    #[serde(default)]
    allowlists: Vec<AllowFile>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct AllowFile {
    #[serde(default)]
    regexes: Vec<String>,
    #[serde(default)]
    regex_target: Option<String>,
    #[serde(default)]
    stopwords: Vec<String>,
    #[serde(default)]
    paths: Vec<String>,
    #[serde(default)]
    commits: Vec<String>,
    #[serde(default)]
    condition: Option<String>,
}

/// What an allow list's regexes look at.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Target {
    Secret,
    Match,
    Line,
}

#[derive(Debug)]
struct AllowSource {
    regexes: Vec<String>,
    target: Target,
    stopwords: Vec<String>,
    /// `condition = "AND"`: every criterion must hold.
    all: bool,
}

/// A compiled allow list.
#[derive(Debug)]
pub struct Allow {
    regexes: Vec<Regex>,
    target: Target,
    stopwords: Option<AhoCorasick>,
    all: bool,
}

impl Allow {
    /// Whether a finding (its secret, whole match and line) is allowed.
    pub fn allows(&self, secret: &[u8], whole: &[u8], line: &[u8]) -> bool {
        let text = match self.target {
            Target::Secret => secret,
            Target::Match => whole,
            Target::Line => line,
        };
        let by_regex =
            (!self.regexes.is_empty()).then(|| self.regexes.iter().any(|r| r.is_match(text)));
        let by_word = self.stopwords.as_ref().map(|ac| ac.is_match(secret));
        match (by_regex, by_word) {
            (None, None) => false,
            (Some(a), None) | (None, Some(a)) => a,
            (Some(a), Some(b)) if self.all => a && b,
            (Some(a), Some(b)) => a || b,
        }
    }
}

/// One rule: its source until first use, then the compiled regex and allow lists.
#[derive(Debug)]
pub struct Rule {
    pub id: String,
    source: String,
    pub secret_group: usize,
    pub entropy: f64,
    pub keywords: Vec<String>,
    /// The regex may cross lines (a private key block): searched past the line's end.
    pub multiline: bool,
    allows: Vec<AllowSource>,
    compiled: OnceLock<Option<Compiled>>,
}

#[derive(Debug)]
pub struct Compiled {
    pub regex: Regex,
    pub allows: Vec<Allow>,
}

impl Rule {
    /// The compiled rule; `None` when its regex does not compile (checked by a test for
    /// the vendored rules; user patterns are checked when the config loads).
    pub fn compiled(&self) -> Option<&Compiled> {
        self.compiled
            .get_or_init(|| {
                let regex = compile(&self.source).ok()?;
                let allows = self.allows.iter().filter_map(compile_allow).collect();
                Some(Compiled { regex, allows })
            })
            .as_ref()
    }
}

fn compile(source: &str) -> Result<Regex, regex::Error> {
    RegexBuilder::new(&go_braces(source))
        .unicode(false)
        .size_limit(REGEX_SIZE_LIMIT)
        .build()
}

/// Go's RE2 reads a `{` that does not start a repetition (`{2}`, `{2,}`, `{2,5}`) as a
/// literal brace; the regex crate refuses it. Such braces are escaped (outside classes).
fn go_braces(source: &str) -> std::borrow::Cow<'_, str> {
    if !source.contains('{') {
        return source.into();
    }
    let b = source.as_bytes();
    let mut out = String::with_capacity(source.len() + 8);
    let (mut i, mut in_class) = (0, false);
    while i < b.len() {
        let c = b[i];
        if c == b'\\' && i + 1 < b.len() {
            let len = source[i + 1..].chars().next().map_or(1, char::len_utf8);
            out.push_str(&source[i..i + 1 + len]);
            i += 1 + len;
            continue;
        }
        match c {
            b'[' if !in_class => in_class = true,
            b']' if in_class => in_class = false,
            b'{' if !in_class && !repetition(&b[i + 1..]) => {
                out.push_str("\\{");
                i += 1;
                continue;
            }
            _ => {}
        }
        let len = source[i..].chars().next().map_or(1, char::len_utf8);
        out.push_str(&source[i..i + len]);
        i += len;
    }
    out.into()
}

/// Whether `rest` (after a `{`) is `n}`, `n,}` or `n,m}`.
fn repetition(rest: &[u8]) -> bool {
    let digits = |s: &[u8]| s.iter().take_while(|c| c.is_ascii_digit()).count();
    let n = digits(rest);
    if n == 0 {
        return false;
    }
    match rest.get(n) {
        Some(b'}') => true,
        Some(b',') => {
            let m = digits(&rest[n + 1..]);
            rest.get(n + 1 + m) == Some(&b'}')
        }
        _ => false,
    }
}

fn compile_allow(a: &AllowSource) -> Option<Allow> {
    let regexes = a
        .regexes
        .iter()
        .map(|r| compile(r))
        .collect::<Result<Vec<_>, _>>()
        .ok()?;
    let stopwords = (!a.stopwords.is_empty())
        .then(|| {
            AhoCorasick::builder()
                .ascii_case_insensitive(true)
                .build(&a.stopwords)
                .ok()
        })
        .flatten();
    Some(Allow {
        regexes,
        target: a.target,
        stopwords,
        all: a.all,
    })
}

fn allow_source(a: AllowFile) -> Option<AllowSource> {
    // an allow list that needs a path or a commit cannot be decided on text: with AND it
    // never holds, with OR only its other criteria count
    let all = a
        .condition
        .as_deref()
        .is_some_and(|c| c.eq_ignore_ascii_case("and"));
    if all && (!a.paths.is_empty() || !a.commits.is_empty()) {
        return None;
    }
    if a.regexes.is_empty() && a.stopwords.is_empty() {
        return None;
    }
    let target = match a.regex_target.as_deref() {
        Some("match") => Target::Match,
        Some("line") => Target::Line,
        _ => Target::Secret,
    };
    Some(AllowSource {
        regexes: a.regexes,
        target,
        stopwords: a.stopwords.into_iter().map(|w| w.to_lowercase()).collect(),
        all,
    })
}

/// Every rule cove scans with, and the global allow list.
#[derive(Debug)]
pub struct RuleSet {
    pub rules: Vec<Rule>,
    pub global: Vec<Allow>,
    /// Every rule's keywords (ASCII case-insensitive); `None` when no rule has any.
    pub index: Option<AhoCorasick>,
    /// Keyword pattern id -> the rules that list it.
    pub by_keyword: Vec<Vec<usize>>,
}

impl RuleSet {
    /// No rules.
    pub fn empty() -> RuleSet {
        RuleSet {
            rules: Vec::new(),
            global: Vec::new(),
            index: None,
            by_keyword: Vec::new(),
        }
    }

    /// The user's `[guard] patterns` alone: each a rule named `pattern-N`, scanned over
    /// all text (a user pattern has no keywords).
    pub fn user(patterns: &[String]) -> Result<RuleSet, GuardError> {
        let mut rules = Vec::new();
        for (i, p) in patterns.iter().enumerate() {
            check_pattern(p)?;
            rules.push(Rule {
                id: format!("pattern-{}", i + 1),
                source: p.clone(),
                secret_group: 0,
                entropy: 0.0,
                keywords: Vec::new(),
                multiline: false,
                allows: Vec::new(),
                compiled: OnceLock::new(),
            });
        }
        Ok(RuleSet {
            rules,
            ..RuleSet::empty()
        })
    }

    /// The vendored rules and cove's additions, with their keyword index.
    pub fn load() -> Result<RuleSet, GuardError> {
        let mut rules = Vec::new();
        let mut global = Vec::new();
        for (name, text) in [
            ("gitleaks.toml", GITLEAKS),
            ("guard-rules.toml", COVE_RULES),
        ] {
            let file: RuleFile = toml::from_str(text).map_err(|e| GuardError::Rules {
                file: name,
                message: e.to_string(),
            })?;
            if let Some(a) = file.allowlist.and_then(allow_source) {
                global.extend(compile_allow(&a));
            }
            for r in file.rules {
                // rules that only look at file names, or that need a path, do not apply
                let (Some(source), None) = (r.regex, r.path) else {
                    continue;
                };
                rules.push(Rule {
                    multiline: source.contains(r"\s\S") || source.contains(r"\n"),
                    id: r.id,
                    source,
                    secret_group: r.secret_group,
                    entropy: r.entropy,
                    keywords: r.keywords.into_iter().map(|k| k.to_lowercase()).collect(),
                    allows: r.allowlists.into_iter().filter_map(allow_source).collect(),
                    compiled: OnceLock::new(),
                });
            }
        }
        let mut words: Vec<String> = Vec::new();
        let mut by_keyword: Vec<Vec<usize>> = Vec::new();
        for (i, r) in rules.iter().enumerate() {
            for k in &r.keywords {
                match words.iter().position(|w| w == k) {
                    Some(at) => by_keyword[at].push(i),
                    None => {
                        words.push(k.clone());
                        by_keyword.push(vec![i]);
                    }
                }
            }
        }
        // The scan asks for the leftmost-longest keyword, then searches again from the next
        // byte: every position where some keyword starts is seen, with its longest
        // keyword; the shorter ones starting there are its prefixes, so a keyword triggers
        // their rules too. (An overlapping search finds the same but cost twice as much:
        // it was half of the redaction's time.) A DFA: one transition per byte.
        for (i, w) in words.iter().enumerate() {
            for (j, shorter) in words.iter().enumerate() {
                if i != j && w.starts_with(shorter.as_str()) {
                    let more = by_keyword[j].clone();
                    by_keyword[i].extend(more);
                }
            }
            by_keyword[i].sort_unstable();
            by_keyword[i].dedup();
        }
        let index = AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .match_kind(aho_corasick::MatchKind::LeftmostLongest)
            .kind(Some(aho_corasick::AhoCorasickKind::DFA))
            .build(&words)
            .map_err(|e| GuardError::Rules {
                file: "gitleaks.toml",
                message: e.to_string(),
            })?;
        Ok(RuleSet {
            rules,
            global,
            index: Some(index),
            by_keyword,
        })
    }
}

/// A user's regex (`[guard] patterns`, `deny_prompt`, `stop_on`) as the guard compiles it.
pub fn check_pattern(p: &str) -> Result<(), GuardError> {
    compile(p).map(drop).map_err(|e| GuardError::Pattern {
        pattern: p.to_owned(),
        message: e.to_string(),
    })
}

/// A user's regex compiled for matching text (`deny_prompt`, `stop_on`).
pub fn user_regex(p: &str) -> Result<Regex, GuardError> {
    compile(p).map_err(|e| GuardError::Pattern {
        pattern: p.to_owned(),
        message: e.to_string(),
    })
}

/// Shannon entropy of `s` in bits per byte, as gitleaks computes it.
pub fn entropy(s: &[u8]) -> f64 {
    if s.is_empty() {
        return 0.0;
    }
    let mut counts = [0u32; 256];
    for &b in s {
        counts[b as usize] += 1;
    }
    let n = s.len() as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = c as f64 / n;
            -p * p.log2()
        })
        .sum()
}

/// The vendored rules, loaded once per process (the same for every session; user
/// patterns make a set of their own).
pub fn builtin() -> Result<&'static RuleSet, GuardError> {
    static SET: OnceLock<Result<RuleSet, String>> = OnceLock::new();
    SET.get_or_init(|| RuleSet::load().map_err(|e| e.to_string()))
        .as_ref()
        .map_err(|e| GuardError::Rules {
            file: "gitleaks.toml",
            message: e.clone(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_vendored_rule_compiles_with_the_regex_crate() {
        let set = RuleSet::load().unwrap();
        assert!(set.rules.len() > 200, "{}", set.rules.len());
        let broken: Vec<&str> = set
            .rules
            .iter()
            .filter(|r| r.compiled().is_none())
            .map(|r| r.id.as_str())
            .collect();
        assert!(broken.is_empty(), "rules that do not compile: {broken:?}");
        for r in &set.rules {
            let c = r.compiled().unwrap();
            assert_eq!(
                c.allows.len(),
                r.allows.len(),
                "an allow list of {} does not compile",
                r.id
            );
        }
        assert!(!set.global.is_empty());
        assert!(set.rules.iter().all(|r| !r.keywords.is_empty()));
    }

    #[test]
    fn go_literal_braces_are_escaped() {
        assert_eq!(go_braces(r"a{2}b{1,}c{1,3}"), r"a{2}b{1,}c{1,3}");
        assert_eq!(go_braces(r"\$?{{[^}]+}}"), r"\$?\{\{[^}]+}}");
        assert_eq!(go_braces(r"[{]\{x{"), r"[{]\{x\{");
        assert!(compile(r"'?\$?{{[^}]+}}'?").is_ok());
    }

    #[test]
    fn entropy_is_gitleaks_entropy() {
        assert_eq!(entropy(b"aaaa"), 0.0);
        assert!((entropy(b"ab") - 1.0).abs() < 1e-9);
        assert!(entropy(b"wJalrXUtnFEMIK7MDENGbPxRfiCYzz1234567890") > 4.0);
    }

    #[test]
    fn bad_user_patterns_are_named() {
        let e = RuleSet::user(&["(".into()]).unwrap_err();
        assert!(e.to_string().contains('('), "{e}");
    }
}
