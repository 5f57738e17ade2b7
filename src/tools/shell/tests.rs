use super::*;

#[test]
fn capture_keeps_head_and_tail_within_budget() {
    let mut c = Capture::new(20);
    for _ in 0..100 {
        c.push(b"0123456789");
    }
    let text = c.render();
    assert!(
        text.starts_with("0123456789\n… [980 bytes elided] …\n0123456789"),
        "{text}"
    );
    let mut small = Capture::new(100);
    small.push(b"abc");
    small.push(b"def");
    assert_eq!(small.render(), "abcdef");
}

#[test]
fn capture_never_splits_characters_and_is_lossy_on_bad_bytes() {
    let mut c = Capture::new(11);
    c.push("ééééééééééééééééééééé".as_bytes());
    let text = c.render();
    assert!(!text.contains('\u{fffd}'), "{text}");
    assert!(text.contains("bytes elided"));
    let mut bad = Capture::new(100);
    bad.push(&[b'a', 0xff, 0xfe, b'b']);
    assert_eq!(bad.render(), "a\u{fffd}\u{fffd}b");
}

#[test]
fn secret_env_names() {
    let secret = vec!["MY_TOKEN".to_owned()];
    assert!(is_secret_env("MY_TOKEN", &secret));
    assert!(is_secret_env("COVE_API_KEY", &secret));
    assert!(is_secret_env("COVE_MODEL", &secret));
    assert!(is_secret_env("OPENAI_API_KEY", &secret));
    assert!(is_secret_env("openai_api_key", &secret));
    assert!(!is_secret_env("PATH", &secret));
    assert!(!is_secret_env("MY_TOKEN_2", &secret));
}

#[test]
fn arguments_are_checked() {
    let ctx = ToolContext::new(std::env::temp_dir());
    let err = |v: Value| parse_args(&ctx, &v).unwrap_err();
    assert!(err(serde_json::json!({})).contains("needs `command`"));
    assert!(err(serde_json::json!({"command": 5})).contains("must be a string"));
    assert!(err(serde_json::json!({"command": "  "})).contains("empty"));
    assert!(err(serde_json::json!({"command": "ls", "timeout_secs": 0})).contains("at least 1"));
    assert!(err(serde_json::json!({"command": "ls", "timeout_secs": -3})).contains("positive"));
    assert!(err(serde_json::json!({"command": "ls", "timeout_secs": [1]})).contains("an array"));
    assert!(err(serde_json::json!(["ls"])).contains("JSON object"));
    let ok = |v: Value| {
        let (_, t, capped) = parse_args(&ctx, &v).unwrap();
        (t, capped)
    };
    assert_eq!(
        ok(serde_json::json!({"command": "ls"})).0,
        Duration::from_secs(120)
    );
    assert_eq!(
        ok(serde_json::json!({"command": "ls", "timeout_secs": "7"})).0,
        Duration::from_secs(7)
    );
    assert_eq!(
        ok(serde_json::json!({"command": "ls", "timeout_secs": 2.5})).0,
        Duration::from_secs(3)
    );
    assert_eq!(
        ok(serde_json::json!({"command": "ls", "timeout_secs": 100000})),
        (Duration::from_secs(600), true)
    );
}
