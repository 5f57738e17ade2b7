//! The OpenAI-compatible model client: request building, an incremental SSE parser,
//! stream assembly, recovery of tool calls printed as text, retries and failover, and
//! the server probe behind `cove models` and `cove doctor`.

pub mod assemble;
pub mod chunk;
mod client;
mod error;
mod net;
pub mod overflow;
pub mod probe;
mod record;
pub mod recover;
pub mod repair;
pub mod request;
pub mod sse;
pub mod think;

pub use assemble::{Reply, StreamEnd};
pub use client::{Client, ClientOptions, Completion, SlowStream};
pub use error::LlmError;
pub use request::ChatRequest;
