//! Image intake for the session: clipboard, files, screenshots. Decoding and encoding are
//! slow, so each runs on a blocking thread and reports back as a `Msg`.

use std::path::Path;
use std::sync::Arc;

use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};

use super::msg::Msg;
use crate::vision::clipboard::{Clipboard, read_clipboard as read};
use crate::vision::encode::{ImageLimits, PreparedImage, prepare_file};

#[derive(Debug, Clone)]
pub struct ImageSettings {
    pub limits: ImageLimits,
    pub screenshot_command: Option<String>,
}

pub struct Jobs {
    settings: Arc<ImageSettings>,
    tx: UnboundedSender<Msg>,
}

impl Jobs {
    pub fn new(settings: ImageSettings) -> (Jobs, UnboundedReceiver<Msg>) {
        let (tx, rx) = unbounded_channel();
        (
            Jobs {
                settings: Arc::new(settings),
                tx,
            },
            rx,
        )
    }

    /// A message for `update` from the loop itself (after the editor closed, say).
    pub fn send(&self, msg: Msg) {
        let _ = self.tx.send(msg);
    }

    /// Runs `job` on a blocking thread; its message comes back through the receiver.
    pub fn spawn(&mut self, job: impl FnOnce(&ImageSettings) -> Msg + Send + 'static) {
        let settings = Arc::clone(&self.settings);
        let tx = self.tx.clone();
        tokio::task::spawn_blocking(move || {
            let _ = tx.send(job(&settings));
        });
    }
}

pub fn attach_file(path: &Path, s: &ImageSettings) -> Msg {
    Msg::Attached(
        prepare_file(path, &s.limits)
            .map(PreparedImage::into_attachment)
            .map_err(|e| e.to_string()),
    )
}

/// Ctrl+V with nothing on the clipboard: a passing word, not an error card.
pub const CLIPBOARD_EMPTY: &str = "The clipboard is empty";

pub fn read_clipboard(s: &ImageSettings) -> Msg {
    match read(&s.limits) {
        Ok(Clipboard::Image(img)) => Msg::Attached(Ok(img.into_attachment())),
        Ok(Clipboard::ImageFile(path)) => attach_file(&path, s),
        Ok(Clipboard::Text(text)) => Msg::ClipboardText(text),
        Ok(Clipboard::Empty) => Msg::Attached(Err(CLIPBOARD_EMPTY.into())),
        Err(e) => Msg::Attached(Err(e)),
    }
}

/// Takes a screenshot; `stop` set ends it (the tool is killed) with `STOPPED`.
pub fn screenshot(s: &ImageSettings, stop: &std::sync::atomic::AtomicBool) -> Msg {
    Msg::Screenshot(
        crate::vision::screenshot::capture(s.screenshot_command.as_deref(), stop).and_then(
            |path| match attach_file(&path, s) {
                Msg::Attached(r) => r,
                _ => Err("the screenshot could not be read".into()),
            },
        ),
    )
}

pub fn check_paste(text: String) -> Msg {
    let image = crate::vision::clipboard::image_path_in(&text);
    Msg::PasteChecked { text, image }
}
