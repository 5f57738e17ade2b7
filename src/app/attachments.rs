//! Images attached to the next message: clipboard results, pasted image paths (offered for
//! attaching), the `max_images` limit, and removal before sending.

use std::path::PathBuf;

use crossterm::event::{KeyCode, KeyEvent};

use super::msg::Command;
use super::state::*;
use crate::protocol::ImageAttachment;

/// A pasted text that names an image file: attach it, or keep the text.
#[derive(Debug, Clone, PartialEq)]
pub struct PasteOffer {
    pub text: String,
    pub path: PathBuf,
}

/// An image is ready (or could not be read).
pub fn attached(s: &mut State, result: Result<ImageAttachment, String>) {
    match result {
        Ok(_) if s.composer.attachments.len() >= s.composer.max_images => s.flash(format!(
            "Not attached: at most {} images go in one message ([vision] max_images)",
            s.composer.max_images
        )),
        Ok(image) => {
            s.flash(format!(
                "Attached image {}: {} (Backspace on an empty input removes it)",
                s.composer.attachments.len() + 1,
                image.label
            ));
            s.composer.attachments.push(image);
        }
        Err(e) if e == super::image_jobs::CLIPBOARD_EMPTY => s.flash(e),
        // in the chat, with what to do, not a status-bar message gone in 3 seconds
        Err(e) => s.chat.entries.push(Entry::new(EntryKind::Error {
            title: "Image not attached".into(),
            message: e,
            hint: "Attach a PNG, JPEG, GIF, WebP or BMP: /image PATH, drop the file, or copy the image and press Ctrl+V".into(),
        })),
    }
}

/// The screenshot's answer: attached, or an error card; nothing when the user cancelled it.
pub fn screenshot_taken(s: &mut State, result: Result<ImageAttachment, String>) {
    if !std::mem::take(&mut s.taking_screenshot) {
        return; // cancelled with Esc meanwhile
    }
    match result {
        Err(e) if e == crate::vision::screenshot::STOPPED => {}
        Err(e) => s.chat.entries.push(Entry::new(EntryKind::Error {
            title: "No screenshot".into(),
            message: e,
            hint: "Install a region screenshot tool (grim + slurp, gnome-screenshot, spectacle, scrot, maim) or set [vision] screenshot_command; /image PATH attaches a file".into(),
        })),
        Ok(image) => attached(s, Ok(image)),
    }
}

/// Bracketed paste. Text that could be the path of an image file (one line: absolute, `~/`,
/// `file://`, maybe quoted, as terminals paste a dropped file) is checked off the UI thread
/// first; anything else goes into the composer as it is.
pub fn pasted(s: &mut State, text: String, cmds: &mut Vec<Command>) {
    if s.overlay.is_help() {
        s.overlay = Overlay::None;
    }
    s.view.focus = Focus::Input;
    if could_be_a_path(&text) {
        cmds.push(Command::CheckPaste(text));
    } else {
        insert(s, &text);
    }
}

/// The paste check's answer.
pub fn paste_checked(s: &mut State, text: String, image: Option<PathBuf>) {
    match image {
        Some(path) => {
            if let Some(old) = s.composer.paste_offer.take() {
                insert(s, &old.text);
            }
            s.composer.paste_offer = Some(PasteOffer { text, path });
        }
        None => insert(s, &text),
    }
}

/// Keys while a paste offer shows: Enter attaches, Esc keeps the text; any other key keeps the
/// text and then does what it does. True when the key was used up.
pub fn offer_key(s: &mut State, key: &KeyEvent, cmds: &mut Vec<Command>) -> bool {
    let Some(offer) = s.composer.paste_offer.take() else {
        return false;
    };
    match key.code {
        KeyCode::Enter if key.modifiers.is_empty() => {
            s.flash(format!("Reading {}…", offer.path.display()));
            cmds.push(Command::AttachFile(offer.path));
            true
        }
        KeyCode::Esc => {
            insert(s, &offer.text);
            true
        }
        _ => {
            insert(s, &offer.text);
            false
        }
    }
}

/// Backspace on an empty composer removes the last attachment. True when it did.
pub fn remove_last(s: &mut State) -> bool {
    if !s.composer.area.is_empty() {
        return false;
    }
    match s.composer.attachments.pop() {
        Some(img) => {
            s.flash(format!(
                "Removed image {}: {}",
                s.composer.attachments.len() + 1,
                img.label
            ));
            true
        }
        None => false,
    }
}

/// The clipboard held text: paste it.
pub fn clipboard_text(s: &mut State, text: &str) {
    s.view.focus = Focus::Input;
    insert(s, text);
}

fn insert(s: &mut State, text: &str) {
    s.composer
        .area
        .insert_str(text.replace("\r\n", "\n").replace('\r', "\n"));
}

/// One line that starts like a path or a file URI (quotes allowed). Pure: whether it names an
/// image file is for the check.
fn could_be_a_path(text: &str) -> bool {
    let t = text.trim();
    if t.is_empty() || t.contains('\n') || t.len() > 4096 {
        return false;
    }
    let t = t.trim_matches(|c| c == '\'' || c == '"');
    t.starts_with('/') || t.starts_with("~/") || t.starts_with("file://")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_like_pastes() {
        assert!(could_be_a_path("/home/me/Pictures/shot.png"));
        assert!(could_be_a_path("'/home/me/My Shot.png' "));
        assert!(could_be_a_path("file:///tmp/a%20b.png\n"));
        assert!(could_be_a_path("~/shot.png"));
        assert!(!could_be_a_path("fn main() {}"));
        assert!(!could_be_a_path("/a.png\n/b.png"));
        assert!(!could_be_a_path("   "));
    }
}
