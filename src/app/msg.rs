//! What flows into `update` and what comes out of it.

use crossterm::event::{KeyEvent, MouseEvent};

use crate::protocol::{AgentEvent, Op};

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
}

/// Side effects `update` asks the event loop to carry out.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    Agent(Op),
    SaveHistory(String),
    /// Put text on the clipboard (OSC 52, so it works over SSH too).
    Copy(String),
    SetMouseCapture(bool),
    Quit,
}
