//! Nothing leaves that the ledger does not name: a whole `cove exec` session (probe,
//! failover, tool calls, edits, the final answer) in an empty network namespace (`unshare
//! -rn`: only loopback, where the fake server listens), under `strace -f -e connect`.
//! Every connection attempt cove or anything it started made (reached or not) must match
//! a ledger line's endpoint, and the ledger's reached requests must be exactly the ones the
//! server got. Skipped, with a message, where user and network namespaces (or strace)
//! are not available.

mod agent_support;
mod cli_support;
mod common;

use std::process::Command;

use agent_support::tool_call_reply;
use cli_support::Sandbox;
use common::*;
use cove::guard::ledger::Entry;
use serde_json::json;

const INNER: &str = "COVE_GUARD_NETNS_INNER";
const NAME: &str = "every_connection_attempt_in_an_empty_network_namespace_is_in_the_ledger";

#[test]
fn every_connection_attempt_in_an_empty_network_namespace_is_in_the_ledger() {
    if std::env::var_os(INNER).is_some() {
        inner();
        return;
    }
    let works = |cmd: &mut Command| cmd.output().is_ok_and(|o| o.status.success());
    if !works(Command::new("unshare").args(["-rn", "sh", "-c", "ip link set lo up"])) {
        println!("SKIPPED: user and network namespaces (unshare -rn, ip) are not available here");
        return;
    }
    if !works(Command::new("strace").args(["-f", "-qq", "-e", "trace=connect", "true"])) {
        println!("SKIPPED: strace cannot trace here");
        return;
    }
    let exe = std::env::current_exe().unwrap();
    let out = Command::new("unshare")
        .args(["-rn", "sh", "-c", "ip link set lo up && exec \"$0\" \"$@\""])
        .arg(exe)
        .args(["--exact", NAME, "--nocapture", "--test-threads=1"])
        .env(INNER, "1")
        .output()
        .unwrap();
    let text = format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains("INNER-DONE"),
        "the inner run did not run: {text}"
    );
    for line in text
        .lines()
        .filter_map(|l| l.find("INNER-DONE").map(|i| &l[i..]))
    {
        println!("{line}");
    }
}

/// Inside the namespace: the server, the session, the trace, the checks.
fn inner() {
    // only loopback: nothing else is reachable from here
    let ifaces = std::fs::read_to_string("/proc/net/dev").unwrap();
    let names: Vec<&str> = ifaces
        .lines()
        .skip(2)
        .filter_map(|l| l.split(':').next())
        .map(str::trim)
        .collect();
    assert_eq!(names, ["lo"], "{ifaces}");

    let server = FakeServer::start(vec![
        tool_call_reply(&[("c1", "read_file", json!({ "path": "notes.txt" }))]),
        tool_call_reply(&[(
            "c2",
            "write_file",
            json!({ "path": "summary.txt", "content": "one line\n" }),
        )]),
        answer("Done."),
    ]);
    let sb = Sandbox::new();
    std::fs::write(sb.workspace().join("notes.txt"), "remember the milk\n").unwrap();
    // a first endpoint that cannot be reached from here: every request tries it first
    sb.write_user_config(&format!(
        "[model]\nname = \"fake-model\"\napi_base = [\"http://10.255.0.1:8080/v1\", \"{}\"]\nconnect_timeout_secs = 1\n",
        server.base_url()
    ));
    let trace = sb.dir.path().join("connect.trace");
    let out = Command::new("strace")
        .args(["-f", "-qq", "-e", "trace=connect", "-o"])
        .arg(&trace)
        .arg(env!("CARGO_BIN_EXE_cove"))
        .args(["exec", "--auto-approve", "edits", "Summarise notes.txt"])
        .current_dir(sb.workspace())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", sb.dir.path())
        .env("XDG_CONFIG_HOME", sb.dir.path().join("config"))
        .env("XDG_STATE_HOME", sb.dir.path().join("state"))
        .env("XDG_DATA_HOME", sb.dir.path().join("data"))
        .output()
        .unwrap();
    let run = format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{run}");
    assert_eq!(
        std::fs::read_to_string(sb.workspace().join("summary.txt")).unwrap(),
        "one line\n"
    );

    let (entries, bad) =
        cove::guard::ledger::read(&sb.dir.path().join("data/cove/ledger.jsonl"), 0).unwrap();
    assert_eq!(bad, 0);
    let requests: Vec<&Entry> = entries.iter().filter(|e| e.kind == "request").collect();
    let host_port = |e: &Entry| {
        let u = url::Url::parse(e.endpoint.as_deref().unwrap_or("")).unwrap();
        format!(
            "{}:{}",
            u.host_str().unwrap(),
            u.port_or_known_default().unwrap()
        )
    };

    // every inet connect() in the trace (cove and its children) is a ledger endpoint
    let trace = std::fs::read_to_string(&trace).unwrap();
    let mut attempts = Vec::new();
    for line in trace.lines().filter(|l| l.contains("connect(")) {
        if line.contains("AF_UNIX") || line.contains("AF_NETLINK") {
            continue;
        }
        let addr = between(line, "inet_addr(\"", "\")")
            .or_else(|| between(line, "inet_pton(AF_INET6, \"", "\""))
            .unwrap_or_else(|| panic!("a connect the test cannot read: {line}"));
        let port = between(line, "htons(", ")").unwrap();
        attempts.push(format!("{addr}:{port}"));
    }
    assert!(!attempts.is_empty(), "no connect() traced: {trace}");
    let endpoints: Vec<String> = requests.iter().map(|e| host_port(e)).collect();
    for a in &attempts {
        assert!(
            endpoints.contains(a),
            "connection to {a} is not in the ledger ({endpoints:?})\n{trace}"
        );
    }
    // the unreachable endpoint was tried, and each try is a ledger line
    let dead: Vec<&&Entry> = requests
        .iter()
        .filter(|e| host_port(e) == "10.255.0.1:8080")
        .collect();
    assert!(!dead.is_empty(), "{entries:#?}");
    assert!(
        dead.iter()
            .all(|e| e.outcome.as_deref().unwrap_or("").starts_with("failed"))
    );
    let dead_attempts = attempts.iter().filter(|a| *a == "10.255.0.1:8080").count();
    assert_eq!(dead_attempts, dead.len(), "{trace}\n{entries:#?}");

    // the requests that reached a server are exactly the ones the server got
    let mut seen: Vec<String> = server
        .requests()
        .iter()
        .map(|r| format!("{} http://{}{}", r.method, server.addr, r.path))
        .collect();
    let mut recorded: Vec<String> = requests
        .iter()
        .filter(|e| host_port(e) != "10.255.0.1:8080")
        .map(|e| {
            format!(
                "{} {}",
                e.method.as_deref().unwrap_or(""),
                e.endpoint.as_deref().unwrap_or("")
            )
        })
        .collect();
    seen.sort();
    recorded.sort();
    assert_eq!(seen, recorded);
    assert!(
        seen.iter()
            .filter(|s| s.ends_with("/chat/completions"))
            .count()
            == 3
    );
    println!(
        "INNER-DONE: {} connect() attempts, {} ledger request lines, {} requests at the server",
        attempts.len(),
        requests.len(),
        seen.len()
    );
}

fn between<'a>(s: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let from = s.find(start)? + start.len();
    let len = s[from..].find(end)?;
    Some(&s[from..from + len])
}
