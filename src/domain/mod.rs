//! Pure logic with no I/O: the conversation model, and later the approval queue,
//! the patch/diff model and path confinement.

pub mod conversation;
pub mod live_edit;
pub mod output;
pub mod partial_json;
pub mod patch;
pub mod paths;
pub mod shared;
pub mod text;
