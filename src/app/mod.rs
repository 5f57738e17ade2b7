//! The interactive session: state, messages, the pure `update`, and the event loop that
//! connects the terminal and the agent to them.

mod agent_events;
mod approvals;
pub mod attachments;
pub mod commands;
pub mod diffs;
pub mod event_loop;
pub mod file_picker;
pub mod history;
pub mod image_jobs;
pub mod keymap;
pub mod msg;
pub mod popups;
pub mod scroll;
pub mod sessions;
pub mod state;
pub mod unseen;
pub mod update;
pub mod view_all;

pub use msg::{Command, Msg};
pub use state::State;
pub use update::update;
