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
use super::wrap::{content_width, text_width, wrap_chars, wrap_code, wrap_words};
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
            // a model's single newlines are meant (lists without markers, a poem, a log
            // pasted back): kept, as terminals and other assistants show them
            Event::SoftBreak => self.push_text("\n", self.style()),
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
        // a long line goes on under itself, marked, at its own indentation
        let cont = [Span::styled(
            "↪ ",
            theme.with_bg(self.dim(), theme.colors.code_bg),
        )];
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
            out.extend(wrap_code(&spans, self.width, p, &rest, &cont, fill));
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
mod tests;
