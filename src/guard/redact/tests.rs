use super::*;
use crate::guard::rules::{self, RuleSet};
use crate::guard::samples;

fn scanner(patterns: &[&str]) -> Scanner {
    let user = RuleSet::user(&patterns.iter().map(|p| p.to_string()).collect::<Vec<_>>()).unwrap();
    Scanner::new(rules::builtin().unwrap(), user)
}

#[test]
fn every_sample_kind_is_found_and_named() {
    let s = scanner(&[]);
    for (kind, text, secret) in samples::secrets() {
        let mut vault = Vault::default();
        let mut tally = Tally::default();
        let out = vault
            .redact(&s, &text, &mut tally)
            .unwrap_or_else(|| panic!("{kind} not found in {text:?}"));
        assert!(!out.contains(&secret), "{kind}: {out}");
        assert!(
            out.contains(&format!("[REDACTED:{kind}-1]")),
            "{kind}: {out}"
        );
        assert_eq!(tally.new.get(kind), Some(&1), "{kind}: {tally:?}");
    }
}

#[test]
fn the_same_value_gets_the_same_placeholder_and_comes_back() {
    let s = scanner(&[]);
    let all: Vec<_> = samples::secrets();
    let (_, text, secret) = &all[2];
    let mut vault = Vault::default();
    let mut tally = Tally::default();
    let first = vault.redact(&s, text, &mut tally).unwrap();
    // the value alone, without what made the rule see it, is still found
    let echoed = format!("the token was {secret} yesterday, and {secret} today");
    let second = vault.redact(&s, &echoed, &mut tally).unwrap();
    assert_eq!(
        second.matches("[REDACTED:github-pat-1]").count(),
        2,
        "{second}"
    );
    assert_eq!(tally.total_new(), 1);
    assert_eq!(tally.total(), 3);
    assert_eq!(vault.restore(&first).as_deref(), Some(text.as_str()));
    assert_eq!(vault.restore(&second).as_deref(), Some(echoed.as_str()));
    // placeholders that were never given, and broken ones, stay as written
    assert_eq!(
        vault.restore("x [REDACTED:jwt-9] [REDACTED:github-pat-1"),
        None
    );
}

#[test]
fn numbers_count_per_kind() {
    let s = scanner(&[]);
    let mut vault = Vault::default();
    let mut tally = Tally::default();
    let a = format!(
        "ghp_{}",
        "a".repeat(0) + "Zk29QmXv7Lp9Tn3Wb6Yc1Hd5Jf0Gs2Ae4KzR"
    );
    let b = format!("ghp_{}", "Pq18RnWu6Ko8Sm2Va5Xb0Gc4Ie9Fr1Bd3JyQ");
    let out = vault
        .redact(&s, &format!("{a} {b} {a}"), &mut tally)
        .unwrap();
    assert_eq!(
        out,
        "[REDACTED:github-pat-1] [REDACTED:github-pat-2] [REDACTED:github-pat-1]"
    );
}

#[test]
fn user_patterns_count_as_their_own_kind() {
    let s = scanner(&[r"ACME-[0-9]{6}", r"internal_id=(\w+)"]);
    let mut vault = Vault::default();
    let mut tally = Tally::default();
    let out = vault
        .redact(&s, "ticket ACME-123456, internal_id=zebra", &mut tally)
        .unwrap();
    assert_eq!(
        out,
        "ticket [REDACTED:pattern-1-1], internal_id=[REDACTED:pattern-2-1]"
    );
}

#[test]
fn ordinary_code_is_left_alone() {
    let s = scanner(&[]);
    let mut vault = Vault::default();
    let mut tally = Tally::default();
    for text in [
        "let password = read_password()?;",
        "fn api_key(&self) -> Option<&str> { self.api_key.as_deref() }",
        "secret: String,",
        "token = tokens.next().unwrap();",
        "if key == KeyCode::Enter { return; }",
        "https://github.com/BurntSushi/ripgrep",
        "see https://user:<password>@host/ for the form",
        "password = \"${DB_PASSWORD}\"",
        "The AWS_SECRET_ACCESS_KEY variable holds the key.",
        "sha256 = \"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\"",
    ] {
        assert_eq!(vault.redact(&s, text, &mut tally), None, "{text}");
    }
}

#[test]
fn hostile_input_stays_linear_and_bounded() {
    let s = scanner(&[]);
    // keywords everywhere, on one endless line, with secrets sprinkled in
    let gh = samples::secrets()[2].2.clone();
    let mut text = String::new();
    while text.len() < 4 * 1024 * 1024 {
        text.push_str("key=token secret:password api auth ey ");
        if text.len().is_multiple_of(9) {
            text.push_str(&gh);
            text.push(' ');
        }
    }
    let worst = "password=".repeat(200_000) + &"a".repeat(100_000);
    let private = "-----BEGIN PRIVATE KEY-----".repeat(50_000);
    for t in [text.as_str(), worst.as_str(), private.as_str()] {
        let started = std::time::Instant::now();
        let found = s.find(t.as_bytes());
        let took = started.elapsed();
        // an unoptimised test build: generous, but far from quadratic (minutes)
        assert!(took.as_secs() < 20, "{} bytes took {took:?}", t.len());
        assert!(found.len() <= t.len() / 8 + 1);
    }
}

#[test]
fn utf8_around_secrets_survives() {
    let s = scanner(&[]);
    let gh = samples::secrets()[2].2.clone();
    let text = format!("é{gh}ü — ключ={gh}");
    let mut vault = Vault::default();
    let mut tally = Tally::default();
    let out = vault.redact(&s, &text, &mut tally).unwrap();
    assert_eq!(
        out,
        "é[REDACTED:github-pat-1]ü — ключ=[REDACTED:github-pat-1]"
    );
}
