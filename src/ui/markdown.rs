//! Markdown (CommonMark with tables, strikethrough and task lists) into styled lines
//! already wrapped to a width, for model replies.
//!
//! - Headings keep their `#` marks, bold in `colors.heading`.
//! - Lists hang their wrapped lines under the text (`•`, `◦`, `▪` by depth; `1.`).
//! - Block quotes get a dim `│ ` gutter; links show ` (url)` after the text when it
//!   differs; inline code is in `colors.inline_code` (with backticks under `NO_COLOR`).
//! - Code blocks are highlighted by language on `colors.code_bg` with a dim label line,
//!   wrapped hard at the width; tables are aligned text with a rule under the header and
//!   fall back to wrapped rows when too wide.
//!
//! Text that is still streaming renders as it stands: an unclosed fence is code so far, a
//! half-written table or list is text. Everything from the model is untrusted: control
//! characters are neutralised (also those made by entities such as `&#27;`).

use pulldown_cmark::{Alignment, CodeBlockKind, Event, HeadingLevel, Options, Parser, Tag, TagEnd};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};

use super::highlight;
use super::wrap::{content_width, text_width, wrap_chars, wrap_words};
use crate::config::theme::Theme;
use crate::domain::text::neutralize_controls;

/// Renders `text` as lines no wider than `width` columns.
pub fn render_markdown(text: &str, width: u16, theme: &Theme) -> Vec<Line<'static>> {
    let text = neutralize_controls(text);
    let mut options = Options::empty();
    options.insert(Options::ENABLE_TABLES);
    options.insert(Options::ENABLE_STRIKETHROUGH);
    options.insert(Options::ENABLE_TASKLISTS);
    let mut r = Renderer::new(theme, width.max(1) as usize);
    for event in Parser::new_ext(&text, options) {
        r.event(event);
    }
    r.finish()
}

const BULLETS: [&str; 3] = ["• ", "◦ ", "▪ "];

enum Container {
    Quote,
    Item { marker: String, used: bool },
}

struct CodeBuf {
    lang: String,
    text: String,
}

struct TableBuf {
    aligns: Vec<Alignment>,
    rows: Vec<Vec<Vec<Span<'static>>>>,
    row: Vec<Vec<Span<'static>>>,
}

struct Renderer<'t> {
    theme: &'t Theme,
    width: usize,
    out: Vec<Line<'static>>,
    containers: Vec<Container>,
    /// Next number of each open list (`None` for bullets).
    lists: Vec<Option<u64>>,
    inline: Vec<Span<'static>>,
    styles: Vec<Style>,
    links: Vec<(usize, String)>,
    code: Option<CodeBuf>,
    table: Option<TableBuf>,
    need_blank: bool,
}

impl<'t> Renderer<'t> {
    fn new(theme: &'t Theme, width: usize) -> Self {
        Renderer {
            theme,
            width,
            out: Vec::new(),
            containers: Vec::new(),
            lists: Vec::new(),
            inline: Vec::new(),
            styles: vec![theme.style(theme.colors.fg)],
            links: Vec::new(),
            code: None,
            table: None,
            need_blank: false,
        }
    }

    fn style(&self) -> Style {
        self.styles.last().copied().unwrap_or_default()
    }

    fn push_style(&mut self, patch: Style) {
        let s = self.style().patch(patch);
        self.styles.push(s);
    }

    fn pop_style(&mut self) {
        if self.styles.len() > 1 {
            self.styles.pop();
        }
    }

    fn dim(&self) -> Style {
        self.theme.style(self.theme.colors.dim)
    }

    fn push_text(&mut self, text: &str, style: Style) {
        if text.is_empty() {
            return;
        }
        let text = neutralize_controls(text);
        match self.inline.last_mut() {
            Some(last) if last.style == style => last.content.to_mut().push_str(&text),
            _ => self.inline.push(Span::styled(text.into_owned(), style)),
        }
    }

    /// The prefixes for a block's first and following lines.
    fn prefixes(&self) -> (Vec<Span<'static>>, Vec<Span<'static>>) {
        let mut first = Vec::new();
        let mut rest = Vec::new();
        for c in &self.containers {
            match c {
                Container::Quote => {
                    first.push(Span::styled("│ ", self.dim()));
                    rest.push(Span::styled("│ ", self.dim()));
                }
                Container::Item { marker, used } => {
                    let pad = " ".repeat(text_width(marker));
                    if *used {
                        first.push(Span::raw(pad.clone()));
                    } else {
                        first.push(Span::styled(
                            marker.clone(),
                            self.theme.style(self.theme.colors.accent),
                        ));
                    }
                    rest.push(Span::raw(pad));
                }
            }
        }
        (first, rest)
    }

    fn emit(&mut self, lines: Vec<Line<'static>>) {
        self.out.extend(lines);
        for c in &mut self.containers {
            if let Container::Item { used, .. } = c {
                *used = true;
            }
        }
    }

    fn blank_if_needed(&mut self) {
        if !self.need_blank {
            return;
        }
        self.need_blank = false;
        if self.out.is_empty() {
            return;
        }
        let (_, mut rest) = self.prefixes();
        while let Some(last) = rest.last_mut() {
            let trimmed = last.content.trim_end().to_owned();
            if trimmed.is_empty() {
                rest.pop();
            } else {
                last.content = trimmed.into();
                break;
            }
        }
        self.out.push(Line::from(rest));
    }

    /// Lays out pending inline text (a paragraph, heading, or a tight list item's text).
    fn flush_inline(&mut self) {
        while let Some(last) = self.inline.last_mut() {
            let trimmed = last.content.trim_end_matches(['\n', ' ']);
            if trimmed.is_empty() {
                self.inline.pop();
            } else {
                if trimmed.len() != last.content.len() {
                    last.content = trimmed.to_owned().into();
                }
                break;
            }
        }
        if self.inline.is_empty() {
            return;
        }
        self.blank_if_needed();
        let (first, rest) = self.prefixes();
        let lines = wrap_words(&std::mem::take(&mut self.inline), self.width, &first, &rest);
        self.emit(lines);
    }

    /// Before a block: pending text first, then the blank line that separates blocks.
    fn start_block(&mut self) {
        self.flush_inline();
        self.blank_if_needed();
    }

    fn event(&mut self, event: Event<'_>) {
        if let Some(code) = &mut self.code {
            match event {
                Event::Text(t) | Event::Html(t) | Event::InlineHtml(t) | Event::Code(t) => {
                    code.text.push_str(&t);
                    return;
                }
                Event::End(TagEnd::CodeBlock) => {
                    if let Some(code) = self.code.take() {
                        self.code_block(&code);
                    }
                    self.need_blank = true;
                    return;
                }
                _ => {}
            }
        }
        match event {
            Event::Start(tag) => self.start(tag),
            Event::End(tag) => self.end(tag),
            Event::Text(t) => self.push_text(&t, self.style()),
            Event::Code(t) => {
                let style = self
                    .style()
                    .patch(self.theme.style(self.theme.colors.inline_code));
                if self.theme.no_color {
                    self.push_text(&format!("`{t}`"), style);
                } else {
                    self.push_text(&t, style);
                }
            }
            Event::Html(t) | Event::InlineHtml(t) => self.push_text(&t, self.style()),
            Event::InlineMath(t) | Event::DisplayMath(t) => self.push_text(&t, self.style()),
            Event::FootnoteReference(t) => self.push_text(&format!("[^{t}]"), self.style()),
            Event::SoftBreak => self.push_text(" ", self.style()),
            Event::HardBreak => self.push_text("\n", self.style()),
            Event::TaskListMarker(done) => {
                let style = self.theme.style(self.theme.colors.accent);
                self.push_text(if done { "[x] " } else { "[ ] " }, style);
            }
            Event::Rule => {
                self.start_block();
                let (first, rest) = self.prefixes();
                let rule = "─".repeat(content_width(&first, self.width));
                let style = self.theme.style(self.theme.colors.border);
                let mut lines = wrap_chars(
                    &[Span::styled(rule, style)],
                    self.width,
                    &first,
                    &rest,
                    None,
                );
                lines.truncate(1);
                self.emit(lines);
                self.need_blank = true;
            }
        }
    }

    fn start(&mut self, tag: Tag<'_>) {
        match tag {
            Tag::Paragraph => self.start_block(),
            Tag::Heading { level, .. } => {
                self.start_block();
                let style = self
                    .theme
                    .style(self.theme.colors.heading)
                    .add_modifier(Modifier::BOLD);
                self.push_style(style);
                let n = heading_level(level);
                self.push_text(&format!("{} ", "#".repeat(n)), self.style());
            }
            Tag::BlockQuote(_) => {
                self.start_block();
                self.containers.push(Container::Quote);
                self.push_style(self.dim());
            }
            Tag::CodeBlock(kind) => {
                self.start_block();
                let lang = match kind {
                    CodeBlockKind::Fenced(info) => neutralize_controls(&info).into_owned(),
                    CodeBlockKind::Indented => String::new(),
                };
                self.code = Some(CodeBuf {
                    lang,
                    text: String::new(),
                });
            }
            Tag::HtmlBlock => self.start_block(),
            Tag::List(start) => {
                self.start_block();
                self.lists.push(start);
            }
            Tag::Item => {
                self.flush_inline();
                let depth = self.lists.len().saturating_sub(1);
                let marker = match self.lists.last_mut() {
                    Some(Some(n)) => {
                        let m = format!("{n}. ");
                        *n = n.saturating_add(1);
                        m
                    }
                    _ => BULLETS[depth % BULLETS.len()].to_owned(),
                };
                self.containers.push(Container::Item {
                    marker,
                    used: false,
                });
            }
            Tag::Table(aligns) => {
                self.start_block();
                self.table = Some(TableBuf {
                    aligns,
                    rows: Vec::new(),
                    row: Vec::new(),
                });
            }
            Tag::TableHead | Tag::TableRow => {
                if let Some(t) = &mut self.table {
                    t.row.clear();
                }
            }
            Tag::TableCell => self.inline.clear(),
            Tag::Emphasis => self.push_style(Style::default().add_modifier(Modifier::ITALIC)),
            Tag::Strong => self.push_style(Style::default().add_modifier(Modifier::BOLD)),
            Tag::Strikethrough => {
                self.push_style(Style::default().add_modifier(Modifier::CROSSED_OUT))
            }
            Tag::Link { dest_url, .. } => {
                self.links.push((
                    self.inline.len(),
                    neutralize_controls(&dest_url).into_owned(),
                ));
                let style = self
                    .theme
                    .style(self.theme.colors.link)
                    .add_modifier(Modifier::UNDERLINED);
                self.push_style(style);
                // A new span, so the link text can be found again at its end.
                self.inline.push(Span::styled(String::new(), self.style()));
            }
            Tag::Image { dest_url, .. } => {
                let style = self.theme.style(self.theme.colors.link);
                self.push_style(style);
                self.push_text("[image: ", self.style());
                self.links.push((
                    self.inline.len(),
                    neutralize_controls(&dest_url).into_owned(),
                ));
                self.inline.push(Span::styled(String::new(), self.style()));
            }
            Tag::FootnoteDefinition(_)
            | Tag::DefinitionList
            | Tag::DefinitionListTitle
            | Tag::DefinitionListDefinition
            | Tag::MetadataBlock(_) => self.start_block(),
            Tag::Superscript | Tag::Subscript => self.push_style(Style::default()),
        }
    }

    fn end(&mut self, tag: TagEnd) {
        match tag {
            TagEnd::Paragraph | TagEnd::HtmlBlock => {
                self.flush_inline();
                self.need_blank = true;
            }
            TagEnd::Heading(_) => {
                self.flush_inline();
                self.pop_style();
                self.need_blank = true;
            }
            TagEnd::BlockQuote(_) => {
                self.flush_inline();
                if matches!(self.containers.last(), Some(Container::Quote)) {
                    self.containers.pop();
                }
                self.pop_style();
                self.need_blank = true;
            }
            TagEnd::CodeBlock => {}
            TagEnd::List(_) => {
                self.flush_inline();
                self.lists.pop();
                let nested = self
                    .containers
                    .iter()
                    .any(|c| matches!(c, Container::Item { .. }));
                if !nested {
                    self.need_blank = true;
                }
            }
            TagEnd::Item => {
                self.flush_inline();
                if let Some(Container::Item { used: false, .. }) = self.containers.last() {
                    // An empty item (often one still being typed): show its marker.
                    self.blank_if_needed();
                    let (first, _) = self.prefixes();
                    let lines = wrap_chars(&[], self.width, &first, &[], None);
                    self.emit(lines);
                }
                if matches!(self.containers.last(), Some(Container::Item { .. })) {
                    self.containers.pop();
                }
            }
            TagEnd::Table => {
                if let Some(t) = self.table.take() {
                    self.table_block(t);
                }
                self.need_blank = true;
            }
            TagEnd::TableHead | TagEnd::TableRow => {
                if let Some(t) = &mut self.table {
                    let row = std::mem::take(&mut t.row);
                    t.rows.push(row);
                }
            }
            TagEnd::TableCell => {
                let cell = std::mem::take(&mut self.inline);
                match &mut self.table {
                    Some(t) => t.row.push(cell),
                    None => self.inline = cell,
                }
            }
            TagEnd::Emphasis
            | TagEnd::Strong
            | TagEnd::Strikethrough
            | TagEnd::Superscript
            | TagEnd::Subscript => self.pop_style(),
            TagEnd::Link | TagEnd::Image => {
                self.pop_style();
                let image = matches!(tag, TagEnd::Image);
                if image {
                    self.push_text(
                        "]",
                        self.style().patch(self.theme.style(self.theme.colors.link)),
                    );
                }
                if let Some((start, url)) = self.links.pop() {
                    let shown: String = self
                        .inline
                        .get(start..)
                        .unwrap_or_default()
                        .iter()
                        .map(|s| s.content.as_ref())
                        .collect();
                    let same = shown == url
                        || url.strip_prefix("mailto:") == Some(shown.as_str())
                        || url.is_empty();
                    if !same {
                        self.inline
                            .push(Span::styled(format!(" ({url})"), self.dim()));
                    }
                }
            }
            TagEnd::FootnoteDefinition
            | TagEnd::DefinitionList
            | TagEnd::DefinitionListTitle
            | TagEnd::DefinitionListDefinition
            | TagEnd::MetadataBlock(_) => {
                self.flush_inline();
                self.need_blank = true;
            }
        }
    }

    fn code_block(&mut self, code: &CodeBuf) {
        let theme = self.theme;
        let (mut first, mut rest) = self.prefixes();
        let label = highlight::lang_token(&code.lang);
        if !label.is_empty() {
            let lines = wrap_chars(
                &[Span::styled(label, self.dim())],
                self.width,
                &first,
                &rest,
                None,
            );
            self.emit(lines);
            first = rest.clone();
        }
        let bg = theme.with_bg(Style::default(), theme.colors.code_bg);
        if content_width(&rest, self.width) >= 16 {
            first.push(Span::styled(" ", bg));
            rest.push(Span::styled(" ", bg));
        }
        let fill = (!theme.no_color).then_some(bg);
        let mut lines = highlight::global().highlight(&code.text, &code.lang, theme);
        if lines.is_empty() {
            lines.push(Line::default());
        }
        let mut out = Vec::with_capacity(lines.len());
        for (i, line) in lines.into_iter().enumerate() {
            let spans: Vec<Span<'static>> = line
                .spans
                .into_iter()
                .map(|s| {
                    let style = theme.with_bg(s.style, theme.colors.code_bg);
                    s.style(style)
                })
                .collect();
            let p = if i == 0 { &first } else { &rest };
            out.extend(wrap_chars(&spans, self.width, p, &rest, fill));
        }
        self.emit(out);
    }

    fn table_block(&mut self, t: TableBuf) {
        let (first, rest) = self.prefixes();
        let avail = content_width(&rest, self.width).min(content_width(&first, self.width));
        let ncols = t
            .rows
            .iter()
            .map(Vec::len)
            .max()
            .unwrap_or(0)
            .max(t.aligns.len());
        if ncols == 0 || t.rows.is_empty() {
            return;
        }
        let bold = Style::default().add_modifier(Modifier::BOLD);
        let rows: Vec<Vec<Vec<Span<'static>>>> = t
            .rows
            .into_iter()
            .enumerate()
            .map(|(r, row)| {
                row.into_iter()
                    .map(|cell| {
                        cell.into_iter()
                            .map(|mut s| {
                                if s.content.contains('\n') {
                                    s.content = s.content.replace('\n', " ").into();
                                }
                                if r == 0 {
                                    s.style = s.style.patch(bold);
                                }
                                s
                            })
                            .collect()
                    })
                    .collect()
            })
            .collect();
        let cell_w = |cell: &Vec<Span<'static>>| -> usize {
            cell.iter().map(|s| text_width(&s.content)).sum()
        };
        let mut widths = vec![0usize; ncols];
        for row in &rows {
            for (i, cell) in row.iter().enumerate() {
                widths[i] = widths[i].max(cell_w(cell));
            }
        }
        const GAP: usize = 2;
        let total = widths.iter().sum::<usize>() + GAP * (ncols - 1);
        let rule_style = self.theme.style(self.theme.colors.border);
        let mut out = Vec::new();
        let mut prefix = &first;
        if total <= avail {
            for (r, row) in rows.iter().enumerate() {
                let mut spans = Vec::new();
                for (i, &w) in widths.iter().enumerate() {
                    let empty = Vec::new();
                    let cell = row.get(i).unwrap_or(&empty);
                    let pad = w - cell_w(cell);
                    let last = i + 1 == ncols;
                    let (left, right) = match t.aligns.get(i).copied().unwrap_or(Alignment::None) {
                        Alignment::Right => (pad, 0),
                        Alignment::Center => (pad / 2, pad - pad / 2),
                        Alignment::Left | Alignment::None => (0, pad),
                    };
                    if left > 0 {
                        spans.push(Span::raw(" ".repeat(left)));
                    }
                    spans.extend(cell.iter().cloned());
                    if !last {
                        spans.push(Span::raw(" ".repeat(right + GAP)));
                    }
                }
                out.extend(wrap_chars(&spans, self.width, prefix, &rest, None));
                prefix = &rest;
                if r == 0 {
                    let rule = widths
                        .iter()
                        .map(|&w| "─".repeat(w))
                        .collect::<Vec<_>>()
                        .join(&" ".repeat(GAP));
                    out.extend(wrap_chars(
                        &[Span::styled(rule, rule_style)],
                        self.width,
                        &rest,
                        &rest,
                        None,
                    ));
                }
            }
        } else {
            let sep = Span::styled(" │ ", self.dim());
            for (r, row) in rows.iter().enumerate() {
                let mut spans = Vec::new();
                for (i, cell) in row.iter().enumerate() {
                    if i > 0 {
                        spans.push(sep.clone());
                    }
                    spans.extend(cell.iter().cloned());
                }
                out.extend(wrap_words(&spans, self.width, prefix, &rest));
                prefix = &rest;
                if r == 0 {
                    out.extend(wrap_chars(
                        &[Span::styled("─".repeat(avail), rule_style)],
                        self.width,
                        &rest,
                        &rest,
                        None,
                    ));
                }
            }
        }
        self.emit(out);
    }

    fn finish(mut self) -> Vec<Line<'static>> {
        if let Some(code) = self.code.take() {
            self.flush_inline();
            self.code_block(&code);
        }
        if let Some(mut t) = self.table.take() {
            if !t.row.is_empty() {
                let row = std::mem::take(&mut t.row);
                t.rows.push(row);
            }
            self.table_block(t);
        }
        self.flush_inline();
        self.out
    }
}

fn heading_level(level: HeadingLevel) -> usize {
    match level {
        HeadingLevel::H1 => 1,
        HeadingLevel::H2 => 2,
        HeadingLevel::H3 => 3,
        HeadingLevel::H4 => 4,
        HeadingLevel::H5 => 5,
        HeadingLevel::H6 => 6,
    }
}

#[cfg(test)]
mod tests {
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
    fn code_wraps_hard_and_indented_code_works() {
        let out = render("```\nabcdefghijklmnopqrstuvwxyz\n```", 10);
        assert_eq!(out, ["abcdefghij", "klmnopqrst", "uvwxyz    "]);
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
        let md =
            "| name | n | centre |\n|:-----|--:|:------:|\n| alpha | 1 | x |\n| b | 100 | yyyyy |";
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
        assert!(
            warm.as_millis() < 50,
            "took {warm:?} (first layout {cold:?})"
        );
    }

    #[test]
    fn tiny_widths_work() {
        let md = "# Heading\n\n- > nested `quote` 日本\n\n```\ncode\n```\n\n| a | b |\n|---|---|\n| 1 | 2 |";
        for width in 0..10 {
            let lines = render_markdown(md, width, &dark());
            check_width(&lines, width.max(1));
        }
    }
}
