use super::*;
use ratatui::style::Color;
use unicode_width::UnicodeWidthStr;

fn dark() -> Theme {
    Theme::builtin("dark").unwrap()
}

fn texts(lines: &[Line]) -> Vec<String> {
    lines
        .iter()
        .map(|l| {
            l.spans
                .iter()
                .map(|s| s.content.as_ref())
                .collect::<String>()
        })
        .collect()
}

fn render(md: &str, width: u16) -> Vec<String> {
    let lines = render_markdown(md, width, &dark());
    check_width(&lines, width);
    texts(&lines)
}

fn check_width(lines: &[Line], width: u16) {
    for l in lines {
        let s: String = l.spans.iter().map(|s| s.content.as_ref()).collect();
        assert!(s.width() <= width as usize, "wider than {width}: {s:?}");
        assert!(!s.chars().any(|c| c.is_control()), "control char in {s:?}");
    }
}

/// Non-space characters, for "nothing was lost" checks.
fn letters(s: &str) -> String {
    s.chars().filter(|c| c.is_alphanumeric()).collect()
}

#[test]
fn paragraphs_and_headings() {
    let out = render(
        "# Title\n\nSome *emphasis* and **strong** and ~~gone~~.\n\n## Sub",
        80,
    );
    assert_eq!(
        out,
        [
            "# Title",
            "",
            "Some emphasis and strong and gone.",
            "",
            "## Sub"
        ]
    );
    let lines = render_markdown("# Title\n\n*em* **st** ~~x~~", 80, &dark());
    let theme = dark();
    assert_eq!(lines[0].spans[0].style.fg, Some(theme.colors.heading));
    assert!(
        lines[0].spans[0]
            .style
            .add_modifier
            .contains(Modifier::BOLD)
    );
    let find = |t: &str| {
        lines[2]
            .spans
            .iter()
            .find(|s| s.content == t)
            .unwrap()
            .style
    };
    assert!(find("em").add_modifier.contains(Modifier::ITALIC));
    assert!(find("st").add_modifier.contains(Modifier::BOLD));
    assert!(find("x").add_modifier.contains(Modifier::CROSSED_OUT));
}

#[test]
fn lists_indent_and_hang() {
    let md = "- one\n- two is a longer item that wraps\n  - nested item here\n- three\n\n1. first\n2. second";
    let out = render(md, 19);
    assert_eq!(
        out,
        [
            "• one",
            "• two is a longer",
            "  item that wraps",
            "  ◦ nested item",
            "    here",
            "• three",
            "",
            "1. first",
            "2. second",
        ]
    );
    let out = render("3. a\n4. b\n\n   para in b", 40);
    assert_eq!(out, ["3. a", "", "4. b", "", "   para in b"]);
    let out = render("- [x] done\n- [ ] todo", 40);
    assert_eq!(out, ["• [x] done", "• [ ] todo"]);
}

#[test]
fn quotes_have_a_gutter() {
    let out = render(
        "before\n\n> quoted text that is long enough to wrap\n>\n> second\n\nafter",
        20,
    );
    assert_eq!(
        out,
        [
            "before",
            "",
            "│ quoted text that",
            "│ is long enough to",
            "│ wrap",
            "│",
            "│ second",
            "",
            "after"
        ]
    );
}

#[test]
fn links_show_their_url() {
    let lines = render_markdown(
        "see [the docs](https://example.com/docs) or <https://x.y>",
        80,
        &dark(),
    );
    assert_eq!(
        texts(&lines),
        ["see the docs (https://example.com/docs) or https://x.y"]
    );
    let link = lines[0]
        .spans
        .iter()
        .find(|s| s.content == "the docs")
        .unwrap();
    assert_eq!(link.style.fg, Some(dark().colors.link));
    assert!(link.style.add_modifier.contains(Modifier::UNDERLINED));
    let url = lines[0]
        .spans
        .iter()
        .find(|s| s.content.contains("(https"))
        .unwrap();
    assert_eq!(url.style.fg, Some(dark().colors.dim));
    assert_eq!(render("![logo](a.png)", 80), ["[image: logo] (a.png)"]);
}

#[test]
fn inline_code_is_coloured() {
    let lines = render_markdown("run `cargo test` now", 80, &dark());
    let code = lines[0]
        .spans
        .iter()
        .find(|s| s.content == "cargo test")
        .unwrap();
    assert_eq!(code.style.fg, Some(dark().colors.inline_code));
    assert_eq!(
        texts(&render_markdown("a `b`", 80, &Theme::monochrome())),
        ["a `b`"]
    );
}

#[test]
fn rules_span_the_width() {
    let out = render("a\n\n---\n\nb", 10);
    assert_eq!(out, ["a", "", "──────────", "", "b"]);
}

#[test]
fn code_blocks_are_highlighted_on_a_background() {
    let theme = dark();
    for (lang, code) in [
        ("rust", "fn main() {\n    let x = 1;\n}"),
        ("toml", "[a]\nb = \"c\""),
        ("typescript", "const x: number = 1;"),
        ("dockerfile", "FROM alpine\nRUN echo hi"),
    ] {
        let md = format!("text\n\n```{lang}\n{code}\n```\n\nafter");
        let lines = render_markdown(&md, 40, &theme);
        check_width(&lines, 40);
        let out = texts(&lines);
        assert_eq!(out[2], lang, "label line");
        let n = code.lines().count();
        let body = &lines[3..3 + n];
        for (l, src) in body.iter().zip(code.lines()) {
            let s: String = l.spans.iter().map(|s| s.content.as_ref()).collect();
            assert_eq!(s.trim_end(), format!(" {src}"));
            assert_eq!(s.width(), 40, "padded to the width");
            assert!(
                l.spans
                    .iter()
                    .all(|s| s.style.bg == Some(theme.colors.code_bg))
            );
        }
        let fgs: std::collections::HashSet<Color> = body
            .iter()
            .flat_map(|l| l.spans.iter())
            .filter(|s| !s.content.trim().is_empty())
            .filter_map(|s| s.style.fg)
            .collect();
        assert!(fgs.len() >= 2, "{lang} has colours: {fgs:?}");
        assert_eq!(out[3 + n], "");
        assert_eq!(out[4 + n], "after");
    }
}

#[test]
fn code_wraps_marked_and_indented_code_works() {
    // no place to break: cut at the width, the rest marked as the same line
    let out = render("```\nabcdefghijklmnopqrstuvwxyz\n```", 10);
    assert_eq!(out, ["abcdefghij", "↪ klmnopqr", "↪ stuvwxyz"]);
    // a call breaks after a comma, and goes on at its own indentation
    let out = render("```\n    call(first_argument, second_argument);\n```", 34);
    let out: Vec<&str> = out.iter().map(|l| l.trim_end()).collect();
    assert_eq!(
        out,
        ["     call(first_argument,", "     ↪ second_argument);"]
    );
    let out = render("para\n\n    indented code\n", 40);
    assert_eq!(out[0], "para");
    assert_eq!(out[2].trim_end(), " indented code");
}

#[test]
fn unclosed_fence_is_code_so_far() {
    let theme = dark();
    let lines = render_markdown(
        "Here:\n\n```rust\nfn main() {\n    let x = \"# not a heading",
        40,
        &theme,
    );
    let out = texts(&lines);
    assert_eq!(out[2], "rust");
    assert_eq!(out[3].trim_end(), " fn main() {");
    assert_eq!(out[4].trim_end(), "     let x = \"# not a heading");
    assert!(
        lines[4]
            .spans
            .iter()
            .all(|s| s.style.bg == Some(theme.colors.code_bg))
    );
}

#[test]
fn tables_align() {
    let md = "| name | n | centre |\n|:-----|--:|:------:|\n| alpha | 1 | x |\n| b | 100 | yyyyy |";
    let out = render(md, 80);
    assert_eq!(
        out,
        [
            "name     n  centre",
            "─────  ───  ──────",
            "alpha    1    x",
            "b      100  yyyyy",
        ]
    );
    let lines = render_markdown(md, 80, &dark());
    assert!(
        lines[0]
            .spans
            .iter()
            .any(|s| s.content == "name" && s.style.add_modifier.contains(Modifier::BOLD))
    );
    // Too wide: rows wrap.
    let out = render(md, 12);
    assert_eq!(out[0], "name │ n │");
    assert!(out.iter().any(|l| l.starts_with("────")));
    assert_eq!(
        letters(&out.concat()),
        letters("namencentrealpha1xb100yyyyy")
    );
}

#[test]
fn control_characters_are_neutralised() {
    let md = "evil \u{1b}]52;c;eHg=\u{7} and &#27;[2J and &#x202e; \r\nnext\n\n```sh\necho \u{1b}[31m\n```";
    for width in [5, 80] {
        for l in render(md, width) {
            assert!(!l.contains('\u{1b}') && !l.contains('\u{202e}'), "{l:?}");
        }
    }
}

#[test]
fn streaming_prefixes_never_panic_or_lose_text() {
    let md = "# Plan 日本語\n\nSome **bold** text with `code` and a [link](http://a.b).\n\n\
              - item one\n- item two\n  1. nested\n  2. more\n\n\
              | a | b |\n|---|---|\n| 1 | 2 |\n| 3 | 4 |\n\n\
              > quote 😀\n\n```rust\nfn main() {}\n```\n\nDone.\n";
    let chars: Vec<(usize, char)> = md.char_indices().collect();
    for &(i, _) in &chars {
        let part = &md[..i];
        for width in [1u16, 3, 8, 80] {
            let lines = render_markdown(part, width, &dark());
            check_width(&lines, width);
            if width == 80 {
                let got = letters(&texts(&lines).concat());
                let want = letters(part);
                // Every letter typed so far is shown (URLs repeat, so check containment in order).
                let mut g = got.chars();
                assert!(
                    want.chars().all(|c| g.any(|x| x == c)),
                    "lost text at {i}: {part:?} -> {got:?}"
                );
            }
        }
    }
}

#[test]
fn never_wider_than_width_for_random_input() {
    let pool = [
        "word ",
        "日本語のテキスト",
        "😀 ",
        "❤️",
        "supercalifragilisticexpialidocious ",
        "\n",
        "\n\n",
        "- ",
        "1. ",
        "> ",
        "`code` ",
        "**b** ",
        "[l](http://x.y/zzzzzzzzzzzzzzzzzz) ",
        "```rust\nlet x = \"長い\";\n```\n",
        "| a | 表 |\n|---|---|\n| 1 | 2 |\n",
        "  ",
        "\t",
        "# h ",
        "---\n",
        "e\u{301}",
        "한국어 ",
    ];
    let mut seed = 7u64;
    for _ in 0..60 {
        let mut s = String::new();
        for _ in 0..40 {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            s.push_str(pool[(seed >> 33) as usize % pool.len()]);
        }
        for width in (1..=12).chain([80]) {
            render(&s, width);
        }
    }
}

#[test]
fn long_message_renders_fast() {
    let mut md = String::new();
    for i in 0..100 {
        md.push_str(&format!(
            "## Section {i}\n\nSome prose with **bold**, `code`, and a [link](http://example.com/{i}). "
        ));
        md.push_str(
            "It goes on for a while so that it has to wrap across several lines of output.\n\n",
        );
        md.push_str("- a list item\n- another one with more words in it\n  - nested\n\n");
        md.push_str(&format!(
            "```rust\nfn f(x: u32) -> u32 {{\n    x + {i}\n}}\n```\n\n"
        ));
        md.push_str("| k | v |\n|---|---|\n| a | 1 |\n\n> a quote\n\n");
    }
    assert!(md.lines().count() >= 2_000, "{}", md.lines().count());
    let theme = dark();
    highlight::warm_up();
    // The first layout highlights every block (slow in debug builds: syntect).
    let start = std::time::Instant::now();
    let first = render_markdown(&md, 80, &theme);
    let cold = start.elapsed();
    // While the reply streams, each new token lays the whole message out again.
    md.push_str("And one more sentence arrives");
    let start = std::time::Instant::now();
    let lines = render_markdown(&md, 80, &theme);
    let warm = start.elapsed();
    check_width(&lines, 80);
    assert_eq!(lines.len(), first.len() + 2);
    // The cached highlighting makes the re-layout much cheaper than the first, whatever
    // the machine's load (absolute time is the release benchmark's job).
    assert!(
        warm * 2 < cold || warm.as_millis() < 50,
        "took {warm:?} (first layout {cold:?})"
    );
}

#[test]
fn tiny_widths_work() {
    let md =
        "# Heading\n\n- > nested `quote` 日本\n\n```\ncode\n```\n\n| a | b |\n|---|---|\n| 1 | 2 |";
    for width in 0..10 {
        let lines = render_markdown(md, width, &dark());
        check_width(&lines, width.max(1));
    }
}

#[test]
fn single_newlines_in_a_reply_are_kept() {
    let lines = render("first line\nsecond line\nthird line", 80);
    assert_eq!(
        lines,
        ["first line", "second line", "third line"],
        "{lines:?}"
    );
}
