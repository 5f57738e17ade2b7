//! The subcommands other than the full-screen interface.

pub mod ask;
pub mod doctor;
pub mod models;
