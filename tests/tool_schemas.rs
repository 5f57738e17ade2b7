//! The tool schemas sent to the model are pinned byte for byte: servers cache the prompt
//! prefix (system prompt + tools), so any change to a built-in's name, description or
//! schema costs every user a full re-read of the prefix. The fixture was captured from
//! the schemas as they were before tools became a trait (issue 15); change it only on
//! purpose.

use cove::config::{Policy, ToolsConfig};
use cove::llm::ChatRequest;
use cove::tools::offered_tools;

const PINNED: &str = include_str!("fixtures/builtin_tools.json");

fn tools_json(config: &ToolsConfig) -> String {
    let req = ChatRequest {
        model: "m".into(),
        tools: offered_tools(config),
        ..Default::default()
    };
    serde_json::to_string(&req.body(false)["tools"]).unwrap()
}

#[test]
fn builtin_schemas_are_byte_identical_to_the_pinned_ones() {
    let now = tools_json(&ToolsConfig::default());
    if std::env::var_os("COVE_PIN_SCHEMAS").is_some() {
        std::fs::write(
            concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/tests/fixtures/builtin_tools.json"
            ),
            &now,
        )
        .unwrap();
        return;
    }
    assert_eq!(now, PINNED.trim_end_matches('\n'));
}

#[test]
fn a_disabled_builtin_is_left_out_and_the_rest_keep_their_bytes() {
    let cfg = ToolsConfig {
        shell: Some(Policy::Never),
        ..ToolsConfig::default()
    };
    let pinned: serde_json::Value = serde_json::from_str(PINNED).unwrap();
    let without_shell: Vec<String> = pinned
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["function"]["name"] != "shell")
        .map(|t| serde_json::to_string(t).unwrap())
        .collect();
    assert_eq!(tools_json(&cfg), format!("[{}]", without_shell.join(",")));
}

#[test]
fn the_registry_offers_the_same_bytes_and_custom_tools_after_them() {
    let registry = cove::tools::Registry::from_config(&ToolsConfig::default());
    let req = ChatRequest {
        model: "m".into(),
        tools: registry.offered(),
        ..Default::default()
    };
    assert_eq!(
        serde_json::to_string(&req.body(false)["tools"]).unwrap(),
        PINNED.trim_end_matches('\n')
    );
    // a custom tool comes after every built-in, which keep their bytes
    let mut cfg = ToolsConfig::default();
    cfg.custom.insert(
        "lint".into(),
        toml::from_str("description = \"d\"\ncommand = \"true\"\n").unwrap(),
    );
    let req = ChatRequest {
        model: "m".into(),
        tools: cove::tools::Registry::from_config(&cfg).offered(),
        ..Default::default()
    };
    let body = serde_json::to_string(&req.body(false)["tools"]).unwrap();
    assert!(
        body.starts_with(PINNED.trim_end_matches(['\n', ']'])),
        "{body}"
    );
    assert!(body.ends_with(r#"{"function":{"description":"d","name":"lint","parameters":{"properties":{},"type":"object"}},"type":"function"}]"#), "{body}");
}
