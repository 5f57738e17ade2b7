//! Processes the model starts get no API key: not the key in use, not a profile's key,
//! not a variable named by `api_key_env`, not a variable that merely holds a key's value.
//! (A test binary of its own: it sets process environment variables before any thread.)

mod agent_support;
mod common;

use agent_support::*;
use common::*;
use cove::protocol::AgentEvent;
use serde_json::json;

#[test]
fn no_configured_key_reaches_a_shell_command() {
    // SAFETY: set before the runtime (or any other thread of this test binary) starts.
    unsafe {
        std::env::set_var("PROFILE_KEY_VAR", "sk-profile-secret-1111");
        std::env::set_var("VISION_KEY_VAR", "sk-vision-secret-2222");
        std::env::set_var("INNOCENT_LOOKING", "Bearer sk-inline-secret-3333");
        std::env::set_var("COVE_API_KEY", "sk-cove-env-secret-4444");
        std::env::set_var("HARMLESS_VALUE", "still-here-5555");
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let server = FakeServer::start(vec![
            tool_call_reply(&[("e1", "shell", json!({"command": "env"}))]),
            answer("done"),
        ]);
        let mut h = start(
            &server.base_url(),
            "api_key = \"sk-inline-secret-3333\"\n\
             [tools]\nshell = \"always\"\n\
             [vision]\napi_key_env = \"VISION_KEY_VAR\"\n\
             [profiles.big]\napi_key_env = \"PROFILE_KEY_VAR\"\n",
        )
        .await;
        h.say(1, "go");
        h.until(|e| {
            matches!(
                e,
                AgentEvent::TurnDone { .. } | AgentEvent::TurnFailed { .. }
            )
        })
        .await;
        let posts = server.posts();
        let result = posts.last().unwrap().json()["messages"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["role"] == "tool")
            .map(|m| m["content"].as_str().unwrap_or("").to_owned())
            .unwrap();
        assert!(
            result.contains("still-here-5555"),
            "env did not run: {result}"
        );
        for secret in ["1111", "2222", "3333", "4444"] {
            assert!(
                !result.contains(secret),
                "a key reached the command ({secret}): {result}"
            );
        }
    });
}
