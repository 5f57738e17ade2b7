use super::*;

fn w(s: &str) -> Vec<String> {
    parse(s).commands[0].texts()
}

#[test]
fn patterns_match_whole_words() {
    assert!(pattern_matches("cargo test*", &w("cargo test")));
    assert!(pattern_matches("cargo test*", &w("cargo test --release")));
    assert!(pattern_matches("cargo test *", &w("cargo  'test' -q")));
    assert!(!pattern_matches("cargo test*", &w("cargo testx")));
    assert!(!pattern_matches("ls*", &w("lsblk")));
    assert!(pattern_matches("ls", &w("ls")));
    assert!(!pattern_matches("ls", &w("ls -la")));
    assert!(pattern_matches("*", &w("anything at all")));
    assert!(pattern_matches(
        "git commit -m 'a b'*",
        &w("git commit -m \"a b\"")
    ));
}
