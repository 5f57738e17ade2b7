//! cove: a private, offline, full-screen terminal coding assistant.
//! See ARCHITECTURE.md for the module map and the one-way data flow.
#![deny(clippy::print_stdout, clippy::print_stderr)]

pub mod acp;
pub mod agent;
pub mod app;
pub mod config;
pub mod domain;
pub mod event_loop;
pub mod git;
pub mod guard;
pub mod llm;
pub mod mcp;
pub mod private_files;
pub mod protocol;
pub mod sandbox;
pub mod session;
pub mod term;
pub mod tools;
pub mod ui;
pub mod vision;
