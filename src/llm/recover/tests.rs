use super::*;

use serde_json::json;

const NAMES: &[&str] = &["read_file", "shell", "git_status", "edit_file"];

/// The offered tools, with the parameter types the XML form is read by.
fn offered() -> Vec<ToolSpec> {
    NAMES
        .iter()
        .map(|n| ToolSpec {
            name: (*n).into(),
            description: String::new(),
            parameters: json!({"type": "object", "properties": {
                "path": {"type": "string"},
                "command": {"type": "string"},
                "offset": {"type": "integer"},
                "all": {"type": "boolean"},
                "old": {"type": "string"},
                "new": {"type": "string"},
            }}),
        })
        .collect()
}

fn recover(text: &str) -> Option<(String, Vec<ToolCall>)> {
    recover_tool_calls(text, &offered())
}

#[test]
fn mistral_name_json_forms() {
    let (rest, calls) = recover(r#"[TOOL_CALLS]read_file{"path": "src/main.rs"}"#).unwrap();
    assert_eq!(rest, "");
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].name, "read_file");
    assert_eq!(calls[0].arguments, r#"{"path":"src/main.rs"}"#);
    assert!(calls[0].recovered);

    let (_, calls) =
        recover(r#"[TOOL_CALLS]shell[ARGS]{"command":"ls"}[TOOL_CALLS]git_status{}"#).unwrap();
    assert_eq!(
        calls.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(),
        ["shell", "git_status"]
    );
}

#[test]
fn mistral_array_form() {
    let (rest, calls) = recover(
        r#"Sure. [TOOL_CALLS] [{"name":"shell","arguments":{"command":"cargo test"}},{"name":"git_status","arguments":{}}]"#,
    )
    .unwrap();
    assert_eq!(rest, "Sure.");
    assert_eq!(calls.len(), 2);
}

#[test]
fn hermes_tags_with_and_without_close() {
    let (rest, calls) = recover(
        "Let me look.\n<tool_call>\n{\"name\": \"read_file\", \"arguments\": {\"path\": \"a\"}}\n</tool_call>\nDone",
    )
    .unwrap();
    assert_eq!(rest, "Let me look.\n\nDone");
    assert_eq!(calls[0].arguments, r#"{"path":"a"}"#);
    let (_, calls) =
        recover("<tool_call>{\"name\":\"shell\",\"parameters\":{\"command\":\"ls\"}}").unwrap();
    assert_eq!(calls[0].arguments, r#"{"command":"ls"}"#);
}

#[test]
fn fenced_json_block() {
    let text = "I will run it:\n```json\n{\"name\": \"shell\", \"arguments\": {\"command\": \"ls\"}}\n```\n";
    let (rest, calls) = recover(text).unwrap();
    assert_eq!(rest, "I will run it:");
    assert_eq!(calls[0].name, "shell");
}

#[test]
fn unknown_names_and_ordinary_json_are_left_alone() {
    assert!(recover(r#"[TOOL_CALLS]rm_everything{"x":1}"#).is_none());
    assert!(recover("```json\n{\"name\": \"cove\", \"version\": 1}\n```").is_none());
    assert!(recover("```rust\nfn main() {}\n```").is_none());
    assert!(recover_tool_calls("<tool_call>{\"name\":\"shell\"", &[]).is_none());
    assert!(recover("<tool_call>{broken").is_none());
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
        let _ = recover(s);
    }
}

#[test]
fn qwen3_coder_xml_form() {
    let text = "I'll fix it.\n<tool_call>\n<function=edit_file>\n<parameter=path>\nsrc/main.rs\n</parameter>\n<parameter=old>\n    let x = 1;\n\n</parameter>\n<parameter=new>\n    let x = 2;\n</parameter>\n</function>\n</tool_call>\nThat should do.";
    let (rest, calls) = recover(text).unwrap();
    assert_eq!(rest, "I'll fix it.\n\nThat should do.");
    assert_eq!(calls.len(), 1);
    let v: Value = serde_json::from_str(&calls[0].arguments).unwrap();
    assert_eq!(v["path"], "src/main.rs");
    // exactly one newline stripped at each end: the blank line the value ends with stays
    assert_eq!(v["old"], "    let x = 1;\n");
    assert_eq!(v["new"], "    let x = 2;");
    assert!(calls[0].recovered);
}

#[test]
fn qwen_xml_types_by_schema_and_tolerates_missing_closers() {
    // no wrapper, no </parameter>, no </function>
    let text = "<function=read_file>\n<parameter=path>\na.rs\n<parameter=offset>\n40\n<parameter=all>\ntrue\n";
    let (rest, calls) = recover(text).unwrap();
    assert_eq!(rest, "");
    let v: Value = serde_json::from_str(&calls[0].arguments).unwrap();
    assert_eq!(v, json!({"path": "a.rs", "offset": 40, "all": true}));
    // a value that does not fit its type stays text (the tool says what is wrong)
    let (_, calls) =
        recover("<function=read_file><parameter=offset>forty</parameter></function>").unwrap();
    assert_eq!(calls[0].arguments, r#"{"offset":"forty"}"#);
    // a string parameter that looks like a number stays a string
    let (_, calls) =
        recover("<function=shell><parameter=command>42</parameter></function>").unwrap();
    assert_eq!(calls[0].arguments, r#"{"command":"42"}"#);
}

#[test]
fn several_xml_calls_in_order_with_text_between() {
    let text = "First:\n<tool_call>\n<function=read_file>\n<parameter=path>\na\n</parameter>\n</function>\n</tool_call>\nthen\n<tool_call>\n<function=shell>\n<parameter=command>\nls -la\n</parameter>\n</function>\n</tool_call>";
    let (rest, calls) = recover(text).unwrap();
    assert_eq!(rest, "First:\n\nthen");
    let names: Vec<&str> = calls.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["read_file", "shell"]);
    assert!(recover("<function=rm_rf>\n<parameter=x>\n1\n</parameter>\n</function>").is_none());
}

#[test]
fn mistral_call_id_form() {
    let (_, calls) = recover(
        r#"[TOOL_CALLS]read_file[CALL_ID]a1B2c3D4e[ARGS]{"path": "x"}[TOOL_CALLS]shell[ARGS]{"command":"ls"}"#,
    )
    .unwrap();
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[0].arguments, r#"{"path":"x"}"#);
}

#[test]
fn llama_python_tag_and_bare_objects() {
    let (rest, calls) = recover(
        "<|python_tag|>{\"name\": \"read_file\", \"parameters\": {\"path\": \"a.rs\"}}<|eom_id|>",
    )
    .unwrap();
    assert_eq!(rest, "");
    assert_eq!(calls[0].arguments, r#"{"path":"a.rs"}"#);
    let (_, calls) = recover(
        "<|python_tag|>{\"name\": \"read_file\", \"parameters\": {\"path\": \"a\"}}; {\"name\": \"shell\", \"parameters\": {\"command\": \"ls\"}}",
    )
    .unwrap();
    assert_eq!(calls.len(), 2);
    // a bare call object as the whole reply
    let (rest, calls) = recover("  {\"name\": \"git_status\", \"parameters\": {}}\n").unwrap();
    assert_eq!((rest.as_str(), calls[0].name.as_str()), ("", "git_status"));
    // a bare object inside prose is prose
    assert!(
        recover("The config is {\"name\": \"shell\", \"parameters\": {}} as you see.").is_none()
    );
    // an object naming something else is data
    assert!(recover("{\"name\": \"cove\", \"parameters\": {}}").is_none());
}

#[test]
fn almost_json_inside_tags_is_repaired_and_flagged() {
    let (_, calls) = recover(
        "<tool_call>\n{\"name\": \"shell\", \"arguments\": {\"command\": \"ls\",},}\n</tool_call>",
    )
    .unwrap();
    assert_eq!(calls[0].arguments, r#"{"command":"ls"}"#);
    assert_eq!(
        calls[0].repaired.as_deref(),
        Some("repaired JSON: trailing comma")
    );
    assert_eq!(
        calls[0].mended().as_deref(),
        Some("recovered from text, repaired JSON: trailing comma")
    );
}

#[test]
fn split_anywhere_the_whole_text_still_recovers_once() {
    // the recovery runs on the assembled reply; every form gives each call once
    for text in [
        "<tool_call>\n<function=shell>\n<parameter=command>\nls\n</parameter>\n</function>\n</tool_call>",
        "[TOOL_CALLS]shell[ARGS]{\"command\":\"ls\"}",
        "<|python_tag|>{\"name\": \"shell\", \"parameters\": {\"command\": \"ls\"}}",
        "<tool_call>{\"name\": \"shell\", \"arguments\": {\"command\": \"ls\"}}</tool_call>",
        "```json\n{\"name\": \"shell\", \"arguments\": {\"command\": \"ls\"}}\n```",
        "{\"name\": \"shell\", \"arguments\": {\"command\": \"ls\"}}",
    ] {
        let (rest, calls) = recover(text).unwrap_or_else(|| panic!("{text}"));
        assert_eq!(rest, "", "{text}");
        assert_eq!(calls.len(), 1, "{text}");
        assert_eq!(calls[0].arguments, r#"{"command":"ls"}"#, "{text}");
    }
}

#[test]
fn hostile_xml_does_not_panic() {
    for s in [
        "<function=",
        "<function=shell",
        "<function=shell>",
        "<function=shell><parameter=",
        "<function=shell><parameter=>x</parameter>",
        "<function=shell><parameter=command>é</parameter></function></tool_call>",
        "<tool_call><function=shell></tool_call></function>",
        "<|python_tag|>",
        "<|python_tag|>{",
        "<|python_tag|>[]",
        "{",
        "[{}]",
    ] {
        let _ = recover(s);
    }
}
