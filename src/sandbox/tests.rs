use super::*;

#[test]
fn config_maps_to_a_policy_with_resolved_paths() {
    let root = tempfile::tempdir().unwrap();
    let root = std::fs::canonicalize(root.path()).unwrap();
    std::fs::create_dir(root.join("cache")).unwrap();
    let cfg = SandboxConfig {
        mode: Mode::WorkspaceWrite,
        network: true,
        writable: vec!["cache".into(), "/abs/elsewhere".into(), "  ".into()],
    };
    let s = Sandbox::from_config(&cfg, &root);
    assert!(s.network && !s.is_off());
    assert_eq!(
        s.writable,
        [root.join("cache"), PathBuf::from("/abs/elsewhere")]
    );
    assert!(
        s.summary()
            .starts_with("workspace-write, network allowed, also writable: ")
    );
    let home = resolve("~/x", &root);
    assert!(home.is_absolute() && home.ends_with("x") && !home.starts_with(&root));
    assert_eq!(Sandbox::default().summary(), "workspace-write, no network");
    assert!(Sandbox::off().summary().starts_with("off"));
}

#[test]
fn config_modes_parse_by_their_names() {
    for (text, mode) in [
        ("workspace-write", Mode::WorkspaceWrite),
        ("read-only", Mode::ReadOnly),
        ("off", Mode::Off),
    ] {
        let cfg: SandboxConfig = toml::from_str(&format!("mode = \"{text}\"")).unwrap();
        assert_eq!(cfg.mode, mode);
        assert_eq!(mode.as_str(), text);
    }
    assert!(toml::from_str::<SandboxConfig>("mode = \"none\"").is_err());
    let cfg: SandboxConfig = toml::from_str("").unwrap();
    assert_eq!(cfg.mode, Mode::WorkspaceWrite);
    assert!(!cfg.network && cfg.writable.is_empty());
}

#[test]
fn git_and_cove_dirs_of_writable_roots_are_protected_unless_listed() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    std::fs::create_dir(a.path().join(".git")).unwrap();
    std::fs::create_dir(a.path().join(".cove")).unwrap();
    // a worktree's .git is a file
    std::fs::write(b.path().join(".git"), "gitdir: /elsewhere\n").unwrap();
    let roots = [a.path().to_path_buf(), b.path().to_path_buf()];
    assert_eq!(
        protected(&roots, &[]),
        [
            a.path().join(".git"),
            a.path().join(".cove"),
            b.path().join(".git")
        ]
    );
    assert_eq!(
        protected(&roots, &[a.path().join(".git")]),
        [a.path().join(".cove"), b.path().join(".git")]
    );
}

#[test]
fn off_runs_the_command_itself() {
    let l = Sandbox::off()
        .launch(Path::new("/w"), &["sh".into(), "-c".into(), "ls".into()])
        .unwrap();
    assert_eq!(l.program, "sh");
    assert_eq!(l.args, ["-c", "ls"]);
    assert!(l.env.is_empty() && l.temp_dir.is_none());
    assert!(Sandbox::off().launch(Path::new("/w"), &[]).is_err());
}

#[test]
fn refusals_name_the_reason_and_the_way_out() {
    let e = SandboxError::Unavailable("no Landlock".into()).to_string();
    assert!(e.contains("no Landlock"), "{e}");
    assert!(e.contains("[sandbox] mode = \"off\""), "{e}");
    let ok = std::process::Command::new("true").status().unwrap();
    let line = format!("cove: {}\n", SandboxError::Unavailable("no userns".into()));
    assert_eq!(reason_from_stderr(&line, ok), "no userns");
    assert!(reason_from_stderr("weird\n", ok).contains("weird"));
    assert!(reason_from_stderr("", ok).contains("helper failed"));
}
