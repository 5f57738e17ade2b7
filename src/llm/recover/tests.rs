use super::*;

const OFFERED: &[&str] = &["read_file", "shell", "git_status"];

#[test]
fn mistral_name_json_forms() {
    let (rest, calls) =
        recover_tool_calls(r#"[TOOL_CALLS]read_file{"path": "src/main.rs"}"#, OFFERED).unwrap();
    assert_eq!(rest, "");
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].name, "read_file");
    assert_eq!(calls[0].arguments, r#"{"path":"src/main.rs"}"#);
    assert!(calls[0].recovered);

    let (_, calls) = recover_tool_calls(
        r#"[TOOL_CALLS]shell[ARGS]{"command":"ls"}[TOOL_CALLS]git_status{}"#,
        OFFERED,
    )
    .unwrap();
    assert_eq!(
        calls.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(),
        ["shell", "git_status"]
    );
}

#[test]
fn mistral_array_form() {
    let (rest, calls) = recover_tool_calls(
        r#"Sure. [TOOL_CALLS] [{"name":"shell","arguments":{"command":"cargo test"}},{"name":"git_status","arguments":{}}]"#,
        OFFERED,
    )
    .unwrap();
    assert_eq!(rest, "Sure.");
    assert_eq!(calls.len(), 2);
}

#[test]
fn hermes_tags_with_and_without_close() {
    let (rest, calls) = recover_tool_calls(
        "Let me look.\n<tool_call>\n{\"name\": \"read_file\", \"arguments\": {\"path\": \"a\"}}\n</tool_call>\nDone",
        OFFERED,
    )
    .unwrap();
    assert_eq!(rest, "Let me look.\n\nDone");
    assert_eq!(calls[0].arguments, r#"{"path":"a"}"#);
    let (_, calls) = recover_tool_calls(
        "<tool_call>{\"name\":\"shell\",\"parameters\":{\"command\":\"ls\"}}",
        OFFERED,
    )
    .unwrap();
    assert_eq!(calls[0].arguments, r#"{"command":"ls"}"#);
}

#[test]
fn fenced_json_block() {
    let text = "I will run it:\n```json\n{\"name\": \"shell\", \"arguments\": {\"command\": \"ls\"}}\n```\n";
    let (rest, calls) = recover_tool_calls(text, OFFERED).unwrap();
    assert_eq!(rest, "I will run it:");
    assert_eq!(calls[0].name, "shell");
}

#[test]
fn unknown_names_and_ordinary_json_are_left_alone() {
    assert!(recover_tool_calls(r#"[TOOL_CALLS]rm_everything{"x":1}"#, OFFERED).is_none());
    assert!(
        recover_tool_calls(
            "```json\n{\"name\": \"cove\", \"version\": 1}\n```",
            OFFERED
        )
        .is_none()
    );
    assert!(recover_tool_calls("```rust\nfn main() {}\n```", OFFERED).is_none());
    assert!(recover_tool_calls("<tool_call>{\"name\":\"shell\"", &[]).is_none());
    assert!(recover_tool_calls("<tool_call>{broken", OFFERED).is_none());
}

#[test]
fn hostile_inputs_do_not_panic() {
    for s in [
        "[TOOL_CALLS]",
        "[TOOL_CALLS]shell",
        "[TOOL_CALLS]shell[ARGS]",
        "```",
        "```json\n",
        "<tool_call>",
        "[TOOL_CALLS]é{",
        "```\n[]\n```",
    ] {
        let _ = recover_tool_calls(s, OFFERED);
    }
}
