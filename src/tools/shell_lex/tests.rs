use super::*;

fn words(line: &str) -> Vec<Vec<String>> {
    parse(line)
        .commands
        .iter()
        .map(SimpleCommand::texts)
        .collect()
}

fn one(line: &str) -> SimpleCommand {
    let p = parse(line);
    assert_eq!(p.commands.len(), 1, "{line}: {p:?}");
    p.commands[0].clone()
}

#[test]
fn lists_are_cut_into_their_commands() {
    assert_eq!(words("cargo test"), [["cargo", "test"]]);
    assert_eq!(
        words("cargo test && rm -rf src"),
        [vec!["cargo", "test"], vec!["rm", "-rf", "src"]]
    );
    assert_eq!(
        words("a; b || c | d & e\nf"),
        [["a"], ["b"], ["c"], ["d"], ["e"], ["f"]]
    );
    assert_eq!(words("   "), Vec::<Vec<String>>::new());
    let p = parse("a | b |& c; d");
    let piped: Vec<(bool, usize)> = p.commands.iter().map(|c| (c.piped, c.pipeline)).collect();
    assert_eq!(piped, [(false, 0), (true, 0), (true, 0), (false, 1)]);
    assert!(p.opaque.is_empty());
}

#[test]
fn quotes_escapes_and_spacing_are_removed() {
    assert_eq!(words("git  push\torigin"), [["git", "push", "origin"]]);
    assert_eq!(
        words("'git' \"push\" or\\igin"),
        [["git", "push", "origin"]]
    );
    assert_eq!(words("\\rm -rf x"), [["rm", "-rf", "x"]]);
    assert_eq!(words("g''it p\"\"ush"), [["git", "push"]]);
    assert_eq!(words("echo 'a && b'"), [["echo", "a && b"]]);
    assert_eq!(words("echo \"a; b\" a\\;b"), [["echo", "a; b", "a;b"]]);
    assert_eq!(words("echo \"\\$x \\\" \\a\""), [["echo", "$x \" \\a"]]);
    // a line continuation joins, inside and outside words
    assert_eq!(words("git \\\n  push"), [["git", "push"]]);
    assert_eq!(words("gi\\\nt push"), [["git", "push"]]);
    assert!(one("\\rm").words[0].quoted);
}

#[test]
fn ansi_c_quoting_is_decoded_and_flagged() {
    let c = one(r"$'\x72\155' -rf $'a\nb' $'\u00e9\'\\'");
    assert_eq!(c.texts(), ["rm", "-rf", "a\nb", "é'\\"]);
    assert!(c.words[0].ansi_c && !c.words[1].ansi_c && c.words[2].ansi_c && c.words[3].ansi_c);
    assert!(!c.words[0].is_plain());
}

#[test]
fn expansions_are_flagged_not_expanded() {
    let c = one("echo $HOME ${X:-y} \"$1\" '$lit' ~/x a*b *.rs [ab] {a,b} x=1");
    let w = &c.words;
    assert!(w[1].var && w[1].text == "$HOME");
    assert!(w[2].var && w[2].text == "${X:-y}");
    assert!(w[3].var && w[3].quoted);
    assert!(!w[4].var && w[4].text == "$lit");
    assert!(w[5].tilde && !w[5].is_plain());
    assert!(w[6].glob && !w[6].glob_first);
    assert!(w[7].glob && w[7].glob_first);
    assert!(w[8].glob_first);
    assert!(w[9].brace);
    assert!(w[10].assignment, "an assignment-shaped argument");
    assert!(c.assignments.is_empty());
    assert!(
        !one("[ -f x ]").words[0].glob,
        "`[` alone is the test command"
    );
}

#[test]
fn assignments_lead_a_command() {
    let c = one("ls=1 A+=2 touch x B=3");
    assert_eq!(
        c.assignments.iter().map(|w| &w.text).collect::<Vec<_>>(),
        ["ls=1", "A+=2"]
    );
    assert_eq!(c.texts(), ["touch", "x", "B=3"]);
    assert!(
        one("'ls'=1 x").assignments.is_empty(),
        "a quoted name is no assignment"
    );
    assert!(one("$x=1").assignments.is_empty());
}

#[test]
fn substitutions_are_kept_for_the_checks() {
    let p = parse("echo \"$(git push)\" `rm -rf \\`x\\`` <(ls a) ${X:-$(id)} $((1+2))");
    assert!(p.opaque.contains(&SUBSTITUTION));
    assert!(p.opaque.contains(&PROCESS_SUBSTITUTION));
    let inner: Vec<String> = p.commands[0]
        .substitutions()
        .into_iter()
        .map(|s| s.inner)
        .collect();
    assert_eq!(inner, ["git push", "rm -rf `x`", "ls a", "id", "(1+2)"]);
    let w = &p.commands[0].words[1];
    assert!(w.subst && w.text == "$(git push)");
    // nested parentheses and quotes inside a substitution
    let p = parse("echo $(echo ')' \"(\" $(date)) done");
    assert_eq!(
        words_of(&p),
        [vec!["echo", "$(echo ')' \"(\" $(date))", "done"]]
    );
}

fn words_of(p: &Parsed) -> Vec<Vec<String>> {
    p.commands.iter().map(SimpleCommand::texts).collect()
}

#[test]
fn redirections_have_descriptors_and_targets() {
    let c = one("cmd 2>&1 >out 2>> log <in &>both >|clob 3<>rw >&file 1>&2 >/dev/null");
    let r: Vec<(Option<u32>, RedirOp, &str)> = c
        .redirects
        .iter()
        .map(|r| (r.fd, r.op, r.target.text.as_str()))
        .collect();
    assert_eq!(
        r,
        [
            (Some(2), RedirOp::DupOut, "1"),
            (None, RedirOp::Out, "out"),
            (Some(2), RedirOp::Append, "log"),
            (None, RedirOp::In, "in"),
            (None, RedirOp::OutErr, "both"),
            (None, RedirOp::Clobber, "clob"),
            (Some(3), RedirOp::ReadWrite, "rw"),
            (None, RedirOp::OutErr, "file"),
            (Some(1), RedirOp::DupOut, "2"),
            (None, RedirOp::Out, "/dev/null"),
        ]
    );
    assert_eq!(c.texts(), ["cmd"]);
    assert!(c.redirects[1].writes() && !c.redirects[0].writes());
    // an fd number glued to the operator only; `a2>x` is the word a2
    assert_eq!(one("echo a2>x").texts(), ["echo", "a2"]);
    assert_eq!(one("echo '2'>x").texts(), ["echo", "2"]);
}

#[test]
fn here_documents_have_bodies() {
    let p = parse("cat <<EOF >out; echo next\nline $(id)\nEOF\necho after");
    assert!(p.opaque.contains(&HEREDOC));
    assert_eq!(
        words_of(&p),
        [vec!["cat"], vec!["echo", "next"], vec!["echo", "after"]]
    );
    let r = &p.commands[0].redirects[0];
    assert_eq!(r.body.as_deref(), Some("line $(id)\n"));
    let subs: Vec<String> = p.commands[0]
        .substitutions()
        .into_iter()
        .map(|s| s.inner)
        .collect();
    assert_eq!(subs, ["id"]);
    // a quoted delimiter: the body is literal
    let p = parse("cat <<'EOF'\n$(id)\nEOF");
    assert!(p.commands[0].substitutions().is_empty());
    // <<- strips leading tabs
    let p = parse("cat <<-X\n\tbody\n\tX\necho");
    assert_eq!(p.commands[0].redirects[0].body.as_deref(), Some("body\n"));
    assert_eq!(words_of(&p)[1], ["echo"]);
    assert!(parse("cat <<EOF\nno end").opaque.contains(&UNTERMINATED));
}

#[test]
fn what_patterns_cannot_see_makes_the_line_opaque() {
    for (line, why) in [
        ("cargo test $(rm -rf ~)", SUBSTITUTION),
        ("cargo test `rm -rf ~`", SUBSTITUTION),
        ("diff <(ls a) <(ls b)", PROCESS_SUBSTITUTION),
        ("(cd / && rm -rf x)", SUBSHELL),
        ("{ rm -rf x; }", BRACE_GROUP),
        ("if true; then rm x; fi", CONTROL),
        ("for f in *; do rm $f; done", CONTROL),
        ("f() { rm x; }; f", FUNCTION),
        ("function f { rm x; }", FUNCTION),
        ("echo 'unterminated", UNTERMINATED),
        ("echo $(unterminated", UNTERMINATED),
        ("cargo test # '\nrm -rf src\n# '", COMMENT),
        ("ls\u{202e}", INVISIBLE),
        ("ls\r", INVISIBLE),
        ("echo )", SYNTAX),
    ] {
        assert!(
            parse(line).opaque.contains(&why),
            "{line:?}: {:?}",
            parse(line)
        );
    }
    // commands inside groups are still listed
    assert_eq!(
        words_of(&parse("(cd / && rm -rf x)"))[1],
        ["rm", "-rf", "x"]
    );
    assert_eq!(
        words_of(&parse("if true; then rm x; fi")),
        [vec!["true"], vec!["rm", "x"]]
    );
    assert_eq!(
        words_of(&parse("for f in a b; do rm $f; done"))[0],
        ["for", "f", "in", "a", "b"]
    );
}

#[test]
fn quote_round_trips() {
    for w in ["plain", "a b", "it's", "$(x)", "", "*", "-rf"] {
        assert_eq!(one(&format!("x {}", quote(w))).texts()[1], w);
    }
}

#[test]
fn hostile_input_never_panics_and_stays_bounded() {
    let deep = "$(".repeat(5000) + &")".repeat(5000);
    let _ = parse(&deep);
    let _ = parse(&"(".repeat(10000));
    let _ = parse(&"\\".repeat(10001));
    let _ = parse("$'\\x");
    let _ = parse("$'\\u{110000}'");
    let _ = parse("$'\\cé'");
    let _ = parse("<<");
    let _ = parse("> ");
    let _ = parse("2>");
    let _ = parse("cat <<EOF");
    let _ = parse("`");
    let _ = parse("${");
    let _ = parse("\"$(\"");
    let big = "a ".repeat(200_000);
    assert_eq!(parse(&big).commands[0].words.len(), 200_000);
    for s in ["é", "😀 x", "\u{0}", "a\u{0}b"] {
        let _ = parse(s);
    }
}
