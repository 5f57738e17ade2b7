//! The diff pane as drawn (ratatui TestBackend): a queued Rust edit with two hunks, unified
//! and side by side, at 120x40, 80x24 and 40x20; a Python change with a hunk left out; and
//! the colours: syntax highlighting under the diff backgrounds, changed words marked.

mod tui_support;

use cove::app::state::{Focus, State};
use cove::app::{Msg, update};
use cove::config::theme::Theme;
use cove::protocol::{AgentEvent, ApprovalRequest, ProposedChange};
use crossterm::event::KeyCode;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use tui_support::*;

const RUST_OLD: &str = "use std::fmt;\n\npub struct Point {\n    x: i32,\n    y: i32,\n}\n\nimpl Point {\n    pub fn new(x: i32, y: i32) -> Self {\n        Point { x, y }\n    }\n\n    pub fn norm(&self) -> i32 {\n        self.x.abs() + self.y.abs()\n    }\n}\n\nfn main() {\n    let p = Point::new(3, 4);\n    println!(\"{}\", p.norm());\n}\n";

fn rust_new() -> String {
    RUST_OLD
        .replace("        Point { x, y }", "        Point { x: x.max(0), y }")
        .replace(
            "    println!(\"{}\", p.norm());",
            "    println!(\"norm = {}\", p.norm());",
        )
}

const PY_OLD: &str = "import sys\n\n\ndef main(argv):\n    name = argv[1]\n    print('hello', name)\n    return 0\n\n\nclass Greeter:\n    \"\"\"Says hello.\"\"\"\n\n    def __init__(self, name):\n        self.name = name\n\n    def greet(self):\n        return 'hello ' + self.name\n\n\ndef unused():\n    pass\n\n\nif __name__ == '__main__':\n    sys.exit(main(sys.argv))\n";

fn py_new() -> String {
    PY_OLD
        .replace(
            "    name = argv[1]",
            "    name = argv[1] if len(argv) > 1 else 'world'",
        )
        .replace(
            "def unused():\n    pass\n",
            "def unused():\n    return None\n",
        )
}

fn queued(path: &str, old: &str, new: &str, theme: Theme, w: u16) -> State {
    let mut s = state_with(theme);
    s.view.size = (w, 40);
    type_text(&mut s, "fix it");
    update(&mut s, key(KeyCode::Enter));
    let request = ApprovalRequest {
        call_id: "c1".into(),
        tool: "edit_file".into(),
        kind: cove::protocol::ApprovalKind::Files { in_editor: true },
        arguments: "{}".into(),
        edit_text: "{}".into(),
        summary: format!("{path} +2 -2"),
        danger: None,
        changes: vec![ProposedChange {
            path: path.into(),
            old: Some(old.into()),
            new: Some(new.into()),
        }],
        session_prefix: None,
    };
    update(
        &mut s,
        agent(AgentEvent::ApprovalNeeded { turn: 1, request }),
    );
    s.view.focus = Focus::Diff;
    s.view.main_tab = Focus::Diff;
    s.flash = None;
    s
}

fn draw(s: &mut State, w: u16, h: u16) -> Buffer {
    s.view.size = (w, h);
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| cove::ui::render(f, s)).unwrap();
    t.backend().buffer().clone()
}

fn text(buf: &Buffer) -> String {
    let area = buf.area;
    let mut out = String::new();
    for y in 0..area.height {
        let line: String = (0..area.width)
            .map(|x| buf[(x, y)].symbol().to_owned())
            .collect();
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

#[test]
fn rust_edit_unified_and_side_by_side_at_three_sizes() {
    for (w, h) in [(120u16, 40u16), (80, 24), (40, 20)] {
        let mut s = queued(
            "src/point.rs",
            RUST_OLD,
            &rust_new(),
            Theme::monochrome(),
            w,
        );
        insta::assert_snapshot!(
            format!("diff_rust_unified_{w}x{h}"),
            text(&draw(&mut s, w, h))
        );
        update(&mut s, key(KeyCode::Char('s')));
        s.flash = None;
        insta::assert_snapshot!(
            format!("diff_rust_side_by_side_{w}x{h}"),
            text(&draw(&mut s, w, h))
        );
    }
}

#[test]
fn python_change_with_the_first_hunk_left_out() {
    let mut s = queued("app/main.py", PY_OLD, &py_new(), Theme::monochrome(), 120);
    update(&mut s, key(KeyCode::Char(' ')));
    update(&mut s, key(KeyCode::Char(']')));
    s.flash = None;
    let screen = text(&draw(&mut s, 120, 40));
    assert!(
        screen.contains("[ ] hunk 1") && screen.contains("[x] hunk 2"),
        "{screen}"
    );
    assert!(screen.contains("hunk 2/2 · 1 taken"), "{screen}");
    insta::assert_snapshot!("diff_python_hunk_declined_120x40", screen);
}

#[test]
fn code_is_highlighted_under_the_diff_colours_and_changed_words_marked() {
    let theme = Theme::builtin("dark").unwrap();
    let (add_bg, add_word_bg) = (theme.colors.diff_add_bg, theme.colors.diff_add_word_bg);
    for (path, old, new, needle) in [
        ("src/point.rs", RUST_OLD, rust_new(), "x.max(0)"),
        ("app/main.py", PY_OLD, py_new(), "if len(argv)"),
    ] {
        let mut s = queued(path, old, &new, theme.clone(), 120);
        let buf = draw(&mut s, 120, 40);
        let screen = text(&buf);
        let (row, line) = screen
            .lines()
            .enumerate()
            .find(|(_, l)| l.contains(needle) && l.contains('+'))
            .unwrap_or_else(|| panic!("{needle} not on screen:\n{screen}"));
        let col = line.find('+').unwrap();
        let cells: Vec<_> = (col as u16..120).map(|x| &buf[(x, row as u16)]).collect();
        let fgs: std::collections::HashSet<_> = cells
            .iter()
            .filter(|c| !c.symbol().trim().is_empty())
            .map(|c| c.fg)
            .collect();
        assert!(
            fgs.len() >= 3,
            "{path}: syntax colours on the added line: {fgs:?}"
        );
        assert!(
            cells.iter().any(|c| c.bg == add_bg),
            "{path}: the added line's background"
        );
        assert!(
            cells.iter().any(|c| c.bg == add_word_bg),
            "{path}: changed words marked"
        );
    }
}

#[test]
fn the_live_change_shows_while_it_streams() {
    use cove::protocol::StreamEvent;
    let mut s = state_with(Theme::monochrome());
    type_text(&mut s, "edit");
    update(&mut s, key(KeyCode::Enter));
    let ev = |e: StreamEvent| Msg::Agent(AgentEvent::Stream { turn: 1, event: e });
    update(
        &mut s,
        ev(StreamEvent::ToolCallStart {
            index: 0,
            id: "c1".into(),
            name: "edit_file".into(),
        }),
    );
    update(&mut s, ev(StreamEvent::ToolCallArgs { index: 0, fragment: r#"{"path":"src/point.rs","old_string":"        Point { x, y }\n","new_string":"        Point { x: x.m"#.into() }));
    update(
        &mut s,
        agent(AgentEvent::LiveBase {
            turn: 1,
            index: 0,
            path: "src/point.rs".into(),
            text: Ok(Some(RUST_OLD.into())),
        }),
    );
    let screen = text(&draw(&mut s, 120, 40));
    assert!(
        screen.contains("writing: edit_file src/point.rs"),
        "{screen}"
    );
    assert!(screen.contains("+         Point { x: x.m"), "{screen}");
    assert!(screen.contains("-         Point { x, y }"), "{screen}");
    insta::assert_snapshot!("diff_live_edit_120x40", screen);
}

#[test]
fn enter_shows_more_of_the_file_around_each_hunk() {
    let mut s = queued(
        "src/point.rs",
        RUST_OLD,
        &rust_new(),
        Theme::monochrome(),
        120,
    );
    let before = text(&draw(&mut s, 120, 40));
    assert!(!before.contains("use std::fmt;"), "{before}");
    update(&mut s, key(KeyCode::Enter));
    s.flash = None;
    let after = text(&draw(&mut s, 120, 40));
    assert!(after.contains(" 1  1   use std::fmt;"), "{after}");
    assert!(
        after.contains("16 16   }"),
        "the lines after the hunk, numbered: {after}"
    );
    assert!(
        !s.is_running() || s.queue.items.len() == 1,
        "Enter did not approve or send"
    );
    insta::assert_snapshot!("diff_rust_expanded_120x40", after);
}

#[test]
fn a_window_draws_the_same_rows_as_the_whole_and_nothing_else() {
    use cove::ui::diff_view::{Look, draw};
    let theme = Theme::builtin("dark").unwrap();
    let old: String = (0..3_000).map(|i| format!("x = {i}\n")).collect();
    let new = old
        .replace("x = 10\n", "x = ten\n")
        .replace("x = 2000\n", "y = 2000\n");
    let new: String = new + &(0..2_000).map(|i| format!("z = {i}\n")).collect::<String>();
    let hunks = cove::domain::patch::diff_hunks(&old, &new, 3);
    let plain = |l: &ratatui::text::Line| {
        l.spans
            .iter()
            .map(|s| s.content.to_string())
            .collect::<String>()
    };
    for side_by_side in [false, true] {
        let whole = draw(
            "a.py",
            Some(&old),
            &hunks,
            Look {
                side_by_side,
                ..Default::default()
            },
            80,
            &theme,
        );
        for (first, n) in [
            (0usize, 30usize),
            (20, 10),
            (1_000, 40),
            (whole.lines.len() - 25, 40),
        ] {
            let look = Look {
                side_by_side,
                window: Some((first, n)),
                ..Default::default()
            };
            let part = draw("a.py", Some(&old), &hunks, look, 80, &theme);
            assert_eq!(part.lines.len(), whole.lines.len(), "row numbers stay true");
            assert_eq!(part.hunk_rows, whole.hunk_rows);
            for r in first..(first + n).min(whole.lines.len()) {
                assert_eq!(
                    plain(&part.lines[r]),
                    plain(&whole.lines[r]),
                    "row {r} (side by side {side_by_side})"
                );
            }
        }
    }
}

#[test]
fn page_down_scrolls_a_long_queued_diff() {
    let mut s = queued(
        "src/point.rs",
        RUST_OLD,
        &rust_new(),
        Theme::monochrome(),
        80,
    );
    let before = text(&draw(&mut s, 80, 24));
    assert!(!before.contains("21 21"), "{before}");
    update(&mut s, key(KeyCode::PageDown));
    let after = text(&draw(&mut s, 80, 24));
    assert!(after.contains("21 21   }"), "{after}");
    // moving to another hunk brings the view back to the cursor
    update(&mut s, key(KeyCode::Char(']')));
    assert_eq!(s.diff.scroll, 0);
}
