//! Reading the system clipboard for Ctrl+V: an image, a copied image file, or text.
//!
//! Blocking (it talks to the display server and may run `wl-paste`/`xclip`): call it from
//! `spawn_blocking`.

use std::ffi::OsStr;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use super::encode::{ImageLimits, PreparedImage, prepare_bytes, prepare_rgba};
use super::screenshot::{find_in_path, run};

/// What Ctrl+V found.
#[derive(Debug, Clone, PartialEq)]
pub enum Clipboard {
    /// Image pixels, ready to send.
    Image(PreparedImage),
    /// A copied file (or a path or `file://` URI as text) that is an image.
    ImageFile(PathBuf),
    Text(String),
    Empty,
}

/// Extensions taken as images without looking inside.
const IMAGE_EXTENSIONS: [&str; 6] = ["png", "jpg", "jpeg", "webp", "gif", "bmp"];
/// Clipboard types fetched through `wl-paste`/`xclip` when arboard (PNG only on Linux) finds no
/// image: WSLg offers Windows screenshots only as `image/bmp`.
const EXTERNAL_TYPES: [&str; 6] = [
    "image/png",
    "image/bmp",
    "image/x-bmp",
    "image/jpeg",
    "image/webp",
    "image/gif",
];
const EXTERNAL_TIMEOUT: Duration = Duration::from_secs(5);

/// Read the clipboard: an image first, then a copied file, then text.
pub fn read_clipboard(limits: &ImageLimits) -> Result<Clipboard, String> {
    #[cfg(all(unix, not(target_os = "macos")))]
    if std::env::var_os("DISPLAY").is_none() && std::env::var_os("WAYLAND_DISPLAY").is_none() {
        return Err("no clipboard available: no X11 or Wayland display (DISPLAY and WAYLAND_DISPLAY are unset)".into());
    }
    let mut board =
        arboard::Clipboard::new().map_err(|e| format!("no clipboard available: {e}"))?;
    // The first failure other than "nothing of that kind", reported if nothing else is found.
    let mut trouble: Option<String> = None;
    let mut note = |e: arboard::Error| {
        if !matches!(e, arboard::Error::ContentNotAvailable) && trouble.is_none() {
            trouble = Some(e.to_string());
        }
    };

    match board.get_image() {
        Ok(img) => {
            let (Ok(w), Ok(h)) = (u32::try_from(img.width), u32::try_from(img.height)) else {
                return Err(format!(
                    "the clipboard image is too large ({}x{})",
                    img.width, img.height
                ));
            };
            return prepare_rgba(w, h, &img.bytes, limits)
                .map(Clipboard::Image)
                .map_err(|e| format!("the clipboard image cannot be used: {e}"));
        }
        Err(e) => note(e),
    }
    match board.get().file_list() {
        Ok(files) => {
            if let [file] = files.as_slice()
                && is_image_file(file)
            {
                return Ok(Clipboard::ImageFile(file.clone()));
            }
        }
        Err(e) => note(e),
    }
    let text = match board.get_text() {
        Ok(text) => Some(text),
        Err(e) => {
            note(e);
            None
        }
    };
    if let Some(text) = text.filter(|t| !t.is_empty()) {
        return Ok(match image_path_in(&text) {
            Some(path) => Clipboard::ImageFile(path),
            None => Clipboard::Text(text),
        });
    }
    let path_var = std::env::var_os("PATH").unwrap_or_default();
    if let Some(bytes) = external_image(&path_var, limits.max_input_bytes)? {
        return prepare_bytes(&bytes, limits)
            .map(Clipboard::Image)
            .map_err(|e| format!("the clipboard image cannot be used: {e}"));
    }
    match trouble {
        Some(e) => Err(format!("cannot read the clipboard: {e}")),
        None => Ok(Clipboard::Empty),
    }
}

/// The image file `text` names, if it is one path (absolute, or `~/…`) or one `file://` URI
/// (percent-decoded) of an existing file with an image extension or image magic bytes.
/// Quotes around it and shell backslash escapes (terminal drag and drop) are accepted.
pub fn image_path_in(text: &str) -> Option<PathBuf> {
    let home = std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(PathBuf::from);
    image_path_in_with_home(text, home.as_deref())
}

fn image_path_in_with_home(text: &str, home: Option<&Path>) -> Option<PathBuf> {
    let mut lines = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'));
    let line = lines.next()?;
    if lines.next().is_some() {
        return None;
    }
    let line = strip_quotes(line);
    let candidates: Vec<PathBuf> = if line.starts_with("file:") {
        url::Url::parse(line)
            .ok()
            .and_then(|u| u.to_file_path().ok())
            .into_iter()
            .collect()
    } else {
        let expand = |s: &str| -> Option<PathBuf> {
            if let Some(rest) = s.strip_prefix("~/") {
                home.map(|h| h.join(rest))
            } else if s.starts_with('/') {
                Some(PathBuf::from(s))
            } else {
                None
            }
        };
        let mut c: Vec<PathBuf> = expand(line).into_iter().collect();
        if line.contains('\\') {
            c.extend(expand(&unescape(line)));
        }
        c
    };
    candidates.into_iter().find(|p| is_image_file(p))
}

fn strip_quotes(s: &str) -> &str {
    for q in ['\'', '"'] {
        if let Some(inner) = s.strip_prefix(q).and_then(|r| r.strip_suffix(q)) {
            return inner;
        }
    }
    s
}

/// `My\ Pic.png` → `My Pic.png`.
fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.extend(chars.next()),
            c => out.push(c),
        }
    }
    out
}

/// An existing regular file with an image extension, or whose first bytes are an image's.
fn is_image_file(path: &Path) -> bool {
    if !std::fs::metadata(path).is_ok_and(|m| m.is_file()) {
        return false;
    }
    let ext = path
        .extension()
        .and_then(OsStr::to_str)
        .map(str::to_ascii_lowercase);
    if ext.is_some_and(|e| IMAGE_EXTENSIONS.contains(&e.as_str())) {
        return true;
    }
    let mut head = Vec::with_capacity(64);
    std::fs::File::open(path)
        .and_then(|f| f.take(64).read_to_end(&mut head))
        .is_ok_and(|_| super::encode::looks_like_image(&head))
}

/// The arguments that make a clipboard tool print the contents of one MIME type.
type FetchArgs = fn(&str) -> Vec<String>;

/// Image bytes from `wl-paste` (Wayland) or `xclip` (X11) in a type arboard does not read.
/// None when neither tool is there or the clipboard has no such type.
fn external_image(path_var: &OsStr, max_bytes: u64) -> Result<Option<Vec<u8>>, String> {
    let wayland = std::env::var_os("WAYLAND_DISPLAY").is_some();
    let x11 = std::env::var_os("DISPLAY").is_some();
    let (program, list, fetch): (&str, Vec<&str>, FetchArgs) =
        if wayland && find_in_path("wl-paste", path_var).is_some() {
            ("wl-paste", vec!["--list-types"], |t| {
                vec!["--no-newline".into(), "--type".into(), t.into()]
            })
        } else if x11 && find_in_path("xclip", path_var).is_some() {
            (
                "xclip",
                vec!["-selection", "clipboard", "-t", "TARGETS", "-o"],
                |t| {
                    vec![
                        "-selection".into(),
                        "clipboard".into(),
                        "-t".into(),
                        t.into(),
                        "-o".into(),
                    ]
                },
            )
        } else {
            return Ok(None);
        };
    let Some(exe) = find_in_path(program, path_var) else {
        return Ok(None);
    };
    let mut cmd = Command::new(&exe);
    cmd.args(&list);
    let Ok(out) = run(cmd, EXTERNAL_TIMEOUT, true) else {
        return Ok(None);
    };
    if !out.success {
        return Ok(None);
    }
    let offered = String::from_utf8_lossy(&out.stdout);
    let Some(mime) = pick_type(&offered) else {
        return Ok(None);
    };
    let mut cmd = Command::new(&exe);
    cmd.args(fetch(mime));
    let out =
        run(cmd, EXTERNAL_TIMEOUT, true).map_err(|e| format!("{program} --type {mime}: {e}"))?;
    if !out.success || out.stdout.is_empty() {
        return Err(format!(
            "the clipboard offers {mime} but {program} could not read it: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    if out.stdout.len() as u64 > max_bytes {
        return Err(format!(
            "the clipboard image is {}, over the {} limit",
            super::encode::human_bytes(out.stdout.len() as u64),
            super::encode::human_bytes(max_bytes)
        ));
    }
    Ok(Some(out.stdout))
}

/// The preferred image type among those a clipboard owner offers (one per line).
fn pick_type(offered: &str) -> Option<&'static str> {
    let offered: Vec<&str> = offered.lines().map(str::trim).collect();
    EXTERNAL_TYPES
        .into_iter()
        .find(|t| offered.iter().any(|o| o.eq_ignore_ascii_case(t)))
}

#[cfg(test)]
mod tests;
