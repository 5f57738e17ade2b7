//! A shell command line cut into the simple commands it runs, so allow and deny patterns
//! apply to each of them: `cargo test && rm -rf src` must not pass as `cargo test*`.
//!
//! This is not a shell parser. It knows quotes, backslashes and the list operators
//! (`;` `&&` `||` `|` `&`, newlines). Anything that can run or write what the patterns
//! cannot see (command substitution, process substitution, subshells, braces, redirection to
//! a file) makes the line opaque: it is never allowed by a pattern, only by the user.

/// The simple commands of `line`, trimmed and non-empty; `None` when the line is opaque.
pub fn simple_commands(line: &str) -> Option<Vec<String>> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut chars = line.chars().peekable();
    let (mut single, mut double) = (false, false);
    let push = |cur: &mut String, out: &mut Vec<String>| {
        let t = cur.trim();
        if !t.is_empty() {
            out.push(t.to_owned());
        }
        cur.clear();
    };
    while let Some(c) = chars.next() {
        if single {
            single = c != '\'';
            cur.push(c);
            continue;
        }
        match c {
            '\\' => {
                cur.push(c);
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
            }
            '`' => return None,
            '$' if chars.peek() == Some(&'(') => return None,
            '"' => {
                double = !double;
                cur.push(c);
            }
            _ if double => cur.push(c),
            '\'' => {
                single = true;
                cur.push(c);
            }
            // a comment hides the rest of its line from the patterns, quotes included
            '#' if cur.is_empty() || cur.ends_with(char::is_whitespace) => return None,
            ';' | '\n' => push(&mut cur, &mut out),
            '&' | '|' => {
                if chars.peek() == Some(&c) {
                    chars.next();
                } else if c == '&' && cur.ends_with('>') {
                    // `2>&1`: a descriptor copy, part of this command; `>&file` (bash:
                    // both streams to a file) is a write like any other redirection
                    if !chars
                        .peek()
                        .is_some_and(|n| n.is_ascii_digit() || *n == '-')
                    {
                        return None;
                    }
                    cur.push(c);
                    continue;
                }
                push(&mut cur, &mut out);
            }
            '(' | ')' | '{' | '}' => return None,
            '<' if chars.peek() == Some(&'(') => return None,
            '>' => {
                // only descriptor copies (`2>&1`, `>&2`); a file target could be anything
                if chars.peek() != Some(&'&') {
                    return None;
                }
                cur.push(c);
            }
            _ => cur.push(c),
        }
    }
    if single || double {
        return None;
    }
    push(&mut cur, &mut out);
    Some(out)
}

/// Every stretch of `line` between operators, brackets, quotes and substitutions, trimmed:
/// a superset of the commands it could run, for deny patterns on a line that
/// [`simple_commands`] cannot cut.
pub fn rough_pieces(line: &str) -> Vec<String> {
    line.split(|c: char| ";&|()`{}<>\n\"'".contains(c) || c == '$')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(s: &str) -> Option<Vec<&'static str>> {
        simple_commands(s).map(|v| v.into_iter().map(|s| &*s.leak()).collect())
    }

    #[test]
    fn lists_are_cut_into_their_commands() {
        assert_eq!(split("cargo test"), Some(vec!["cargo test"]));
        assert_eq!(
            split("cargo test && rm -rf src"),
            Some(vec!["cargo test", "rm -rf src"])
        );
        assert_eq!(
            split("a; b || c | d & e\nf"),
            Some(vec!["a", "b", "c", "d", "e", "f"])
        );
        assert_eq!(
            split("cargo test 2>&1 | tail -5"),
            Some(vec!["cargo test 2>&1", "tail -5"])
        );
        assert_eq!(split("   "), Some(vec![]));
    }

    #[test]
    fn quotes_and_escapes_hide_operators() {
        assert_eq!(split("echo 'a && b'"), Some(vec!["echo 'a && b'"]));
        assert_eq!(split("echo \"a; b\""), Some(vec!["echo \"a; b\""]));
        assert_eq!(split("echo a\\;b"), Some(vec!["echo a\\;b"]));
        assert_eq!(split("grep -e '(x)' f"), Some(vec!["grep -e '(x)' f"]));
    }

    #[test]
    fn rough_pieces_find_commands_inside_brackets_and_substitutions() {
        let p = rough_pieces("true && (git push origin main) $(rm -rf x)");
        assert!(p.contains(&"git push origin main".to_owned()), "{p:?}");
        assert!(p.contains(&"rm -rf x".to_owned()), "{p:?}");
    }

    #[test]
    fn hidden_commands_and_file_writes_are_opaque() {
        for s in [
            "cargo test $(rm -rf ~)",
            "cargo test `rm -rf ~`",
            "echo \"$(curl x)\"",
            "cargo test > /etc/passwd",
            "diff <(ls a) <(ls b)",
            "(cd / && rm -rf x)",
            "{ rm -rf x; }",
            "echo 'unterminated",
            "cargo test # '\nrm -rf src\n# '",
            "cargo test >& ~/.bashrc",
        ] {
            assert_eq!(split(s), None, "{s}");
        }
    }
}
