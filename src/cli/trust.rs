//! `cove trust [--revoke]`: trust (or stop trusting) this workspace's `.cove/config.toml`
//! as it is now.

use std::path::Path;

use cove::config::trust::{Answer, TrustStore, sha256_hex, split_untrusted};

use super::say_error;

pub fn run(workspace: &Path, revoke: bool) -> u8 {
    let Some(store) = TrustStore::default_path().map(TrustStore::new) else {
        say_error("no home directory: there is nowhere to record trust");
        return 2;
    };
    let file = workspace.join(".cove").join("config.toml");
    if revoke {
        return match store.revoke(workspace) {
            Ok(true) => {
                println!(
                    "{} is no longer trusted: only its harmless keys apply.",
                    file.display()
                );
                0
            }
            Ok(false) => {
                println!(
                    "{} was not trusted; nothing to revoke.",
                    workspace.display()
                );
                0
            }
            Err(e) => {
                say_error(&e.to_string());
                1
            }
        };
    }
    let text = match std::fs::read(&file) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            say_error(&format!(
                "{} does not exist: there is nothing to trust",
                file.display()
            ));
            return 2;
        }
        Err(e) => {
            say_error(&format!("cannot read {}: {e}", file.display()));
            return 2;
        }
    };
    // what trusting changes, so the user sees what they agree to
    let table: toml::Table = match std::str::from_utf8(&text).ok().and_then(|t| t.parse().ok()) {
        Some(t) => t,
        None => {
            say_error(&format!(
                "{} is not valid TOML (`cove config` says where); fix it before trusting it",
                file.display()
            ));
            return 2;
        }
    };
    let (_, loosened) = split_untrusted(&table);
    if let Err(e) = store.record(workspace, &sha256_hex(&text), Answer::Trusted) {
        say_error(&e.to_string());
        return 1;
    }
    println!("Trusted {} as it is now.", file.display());
    if loosened.is_empty() {
        println!("It sets nothing beyond the harmless keys that apply anyway.");
    } else {
        println!("These keys now apply:");
        for (key, value) in &loosened {
            println!(
                "  {key} = {}",
                cove::domain::text::neutralize_controls(value)
            );
        }
    }
    println!(
        "Any change to the file makes it untrusted again. `cove trust --revoke` takes it back."
    );
    0
}
