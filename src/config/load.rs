//! Reading and layering configuration, remembering where every value came from.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use toml::{Table, Value};

use super::ConfigError;
use super::trust::{Answer, TrustCheck, TrustStore, Untrusted, sha256_hex, split_untrusted};
use super::types::Config;

const DEFAULTS: &str = include_str!("../../assets/config.toml");

/// Where an effective value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Default,
    File(PathBuf),
    Env(&'static str),
    Flag(&'static str),
    /// Set by the active profile; the inner source is where the profile's key was set.
    Profile(String, Box<Source>),
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Default => f.write_str("default"),
            Source::File(p) => write!(f, "{}", p.display()),
            Source::Env(var) => write!(f, "env {var}"),
            Source::Flag(flag) => write!(f, "flag {flag}"),
            Source::Profile(name, inner) => write!(f, "profile {name} ({inner})"),
        }
    }
}

/// Values given on the command line.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub model: Option<String>,
    pub base_url: Option<String>,
    pub profile: Option<String>,
    pub config_file: Option<PathBuf>,
}

/// Everything `load` reads, so tests can give it a fake environment.
#[derive(Debug, Clone, Default)]
pub struct LoadInput {
    /// `~/.config/cove/config.toml`, if the platform has a config dir.
    pub user_file: Option<PathBuf>,
    pub workspace: PathBuf,
    pub env: BTreeMap<String, String>,
    pub flags: Overrides,
    /// Whether the workspace file is trusted (the real program asks the trust store).
    pub trust: TrustCheck,
}

impl LoadInput {
    /// The real user config path and process environment.
    pub fn from_process(workspace: PathBuf, flags: Overrides) -> Self {
        let user_file = directories::ProjectDirs::from("", "", "cove")
            .map(|d| d.config_dir().join("config.toml"));
        LoadInput {
            user_file,
            workspace,
            env: std::env::vars()
                .filter(|(k, _)| k.starts_with("COVE_"))
                .collect(),
            flags,
            trust: TrustStore::default_path()
                .map(TrustCheck::Store)
                .unwrap_or_default(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Loaded {
    pub config: Config,
    /// Dotted key path -> where its value came from.
    pub sources: BTreeMap<String, Source>,
    /// Files that were read, lowest layer first.
    pub files: Vec<PathBuf>,
    /// Unknown keys and similar: shown, not fatal.
    pub warnings: Vec<String>,
    /// The workspace file when it is not trusted and sets keys that were ignored for it.
    pub untrusted: Option<Untrusted>,
}

pub fn load(input: &LoadInput) -> Result<Loaded, ConfigError> {
    let mut merged = Table::new();
    let mut sources = BTreeMap::new();
    let mut warnings = Vec::new();
    let mut files = Vec::new();

    let defaults: Table = DEFAULTS.parse().map_err(|e: toml::de::Error| {
        syntax_error(Path::new("<built-in defaults>"), DEFAULTS, &e)
    })?;
    merge(&mut merged, &defaults, &Source::Default, "", &mut sources);

    let explicit = input
        .flags
        .config_file
        .clone()
        .map(|p| (p, "--config"))
        .or_else(|| {
            input
                .env
                .get("COVE_CONFIG")
                .filter(|p| !p.is_empty())
                .map(|p| (PathBuf::from(p), "COVE_CONFIG"))
        });
    let workspace_file = input.workspace.join(".cove").join("config.toml");
    // (path, required, is the workspace's own file)
    let mut layer_files: Vec<(PathBuf, bool, bool)> = Vec::new();
    if let Some(user) = &input.user_file {
        layer_files.push((user.clone(), false, false));
    }
    layer_files.push((workspace_file, false, true));
    if let Some((path, _)) = &explicit {
        layer_files.push((path.clone(), true, false));
    }
    let mut untrusted = None;
    for (path, required, in_workspace) in layer_files {
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !required => continue,
            Err(source) => return Err(ConfigError::Read { path, source }),
        };
        let mut table = check_file(&path, &text, &mut warnings)?;
        if in_workspace {
            // a cloned repository is not the user: until trusted, only harmless keys apply
            let sha256 = sha256_hex(text.as_bytes());
            let answer = match &input.trust {
                TrustCheck::Trusted => Some(Answer::Trusted),
                TrustCheck::Untrusted => None,
                TrustCheck::Store(store) => {
                    TrustStore::new(store.clone()).answer(&input.workspace, &sha256)
                }
            };
            if answer != Some(Answer::Trusted) {
                let (safe, ignored) = split_untrusted(&table);
                if !ignored.is_empty() {
                    untrusted = Some(Untrusted {
                        path: path.clone(),
                        sha256,
                        ignored,
                        declined: answer == Some(Answer::Declined),
                    });
                }
                table = safe;
            }
        }
        merge(
            &mut merged,
            &table,
            &Source::File(path.clone()),
            "",
            &mut sources,
        );
        files.push(path);
    }

    // The profile: flag > env > files.
    let profile = if let Some(p) = &input.flags.profile {
        set(
            &mut merged,
            &mut sources,
            "profile",
            Value::String(p.clone()),
            Source::Flag("--profile"),
        );
        Some(p.clone())
    } else if let Some(p) = input.env.get("COVE_PROFILE").filter(|p| !p.is_empty()) {
        set(
            &mut merged,
            &mut sources,
            "profile",
            Value::String(p.clone()),
            Source::Env("COVE_PROFILE"),
        );
        Some(p.clone())
    } else {
        merged
            .get("profile")
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    if let Some(name) = profile.filter(|p| !p.is_empty()) {
        let profiles = merged.get("profiles").and_then(Value::as_table);
        let Some(overlay) = profiles
            .and_then(|p| p.get(&name))
            .and_then(Value::as_table)
            .cloned()
        else {
            return Err(ConfigError::UnknownProfile {
                name,
                available: profiles
                    .map(|p| p.keys().cloned().collect())
                    .unwrap_or_default(),
            });
        };
        for (key, value) in overlay {
            let inner = sources
                .get(&format!("profiles.{name}.{key}"))
                .cloned()
                .unwrap_or(Source::Default);
            set(
                &mut merged,
                &mut sources,
                &format!("model.{key}"),
                value,
                Source::Profile(name.clone(), Box::new(inner)),
            );
        }
    }

    // Environment, then flags.
    let env_keys: [(&'static str, &str); 5] = [
        ("COVE_BASE_URL", "model.api_base"),
        ("COVE_MODEL", "model.name"),
        ("COVE_API_KEY", "model.api_key"),
        ("COVE_VISION_BASE_URL", "vision.api_base"),
        ("COVE_VISION_MODEL", "vision.name"),
    ];
    for (var, key) in env_keys {
        if let Some(v) = input.env.get(var).filter(|v| !v.trim().is_empty()) {
            set(
                &mut merged,
                &mut sources,
                key,
                env_value(key, v),
                Source::Env(var),
            );
        }
    }
    if let Some(m) = &input.flags.model {
        set(
            &mut merged,
            &mut sources,
            "model.name",
            Value::String(m.clone()),
            Source::Flag("--model"),
        );
    }
    if let Some(u) = &input.flags.base_url {
        set(
            &mut merged,
            &mut sources,
            "model.api_base",
            env_value("model.api_base", u),
            Source::Flag("--base-url"),
        );
    }

    let config: Config = deserialize_checked(
        Value::Table(merged),
        "effective configuration",
        &mut Vec::new(),
    )?;
    validate(&config, &sources)?;
    Ok(Loaded {
        config,
        sources,
        files,
        warnings,
        untrusted,
    })
}

/// Comma-separated base URLs in a variable become a list (failover order).
fn env_value(key: &str, v: &str) -> Value {
    if key.ends_with("api_base") && v.contains(',') {
        Value::Array(
            v.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| Value::String(s.to_owned()))
                .collect(),
        )
    } else {
        Value::String(v.trim().to_owned())
    }
}

/// Parses one file and checks it against the schema: syntax errors with line and column,
/// wrong types with the key, unknown keys as warnings.
fn check_file(path: &Path, text: &str, warnings: &mut Vec<String>) -> Result<Table, ConfigError> {
    let table: Table = text
        .parse()
        .map_err(|e: toml::de::Error| syntax_error(path, text, &e))?;
    let origin = path.display().to_string();
    let mut unknown = Vec::new();
    let _: Config = deserialize_checked(Value::Table(table.clone()), &origin, &mut unknown)?;
    for key in unknown {
        warnings.push(format!("{origin}: unknown key `{key}` (ignored)"));
    }
    Ok(table)
}

fn deserialize_checked(
    value: Value,
    origin: &str,
    unknown: &mut Vec<String>,
) -> Result<Config, ConfigError> {
    let mut track = serde_path_to_error::Track::new();
    let de = serde_path_to_error::Deserializer::new(value, &mut track);
    let result = serde_ignored::deserialize(de, |path| unknown.push(path.to_string()));
    result.map_err(|e: toml::de::Error| ConfigError::WrongType {
        origin: origin.to_owned(),
        key: track.path().to_string(),
        message: e.message().to_owned(),
    })
}

fn syntax_error(path: &Path, text: &str, e: &toml::de::Error) -> ConfigError {
    let (line, column) = match e.span() {
        Some(span) => line_col(text, span.start),
        None => (1, 1),
    };
    ConfigError::Syntax {
        path: path.to_owned(),
        line,
        column,
        message: e.message().trim().to_owned(),
    }
}

/// 1-based line and column (in characters) of a byte offset.
pub(super) fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
    (line, text[line_start..offset].chars().count() + 1)
}

/// Overlays `layer` onto `base`; tables merge key by key, everything else replaces.
fn merge(
    base: &mut Table,
    layer: &Table,
    source: &Source,
    prefix: &str,
    sources: &mut BTreeMap<String, Source>,
) {
    for (key, value) in layer {
        let path = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        match (base.get_mut(key), value) {
            (Some(Value::Table(existing)), Value::Table(incoming)) => {
                merge(existing, incoming, source, &path, sources)
            }
            _ => {
                clear_sources_under(sources, &path);
                if let Value::Table(t) = value {
                    let mut fresh = Table::new();
                    merge(&mut fresh, t, source, &path, sources);
                    base.insert(key.clone(), Value::Table(fresh));
                } else {
                    sources.insert(path, source.clone());
                    base.insert(key.clone(), value.clone());
                }
            }
        }
    }
}

fn clear_sources_under(sources: &mut BTreeMap<String, Source>, path: &str) {
    let prefix = format!("{path}.");
    sources.retain(|k, _| k != path && !k.starts_with(&prefix));
}

/// Sets one dotted key, creating tables on the way.
fn set(
    root: &mut Table,
    sources: &mut BTreeMap<String, Source>,
    dotted: &str,
    value: Value,
    source: Source,
) {
    let mut parts: Vec<&str> = dotted.split('.').collect();
    let Some(last) = parts.pop() else { return };
    let mut table = root;
    for p in parts {
        let entry = table
            .entry(p.to_owned())
            .or_insert_with(|| Value::Table(Table::new()));
        if !entry.is_table() {
            *entry = Value::Table(Table::new());
        }
        let Value::Table(t) = entry else { return };
        table = t;
    }
    let mut layer = Table::new();
    layer.insert(last.to_owned(), value);
    let prefix = dotted.rsplit_once('.').map(|(p, _)| p).unwrap_or("");
    merge(table, &layer, &source, prefix, sources);
}

fn validate(config: &Config, sources: &BTreeMap<String, Source>) -> Result<(), ConfigError> {
    let origin = |key: &str| {
        sources
            .get(key)
            .map(ToString::to_string)
            .unwrap_or_else(|| "configuration".into())
    };
    let check_urls = |key: &str, urls: Vec<String>| -> Result<(), ConfigError> {
        for u in urls {
            match url::Url::parse(&u) {
                Ok(parsed)
                    if matches!(parsed.scheme(), "http" | "https") && parsed.host().is_some() => {}
                Ok(_) => {
                    return Err(ConfigError::BadValue {
                        origin: origin(key),
                        key: key.into(),
                        message: format!("`{u}` must be an http:// or https:// URL with a host"),
                    });
                }
                Err(e) => {
                    return Err(ConfigError::BadValue {
                        origin: origin(key),
                        key: key.into(),
                        message: format!("`{u}` is not a URL ({e})"),
                    });
                }
            }
        }
        Ok(())
    };
    let model_urls = config
        .model
        .api_base
        .as_ref()
        .map(|a| a.to_vec())
        .unwrap_or_default();
    if model_urls.is_empty() {
        return Err(ConfigError::BadValue {
            origin: origin("model.api_base"),
            key: "model.api_base".into(),
            message: "no endpoint is configured".into(),
        });
    }
    check_urls("model.api_base", model_urls)?;
    check_urls(
        "vision.api_base",
        config
            .vision
            .api_base
            .as_ref()
            .map(|a| a.to_vec())
            .unwrap_or_default(),
    )?;
    if let Some(t) = config.model.temperature
        && !(0.0..=2.0).contains(&t)
    {
        return Err(ConfigError::BadValue {
            origin: origin("model.temperature"),
            key: "model.temperature".into(),
            message: format!("{t} is outside 0.0 to 2.0"),
        });
    }
    for (name, tool) in &config.tools.custom {
        if let Err((key, message)) = super::custom::check(name, tool) {
            // the file that set the tool (its keys are the leaves under it)
            let table = format!("tools.custom.{name}.");
            let origin = sources
                .iter()
                .find(|(k, _)| k.starts_with(&table) || **k == key)
                .map(|(_, s)| s.to_string())
                .unwrap_or_else(|| "configuration".into());
            return Err(ConfigError::BadValue {
                origin,
                key,
                message,
            });
        }
    }
    // `[guard]` regexes, compiled as `guard::rules` compiles them (bytes, no Unicode
    // classes, bounded size): a rule that cannot apply is an error, not a silent gap
    let guard = &config.guard;
    for (key, list) in [
        ("guard.patterns", &guard.patterns),
        ("guard.deny_prompt", &guard.deny_prompt),
        ("guard.stop_on", &guard.stop_on),
    ] {
        for p in list {
            if let Err(e) = regex::bytes::RegexBuilder::new(p)
                .unicode(false)
                .size_limit(8 * 1024 * 1024)
                .build()
            {
                return Err(ConfigError::BadValue {
                    origin: origin(key),
                    key: key.into(),
                    message: format!("`{p}` is not a regex the guard can use: {e}"),
                });
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
