//! The tools the model may call. This holds their names, descriptions and argument
//! schemas (the contract in DESIGN.md); executing them, with approval, arrives with the
//! agent loop.

pub mod context;
mod schema;

pub use schema::{BUILTIN_TOOLS, offered_tools};
