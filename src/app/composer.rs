//! The composer: the text being written, its history, the images attached to it, a
//! message queued while a reply streams, and the `/` and `@` popups that complete it.

use std::sync::Arc;

use ratatui_textarea::{TextArea, WrapMode};

use super::history::InputHistory;

pub struct Composer {
    pub area: TextArea<'static>,
    pub history: InputHistory,
    /// A message sent while a reply streams: sent when the turn ends.
    pub queued: Option<String>,
    /// Images attached to the next message (shown as chips above the composer).
    pub attachments: Vec<crate::protocol::ImageAttachment>,
    /// `[vision] max_images`.
    pub max_images: usize,
    /// A pasted image path, offered for attaching.
    pub paste_offer: Option<super::attachments::PasteOffer>,
    /// The selected row of the command popup (shown while the input is a partial `/command`).
    pub command_selected: usize,
    /// Esc closed the command popup for the input as it is.
    pub popup_closed: bool,
    /// The `@` file picker, while open.
    pub file_picker: Option<super::file_picker::FilePicker>,
    /// The workspace's files for the picker (`None` until indexed).
    pub file_index: Option<Arc<Vec<String>>>,
    /// The file index is being built.
    pub indexing: bool,
    /// The terminal tells Shift+Enter from Enter (keyboard enhancement protocol): the
    /// newline hint names it, else Ctrl+J.
    pub shift_enter: bool,
}

impl Composer {
    pub fn new(history: InputHistory) -> Self {
        Composer {
            area: new_composer(""),
            history,
            queued: None,
            attachments: Vec::new(),
            max_images: 8,
            paste_offer: None,
            command_selected: 0,
            popup_closed: false,
            file_picker: None,
            file_index: None,
            indexing: false,
            shift_enter: true,
        }
    }

    pub fn text(&self) -> String {
        self.area.lines().join("\n")
    }

    pub fn clear(&mut self) {
        self.area = new_composer("");
    }

    /// Replaces the text; the cursor at its end or at the end of its first line.
    pub fn set(&mut self, text: &str, cursor_at_end: bool) {
        self.area = new_composer(text);
        if !cursor_at_end {
            self.area.move_cursor(ratatui_textarea::CursorMove::Top);
            self.area.move_cursor(ratatui_textarea::CursorMove::End);
        }
    }
}

/// A text area holding `text`, cursor at the end.
pub fn new_composer(text: &str) -> TextArea<'static> {
    let mut t = if text.is_empty() {
        TextArea::default()
    } else {
        TextArea::new(text.split('\n').map(str::to_owned).collect())
    };
    t.set_wrap_mode(WrapMode::WordOrGlyph);
    t.move_cursor(ratatui_textarea::CursorMove::Bottom);
    t.move_cursor(ratatui_textarea::CursorMove::End);
    t
}
