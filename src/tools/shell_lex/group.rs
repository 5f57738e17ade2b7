//! Tokens grouped into simple commands: reserved words, subshells, brace groups and
//! function definitions noted as what makes a line opaque.

use super::*;

/// Reserved words that start or continue a control structure.
const CONTROL_WORDS: &[&str] = &[
    "if", "then", "else", "elif", "fi", "do", "done", "while", "until", "esac",
];

/// Groups tokens into simple commands.
pub(super) fn group(toks: Vec<Tok>, parsed: &mut Parsed) {
    let mut cur = SimpleCommand::default();
    let mut pipeline = 0;
    let mut piped = false;
    let mut depth = 0usize;
    // `name ( )` of a function definition: the `)` closes no subshell
    let mut in_fn_parens = false;
    let finish = |cur: &mut SimpleCommand, out: &mut Vec<SimpleCommand>, piped: bool, pipeline| {
        if !(cur.words.is_empty() && cur.assignments.is_empty() && cur.redirects.is_empty()) {
            let mut c = std::mem::take(cur);
            c.piped = piped;
            c.pipeline = pipeline;
            out.push(c);
        }
        *cur = SimpleCommand::default();
    };
    let mut out = Vec::new();
    for tok in toks {
        match tok {
            Tok::Word(w) => {
                let at_start = cur.words.is_empty() && cur.assignments.is_empty();
                let reserved = at_start && !w.quoted && w.is_plain();
                if reserved {
                    match w.text.as_str() {
                        "!" => continue,
                        "{" => {
                            parsed.mark(BRACE_GROUP);
                            depth += 1;
                            continue;
                        }
                        "}" => {
                            depth = depth.saturating_sub(1);
                            continue;
                        }
                        "function" => {
                            parsed.mark(FUNCTION);
                            continue;
                        }
                        t if CONTROL_WORDS.contains(&t) => {
                            parsed.mark(CONTROL);
                            continue;
                        }
                        "for" | "select" | "case" => parsed.mark(CONTROL),
                        _ => {}
                    }
                }
                if cur.words.is_empty() && w.assignment {
                    cur.assignments.push(w);
                } else {
                    cur.words.push(w);
                }
            }
            Tok::Redir(r) => cur.redirects.push(r),
            Tok::Op(Op::Pipe) => {
                finish(&mut cur, &mut out, piped, pipeline);
                piped = true;
            }
            Tok::Op(Op::Sep) => {
                finish(&mut cur, &mut out, piped, pipeline);
                pipeline += 1;
                piped = false;
            }
            Tok::Op(Op::Open) => {
                if cur.words.len() == 1 && cur.assignments.is_empty() && cur.redirects.is_empty() {
                    // `name()`: the body that follows runs whenever `name` is called
                    parsed.mark(FUNCTION);
                    cur = SimpleCommand::default();
                    in_fn_parens = true;
                } else if cur.words.is_empty() && cur.assignments.is_empty() {
                    parsed.mark(SUBSHELL);
                    depth += 1;
                } else {
                    parsed.mark(SYNTAX);
                    finish(&mut cur, &mut out, piped, pipeline);
                    pipeline += 1;
                    piped = false;
                }
            }
            Tok::Op(Op::Close) => {
                if in_fn_parens {
                    in_fn_parens = false;
                    continue;
                }
                finish(&mut cur, &mut out, piped, pipeline);
                pipeline += 1;
                piped = false;
                if depth == 0 {
                    // a `case` pattern's `)`, or a stray one
                    if !parsed.opaque.contains(&CONTROL) {
                        parsed.mark(SYNTAX);
                    }
                } else {
                    depth -= 1;
                }
            }
        }
    }
    finish(&mut cur, &mut out, piped, pipeline);
    parsed.commands = out;
}
