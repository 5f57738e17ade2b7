//! Keys are actions. `KeyMap::resolve` turns a key, where it arrives, into an [`Action`]
//! (the user's `[keys]` bindings first, then the defaults); `update` matches actions, and
//! only text entry (the composer, a reason, edited arguments, the overlays' lists) sees
//! raw keys. A default key whose action the user moved elsewhere does nothing. Every
//! hint, the help overlay and the status lines name keys through [`KeyMap::expand`] from
//! the same table, so a rebinding shows everywhere and a new action touches one place.

use std::collections::BTreeMap;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// Where an action's keys work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scope {
    /// Everywhere on the panes and the composer; while text is typed, keys that edit text
    /// (characters, arrows, Home/End, Backspace, Delete) are the text's, not actions.
    Global,
    /// The diff pane has focus.
    DiffPane,
    /// The approval queue has focus and holds calls.
    Queue,
    /// The queue or the diff pane has focus while calls wait (y / n decide from both).
    Decide,
    /// The diff pane or the queue has focus.
    Diff,
}

/// What a key does, whatever key the user bound to it. Every hint on screen names an
/// action's key through [`KeyMap::expand`], so a rebinding shows everywhere.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    Send,
    Newline,
    Interrupt,
    Quit,
    Help,
    MouseCapture,
    CopyReply,
    CopyCode,
    Reasoning,
    Details,
    Paste,
    Approve,
    Reject,
    AllowSession,
    Edit,
    ApproveAll,
    RejectAll,
    ViewAll,
    ToggleHunk,
    NextHunk,
    PrevHunk,
    SideBySide,
    Zoom,
    /// More of the file around each hunk (the diff pane).
    ExpandDiff,
    FocusNext,
    FocusPrev,
    /// A line up: the chat scrolls, the queue's selection moves.
    Up,
    Down,
    PageUp,
    PageDown,
    Top,
    Bottom,
    /// `d`: the change of a tool card, newest first.
    NextCard,
    /// Back to the composer from a pane.
    ToInput,
    /// `q` on a pane.
    QuitPane,
}

/// One action: its config name, where it works, its default keys.
struct ActionDef {
    action: Action,
    name: &'static str,
    scope: Scope,
    keys: &'static [&'static str],
}

const fn def(
    action: Action,
    name: &'static str,
    scope: Scope,
    keys: &'static [&'static str],
) -> ActionDef {
    ActionDef {
        action,
        name,
        scope,
        keys,
    }
}

/// Every action, once: the keymap, the help overlay and every hint read this. Narrower
/// scopes come first, so a key means what the focused pane makes of it (Enter in the diff
/// pane shows more context; elsewhere it sends or returns to the composer).
const ACTIONS: &[ActionDef] = &[
    def(
        Action::ExpandDiff,
        "expand_diff",
        Scope::DiffPane,
        &["enter"],
    ),
    def(Action::Send, "send", Scope::Global, &["enter"]),
    def(
        Action::Newline,
        "newline",
        Scope::Global,
        &["shift+enter", "alt+enter", "ctrl+j"],
    ),
    def(Action::Interrupt, "interrupt", Scope::Global, &["esc"]),
    def(Action::Quit, "quit", Scope::Global, &["ctrl+c"]),
    def(Action::Help, "help", Scope::Global, &["f1"]),
    def(
        Action::MouseCapture,
        "mouse_capture",
        Scope::Global,
        &["f2"],
    ),
    def(Action::CopyReply, "copy_reply", Scope::Global, &["ctrl+y"]),
    def(Action::CopyCode, "copy_code", Scope::Global, &["alt+y"]),
    def(Action::Reasoning, "reasoning", Scope::Global, &["ctrl+t"]),
    def(Action::Details, "details", Scope::Global, &["ctrl+o"]),
    def(Action::Paste, "paste", Scope::Global, &["ctrl+v"]),
    def(Action::Approve, "approve", Scope::Decide, &["y"]),
    def(Action::Reject, "reject", Scope::Decide, &["n"]),
    def(Action::AllowSession, "allow_session", Scope::Queue, &["a"]),
    def(Action::Edit, "edit", Scope::Queue, &["e"]),
    def(Action::ApproveAll, "approve_all", Scope::Queue, &["Y"]),
    def(Action::RejectAll, "reject_all", Scope::Queue, &["N"]),
    def(Action::ViewAll, "view_all", Scope::Decide, &["v"]),
    def(Action::ToggleHunk, "toggle_hunk", Scope::Diff, &["space"]),
    def(Action::NextHunk, "next_hunk", Scope::Diff, &["]"]),
    def(Action::PrevHunk, "prev_hunk", Scope::Diff, &["["]),
    def(Action::SideBySide, "side_by_side", Scope::Diff, &["s"]),
    def(Action::Zoom, "zoom", Scope::Diff, &["z"]),
    def(Action::FocusNext, "focus_next", Scope::Global, &["tab"]),
    def(
        Action::FocusPrev,
        "focus_prev",
        Scope::Global,
        &["shift+tab"],
    ),
    def(Action::Up, "up", Scope::Global, &["up", "k"]),
    def(Action::Down, "down", Scope::Global, &["down", "j"]),
    def(Action::PageUp, "page_up", Scope::Global, &["pageup"]),
    def(Action::PageDown, "page_down", Scope::Global, &["pagedown"]),
    def(Action::Top, "top", Scope::Global, &["ctrl+home", "home"]),
    def(
        Action::Bottom,
        "bottom",
        Scope::Global,
        &["ctrl+end", "end"],
    ),
    def(Action::NextCard, "next_change", Scope::Global, &["d"]),
    def(Action::ToInput, "to_input", Scope::Global, &["i"]),
    def(Action::QuitPane, "quit_pane", Scope::Global, &["q"]),
];

/// Global actions that only act on a pane (never while typing): a plain character may
/// be bound to them.
const PANE_ONLY: &[Action] = &[
    Action::Up,
    Action::Down,
    Action::Top,
    Action::Bottom,
    Action::NextCard,
    Action::ToInput,
    Action::QuitPane,
];

fn def_of(action: Action) -> &'static ActionDef {
    ACTIONS
        .iter()
        .find(|d| d.action == action)
        .unwrap_or(&ACTIONS[0])
}

/// The names of the remappable actions, for errors and the docs.
pub fn action_names() -> Vec<&'static str> {
    ACTIONS.iter().map(|d| d.name).collect()
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

    /// How a hint names the key: `y`, `Y`, `Space`, `Ctrl+Y`, `Shift+Enter`, `F1`.
    pub fn label(&self) -> String {
        let mut out = String::new();
        if self.ctrl {
            out.push_str("Ctrl+");
        }
        if self.alt {
            out.push_str("Alt+");
        }
        if self.shift {
            out.push_str("Shift+");
        }
        let key = match self.code {
            KeyCode::Char(' ') => "Space".to_owned(),
            KeyCode::Char(c) if self.ctrl || self.alt => c.to_ascii_uppercase().to_string(),
            KeyCode::Char(c) => c.to_string(),
            KeyCode::Enter => "Enter".into(),
            KeyCode::Esc => "Esc".into(),
            KeyCode::Tab => "Tab".into(),
            KeyCode::BackTab => "Shift+Tab".into(),
            KeyCode::Backspace => "Backspace".into(),
            KeyCode::Up => "Up".into(),
            KeyCode::Down => "Down".into(),
            KeyCode::Left => "Left".into(),
            KeyCode::Right => "Right".into(),
            KeyCode::Home => "Home".into(),
            KeyCode::End => "End".into(),
            KeyCode::PageUp => "PgUp".into(),
            KeyCode::PageDown => "PgDn".into(),
            KeyCode::Delete => "Del".into(),
            KeyCode::Insert => "Ins".into(),
            KeyCode::F(n) => format!("F{n}"),
            other => format!("{other:?}"),
        };
        out.push_str(&key);
        out
    }

    /// A plain character (no ctrl/alt): typed text in the composer.
    fn is_text(&self) -> bool {
        matches!(self.code, KeyCode::Char(_)) && !self.ctrl && !self.alt
    }

    /// A key that edits or moves in text (a character, an arrow, Home/End, Backspace,
    /// Delete, without ctrl/alt): while text is typed it is the text's.
    fn edits_text(&self) -> bool {
        !self.ctrl
            && !self.alt
            && matches!(
                self.code,
                KeyCode::Char(_)
                    | KeyCode::Up
                    | KeyCode::Down
                    | KeyCode::Left
                    | KeyCode::Right
                    | KeyCode::Home
                    | KeyCode::End
                    | KeyCode::Backspace
                    | KeyCode::Delete
            )
    }
}

/// The user's bindings, ready to resolve keys.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct KeyMap {
    /// The keys the user gave each rebound action.
    bound: Vec<(Action, Vec<KeySpec>)>,
    /// Default keys of actions the user moved elsewhere: they do nothing now.
    freed: Vec<(Scope, KeySpec)>,
    /// The keys the user gave each rebound action, as hints name them.
    labels: Vec<(Action, Vec<String>)>,
}

/// What a key is, where it arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolved {
    Action(Action),
    /// The default key of an action the user moved elsewhere: nothing.
    Freed,
    /// No action: text entry, or nothing.
    Raw,
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

impl KeyContext {
    fn applies(&self, scope: Scope) -> bool {
        match scope {
            Scope::Global => true,
            Scope::DiffPane => self.diff && !self.typing,
            Scope::Queue => self.queue && !self.typing,
            Scope::Decide => (self.queue || (self.diff && self.pending)) && !self.typing,
            Scope::Diff => (self.diff || self.queue) && !self.typing,
        }
    }

    /// `spec` can act here (while typing, text keys are the text's).
    fn allows(&self, spec: &KeySpec) -> bool {
        !(self.typing && spec.edits_text())
    }
}

impl KeyMap {
    /// From `[keys]`: action name → one key or a list. Unknown actions and keys that do
    /// not parse are errors naming them.
    pub fn from_config(keys: &BTreeMap<String, Vec<String>>) -> Result<KeyMap, String> {
        let mut map = KeyMap::default();
        for (action, specs) in keys {
            let Some(ActionDef {
                action: which,
                scope,
                keys: defaults,
                ..
            }) = ACTIONS.iter().find(|d| d.name == action)
            else {
                return Err(format!(
                    "[keys]: unknown action `{action}`; the actions are: {}",
                    action_names().join(", ")
                ));
            };
            let mut user = Vec::new();
            for spec in specs {
                let k = KeySpec::parse(spec).map_err(|e| format!("[keys] {action}: {e}"))?;
                if *scope == Scope::Global && k.is_text() && !PANE_ONLY.contains(which) {
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
            map.labels
                .push((*which, user.iter().map(KeySpec::label).collect()));
            map.bound.push((*which, user));
        }
        Ok(map)
    }

    /// The user bound `action` to keys of their own.
    pub fn is_bound(&self, action: Action) -> bool {
        self.labels.iter().any(|(a, _)| *a == action)
    }

    /// The keys of `action` as a hint names them (`y`, `Ctrl+Y`, `Space`), several
    /// joined with `/`.
    pub fn keys(&self, action: Action) -> String {
        if let Some((_, user)) = self.labels.iter().find(|(a, _)| *a == action) {
            return user.join("/");
        }
        def_of(action)
            .keys
            .iter()
            .filter_map(|k| KeySpec::parse(k).ok())
            .map(|k| k.label())
            .collect::<Vec<_>>()
            .join("/")
    }

    /// `text` with each `{action_name}` replaced by that action's keys (unknown names are
    /// left as written): every hint, the help overlay and the status lines are written this
    /// way, so `[keys] approve = "o"` reads `o approve` everywhere.
    pub fn expand(&self, text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(open) = rest.find('{') {
            out.push_str(&rest[..open]);
            let after = &rest[open + 1..];
            match after.find('}').and_then(|close| {
                ACTIONS
                    .iter()
                    .find(|d| d.name == &after[..close])
                    .map(|d| (close, d))
            }) {
                Some((close, d)) => {
                    out.push_str(&self.keys(d.action));
                    rest = &after[close + 1..];
                }
                None => {
                    out.push('{');
                    rest = after;
                }
            }
        }
        out.push_str(rest);
        out
    }

    /// What `key` means where it arrived: the user's bindings first (over every scope
    /// that applies), then the defaults of actions the user did not rebind, narrow scopes
    /// first. Modal layers (help, the session list, a reason being typed) take raw keys.
    pub fn resolve(&self, key: &KeyEvent, cx: KeyContext) -> Resolved {
        if cx.modal {
            return Resolved::Raw;
        }
        for d in ACTIONS.iter().filter(|d| cx.applies(d.scope)) {
            if let Some((_, user)) = self.bound.iter().find(|(a, _)| *a == d.action)
                && user.iter().any(|u| cx.allows(u) && u.matches(key))
            {
                return Resolved::Action(d.action);
            }
        }
        for d in ACTIONS.iter().filter(|d| cx.applies(d.scope)) {
            if self.is_bound(d.action) {
                continue;
            }
            let hit = d
                .keys
                .iter()
                .filter_map(|k| KeySpec::parse(k).ok())
                .any(|k| cx.allows(&k) && k.matches(key));
            if hit {
                return Resolved::Action(d.action);
            }
        }
        if self
            .freed
            .iter()
            .any(|(scope, d)| cx.applies(*scope) && cx.allows(d) && d.matches(key))
        {
            return Resolved::Freed;
        }
        Resolved::Raw
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

    const DIFF: KeyContext = KeyContext {
        typing: false,
        queue: false,
        pending: false,
        diff: true,
        modal: false,
    };
    const CHAT: KeyContext = KeyContext {
        typing: false,
        queue: false,
        pending: false,
        diff: false,
        modal: false,
    };

    #[test]
    fn a_binding_resolves_to_its_action_and_the_old_key_is_freed() {
        use Resolved::*;
        let m = map(&[("copy_reply", &["ctrl+k"]), ("approve", &["o"])]).unwrap();
        let ctrl = |c| k(KeyCode::Char(c), KeyModifiers::CONTROL);
        assert_eq!(
            m.resolve(&ctrl('k'), TYPING),
            Action(super::Action::CopyReply)
        );
        assert_eq!(m.resolve(&ctrl('y'), TYPING), Freed);
        let plain = |c| k(KeyCode::Char(c), KeyModifiers::NONE);
        assert_eq!(
            m.resolve(&plain('o'), QUEUE),
            Action(super::Action::Approve)
        );
        assert_eq!(m.resolve(&plain('y'), QUEUE), Freed);
        // typed text is the text's
        assert_eq!(m.resolve(&plain('o'), TYPING), Raw);
        assert_eq!(m.resolve(&plain('y'), TYPING), Raw);
        assert_eq!(m.resolve(&plain('k'), TYPING), Raw);
        assert_eq!(m.resolve(&k(KeyCode::Up, KeyModifiers::NONE), TYPING), Raw);
        // a modal layer takes raw keys
        let modal = KeyContext {
            modal: true,
            ..QUEUE
        };
        assert_eq!(m.resolve(&plain('o'), modal), Raw);
    }

    #[test]
    fn a_key_means_what_the_focused_pane_makes_of_it() {
        use Resolved::*;
        let m = KeyMap::default();
        let enter = k(KeyCode::Enter, KeyModifiers::NONE);
        assert_eq!(m.resolve(&enter, DIFF), Action(super::Action::ExpandDiff));
        assert_eq!(m.resolve(&enter, TYPING), Action(super::Action::Send));
        assert_eq!(m.resolve(&enter, CHAT), Action(super::Action::Send));
        let plain = |c| k(KeyCode::Char(c), KeyModifiers::NONE);
        assert_eq!(
            m.resolve(&plain('y'), CHAT),
            Raw,
            "nothing waits: y is nothing"
        );
        assert_eq!(
            m.resolve(&plain('y'), QUEUE),
            Action(super::Action::Approve)
        );
        assert_eq!(m.resolve(&plain('k'), CHAT), Action(super::Action::Up));
        assert_eq!(m.resolve(&plain('z'), DIFF), Action(super::Action::Zoom));
        assert_eq!(m.resolve(&plain('z'), CHAT), Raw);
        let pg = k(KeyCode::PageUp, KeyModifiers::NONE);
        assert_eq!(m.resolve(&pg, TYPING), Action(super::Action::PageUp));
        // a user's key wins over another action's default
        let m = map(&[("approve", &["d"])]).unwrap();
        assert_eq!(
            m.resolve(&plain('d'), QUEUE),
            Action(super::Action::Approve)
        );
        assert_eq!(
            m.resolve(&plain('d'), CHAT),
            Action(super::Action::NextCard)
        );
        // pane-only actions take plain characters; the others refuse them
        assert!(map(&[("up", &["w"])]).is_ok());
    }

    #[test]
    fn hints_name_the_keys_the_user_bound() {
        let defaults = KeyMap::default();
        assert_eq!(
            defaults.expand("{approve} approve · {reject} reject · {approve_all}/{reject_all} all"),
            "y approve · n reject · Y/N all"
        );
        assert_eq!(
            defaults.expand("{toggle_hunk} take · {copy_reply} copy"),
            "Space take · Ctrl+Y copy"
        );
        assert_eq!(
            defaults.expand("{newline} newline"),
            "Shift+Enter/Alt+Enter/Ctrl+J newline"
        );
        assert_eq!(defaults.expand("{nope} and {"), "{nope} and {");
        let m = map(&[("approve", &["o"]), ("copy_reply", &["ctrl+k", "f5"])]).unwrap();
        assert_eq!(m.expand("{approve} approve"), "o approve");
        assert_eq!(m.keys(Action::CopyReply), "Ctrl+K/F5");
        assert_eq!(m.keys(Action::Reject), "n");
        // every action has a name, default keys that parse, and a label
        for d in ACTIONS {
            assert!(!defaults.keys(d.action).is_empty(), "{}", d.name);
            assert_eq!(def_of(d.action).name, d.name);
        }
    }

    #[test]
    fn swapped_keys_and_errors() {
        let m = map(&[("approve", &["n"]), ("reject", &["y"])]).unwrap();
        let plain = |c| k(KeyCode::Char(c), KeyModifiers::NONE);
        assert_eq!(
            m.resolve(&plain('n'), QUEUE),
            Resolved::Action(Action::Approve)
        );
        assert_eq!(
            m.resolve(&plain('y'), QUEUE),
            Resolved::Action(Action::Reject)
        );
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
