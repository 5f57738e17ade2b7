use super::*;
use crate::config::OneOrMany;

fn input(dir: &Path) -> LoadInput {
    LoadInput {
        user_file: Some(dir.join("user.toml")),
        workspace: dir.to_owned(),
        env: BTreeMap::new(),
        flags: Overrides::default(),
        trust: TrustCheck::Trusted,
    }
}

#[test]
fn defaults_alone_are_complete_and_known() {
    let dir = tempfile::tempdir().unwrap();
    let loaded = load(&input(dir.path())).unwrap();
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    assert!(loaded.config.offline);
    assert_eq!(loaded.config.vision.max_edge, 1568);
    assert_eq!(loaded.sources["offline"], Source::Default);
}

#[test]
fn layers_in_order_with_sources() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("user.toml"),
        "[model]\nname = \"user-model\"\nmax_tokens = 100\n",
    )
    .unwrap();
    std::fs::create_dir(dir.path().join(".cove")).unwrap();
    std::fs::write(
        dir.path().join(".cove/config.toml"),
        "[model]\nmax_tokens = 200\n",
    )
    .unwrap();
    let mut inp = input(dir.path());
    inp.env.insert("COVE_MODEL".into(), "env-model".into());
    inp.env.insert(
        "COVE_BASE_URL".into(),
        "http://127.0.0.1:1/v1, http://127.0.0.1:2/v1".into(),
    );
    let loaded = load(&inp).unwrap();
    assert_eq!(loaded.config.model.name.as_deref(), Some("env-model"));
    assert_eq!(loaded.config.model.max_tokens, Some(200));
    assert_eq!(loaded.sources["model.name"], Source::Env("COVE_MODEL"));
    assert_eq!(
        loaded.sources["model.max_tokens"],
        Source::File(dir.path().join(".cove/config.toml"))
    );
    assert_eq!(
        loaded.config.model.api_base,
        Some(OneOrMany::Many(vec![
            "http://127.0.0.1:1/v1".into(),
            "http://127.0.0.1:2/v1".into()
        ]))
    );
    inp.flags.model = Some("flag-model".into());
    let loaded = load(&inp).unwrap();
    assert_eq!(loaded.config.model.name.as_deref(), Some("flag-model"));
    assert_eq!(loaded.sources["model.name"], Source::Flag("--model"));
}

#[test]
fn profiles_overlay_model_below_env() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("user.toml"),
        "profile = \"big\"\n[profiles.big]\nname = \"qwen-32b\"\napi_base = [\"http://10.0.0.5:8000/v1\"]\n[profiles.small]\nname = \"smol\"\n",
    )
    .unwrap();
    let mut inp = input(dir.path());
    let loaded = load(&inp).unwrap();
    assert_eq!(loaded.config.model.name.as_deref(), Some("qwen-32b"));
    assert!(matches!(&loaded.sources["model.name"], Source::Profile(n, _) if n == "big"));
    inp.flags.profile = Some("small".into());
    inp.env.insert("COVE_MODEL".into(), "override".into());
    let loaded = load(&inp).unwrap();
    assert_eq!(loaded.config.model.name.as_deref(), Some("override"));
    inp.flags.profile = Some("nope".into());
    let err = load(&inp).unwrap_err().to_string();
    assert!(err.contains("nope") && err.contains("big, small"), "{err}");
}

#[test]
fn syntax_error_names_file_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("user.toml"),
        "offline = true\n[model]\nname = \"x\"\nmax_tokens = = 3\n",
    )
    .unwrap();
    let err = load(&input(dir.path())).unwrap_err();
    match &err {
        ConfigError::Syntax {
            path, line, column, ..
        } => {
            assert!(path.ends_with("user.toml"));
            assert_eq!(*line, 4);
            assert_eq!(*column, 14);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn wrong_type_names_key_and_expected_type() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("user.toml"),
        "[model]\nmax_tokens = \"lots\"\n",
    )
    .unwrap();
    let err = load(&input(dir.path())).unwrap_err().to_string();
    assert!(err.contains("model.max_tokens"), "{err}");
    assert!(err.contains("u32"), "{err}");
    std::fs::write(
        dir.path().join("user.toml"),
        "[tools]\nshell = \"sometimes\"\n",
    )
    .unwrap();
    let err = load(&input(dir.path())).unwrap_err().to_string();
    assert!(
        err.contains("tools.shell") && err.contains("always"),
        "{err}"
    );
}

#[test]
fn unknown_keys_warn() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("user.toml"),
        "colour = 1\n[model]\ntemprature = 0.2\n",
    )
    .unwrap();
    let loaded = load(&input(dir.path())).unwrap();
    assert_eq!(loaded.warnings.len(), 2, "{:?}", loaded.warnings);
    assert!(
        loaded
            .warnings
            .iter()
            .any(|w| w.contains("model.temprature"))
    );
}

#[test]
fn bad_urls_and_missing_explicit_file_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let mut inp = input(dir.path());
    inp.flags.base_url = Some("ftp://x".into());
    assert!(load(&inp).unwrap_err().to_string().contains("--base-url"));
    let mut inp = input(dir.path());
    inp.env.insert(
        "COVE_CONFIG".into(),
        dir.path().join("missing.toml").display().to_string(),
    );
    assert!(matches!(load(&inp), Err(ConfigError::Read { .. })));
}

#[test]
fn line_col_counts_characters() {
    assert_eq!(line_col("ab\ncdé f", 8), (2, 5));
    assert_eq!(line_col("", 10), (1, 1));
}
