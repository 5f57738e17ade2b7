//! `cove config`: the effective configuration, one key per line, each with its source.

use toml::Value;

use super::load::Loaded;

/// Every set key as `key = value  # source`, secrets masked.
pub fn render_effective(loaded: &Loaded) -> String {
    let mut rows: Vec<(String, String, String)> = Vec::new();
    if let Ok(value) = Value::try_from(&loaded.config) {
        flatten("", &value, &mut |key, v| {
            let shown = if key.ends_with("api_key") {
                mask(v)
            } else {
                render_value(v)
            };
            let source = loaded
                .sources
                .get(key)
                .map(ToString::to_string)
                .unwrap_or_else(|| "default".into());
            rows.push((key.to_owned(), shown, source));
        });
    }
    let width = rows
        .iter()
        .map(|(k, v, _)| k.len() + v.len() + 3)
        .max()
        .unwrap_or(0)
        .min(72);
    let mut out = String::new();
    out.push_str("# effective configuration; each value's source is on its right\n");
    if loaded.files.is_empty() {
        out.push_str("# files read: none (built-in defaults only)\n");
    } else {
        for f in &loaded.files {
            out.push_str(&format!("# file read: {}\n", f.display()));
        }
    }
    for w in &loaded.warnings {
        out.push_str(&format!("# warning: {w}\n"));
    }
    if let Some(u) = &loaded.untrusted {
        out.push_str(&format!(
            "# ignored: {} is not trusted (run `cove trust` to apply it); it would set:\n",
            u.path.display()
        ));
        for (key, value) in &u.ignored {
            out.push_str(&format!("#   {key} = {value}\n"));
        }
    }
    for (key, value, source) in rows {
        let line = format!("{key} = {value}");
        out.push_str(&format!("{line:<width$}  # {source}\n"));
    }
    if loaded.config.model.name.is_none() {
        out.push_str("# model.name is unset: cove uses the first model the server lists\n");
    }
    out
}

fn flatten(prefix: &str, value: &Value, f: &mut dyn FnMut(&str, &Value)) {
    match value {
        Value::Table(t) if !t.is_empty() || prefix.is_empty() => {
            for (k, v) in t {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&key, v, f);
            }
        }
        Value::Table(_) => {}
        other => f(prefix, other),
    }
}

fn render_value(v: &Value) -> String {
    match v {
        Value::String(s) => format!("{:?}", super::mask_url_credentials(s)),
        Value::Array(items) => format!(
            "[{}]",
            items
                .iter()
                .map(render_value)
                .collect::<Vec<_>>()
                .join(", ")
        ),
        other => other.to_string(),
    }
}

fn mask(v: &Value) -> String {
    match v {
        Value::String(s) if s.is_empty() => "\"\"".into(),
        Value::String(s) => format!("\"********\" (set, {} characters)", s.chars().count()),
        other => render_value(other),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::config::{LoadInput, Overrides, load};

    #[test]
    fn shows_sources_and_masks_secrets() {
        let dir = tempfile::tempdir().unwrap();
        let mut env = BTreeMap::new();
        env.insert("COVE_API_KEY".to_string(), "sk-very-secret".to_string());
        let loaded = load(&LoadInput {
            user_file: None,
            workspace: dir.path().to_owned(),
            env,
            flags: Overrides::default(),
            // the test's own config: applied whole
            trust: crate::config::trust::TrustCheck::Trusted,
        })
        .unwrap();
        let text = render_effective(&loaded);
        assert!(!text.contains("sk-very-secret"), "{text}");
        assert!(
            text.lines()
                .any(|l| l.starts_with("model.api_key = \"********\"")
                    && l.ends_with("# env COVE_API_KEY")),
            "{text}"
        );
        assert!(
            text.lines()
                .any(|l| l.starts_with("offline = true") && l.ends_with("# default")),
            "{text}"
        );
    }

    #[test]
    fn names_what_an_untrusted_workspace_file_would_set_and_masks_url_credentials() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join(".cove")).unwrap();
        std::fs::write(
            dir.path().join(".cove/config.toml"),
            "offline = false\n[model]\nname = \"m\"\napi_base = \"http://u:hunter2@evil.example/v1\"\n",
        )
        .unwrap();
        let mut env = BTreeMap::new();
        env.insert(
            "COVE_BASE_URL".to_string(),
            "http://me:pw-secret@127.0.0.1:1/v1".to_string(),
        );
        let loaded = load(&LoadInput {
            user_file: None,
            workspace: dir.path().to_owned(),
            env,
            flags: Overrides::default(),
            trust: crate::config::trust::TrustCheck::Untrusted,
        })
        .unwrap();
        let text = render_effective(&loaded);
        assert!(!text.contains("hunter2"), "{text}");
        assert!(!text.contains("pw-secret"), "{text}");
        assert!(text.contains("#   offline = false"), "{text}");
        assert!(
            text.contains("#   model.api_base = \"http://****@evil.example/v1\""),
            "{text}"
        );
        assert!(text.contains("model.name = \"m\""), "{text}");
        assert!(text.contains("offline = true"), "{text}");
    }
}
