use super::*;
use std::os::unix::fs::PermissionsExt;

const PNG: &[u8] = b"\x89PNG\r\n\x1a\nnot really but the capture does not decode";

fn stub(dir: &Path, name: &str, script: &str) {
    let p = dir.join(name);
    std::fs::write(&p, format!("#!/bin/sh\n{script}\n")).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
}

fn path_of(dirs: &[&Path]) -> OsString {
    std::env::join_paths(dirs).unwrap()
}

#[test]
fn finds_only_executable_files() {
    let dir = tempfile::tempdir().unwrap();
    stub(dir.path(), "scrot", "true");
    std::fs::write(dir.path().join("maim"), "not executable").unwrap();
    std::fs::create_dir(dir.path().join("import")).unwrap();
    let path = path_of(&[dir.path()]);
    assert_eq!(find_in_path("scrot", &path), Some(dir.path().join("scrot")));
    assert_eq!(find_in_path("maim", &path), None);
    assert_eq!(find_in_path("import", &path), None);
    assert_eq!(find_in_path("scrot", OsStr::new("")), None);
}

#[test]
fn selection_follows_the_preference_order() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    stub(a.path(), "maim", "true");
    stub(b.path(), "import", "true");
    stub(b.path(), "scrot", "true");
    let path = path_of(&[a.path(), b.path()]);
    let (tool, programs) = select_tool(&path).unwrap();
    assert_eq!(tool, Tool::Scrot);
    assert_eq!(programs, vec![b.path().join("scrot")]);

    // grim alone is not enough: it needs slurp for the region.
    stub(a.path(), "grim", "true");
    assert_eq!(select_tool(&path).unwrap().0, Tool::Scrot);
    stub(b.path(), "slurp", "true");
    let (tool, programs) = select_tool(&path).unwrap();
    assert_eq!(tool, Tool::Grim);
    assert_eq!(
        programs,
        vec![a.path().join("grim"), b.path().join("slurp")]
    );

    let empty = tempfile::tempdir().unwrap();
    assert_eq!(select_tool(&path_of(&[empty.path()])), None);
}

#[test]
fn no_tool_names_what_was_looked_for_and_the_setting() {
    let empty = tempfile::tempdir().unwrap();
    let err = capture_with_path(None, &path_of(&[empty.path()])).unwrap_err();
    for name in [
        "grim",
        "slurp",
        "gnome-screenshot",
        "spectacle",
        "scrot",
        "maim",
        "import",
    ] {
        assert!(err.contains(name), "{err}");
    }
    assert!(
        err.contains("screenshot_command") && err.contains("{path}"),
        "{err}"
    );
}

#[test]
fn runs_the_selected_tool_with_its_arguments() {
    let bin = tempfile::tempdir().unwrap();
    let src = bin.path().join("src.png");
    std::fs::write(&src, PNG).unwrap();
    let log = bin.path().join("args");
    // scrot -s FILE
    stub(
        bin.path(),
        "scrot",
        &format!(
            "echo \"$@\" > '{}'\n/bin/cp '{}' \"$2\"",
            log.display(),
            src.display()
        ),
    );
    let shot = capture_with_path(None, &path_of(&[bin.path()])).unwrap();
    assert_eq!(std::fs::read(&shot).unwrap(), PNG);
    assert_eq!(shot.file_name().unwrap(), "screenshot.png");
    let args = std::fs::read_to_string(&log).unwrap();
    assert_eq!(args.trim(), format!("-s {}", shot.display()));
    std::fs::remove_dir_all(shot.parent().unwrap()).unwrap();
}

#[test]
fn grim_gets_the_region_from_slurp() {
    let bin = tempfile::tempdir().unwrap();
    let log = bin.path().join("args");
    stub(bin.path(), "slurp", "echo '10,20 300x200'");
    stub(
        bin.path(),
        "grim",
        &format!(
            "echo \"$@\" > '{}'\nprintf 'PNGDATA' > \"$3\"",
            log.display()
        ),
    );
    let shot = capture_with_path(None, &path_of(&[bin.path()])).unwrap();
    let args = std::fs::read_to_string(&log).unwrap();
    assert_eq!(args.trim(), format!("-g 10,20 300x200 {}", shot.display()));
    std::fs::remove_dir_all(shot.parent().unwrap()).unwrap();

    // Esc in slurp: an error, no file.
    stub(
        bin.path(),
        "slurp",
        "echo 'selection cancelled' >&2; exit 1",
    );
    let err = capture_with_path(None, &path_of(&[bin.path()])).unwrap_err();
    assert!(err.contains("selection cancelled"), "{err}");
}

#[test]
fn a_failing_tool_reports_its_stderr() {
    let bin = tempfile::tempdir().unwrap();
    stub(
        bin.path(),
        "maim",
        "echo 'maim: cannot open display' >&2; exit 3",
    );
    let err = capture_with_path(None, &path_of(&[bin.path()])).unwrap_err();
    assert!(
        err.contains("maim")
            && err.contains("cannot open display")
            && err.contains("exit status 3"),
        "{err}"
    );
    stub(bin.path(), "maim", "exit 0");
    let err = capture_with_path(None, &path_of(&[bin.path()])).unwrap_err();
    assert!(err.contains("wrote no image"), "{err}");
}

#[test]
fn configured_command_writes_to_path_or_stdout() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("it's a.png");
    std::fs::write(&src, PNG).unwrap();
    let path = std::env::var_os("PATH").unwrap_or_default();
    let quoted = shell_quote(&src.to_string_lossy());

    let shot = capture_with_path(Some(&format!("cp {quoted} {{path}}")), &path).unwrap();
    assert_eq!(std::fs::read(&shot).unwrap(), PNG);
    std::fs::remove_dir_all(shot.parent().unwrap()).unwrap();

    let shot = capture_with_path(Some(&format!("cat {quoted}")), &path).unwrap();
    assert_eq!(std::fs::read(&shot).unwrap(), PNG);
    std::fs::remove_dir_all(shot.parent().unwrap()).unwrap();

    let err = capture_with_path(Some("echo 'no display' >&2; exit 2"), &path).unwrap_err();
    assert!(
        err.contains("no display") && err.contains("exit status 2"),
        "{err}"
    );
    let err = capture_with_path(Some("true"), &path).unwrap_err();
    assert!(err.contains("wrote no image"), "{err}");
    let err = capture_with_path(Some("true {path}"), &path).unwrap_err();
    assert!(err.contains("wrote no image"), "{err}");
}

#[test]
fn a_stopped_capture_ends_the_tool_and_its_children_at_once() {
    let bin = tempfile::tempdir().unwrap();
    // a region tool waiting for the user (sleep is a child of the script)
    stub(bin.path(), "scrot", "sleep 30");
    let path = path_of(&[bin.path(), Path::new("/usr/bin"), Path::new("/bin")]);
    let stop = std::sync::Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    let started = Instant::now();
    let setter = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(200));
        flag.store(true, Ordering::Relaxed);
    });
    let err = capture_until(None, &path, &stop).unwrap_err();
    setter.join().unwrap();
    assert_eq!(err, STOPPED);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}
