//! The real MCP server the tests talk to: `@modelcontextprotocol/server-everything`,
//! installed by scripts/test.sh into the cache (COVE_TEST_MCP_EVERYTHING names its
//! launcher). Without it a plain `cargo test` says the MCP tests were skipped; under
//! scripts/test.sh a missing launcher fails them.
#![allow(dead_code)]

use std::path::PathBuf;

/// The launcher of server-everything, if installed.
pub fn everything() -> Option<PathBuf> {
    let path = std::env::var_os("COVE_TEST_MCP_EVERYTHING")
        .map(PathBuf::from)
        .or_else(|| {
            let cache = std::env::var_os("XDG_CACHE_HOME")
                .map(PathBuf::from)
                .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
            Some(cache.join("cove-dev/mcp-everything/node_modules/.bin/mcp-server-everything"))
        })?;
    if path.exists() {
        return Some(path);
    }
    // scripts/test.sh installs it; a plain `cargo test` without it says so
    assert!(
        std::env::var_os("COVE_TEST_MCP_EVERYTHING").is_none(),
        "COVE_TEST_MCP_EVERYTHING is set but {} does not exist",
        path.display()
    );
    eprintln!("skipped: server-everything is not installed (scripts/test.sh installs it)");
    None
}
