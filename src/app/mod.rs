//! The interactive session: state, messages and the pure `update`. Nothing here draws or
//! imports `ui`: how tall things are comes through `measure::Measure`, and the loop that
//! connects the terminal, the agent, `update` and `ui::render` is `crate::event_loop`.

mod agent_events;
mod approvals;
pub mod attachments;
pub mod commands;
pub mod composer;
pub mod conversation;
pub mod diffs;
pub mod file_picker;
pub mod history;
pub mod image_jobs;
pub mod keymap;
pub mod measure;
pub mod msg;
pub mod popups;
pub mod queue;
pub mod scroll;
pub mod sessions;
pub mod state;
pub mod unseen;
pub mod update;
pub mod view_all;

pub use msg::{Command, Msg};
pub use state::State;
pub use update::update;
