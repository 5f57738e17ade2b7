//! Configuration: types, layering with the source of every value, the offline host policy.
//!
//! Layers, lowest first: built-in defaults (`assets/config.toml`, embedded), the user file
//! (`~/.config/cove/config.toml`), the workspace file (`.cove/config.toml`), an explicit
//! file (`COVE_CONFIG` / `--config`), the selected profile (`[profiles.NAME]` over
//! `[model]`), environment variables, command-line flags. The workspace file applies
//! whole only once the user trusted it (`trust.rs`); until then only harmless keys do.

mod custom;
mod load;
mod mcp;
pub mod offline;
mod show;
pub mod theme;
pub mod trust;
mod types;

pub use custom::CustomToolConfig;
pub use load::{LoadInput, Loaded, Overrides, Source, load};
pub use mcp::{DEFAULT_SCHEMA_BUDGET, McpConfig, McpServerConfig};
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

/// `http://user:pass@host/…` with the credentials masked (`http://****@host/…`), for
/// `cove config`, notices and errors. Text that is not such a URL is returned as it is.
pub fn mask_url_credentials(text: &str) -> std::borrow::Cow<'_, str> {
    let Some(scheme_end) = text.find("://") else {
        return std::borrow::Cow::Borrowed(text);
    };
    let rest = &text[scheme_end + 3..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => {
            std::borrow::Cow::Owned(format!("{}****{}", &text[..scheme_end + 3], &rest[at..]))
        }
        None => std::borrow::Cow::Borrowed(text),
    }
}

#[cfg(test)]
mod mask_tests {
    use super::mask_url_credentials as mask;

    #[test]
    fn credentials_in_urls_are_masked() {
        assert_eq!(mask("http://u:p@h:1/v1"), "http://****@h:1/v1");
        assert_eq!(mask("https://tok@h/v1?a=b@c"), "https://****@h/v1?a=b@c");
        assert_eq!(mask("http://h/v1"), "http://h/v1");
        assert_eq!(mask("not a url"), "not a url");
        assert_eq!(mask("http://a:b@c:d@h/"), "http://****@h/");
    }
}
