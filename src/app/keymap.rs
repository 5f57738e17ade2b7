//! Remappable keys (`[keys]` in the config): a user's binding for an action is turned
//! into the action's default key before `update` handles it, so the handlers keep one
//! set of keys. A default key whose action was bound elsewhere does nothing. Plain
//! characters are only translated where they act (the approval queue, the diff pane),
//! never while text is typed.

use std::collections::BTreeMap;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// Where an action's keys work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scope {
    /// Everywhere (keys with modifiers, function keys, Enter, Esc).
    Global,
    /// The approval queue has focus and holds calls.
    Queue,
    /// The queue or the diff pane has focus while calls wait (y / n decide from both).
    Decide,
    /// The diff pane or the queue has focus.
    Diff,
}

/// Every remappable action: name, scope, default keys (the first is what a binding
/// becomes).
const ACTIONS: &[(&str, Scope, &[&str])] = &[
    ("send", Scope::Global, &["enter"]),
    (
        "newline",
        Scope::Global,
        &["shift+enter", "alt+enter", "ctrl+j"],
    ),
    ("interrupt", Scope::Global, &["esc"]),
    ("quit", Scope::Global, &["ctrl+c"]),
    ("help", Scope::Global, &["f1"]),
    ("mouse_capture", Scope::Global, &["f2"]),
    ("copy_reply", Scope::Global, &["ctrl+y"]),
    ("copy_code", Scope::Global, &["alt+y"]),
    ("reasoning", Scope::Global, &["ctrl+t"]),
    ("paste", Scope::Global, &["ctrl+v"]),
    ("approve", Scope::Decide, &["y"]),
    ("reject", Scope::Decide, &["n"]),
    ("allow_session", Scope::Queue, &["a"]),
    ("edit", Scope::Queue, &["e"]),
    ("approve_all", Scope::Queue, &["Y"]),
    ("reject_all", Scope::Queue, &["N"]),
    ("view_all", Scope::Decide, &["v"]),
    ("toggle_hunk", Scope::Diff, &["space"]),
    ("next_hunk", Scope::Diff, &["]"]),
    ("prev_hunk", Scope::Diff, &["["]),
    ("side_by_side", Scope::Diff, &["s"]),
];

/// The names of the remappable actions, for errors and the docs.
pub fn action_names() -> Vec<&'static str> {
    ACTIONS.iter().map(|(n, _, _)| *n).collect()
}

/// A key as written in the config: `ctrl+y`, `alt+enter`, `f1`, `space`, `Y`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeySpec {
    code: KeyCode,
    ctrl: bool,
    alt: bool,
    /// Only for non-character keys (a character's case says it).
    shift: bool,
}

impl KeySpec {
    pub fn parse(text: &str) -> Result<KeySpec, String> {
        let t = text.trim();
        if t.is_empty() {
            return Err("an empty key".into());
        }
        // `+` alone, or as the last part (`ctrl++`), is the plus key
        let (mods, last) = match t.strip_suffix("++") {
            Some(m) => (format!("{m}+"), "+".to_string()),
            None if t == "+" => (String::new(), "+".to_string()),
            None => match t.rsplit_once('+') {
                Some((m, l)) => (format!("{m}+"), l.to_string()),
                None => (String::new(), t.to_string()),
            },
        };
        let mut spec = KeySpec {
            code: KeyCode::Null,
            ctrl: false,
            alt: false,
            shift: false,
        };
        for m in mods.split('+').filter(|m| !m.is_empty()) {
            match m.to_ascii_lowercase().as_str() {
                "ctrl" | "control" | "c" => spec.ctrl = true,
                "alt" | "meta" | "option" | "m" => spec.alt = true,
                "shift" | "s" => spec.shift = true,
                other => {
                    return Err(format!(
                        "`{text}`: unknown modifier `{other}` (ctrl, alt, shift)"
                    ));
                }
            }
        }
        let lower = last.to_ascii_lowercase();
        spec.code = match lower.as_str() {
            "enter" | "return" => KeyCode::Enter,
            "esc" | "escape" => KeyCode::Esc,
            "tab" => KeyCode::Tab,
            "backspace" => KeyCode::Backspace,
            "space" => KeyCode::Char(' '),
            "up" => KeyCode::Up,
            "down" => KeyCode::Down,
            "left" => KeyCode::Left,
            "right" => KeyCode::Right,
            "home" => KeyCode::Home,
            "end" => KeyCode::End,
            "pageup" | "pgup" => KeyCode::PageUp,
            "pagedown" | "pgdn" => KeyCode::PageDown,
            "delete" | "del" => KeyCode::Delete,
            "insert" | "ins" => KeyCode::Insert,
            f if f.len() >= 2
                && f.starts_with('f')
                && f[1..].chars().all(|c| c.is_ascii_digit()) =>
            {
                match f[1..].parse::<u8>() {
                    Ok(n @ 1..=24) => KeyCode::F(n),
                    _ => return Err(format!("`{text}`: no such function key")),
                }
            }
            "backtab" => KeyCode::BackTab,
            _ => {
                let mut chars = last.chars();
                match (chars.next(), chars.next()) {
                    (Some(c), None) if spec.ctrl || spec.alt => {
                        // with ctrl/alt a letter comes lower-case, with SHIFT when held
                        if c.is_ascii_uppercase() {
                            spec.shift = true;
                        }
                        KeyCode::Char(c.to_ascii_lowercase())
                    }
                    (Some(c), None) => {
                        // a plain character's case says whether shift is held
                        let c = if spec.shift {
                            c.to_ascii_uppercase()
                        } else {
                            c
                        };
                        spec.shift = false;
                        KeyCode::Char(c)
                    }
                    _ => return Err(format!("`{text}`: unknown key `{last}`")),
                }
            }
        };
        if spec.code == KeyCode::Char(' ') && spec.shift {
            return Err(format!(
                "`{text}`: terminals do not tell shift+space from space"
            ));
        }
        if spec.code == KeyCode::Tab && spec.shift {
            spec.code = KeyCode::BackTab;
            spec.shift = false;
        }
        Ok(spec)
    }

    fn matches(&self, key: &KeyEvent) -> bool {
        let m = key.modifiers;
        let (ctrl, alt) = (
            m.contains(KeyModifiers::CONTROL),
            m.contains(KeyModifiers::ALT),
        );
        if ctrl != self.ctrl || alt != self.alt {
            return false;
        }
        let shift = m.contains(KeyModifiers::SHIFT);
        match (self.code, key.code) {
            // with ctrl/alt: the letter in either case, shift from the flag or the case
            (KeyCode::Char(a), KeyCode::Char(b)) if self.ctrl || self.alt => {
                a == b.to_ascii_lowercase() && self.shift == (shift || b.is_ascii_uppercase())
            }
            // a plain character's case carries shift
            (KeyCode::Char(a), KeyCode::Char(b)) => a == b,
            (KeyCode::BackTab, KeyCode::BackTab) => true,
            (a, b) => a == b && shift == self.shift,
        }
    }

    fn event(&self) -> KeyEvent {
        let mut m = KeyModifiers::NONE;
        if self.ctrl {
            m |= KeyModifiers::CONTROL;
        }
        if self.alt {
            m |= KeyModifiers::ALT;
        }
        let code = match self.code {
            // a plain shifted letter is reported upper-case
            KeyCode::Char(c) if self.shift && !self.ctrl && !self.alt => {
                KeyCode::Char(c.to_ascii_uppercase())
            }
            c => c,
        };
        if self.shift || matches!(code, KeyCode::Char(c) if c.is_ascii_uppercase()) {
            m |= KeyModifiers::SHIFT;
        }
        if code == KeyCode::BackTab {
            m |= KeyModifiers::SHIFT;
        }
        KeyEvent::new(code, m)
    }

    /// A plain character (no ctrl/alt): typed text in the composer.
    fn is_text(&self) -> bool {
        matches!(self.code, KeyCode::Char(_)) && !self.ctrl && !self.alt
    }
}

/// The user's bindings, ready to translate keys.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct KeyMap {
    /// (scope, the user's key, the action's default key)
    bound: Vec<(Scope, KeySpec, KeySpec)>,
    /// Default keys of actions the user moved elsewhere: they do nothing now.
    freed: Vec<(Scope, KeySpec)>,
}

/// Where the key arrives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyContext {
    /// Text is being typed (the composer, a reason, an edited command).
    pub typing: bool,
    /// A popup, overlay or prompt has the keys (the `/` list, the `@` picker, help, the
    /// session list, a paste offer, a reason): Enter and Esc are theirs, nothing is
    /// translated.
    pub modal: bool,
    /// The approval queue has focus and calls wait.
    pub queue: bool,
    /// The diff pane has focus.
    pub diff: bool,
    /// Calls wait for a decision.
    pub pending: bool,
}

impl KeyMap {
    /// From `[keys]`: action name → one key or a list. Unknown actions and keys that do
    /// not parse are errors naming them.
    pub fn from_config(keys: &BTreeMap<String, Vec<String>>) -> Result<KeyMap, String> {
        let mut map = KeyMap::default();
        for (action, specs) in keys {
            let Some((_, scope, defaults)) = ACTIONS.iter().find(|(n, _, _)| n == action) else {
                return Err(format!(
                    "[keys]: unknown action `{action}`; the actions are: {}",
                    action_names().join(", ")
                ));
            };
            let default =
                KeySpec::parse(defaults[0]).map_err(|e| format!("[keys] {action}: {e}"))?;
            let mut user = Vec::new();
            for spec in specs {
                let k = KeySpec::parse(spec).map_err(|e| format!("[keys] {action}: {e}"))?;
                if *scope == Scope::Global && k.is_text() {
                    return Err(format!(
                        "[keys] {action}: `{spec}` is a plain character, which would be typed into the input; use a key with ctrl or alt, or a function key"
                    ));
                }
                user.push(k);
            }
            for d in defaults.iter() {
                let d = KeySpec::parse(d).map_err(|e| format!("[keys] {action}: {e}"))?;
                if !user.contains(&d) {
                    map.freed.push((*scope, d));
                }
            }
            map.bound
                .extend(user.into_iter().map(|u| (*scope, u, default)));
        }
        Ok(map)
    }

    /// The key `update` should handle for `key`: itself, an action's default key, or
    /// `None` when the key was freed (its action lives elsewhere now).
    pub fn translate(&self, key: KeyEvent, cx: KeyContext) -> Option<KeyEvent> {
        if self.bound.is_empty() && self.freed.is_empty() {
            return Some(key);
        }
        if cx.modal {
            return Some(key);
        }
        let applies = |scope: Scope, spec: &KeySpec| match scope {
            Scope::Global => !(cx.typing && spec.is_text()),
            Scope::Queue => cx.queue && !cx.typing,
            Scope::Decide => (cx.queue || (cx.diff && cx.pending)) && !cx.typing,
            Scope::Diff => (cx.diff || cx.queue) && !cx.typing,
        };
        if let Some((_, _, default)) = self
            .bound
            .iter()
            .find(|(scope, user, _)| applies(*scope, user) && user.matches(&key))
        {
            return Some(default.event());
        }
        if self
            .freed
            .iter()
            .any(|(scope, d)| applies(*scope, d) && d.matches(&key))
        {
            return None;
        }
        Some(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn k(code: KeyCode, m: KeyModifiers) -> KeyEvent {
        KeyEvent::new(code, m)
    }

    #[test]
    fn parses_the_usual_spellings() {
        let p = |t| KeySpec::parse(t).unwrap();
        assert!(p("ctrl+y").matches(&k(KeyCode::Char('y'), KeyModifiers::CONTROL)));
        assert!(p("Ctrl+Shift+Enter").matches(&k(
            KeyCode::Enter,
            KeyModifiers::CONTROL | KeyModifiers::SHIFT
        )));
        assert!(p("f5").matches(&k(KeyCode::F(5), KeyModifiers::NONE)));
        assert!(p("Y").matches(&k(KeyCode::Char('Y'), KeyModifiers::SHIFT)));
        assert!(p("shift+y").matches(&k(KeyCode::Char('Y'), KeyModifiers::SHIFT)));
        assert!(p("space").matches(&k(KeyCode::Char(' '), KeyModifiers::NONE)));
        assert!(p("ctrl++").matches(&k(KeyCode::Char('+'), KeyModifiers::CONTROL)));
        // ctrl+shift+letter: lower-case with SHIFT (kitty protocol) or upper-case (legacy)
        let cs = KeyModifiers::CONTROL | KeyModifiers::SHIFT;
        assert!(p("ctrl+shift+y").matches(&k(KeyCode::Char('y'), cs)));
        assert!(p("ctrl+Y").matches(&k(KeyCode::Char('Y'), cs)));
        assert!(!p("ctrl+y").matches(&k(KeyCode::Char('y'), cs)));
        assert!(p("alt+Y").matches(&k(KeyCode::Char('Y'), KeyModifiers::ALT)));
        assert!(!p("alt+y").matches(&k(KeyCode::Char('Y'), KeyModifiers::ALT)));
        assert!(p("shift+tab").matches(&k(KeyCode::BackTab, KeyModifiers::SHIFT)));
        for bad in ["", "hyper+x", "f99", "ctrl+nope", "shift+space"] {
            assert!(KeySpec::parse(bad).is_err(), "{bad}");
        }
    }

    fn map(pairs: &[(&str, &[&str])]) -> Result<KeyMap, String> {
        KeyMap::from_config(
            &pairs
                .iter()
                .map(|(a, ks)| (a.to_string(), ks.iter().map(|s| s.to_string()).collect()))
                .collect(),
        )
    }

    const TYPING: KeyContext = KeyContext {
        typing: true,
        pending: false,
        queue: false,
        diff: false,
        modal: false,
    };
    const QUEUE: KeyContext = KeyContext {
        typing: false,
        queue: true,
        pending: true,
        diff: false,
        modal: false,
    };

    #[test]
    fn a_binding_becomes_the_default_key_and_the_old_one_is_freed() {
        let m = map(&[("copy_reply", &["ctrl+k"]), ("approve", &["o"])]).unwrap();
        let ctrl = |c| k(KeyCode::Char(c), KeyModifiers::CONTROL);
        assert_eq!(m.translate(ctrl('k'), TYPING), Some(ctrl('y')));
        assert_eq!(m.translate(ctrl('y'), TYPING), None);
        let plain = |c| k(KeyCode::Char(c), KeyModifiers::NONE);
        assert_eq!(m.translate(plain('o'), QUEUE), Some(plain('y')));
        assert_eq!(m.translate(plain('y'), QUEUE), None);
        // typing is never translated
        assert_eq!(m.translate(plain('o'), TYPING), Some(plain('o')));
        assert_eq!(m.translate(plain('y'), TYPING), Some(plain('y')));
    }

    #[test]
    fn swapped_keys_and_errors() {
        let m = map(&[("approve", &["n"]), ("reject", &["y"])]).unwrap();
        let plain = |c| k(KeyCode::Char(c), KeyModifiers::NONE);
        assert_eq!(m.translate(plain('n'), QUEUE), Some(plain('y')));
        assert_eq!(m.translate(plain('y'), QUEUE), Some(plain('n')));
        let e = map(&[("aprove", &["o"])]).unwrap_err();
        assert!(
            e.contains("unknown action `aprove`") && e.contains("approve"),
            "{e}"
        );
        let e = map(&[("copy_reply", &["k"])]).unwrap_err();
        assert!(e.contains("plain character"), "{e}");
        let e = map(&[("help", &["hyper+h"])]).unwrap_err();
        assert!(e.contains("unknown modifier"), "{e}");
    }
}
