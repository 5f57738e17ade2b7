//! The tools the model may call: names, descriptions and argument schemas (the contract in
//! DESIGN.md), argument parsing and dispatch, and each tool. The agent decides what runs.

pub mod atomic;
pub mod context;
mod danger;
pub mod fs;
pub mod hunks;
pub mod isolate;
pub mod live_base;
pub mod on_disk;
pub mod patch;
pub mod protected;
pub mod registry;
mod schema;
pub mod shell;
pub mod shell_command;
pub mod shell_lex;
pub mod shell_policy;

pub use schema::{BUILTIN_TOOLS, offered_tools};
