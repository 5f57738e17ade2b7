//! Sessions: the JSONL journal (append + fsync, torn-tail tolerant load), resume, the
//! project context for the system prompt, token estimates and compaction, export.
//! Depends on `domain` and `config` only.

pub mod attach;
pub mod compact;
pub mod context;
pub mod export;
pub mod files;
pub mod journal;
pub mod record;
pub mod replay;
pub mod splice;
pub mod store;
pub mod tokens;
