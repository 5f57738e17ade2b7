use super::*;

#[test]
fn builtins_load_with_a_syntax_theme_and_every_colour() {
    for name in ["dark", "light", "default"] {
        let t = Theme::builtin(name).unwrap_or_else(|| panic!("{name} loads"));
        assert!(t.syntax.is_some(), "{name} has a syntax theme");
        assert!(!t.no_color);
        assert_ne!(t.colors.fg, Color::Reset, "{name} sets fg");
        assert_ne!(t.colors.code_bg, Color::Reset, "{name} sets code_bg");
    }
    assert_eq!(Theme::builtin("dark").unwrap().name, "dark");
    assert_eq!(Theme::builtin("light").unwrap().name, "light");
    assert!(Theme::builtin("nope").is_none());
    let light = load_theme("light", None, false).unwrap();
    assert_eq!(light.colors.fg, Color::Rgb(0x24, 0x29, 0x2f));
}

#[test]
fn every_builtin_file_sets_every_key() {
    for (name, text) in BUILTIN {
        let t: toml::Table = toml::from_str(text).unwrap();
        let colors = t["colors"].as_table().unwrap();
        for key in COLOR_KEYS {
            assert!(colors.contains_key(*key), "{name} lacks colors.{key}");
        }
        assert_eq!(colors.len(), COLOR_KEYS.len(), "{name} has extra keys");
    }
}

#[test]
fn user_file_overrides_builtin_and_missing_keys_fall_back_to_dark() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("dark.toml"),
        "name = \"my dark\"\n[colors]\nfg = \"red\"\naccent = \"#010203\"\n",
    )
    .unwrap();
    let t = load_theme("dark", Some(dir.path()), false).unwrap();
    assert_eq!(t.name, "my dark");
    assert_eq!(t.colors.fg, Color::Red);
    assert_eq!(t.colors.accent, Color::Rgb(1, 2, 3));
    let dark = Theme::builtin("dark").unwrap();
    assert_eq!(t.colors.dim, dark.colors.dim);
    assert!(t.syntax.is_some(), "syntax falls back to dark's");

    // A new name in the user dir, and a path.
    std::fs::write(
        dir.path().join("mine.toml"),
        "syntax = \"none\"\n[colors]\nlink = \"light-blue\"\n",
    )
    .unwrap();
    let t = load_theme("mine", Some(dir.path()), false).unwrap();
    assert_eq!(t.name, "mine");
    assert_eq!(t.colors.link, Color::LightBlue);
    assert!(t.syntax.is_none());
    let p = dir.path().join("mine.toml");
    let t = load_theme(p.to_str().unwrap(), None, false).unwrap();
    assert_eq!(t.colors.link, Color::LightBlue);
    // Built-ins still work with a user dir that lacks them.
    assert_eq!(
        load_theme("light", Some(dir.path()), false).unwrap().name,
        "light"
    );
}

#[test]
fn bad_colour_names_file_key_and_value() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("bad.toml");
    std::fs::write(&p, "[colors]\naccent = \"#12345\"\n").unwrap();
    let e = load_theme("bad", Some(dir.path()), false).unwrap_err();
    assert!(
        matches!(&e, ThemeError::BadColor { key, value, .. } if key == "accent" && value == "#12345")
    );
    let msg = e.to_string();
    assert!(
        msg.contains("bad.toml") && msg.contains("colors.accent") && msg.contains("#12345"),
        "{msg}"
    );

    std::fs::write(&p, "[colors]\nfg = true\n").unwrap();
    let msg = load_theme("bad", Some(dir.path()), false)
        .unwrap_err()
        .to_string();
    assert!(msg.contains("colors.fg"), "{msg}");

    std::fs::write(&p, "[colors]\nforeground = \"red\"\n").unwrap();
    let msg = load_theme("bad", Some(dir.path()), false)
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("bad.toml") && msg.contains("colors.foreground"),
        "{msg}"
    );
}

#[test]
fn bad_toml_names_file_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("broken.toml");
    std::fs::write(&p, "name = \"x\"\n[colors]\nfg = \n").unwrap();
    let e = load_theme(p.to_str().unwrap(), None, false).unwrap_err();
    let ThemeError::Syntax { file, line, .. } = &e else {
        panic!("{e:?}")
    };
    assert!(file.ends_with("broken.toml"));
    assert_eq!(*line, 3);
    assert!(e.to_string().contains("broken.toml"), "{e}");
}

#[test]
fn unknown_theme_and_syntax_are_explained() {
    let msg = load_theme("nosuch", None, false).unwrap_err().to_string();
    assert!(
        msg.contains("nosuch") && msg.contains("dark, light"),
        "{msg}"
    );
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("s.toml"), "syntax = \"Nope Theme\"\n").unwrap();
    let e = load_theme("s", Some(dir.path()), false).unwrap_err();
    let msg = e.to_string();
    assert!(matches!(e, ThemeError::UnknownSyntax { .. }));
    assert!(
        msg.contains("Nope Theme") && msg.contains("s.toml") && msg.contains("base16-ocean.dark"),
        "{msg}"
    );
    // Case-insensitive names work.
    std::fs::write(dir.path().join("s.toml"), "syntax = \"nord\"\n").unwrap();
    assert!(
        load_theme("s", Some(dir.path()), false)
            .unwrap()
            .syntax
            .is_some()
    );
}

#[test]
fn tmtheme_paths_are_relative_to_the_theme_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("t.toml"), "syntax = \"missing.tmTheme\"\n").unwrap();
    let msg = load_theme("t", Some(dir.path()), false)
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("missing.tmTheme") && msg.contains("t.toml"),
        "{msg}"
    );
}

#[test]
fn no_color_is_monochrome() {
    let t = load_theme("light", None, true).unwrap();
    assert!(t.no_color);
    assert!(t.syntax.is_none());
    assert_eq!(t.colors, UiColors::uniform(Color::Reset));
    assert_eq!(t.style(Color::Red), Style::default());
    // Even for a theme that would not load.
    assert!(load_theme("nosuch", None, true).unwrap().no_color);
    let dark = Theme::builtin("dark").unwrap();
    assert_eq!(dark.style(Color::Red), Style::default().fg(Color::Red));
}
