//! What flows into `update` and what comes out of it.

use crossterm::event::{KeyEvent, MouseEvent};

use crate::protocol::{AgentEvent, ImageAttachment, Op};

#[derive(Debug, Clone, PartialEq)]
pub enum Msg {
    Key(KeyEvent),
    /// Bracketed paste: inserted as-is, never sent early.
    Paste(String),
    Mouse(MouseEvent),
    Resize(u16, u16),
    Agent(AgentEvent),
    /// Periodic while a turn runs (spinner, elapsed time) or a flash message is shown.
    Tick,
    /// SIGTERM / SIGHUP: leave now.
    Terminate,
    /// The agent's task ended without being asked to (a crash outside a turn).
    AgentGone,
    /// An image is ready to attach to the next message, or could not be read.
    Attached(Result<ImageAttachment, String>),
    /// The screenshot (`/screenshot`) is ready to attach, or was not taken.
    Screenshot(Result<ImageAttachment, String>),
    /// The user's editor closed on a proposed change: what they saved, or why not.
    Edited {
        call_id: String,
        result: Result<String, String>,
    },
    /// The clipboard held text (not an image): paste it.
    ClipboardText(String),
    /// The workspace's files for the `@` picker (relative paths).
    FileIndex(Vec<String>),
    /// A pasted text that looked like a path, checked: `image` is the image file it names.
    PasteChecked {
        text: String,
        image: Option<std::path::PathBuf>,
    },
}

/// Side effects `update` asks the event loop to carry out.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    Agent(Op),
    SaveHistory(String),
    /// Put text on the clipboard (OSC 52, so it works over SSH too).
    Copy(String),
    SetMouseCapture(bool),
    /// Read the clipboard: an image (or an image file's path) is attached, text pasted.
    ReadClipboard,
    /// Read, downscale and encode an image file to attach.
    AttachFile(std::path::PathBuf),
    /// Open a proposed file content in the user's editor (answered with `Msg::Edited`).
    EditInEditor {
        call_id: String,
        name: String,
        content: String,
    },
    /// Check whether pasted text names an image file (answered with `Msg::PasteChecked`).
    CheckPaste(String),
    /// Take a screenshot with the configured or first available tool and attach it
    /// (answered with `Msg::Screenshot`).
    Screenshot,
    /// Stop the screenshot being taken (Esc while a region tool waits).
    StopScreenshot,
    /// List the workspace's files for the `@` picker (answered with `Msg::FileIndex`).
    IndexFiles,
    Quit,
}
