use super::*;
use std::fs;
use std::os::unix::fs::symlink;

/// A workspace `ws` (canonical) next to a directory `outside` with a secret in it.
fn setup() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let base = tmp.path().canonicalize().unwrap();
    let root = base.join("ws");
    let outside = base.join("outside");
    fs::create_dir_all(root.join("src/deep")).unwrap();
    fs::create_dir_all(&outside).unwrap();
    fs::write(root.join("src/a.rs"), "a").unwrap();
    fs::write(outside.join("secret"), "s").unwrap();
    (tmp, root, outside)
}

#[test]
fn plain_relative_paths_resolve_inside() {
    let (_t, root, _) = setup();
    assert_eq!(
        resolve_in_root(&root, "src/a.rs").unwrap(),
        root.join("src/a.rs")
    );
    assert_eq!(
        resolve_in_root(&root, "./src/./a.rs").unwrap(),
        root.join("src/a.rs")
    );
    assert_eq!(resolve_in_root(&root, ".").unwrap(), root);
    assert_eq!(resolve_in_root(&root, "src/").unwrap(), root.join("src"));
}

#[test]
fn empty_and_nul_are_refused() {
    let (_t, root, _) = setup();
    assert!(matches!(resolve_in_root(&root, ""), Err(PathError::Empty)));
    assert!(matches!(
        resolve_in_root(&root, "  "),
        Err(PathError::Empty)
    ));
    let err = resolve_in_root(&root, "src/a\0.rs").unwrap_err();
    assert!(matches!(err, PathError::Nul(_)));
    assert_eq!(err.to_string(), "`src/a\\0.rs` contains a NUL byte");
}

#[test]
fn dotdot_inside_is_fine_but_leaving_is_not() {
    let (_t, root, _) = setup();
    assert_eq!(
        resolve_in_root(&root, "src/deep/../a.rs").unwrap(),
        root.join("src/a.rs")
    );
    let err = resolve_in_root(&root, "../etc/passwd").unwrap_err();
    assert!(matches!(err, PathError::Outside(_)));
    assert_eq!(err.to_string(), "`../etc/passwd` is outside the workspace");
    assert!(matches!(
        resolve_in_root(&root, "src/../../outside/secret"),
        Err(PathError::Outside(_))
    ));
    assert!(matches!(
        resolve_in_root(&root, ".."),
        Err(PathError::Outside(_))
    ));
    // Leaving and coming back in is still leaving.
    assert!(matches!(
        resolve_in_root(&root, "../ws/src/a.rs"),
        Err(PathError::Outside(_))
    ));
}

#[test]
fn absolute_paths_inside_are_fine_outside_refused() {
    let (_t, root, outside) = setup();
    let inside = root.join("src/a.rs");
    assert_eq!(
        resolve_in_root(&root, inside.to_str().unwrap()).unwrap(),
        inside
    );
    assert_eq!(
        resolve_in_root(&root, root.to_str().unwrap()).unwrap(),
        root
    );
    let new = root.join("src/new/b.rs");
    assert_eq!(resolve_in_root(&root, new.to_str().unwrap()).unwrap(), new);
    assert!(matches!(
        resolve_in_root(&root, "/etc/passwd"),
        Err(PathError::Outside(_))
    ));
    let secret = outside.join("secret");
    assert!(matches!(
        resolve_in_root(&root, secret.to_str().unwrap()),
        Err(PathError::Outside(_))
    ));
    let sneaky = format!("{}/../outside/secret", root.display());
    assert!(matches!(
        resolve_in_root(&root, &sneaky),
        Err(PathError::Outside(_))
    ));
    // A sibling whose name starts with the root's name is not inside it.
    fs::create_dir_all(root.with_file_name("ws2")).unwrap();
    let sibling = format!("{}2/x", root.display());
    assert!(matches!(
        resolve_in_root(&root, &sibling),
        Err(PathError::Outside(_))
    ));
}

#[test]
fn absolute_path_through_an_alias_of_the_root() {
    let (tmp, root, _) = setup();
    let alias = tmp.path().canonicalize().unwrap().join("alias");
    symlink(&root, &alias).unwrap();
    let through = alias.join("src/a.rs");
    assert_eq!(
        resolve_in_root(&root, through.to_str().unwrap()).unwrap(),
        root.join("src/a.rs")
    );
}

#[test]
fn symlinks_inside_are_followed() {
    let (_t, root, _) = setup();
    symlink(root.join("src"), root.join("srclink")).unwrap();
    symlink("a.rs", root.join("src/alias.rs")).unwrap();
    assert_eq!(
        resolve_in_root(&root, "srclink/a.rs").unwrap(),
        root.join("src/a.rs")
    );
    assert_eq!(
        resolve_in_root(&root, "src/alias.rs").unwrap(),
        root.join("src/a.rs")
    );
    assert_eq!(
        resolve_in_root(&root, "srclink/new.rs").unwrap(),
        root.join("src/new.rs")
    );
}

#[test]
fn symlinks_out_are_refused_anywhere_along_the_path() {
    let (_t, root, outside) = setup();
    symlink(&outside, root.join("out_dir")).unwrap();
    symlink(outside.join("secret"), root.join("src/out_file")).unwrap();
    symlink("/", root.join("rootlink")).unwrap();
    let err = resolve_in_root(&root, "src/out_file").unwrap_err();
    assert!(matches!(err, PathError::SymlinkEscape { .. }), "{err}");
    assert_eq!(
        err.to_string(),
        "`src/out_file` goes through the symlink `src/out_file`, which points outside the workspace"
    );
    assert!(matches!(
        resolve_in_root(&root, "out_dir/secret"),
        Err(PathError::SymlinkEscape { .. })
    ));
    // Creating a file through a directory link that points out.
    assert!(matches!(
        resolve_in_root(&root, "out_dir/new.txt"),
        Err(PathError::SymlinkEscape { .. })
    ));
    assert!(matches!(
        resolve_in_root(&root, "out_dir/a/b/new.txt"),
        Err(PathError::SymlinkEscape { .. })
    ));
    assert!(matches!(
        resolve_in_root(&root, "rootlink/etc/passwd"),
        Err(PathError::SymlinkEscape { .. })
    ));
    // `..` after a link is taken from the link's target, as the kernel does.
    assert!(matches!(
        resolve_in_root(&root, "out_dir/../ws/src/a.rs"),
        Err(PathError::SymlinkEscape { .. })
    ));
}

#[test]
fn relative_symlink_chains_that_end_outside_are_refused() {
    let (_t, root, _) = setup();
    symlink("../..", root.join("src/deep/up")).unwrap();
    symlink("deep/up/..", root.join("src/hop")).unwrap();
    assert_eq!(
        resolve_in_root(&root, "src/deep/up/src/a.rs").unwrap(),
        root.join("src/a.rs")
    );
    assert!(matches!(
        resolve_in_root(&root, "src/hop/secret"),
        Err(PathError::SymlinkEscape { .. })
    ));
}

#[test]
fn dangling_symlinks_are_refused() {
    let (_t, root, outside) = setup();
    symlink(outside.join("not-yet"), root.join("dangling")).unwrap();
    symlink("nowhere", root.join("dangling_in")).unwrap();
    assert!(matches!(
        resolve_in_root(&root, "dangling"),
        Err(PathError::DanglingSymlink { .. })
    ));
    assert!(matches!(
        resolve_in_root(&root, "dangling_in"),
        Err(PathError::DanglingSymlink { .. })
    ));
}

#[test]
fn missing_paths_resolve_from_the_deepest_existing_ancestor() {
    let (_t, root, _) = setup();
    assert_eq!(
        resolve_in_root(&root, "src/new/dir/x.rs").unwrap(),
        root.join("src/new/dir/x.rs")
    );
    assert_eq!(
        resolve_in_root(&root, "src/new/./x.rs").unwrap(),
        root.join("src/new/x.rs")
    );
    let err = resolve_in_root(&root, "src/new/../../../outside/secret").unwrap_err();
    assert!(matches!(err, PathError::ParentOfMissing { .. }), "{err}");
    assert_eq!(
        err.to_string(),
        "`src/new/../../../outside/secret` uses `..` after `src/new`, which does not exist"
    );
    assert!(matches!(
        resolve_in_root(&root, "nope/../src/a.rs"),
        Err(PathError::ParentOfMissing { .. })
    ));
}

#[test]
fn a_file_used_as_a_directory_is_an_error_not_a_panic() {
    let (_t, root, _) = setup();
    let err = resolve_in_root(&root, "src/a.rs/inner").unwrap_err();
    assert!(matches!(err, PathError::Io { .. }), "{err}");
    assert!(
        err.to_string()
            .starts_with("cannot resolve `src/a.rs/inner`")
    );
    // `file/..` is not the file's directory, as for the kernel.
    let err = resolve_in_root(&root, "src/a.rs/../a.rs").unwrap_err();
    assert_eq!(
        err.to_string(),
        "cannot resolve `src/a.rs/../a.rs`: `src/a.rs` is not a directory"
    );
}

#[test]
fn a_tilde_path_is_refused_with_an_explanation() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap();
    for p in ["~/notes.md", "~", "~root/.bashrc"] {
        let err = resolve_in_root(&root, p).unwrap_err();
        assert!(matches!(err, PathError::Tilde(_)), "{p}: {err}");
        assert!(err.to_string().contains("not expanded"), "{err}");
    }
    assert!(!root.join("~").exists());
    // a tilde later in the path is an ordinary character
    assert!(resolve_in_root(&root, "a~b/c").is_ok());
}
