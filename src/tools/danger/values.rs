//! The values a word may take, as far as the line shows them: variables set earlier,
//! `$(echo ~)`-style substitutions, brace expansions; and whether a path is critical from
//! where `cd` left the line.

use super::*;

const MAX_VALUES: usize = 16;

impl State {
    /// The values a word may take: variables set earlier put in, `$(echo ~)`-style
    /// substitutions worked out, brace expansions expanded.
    pub(super) fn values(&self, w: &Word) -> Vec<String> {
        self.values_at(w, 0)
    }

    fn values_at(&self, w: &Word, depth: usize) -> Vec<String> {
        let mut out = vec![w.text.clone()];
        if w.var {
            out = out.iter().flat_map(|t| self.expand_vars(t)).collect();
        }
        for s in &w.substitutions {
            let outputs = self.subst_outputs(&s.inner, depth + 1);
            if outputs.is_empty() {
                continue;
            }
            out = out
                .iter()
                .flat_map(|t| outputs.iter().map(move |o| t.replace(&s.raw, o)))
                .take(MAX_VALUES)
                .collect();
        }
        if w.brace {
            out = out.iter().flat_map(|t| expand_braces(t)).collect();
        }
        out.truncate(MAX_VALUES);
        out
    }

    /// `$NAME`, `${NAME}` and `${NAME:-default}` put in where the line set them.
    fn expand_vars(&self, text: &str) -> Vec<String> {
        let mut outs = vec![String::new()];
        let c: Vec<char> = text.chars().collect();
        let mut i = 0;
        while i < c.len() {
            let mut alts: Option<Vec<String>> = None;
            let mut consumed = 1;
            if c[i] == '$' {
                if c.get(i + 1) == Some(&'{') {
                    if let Some(end) = c[i + 2..].iter().position(|&x| x == '}') {
                        let inner: String = c[i + 2..i + 2 + end].iter().collect();
                        consumed = end + 3;
                        let (name, default) = match inner.find([':', '-', '=']) {
                            Some(p) => (
                                &inner[..p],
                                Some(inner[p..].trim_start_matches([':', '-', '='])),
                            ),
                            None => (inner.as_str(), None),
                        };
                        alts = match (self.vars.get(name), default) {
                            (Some(v), Some(d)) => {
                                Some(v.iter().cloned().chain([d.to_owned()]).collect())
                            }
                            (Some(v), None) => Some(v.clone()),
                            (None, Some(d)) => Some(vec![format!("${{{name}}}"), d.to_owned()]),
                            (None, None) => None,
                        };
                    }
                } else {
                    let name: String = c[i + 1..]
                        .iter()
                        .take_while(|x| x.is_ascii_alphanumeric() || **x == '_')
                        .collect();
                    if let Some(v) = self.vars.get(&name) {
                        consumed = name.chars().count() + 1;
                        alts = Some(v.clone());
                    }
                }
            }
            let piece: Vec<String> =
                alts.unwrap_or_else(|| vec![c[i..i + consumed].iter().collect()]);
            outs = outs
                .iter()
                .flat_map(|o| piece.iter().map(move |p| format!("{o}{p}")))
                .take(MAX_VALUES)
                .collect();
            i += consumed;
        }
        outs
    }

    /// What a substitution prints, when it only echoes paths (`echo ~`, `printf %s /`,
    /// `realpath ~`, `pwd`).
    fn subst_outputs(&self, inner: &str, depth: usize) -> Vec<String> {
        if depth > 8 {
            return Vec::new();
        }
        let parsed = shell_lex::parse(inner);
        let Some(cmd) = parsed.commands.last() else {
            return Vec::new();
        };
        let texts = cmd.texts();
        let start = levels(&texts, true).last().copied().unwrap_or(0);
        let Some(prog) = texts.get(start).map(|p| basename(p)) else {
            return Vec::new();
        };
        let operands = cmd.words[start + 1..]
            .iter()
            .filter(|w| !w.text.starts_with('-'))
            .flat_map(|w| self.values_at(w, depth));
        match prog {
            "echo" | "printf" | "realpath" | "readlink" => operands.collect(),
            "dirname" => operands
                .map(|o| match o.trim_end_matches('/').rsplit_once('/') {
                    Some(("", _)) => "/".to_owned(),
                    Some((parent, _)) => parent.to_owned(),
                    None => ".".to_owned(),
                })
                .collect(),
            "pwd" => vec![self.cwd.clone().unwrap_or_else(|| ".".to_owned())],
            _ => Vec::new(),
        }
    }

    /// Whether a path a command names is critical, seen from where `cd` left the line.
    pub(super) fn critical(&self, path: &str) -> bool {
        if critical_target(path) || broad_glob_in_critical(path) {
            return true;
        }
        let relative = !(path.starts_with('/') || path.starts_with('~') || path.starts_with('$'));
        relative
            && self.cwd.as_ref().is_some_and(|c| {
                let joined = format!("{c}/{path}");
                critical_target(&joined) || broad_glob_in_critical(&joined)
            })
    }
}

/// `{a,b}` and `{1..3}` (the first group) expanded, as bash would.
pub(super) fn expand_braces(t: &str) -> Vec<String> {
    let Some(open) = t.find('{') else {
        return vec![t.to_owned()];
    };
    let Some(close) = t[open..].find('}').map(|c| c + open) else {
        return vec![t.to_owned()];
    };
    let (head, body, tail) = (&t[..open], &t[open + 1..close], &t[close + 1..]);
    let alts: Vec<String> = if body.contains(',') {
        body.split(',').map(str::to_owned).collect()
    } else {
        vec![body.to_owned()]
    };
    alts.iter()
        .map(|a| format!("{head}{a}{tail}"))
        .take(MAX_VALUES)
        .collect()
}
