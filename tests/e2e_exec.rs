//! `cove exec` against the real llama-server + SmolLM2-135M (scripts/local-model.sh).
//! A model this small will rarely fix anything; what must hold is the loop: a turn, the
//! check after it, its failure as the next message, the events and the exit code. Built
//! only with `--features e2e`; scripts/test.sh passes the server's URL in COVE_E2E_BASE_URL.
#![cfg(feature = "e2e")]

mod cli_support;
mod common;

use cli_support::Sandbox;
use serde_json::Value;

fn base_url() -> String {
    std::env::var("COVE_E2E_BASE_URL")
        .expect("COVE_E2E_BASE_URL is not set: run scripts/test.sh, or COVE_E2E_BASE_URL=$(scripts/local-model.sh) cargo test --features e2e")
}

#[test]
fn the_healing_loop_against_the_real_model() {
    let sb = Sandbox::new();
    // short replies: the loop is what is tested, not the model's prose
    sb.write_user_config("[model]\nmax_tokens = 96\ntemperature = 0.0\n");
    let url = base_url();
    let run = sb.run_with(
        &[
            "exec",
            "--json",
            "--auto-approve",
            "edits",
            "--verify",
            "echo checking for done.txt; test -f done.txt",
            "--max-turns",
            "2",
            "Create a file named done.txt that contains the word done.",
        ],
        &[("COVE_BASE_URL", &url)],
        None,
    );
    let events: Vec<Value> = run
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l:?}\n{run:?}")))
        .collect();
    let types: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(types.first(), Some(&"session"), "{run:?}");
    assert_eq!(types.last(), Some(&"result"), "{run:?}");
    assert_eq!(types.iter().filter(|t| **t == "result").count(), 1);
    let result = events.last().unwrap();
    let turns = result["turns"].as_u64().unwrap();
    let checks: Vec<&Value> = events.iter().filter(|e| e["type"] == "verify").collect();
    let passed = checks.last().is_some_and(|c| c["passed"] == true);
    // every turn ended (the model's reply) and was checked
    assert_eq!(checks.len() as u64, turns, "{run:?}");
    assert!(
        types.iter().filter(|t| **t == "turn_end").count() as u64 >= turns,
        "{types:?}"
    );
    assert!(
        checks.iter().all(|c| c["output_tail"]
            .as_str()
            .unwrap()
            .contains("checking for done.txt")),
        "{checks:?}"
    );
    if passed {
        // the model did it: the file is there, exit 0
        assert_eq!(run.code, 0, "{run:?}");
        assert_eq!(result["status"], "done");
        assert!(sb.workspace().join("done.txt").exists());
    } else {
        // the usual case with a 135M model: the check still fails after two turns
        assert_eq!(run.code, 6, "{run:?}");
        assert_eq!(result["status"], "check_failed");
        assert_eq!(turns, 2);
        // the failure reached the model as its second message (the journal has it)
        let list = sb.run(&["sessions", "--json"]);
        let session: Value = serde_json::from_str(list.stdout.lines().next().unwrap()).unwrap();
        let journal = std::fs::read_to_string(session["path"].as_str().unwrap()).unwrap();
        let users: Vec<String> = journal
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).unwrap())
            .filter(|r| r["message"]["role"] == "user")
            .map(|r| r["message"]["content"].to_string())
            .collect();
        assert_eq!(users.len(), 2, "{journal}");
        assert!(
            users[1].contains("still fails") && users[1].contains("checking for done.txt"),
            "{}",
            users[1]
        );
    }
    assert!(result["usage"]["requests"].as_u64().unwrap() >= turns);
    assert!(
        result["usage"]["total_tokens"].as_u64().unwrap() > 0,
        "{result}"
    );
}
