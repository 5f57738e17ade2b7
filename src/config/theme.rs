//! Colour themes: the interface palette plus a syntect theme for code, loaded from TOML
//! (`themes/*.toml` are built in; users add their own under `~/.config/cove/themes/`).
//!
//! ```toml
//! name = "dark"
//! syntax = "base16-ocean.dark"   # a syntect/two-face theme name, "none", or a .tmTheme path
//! [colors]
//! fg = "#c0c5ce"                 # "#rrggbb", a colour name like "darkgray", 0-255, or "reset"
//! ```
//!
//! Keys a file leaves out take the built-in dark theme's values. With `NO_COLOR` every
//! colour is the terminal's own ([`Theme::monochrome`]).

use super::load::line_col;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use ratatui::style::{Color, Style};

const DARK: &str = include_str!("../../themes/dark.toml");
const LIGHT: &str = include_str!("../../themes/light.toml");

/// The built-in themes, by name.
const BUILTIN: &[(&str, &str)] = &[("dark", DARK), ("light", LIGHT)];

/// The interface palette.
#[derive(Debug, Clone, PartialEq)]
pub struct UiColors {
    pub fg: Color,
    pub bg: Color,
    pub dim: Color,
    pub accent: Color,
    pub user: Color,
    pub assistant: Color,
    pub reasoning: Color,
    pub code_bg: Color,
    pub inline_code: Color,
    pub heading: Color,
    pub link: Color,
    pub error: Color,
    pub warning: Color,
    pub success: Color,
    pub border: Color,
    pub border_focused: Color,
    pub status_bg: Color,
    pub status_fg: Color,
    pub selection: Color,
    pub diff_add_bg: Color,
    pub diff_del_bg: Color,
    /// The changed words inside an added / removed line.
    pub diff_add_word_bg: Color,
    pub diff_del_word_bg: Color,
}

/// Every colour key of a theme file, in file order.
pub const COLOR_KEYS: &[&str] = &[
    "fg",
    "bg",
    "dim",
    "accent",
    "user",
    "assistant",
    "reasoning",
    "code_bg",
    "inline_code",
    "heading",
    "link",
    "error",
    "warning",
    "success",
    "border",
    "border_focused",
    "status_bg",
    "status_fg",
    "selection",
    "diff_add_bg",
    "diff_del_bg",
    "diff_add_word_bg",
    "diff_del_word_bg",
];

impl UiColors {
    /// Every colour set to `c`.
    pub fn uniform(c: Color) -> UiColors {
        UiColors {
            fg: c,
            bg: c,
            dim: c,
            accent: c,
            user: c,
            assistant: c,
            reasoning: c,
            code_bg: c,
            inline_code: c,
            heading: c,
            link: c,
            error: c,
            warning: c,
            success: c,
            border: c,
            border_focused: c,
            status_bg: c,
            status_fg: c,
            selection: c,
            diff_add_bg: c,
            diff_del_bg: c,
            diff_add_word_bg: c,
            diff_del_word_bg: c,
        }
    }

    fn slot(&mut self, key: &str) -> Option<&mut Color> {
        Some(match key {
            "fg" => &mut self.fg,
            "bg" => &mut self.bg,
            "dim" => &mut self.dim,
            "accent" => &mut self.accent,
            "user" => &mut self.user,
            "assistant" => &mut self.assistant,
            "reasoning" => &mut self.reasoning,
            "code_bg" => &mut self.code_bg,
            "inline_code" => &mut self.inline_code,
            "heading" => &mut self.heading,
            "link" => &mut self.link,
            "error" => &mut self.error,
            "warning" => &mut self.warning,
            "success" => &mut self.success,
            "border" => &mut self.border,
            "border_focused" => &mut self.border_focused,
            "status_bg" => &mut self.status_bg,
            "status_fg" => &mut self.status_fg,
            "selection" => &mut self.selection,
            "diff_add_bg" => &mut self.diff_add_bg,
            "diff_del_bg" => &mut self.diff_del_bg,
            "diff_add_word_bg" => &mut self.diff_add_word_bg,
            "diff_del_word_bg" => &mut self.diff_del_word_bg,
            _ => return None,
        })
    }
}

/// A loaded theme.
#[derive(Debug, Clone)]
pub struct Theme {
    pub name: String,
    pub colors: UiColors,
    /// The code-highlighting theme; `None` draws code in `colors.fg`.
    pub syntax: Option<syntect::highlighting::Theme>,
    /// Set for `NO_COLOR`: draw no colours at all (modifiers like bold stay).
    pub no_color: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum ThemeError {
    #[error(
        "unknown theme \"{spec}\": not a built-in theme ({}){}, and not a theme file",
        available.join(", "),
        user_dir.as_ref().map(|d| format!(", not found as {}", d.join(format!("{spec}.toml")).display())).unwrap_or_default()
    )]
    Unknown {
        spec: String,
        available: Vec<String>,
        user_dir: Option<PathBuf>,
    },
    #[error("cannot read theme file {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("invalid TOML in theme {file} at line {line}, column {column}: {message}")]
    Syntax {
        file: String,
        line: usize,
        column: usize,
        message: String,
    },
    #[error(
        "bad colour in theme {file}: colors.{key} = {value:?} (use \"#rrggbb\", a colour name like \"darkgray\", a number 0-255, or \"reset\")"
    )]
    BadColor {
        file: String,
        key: String,
        value: String,
    },
    #[error(
        "unknown syntax theme {name:?} in theme {file}; use \"none\", a .tmTheme path, or one of: {}",
        available.join(", ")
    )]
    UnknownSyntax {
        file: String,
        name: String,
        available: Vec<String>,
    },
    #[error("cannot load syntax theme {} named in theme {file}: {message}", path.display())]
    TmTheme {
        file: String,
        path: PathBuf,
        message: String,
    },
    #[error("invalid theme {file}: {message}")]
    Invalid { file: String, message: String },
}

impl Theme {
    /// A built-in theme: `dark` (also `default`) or `light`.
    pub fn builtin(name: &str) -> Option<Theme> {
        let name = match name {
            "" | "default" => "dark",
            n => n,
        };
        let (name, text) = BUILTIN.iter().find(|(n, _)| *n == name)?;
        parse_theme(text, &format!("built-in theme `{name}`"), name, None).ok()
    }

    /// The theme for `NO_COLOR`: the terminal's own colours everywhere, no syntax colours.
    pub fn monochrome() -> Theme {
        Theme {
            name: "monochrome".to_owned(),
            colors: UiColors::uniform(Color::Reset),
            syntax: None,
            no_color: true,
        }
    }

    /// `fg` as a style, or the plain style when colours are off.
    pub fn style(&self, fg: Color) -> Style {
        if self.no_color {
            Style::default()
        } else {
            Style::default().fg(fg)
        }
    }

    /// `bg` as a background on `style`, unless colours are off.
    pub fn with_bg(&self, style: Style, bg: Color) -> Style {
        if self.no_color { style } else { style.bg(bg) }
    }
}

/// The names of the built-in themes.
pub fn builtin_names() -> Vec<String> {
    BUILTIN.iter().map(|(n, _)| (*n).to_owned()).collect()
}

/// `~/.config/cove/themes` (or the platform's equivalent).
pub fn user_theme_dir() -> Option<PathBuf> {
    directories::ProjectDirs::from("", "", "cove").map(|d| d.config_dir().join("themes"))
}

/// Loads the theme `spec` names: `<user_theme_dir>/<spec>.toml` first (so users can
/// override a built-in), then a built-in, then a path to a `.toml` file. With `no_color`
/// it is [`Theme::monochrome`] whatever `spec` says.
pub fn load_theme(
    spec: &str,
    user_theme_dir: Option<&Path>,
    no_color: bool,
) -> Result<Theme, ThemeError> {
    if no_color {
        return Ok(Theme::monochrome());
    }
    let spec = spec.trim();
    let plain_name = !spec.is_empty()
        && !spec.contains(['/', '\\'])
        && !spec.ends_with(".toml")
        && spec != "."
        && spec != "..";
    if plain_name && let Some(dir) = user_theme_dir {
        let path = dir.join(format!("{spec}.toml"));
        if path.is_file() {
            return load_file(&path, spec);
        }
    }
    if let Some(t) = Theme::builtin(spec) {
        return Ok(t);
    }
    if !plain_name && !spec.is_empty() {
        let path = expand_home(spec);
        if path.is_file() {
            let stem = path
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or(spec)
                .to_owned();
            return load_file(&path, &stem);
        }
    }
    Err(ThemeError::Unknown {
        spec: spec.to_owned(),
        available: builtin_names(),
        user_dir: user_theme_dir.filter(|_| plain_name).map(Path::to_owned),
    })
}

fn expand_home(spec: &str) -> PathBuf {
    if let Some(rest) = spec.strip_prefix("~/")
        && let Some(base) = directories::BaseDirs::new()
    {
        return base.home_dir().join(rest);
    }
    PathBuf::from(spec)
}

fn load_file(path: &Path, default_name: &str) -> Result<Theme, ThemeError> {
    let text = std::fs::read_to_string(path).map_err(|source| ThemeError::Read {
        path: path.to_owned(),
        source,
    })?;
    parse_theme(
        &text,
        &path.display().to_string(),
        default_name,
        path.parent(),
    )
}

/// Parses a theme file's text; `file` names it in errors, `dir` resolves a relative
/// `.tmTheme` path. Missing keys take the dark theme's values.
fn parse_theme(
    text: &str,
    file: &str,
    default_name: &str,
    dir: Option<&Path>,
) -> Result<Theme, ThemeError> {
    let table: toml::Table = toml::from_str(text).map_err(|e| {
        let (line, column) = e.span().map(|s| line_col(text, s.start)).unwrap_or((1, 1));
        ThemeError::Syntax {
            file: file.to_owned(),
            line,
            column,
            message: e.message().trim().to_owned(),
        }
    })?;
    let invalid = |message: String| ThemeError::Invalid {
        file: file.to_owned(),
        message,
    };
    let string_key = |key: &str| -> Result<Option<&str>, ThemeError> {
        match table.get(key) {
            None => Ok(None),
            Some(toml::Value::String(s)) => Ok(Some(s.as_str())),
            Some(v) => Err(invalid(format!(
                "`{key}` must be a string, not {}",
                v.type_str()
            ))),
        }
    };
    for key in table.keys() {
        if !matches!(key.as_str(), "name" | "syntax" | "colors") {
            return Err(invalid(format!(
                "unknown key `{key}` (a theme has `name`, `syntax` and `[colors]`)"
            )));
        }
    }
    let name = string_key("name")?.unwrap_or(default_name).to_owned();

    let is_dark = text == DARK;
    let mut colors = if is_dark {
        UiColors::uniform(Color::Reset)
    } else {
        dark_colors()
    };
    match table.get("colors") {
        None => {}
        Some(toml::Value::Table(t)) => {
            for (key, value) in t {
                let bad = || ThemeError::BadColor {
                    file: file.to_owned(),
                    key: key.clone(),
                    value: match value {
                        toml::Value::String(s) => s.clone(),
                        v => v.to_string(),
                    },
                };
                let slot = colors.slot(key).ok_or_else(|| {
                    invalid(format!(
                        "unknown colour key `colors.{key}`; the keys are {}",
                        COLOR_KEYS.join(", ")
                    ))
                })?;
                *slot = match value {
                    toml::Value::String(s) => parse_color(s).ok_or_else(bad)?,
                    toml::Value::Integer(i) => {
                        u8::try_from(*i).map(Color::Indexed).map_err(|_| bad())?
                    }
                    _ => return Err(bad()),
                };
            }
        }
        Some(v) => {
            return Err(invalid(format!(
                "`colors` must be a table, not {}",
                v.type_str()
            )));
        }
    }

    let syntax = match string_key("syntax")? {
        Some(s) => resolve_syntax(s, file, dir)?,
        None if is_dark => None,
        None => dark_syntax(),
    };
    Ok(Theme {
        name,
        colors,
        syntax,
        no_color: false,
    })
}

fn dark_colors() -> UiColors {
    static DARK_COLORS: std::sync::OnceLock<UiColors> = std::sync::OnceLock::new();
    DARK_COLORS
        .get_or_init(|| {
            parse_theme(DARK, "built-in theme `dark`", "dark", None)
                .map(|t| t.colors)
                .unwrap_or_else(|_| UiColors::uniform(Color::Reset))
        })
        .clone()
}

fn dark_syntax() -> Option<syntect::highlighting::Theme> {
    let table: toml::Table = toml::from_str(DARK).ok()?;
    let name = table.get("syntax")?.as_str()?;
    resolve_syntax(name, "built-in theme `dark`", None)
        .ok()
        .flatten()
}

/// `"#rrggbb"`, a colour name (`darkgray`, `light-blue`, …), `0`-`255`, or `reset`.
pub fn parse_color(s: &str) -> Option<Color> {
    let s = s.trim();
    if s.starts_with('#') && s.len() != 7 {
        return None;
    }
    Color::from_str(s).ok()
}

fn syntax_theme_names() -> Vec<String> {
    two_face::theme::EmbeddedLazyThemeSet::theme_names()
        .iter()
        .map(|n| n.as_name().to_owned())
        .collect()
}

fn resolve_syntax(
    spec: &str,
    file: &str,
    dir: Option<&Path>,
) -> Result<Option<syntect::highlighting::Theme>, ThemeError> {
    let spec = spec.trim();
    if spec.is_empty() || spec.eq_ignore_ascii_case("none") {
        return Ok(None);
    }
    if spec.to_ascii_lowercase().ends_with(".tmtheme") {
        let p = expand_home(spec);
        let path = match dir {
            Some(d) if p.is_relative() => d.join(p),
            _ => p,
        };
        return syntect::highlighting::ThemeSet::get_theme(&path)
            .map(Some)
            .map_err(|e| ThemeError::TmTheme {
                file: file.to_owned(),
                path,
                message: e.to_string(),
            });
    }
    let names = syntax_theme_names();
    let found = names
        .iter()
        .find(|n| n.as_str() == spec)
        .or_else(|| names.iter().find(|n| n.eq_ignore_ascii_case(spec)));
    match found {
        Some(n) => {
            let set = two_face::theme::LazyThemeSet::from(two_face::theme::extra());
            Ok(set.get(n).cloned())
        }
        None => Err(ThemeError::UnknownSyntax {
            file: file.to_owned(),
            name: spec.to_owned(),
            available: names,
        }),
    }
}

#[cfg(test)]
mod tests;
