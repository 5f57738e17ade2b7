//! The subcommands other than the full-screen interface.

pub mod acp;
pub mod ask;
pub mod completions;
pub mod doctor;
pub mod exec;
pub mod ledger;
pub mod mcp;
pub mod models;
pub mod sandbox;
pub mod sessions;
pub mod trust;
pub mod trust_prompt;
pub mod tui;

use cove::domain::text::neutralize_controls;

/// Prints a line to stderr with anything from the server or model made terminal-safe.
pub fn say(message: &str) {
    eprintln!("cove: {}", neutralize_controls(message));
}

/// Prints an error line to stderr, terminal-safe.
pub fn say_error(message: &str) {
    eprintln!("cove: error: {}", neutralize_controls(message));
}
