//! Configuration: types, layering with the source of every value, the offline host policy.
//!
//! Layers, lowest first: built-in defaults (`assets/config.toml`, embedded), the user file
//! (`~/.config/cove/config.toml`), the workspace file (`.cove/config.toml`), an explicit
//! file (`COVE_CONFIG` / `--config`), the selected profile (`[profiles.NAME]` over
//! `[model]`), environment variables, command-line flags.

mod load;
pub mod offline;
mod show;
pub mod theme;
mod types;

pub use load::{LoadInput, Loaded, Overrides, Source, load};
pub use show::render_effective;
pub use types::*;

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("invalid TOML in {} at line {line}, column {column}: {message}", path.display())]
    Syntax {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{origin}: key `{key}` has the wrong type: {message}")]
    WrongType {
        origin: String,
        key: String,
        message: String,
    },
    #[error("{origin}: key `{key}`: {message}")]
    BadValue {
        origin: String,
        key: String,
        message: String,
    },
    #[error("no profile named `{name}` ({})", if available.is_empty() { "no [profiles.*] are defined".to_string() } else { format!("defined: {}", available.join(", ")) })]
    UnknownProfile {
        name: String,
        available: Vec<String>,
    },
}
