use super::*;

fn leftovers(dir: &Path) -> Vec<String> {
    fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".cove-"))
        .collect()
}

#[test]
fn creates_and_replaces() {
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path().join("f.txt");
    write_atomic(&p, b"one").unwrap();
    assert_eq!(fs::read(&p).unwrap(), b"one");
    write_atomic(&p, b"two, longer").unwrap();
    assert_eq!(fs::read(&p).unwrap(), b"two, longer");
    write_atomic(&p, b"").unwrap();
    assert_eq!(fs::read(&p).unwrap(), b"");
    assert!(leftovers(tmp.path()).is_empty());
}

#[cfg(unix)]
#[test]
fn keeps_the_mode_of_the_file_it_replaces() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path().join("run.sh");
    fs::write(&p, "old").unwrap();
    fs::set_permissions(&p, fs::Permissions::from_mode(0o751)).unwrap();
    write_atomic(&p, b"new").unwrap();
    assert_eq!(
        fs::metadata(&p).unwrap().permissions().mode() & 0o7777,
        0o751
    );
}

#[test]
fn a_failed_rename_leaves_the_target_untouched_and_no_temp_file() {
    // rename(2) cannot replace a directory with a file: the temp file is written
    // and synced, then the rename fails.
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path().join("adir");
    fs::create_dir(&d).unwrap();
    fs::write(d.join("inner"), "x").unwrap();
    assert!(write_atomic(&d, b"data").is_err());
    assert!(d.is_dir());
    assert_eq!(fs::read(d.join("inner")).unwrap(), b"x");
    assert!(leftovers(tmp.path()).is_empty());
    assert!(write_atomic(&tmp.path().join("missing/dir/f"), b"x").is_err());
}

#[test]
fn long_names_get_short_temp_names() {
    let tmp = tempfile::tempdir().unwrap();
    let name = "é".repeat(120); // 240 bytes
    let p = tmp.path().join(&name);
    write_atomic(&p, b"x").unwrap();
    assert_eq!(fs::read(&p).unwrap(), b"x");
}

#[test]
fn stale_temp_files_of_dead_processes_are_removed() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir_all(root.join("src")).unwrap();
    // a process id that cannot be alive, and this process's own (in use)
    let dead = root.join("src/.main.rs.cove-2147483646-3-1a2b.tmp");
    let live = root.join(format!(".x.cove-{}-0-ff.tmp", std::process::id()));
    let other = root.join(".x.cove-notes.tmp");
    for p in [&dead, &live, &other] {
        std::fs::write(p, "x").unwrap();
    }
    assert_eq!(clean_stale_temps(root, 1000), 1);
    assert!(!dead.exists());
    assert!(live.exists());
    assert!(other.exists());
    assert_eq!(temp_owner(".a.b.cove-12-0-ab.tmp"), Some(12));
    assert_eq!(temp_owner("a.cove-12-0-ab.tmp"), None);
}
