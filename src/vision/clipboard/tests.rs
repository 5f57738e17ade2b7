use super::*;

fn png_bytes() -> Vec<u8> {
    let mut out = Vec::new();
    image::RgbImage::from_pixel(2, 2, image::Rgb([1, 2, 3]))
        .write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png)
        .unwrap();
    out
}

#[test]
fn paths_and_uris_of_images() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let spaced = d.join("my shot.PNG");
    std::fs::write(&spaced, png_bytes()).unwrap();
    let no_ext = d.join("capture");
    std::fs::write(&no_ext, png_bytes()).unwrap();
    let notes = d.join("notes.txt");
    std::fs::write(&notes, "hello").unwrap();
    let fake = d.join("fake.png"); // extension wins: a bad file is refused later, by name
    std::fs::write(&fake, "not png").unwrap();
    let home = Some(d);
    let find = |t: &str| image_path_in_with_home(t, home);
    let s = spaced.to_str().unwrap();

    assert_eq!(find(s), Some(spaced.clone()));
    assert_eq!(find(&format!("  {s}\n")), Some(spaced.clone()));
    assert_eq!(find(&format!("'{s}'")), Some(spaced.clone()));
    assert_eq!(find(&format!("\"{s}\"")), Some(spaced.clone()));
    assert_eq!(find(&s.replace(' ', "\\ ")), Some(spaced.clone()));
    let uri = url::Url::from_file_path(&spaced).unwrap().to_string();
    assert!(uri.contains("%20"), "{uri}");
    assert_eq!(find(&uri), Some(spaced.clone()));
    assert_eq!(
        find(&format!("# copied\r\n{uri}\r\n")),
        Some(spaced.clone())
    );
    assert_eq!(find("~/my shot.PNG"), Some(spaced.clone()));
    assert_eq!(find(no_ext.to_str().unwrap()), Some(no_ext.clone()));
    assert_eq!(find(fake.to_str().unwrap()), Some(fake.clone()));

    assert_eq!(find(notes.to_str().unwrap()), None);
    assert_eq!(find(d.to_str().unwrap()), None, "a directory");
    assert_eq!(find(&format!("{}/missing.png", d.display())), None);
    assert_eq!(find("my shot.PNG"), None, "relative");
    assert_eq!(find(&format!("look at {s}")), None);
    assert_eq!(
        find(&format!("{s}\n{}", no_ext.display())),
        None,
        "two paths"
    );
    assert_eq!(find(""), None);
    assert_eq!(image_path_in_with_home("~/my shot.PNG", None), None);
    assert_eq!(find("file://remote-host/etc/x.png"), None);
}

#[test]
fn prefers_png_then_bmp() {
    assert_eq!(
        pick_type("TARGETS\nimage/bmp\nimage/png\n"),
        Some("image/png")
    );
    assert_eq!(pick_type("text/plain\nimage/bmp"), Some("image/bmp"));
    assert_eq!(pick_type("UTF8_STRING\ntext/plain"), None);
}

#[test]
fn unescape_removes_backslashes() {
    assert_eq!(unescape(r"/a/My\ Pic\ \(1\).png"), "/a/My Pic (1).png");
}
