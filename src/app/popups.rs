//! `update` for the composer's popups: the `/` command list and the `@` file picker.
//! Both follow the text being typed; neither takes a key it does not use.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::file_picker::FilePicker;
use super::msg::Command;
use super::state::*;

/// Rows of the file picker.
pub const PICKER_ROWS: usize = 10;

/// The commands that fit the input while it is a partly typed `/command` (one word, no
/// space yet), best first; empty when the popup is not shown.
pub fn command_matches(s: &State) -> Vec<(&'static str, &'static str)> {
    // walking the input history, Up/Down belong to the history
    if s.view.focus != Focus::Input
        || s.composer.popup_closed
        || s.composer.history.is_walking()
        || s.composer.area.lines().len() != 1
    {
        return Vec::new();
    }
    let text = s.composer_text();
    if !text.starts_with('/') || text.starts_with("//") || text.contains(char::is_whitespace) {
        return Vec::new();
    }
    super::commands::COMMANDS
        .iter()
        .copied()
        .filter(|(c, _)| c.starts_with(text.as_str()))
        .collect()
}

/// Keys for an open popup; true when the key was used.
pub fn key(s: &mut State, key: &KeyEvent, cmds: &mut Vec<Command>) -> bool {
    if s.composer.file_picker.is_some() {
        return picker_key(s, key, cmds);
    }
    let matches = command_matches(s);
    if matches.is_empty() {
        return false;
    }
    let sel = s.composer.command_selected.min(matches.len() - 1);
    match key.code {
        KeyCode::Up => s.composer.command_selected = sel.saturating_sub(1),
        KeyCode::Down => s.composer.command_selected = (sel + 1).min(matches.len() - 1),
        KeyCode::Esc => s.composer.popup_closed = true,
        KeyCode::Tab => {
            s.composer.area = new_composer(&format!("{} ", matches[sel].0));
            s.composer.command_selected = 0;
        }
        KeyCode::Enter if key.modifiers.is_empty() => {
            s.composer.area = new_composer(matches[sel].0);
            s.composer.command_selected = 0;
            return false; // the caller sends it
        }
        _ => return false,
    }
    true
}

fn picker_key(s: &mut State, key: &KeyEvent, _cmds: &mut Vec<Command>) -> bool {
    let Some(picker) = s.composer.file_picker.as_mut() else {
        return false;
    };
    match key.code {
        KeyCode::Up => picker.move_selection(-1),
        KeyCode::Down => picker.move_selection(1),
        KeyCode::PageUp => picker.move_selection(-(PICKER_ROWS as isize)),
        KeyCode::PageDown => picker.move_selection(PICKER_ROWS as isize),
        KeyCode::Esc => {
            s.composer.file_picker = None;
            s.composer.popup_closed = true; // reused: no popup until the word changes
        }
        KeyCode::Tab | KeyCode::Enter if !key.modifiers.contains(KeyModifiers::SHIFT) => {
            let chosen = s
                .composer
                .file_index
                .as_deref()
                .and_then(|paths| picker.selected_path(paths))
                .map(str::to_owned);
            let typed_whole = chosen
                .as_deref()
                .is_some_and(|p| at_word(s).is_some_and(|w| w[1..] == *p));
            s.composer.file_picker = None;
            match chosen {
                Some(path) if !typed_whole => {
                    let typed = at_word(s).map_or(0, |w| w.chars().count());
                    for _ in 0..typed {
                        s.composer.area.delete_char();
                    }
                    if path.contains(char::is_whitespace) {
                        s.composer.area.insert_str(format!("@\"{path}\" "));
                    } else {
                        s.composer.area.insert_str(format!("@{path} "));
                    }
                }
                // nothing to choose, or the path is typed out: Enter sends, Tab does nothing
                _ => return key.code == KeyCode::Tab,
            }
        }
        _ => return false,
    }
    true
}

/// The `@word` being typed: from an `@` at the start or after whitespace up to the cursor.
fn at_word(s: &State) -> Option<String> {
    let c = s.composer.area.cursor();
    let (row, col) = (c.0, c.1);
    let line = s.composer.area.lines().get(row)?;
    let before: String = line.chars().take(col).collect();
    let start = before
        .char_indices()
        .rev()
        .find(|(_, c)| c.is_whitespace())
        .map_or(0, |(i, c)| i + c.len_utf8());
    let word = &before[start..];
    word.starts_with('@').then(|| word.to_owned())
}

/// After every edit of the composer: opens, narrows or closes the file picker, and
/// resets the popups' state when the text they were for is gone.
pub fn after_edit(s: &mut State, cmds: &mut Vec<Command>) {
    let text = s.composer_text();
    if !text.starts_with('/') {
        s.composer.command_selected = 0;
    }
    if s.composer.history.is_walking() {
        s.composer.file_picker = None;
        return;
    }
    let word = at_word(s);
    match word {
        Some(w) if !s.composer.popup_closed || s.composer.file_picker.is_some() => {
            let query = &w[1..];
            // `@path:10-40` is a range being typed: the picker's part is done
            if query.contains(':') {
                s.composer.file_picker = None;
                return;
            }
            // listed when the picker opens, so files made since are there; the last list
            // serves until the new one comes
            if s.composer.file_picker.is_none() && !s.composer.indexing {
                s.composer.indexing = true;
                cmds.push(Command::IndexFiles);
            }
            let picker = s.composer.file_picker.get_or_insert_with(FilePicker::new);
            if let Some(paths) = s.composer.file_index.as_deref() {
                picker.set_query(query, paths);
            } else {
                picker.set_query(query, &[]);
            }
        }
        Some(_) => {}
        None => {
            s.composer.file_picker = None;
            if !text.starts_with('/') {
                s.composer.popup_closed = false;
            }
        }
    }
}

/// The file index arrived: the open picker matches against it.
pub fn index_ready(s: &mut State, paths: Vec<String>) {
    s.composer.indexing = false;
    let paths = std::sync::Arc::new(paths);
    if let Some(p) = s.composer.file_picker.as_mut() {
        let q = p.query().to_owned();
        *p = FilePicker::new();
        p.set_query(&q, &paths);
    }
    s.composer.file_index = Some(paths);
}
