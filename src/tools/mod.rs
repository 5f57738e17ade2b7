//! The tools the model may call. This holds their names, descriptions and argument
//! schemas (the contract in DESIGN.md); executing them, with approval, arrives with the
//! agent loop.

pub mod atomic;
pub mod context;
mod danger;
pub mod fs;
pub mod patch;
pub mod registry;
mod schema;
pub mod shell;

pub use schema::{BUILTIN_TOOLS, offered_tools};
