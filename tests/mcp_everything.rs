//! The MCP client against a real server: `@modelcontextprotocol/server-everything` from
//! npm (scripts/test.sh installs it into the cache and sets COVE_TEST_MCP_EVERYTHING to
//! its launcher). Started, listed, called (text, image, structured content), a slow
//! tool cancelled, a timeout, a server that crashes, one that never starts.

mod mcp_support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use cove::config::{McpConfig, McpServerConfig};
use cove::mcp::{McpHub, ServerState};
use serde_json::json;

fn hub_with(servers: &[(&str, McpServerConfig)]) -> (Arc<McpHub>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let config = McpConfig {
        servers: servers
            .iter()
            .map(|(n, c)| (n.to_string(), c.clone()))
            .collect(),
        schema_budget: None,
    };
    let policy = cove::config::offline::HostPolicy {
        offline: true,
        allowed_hosts: vec![],
    };
    (McpHub::start(&config, dir.path(), &policy), dir)
}

fn everything(bin: &std::path::Path) -> McpServerConfig {
    McpServerConfig {
        command: Some(bin.display().to_string()),
        args: vec!["stdio".into()],
        ..McpServerConfig::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_server_is_listed_and_called() {
    let Some(bin) = mcp_support::everything() else {
        return;
    };
    let (hub, _dir) = hub_with(&[("everything", everything(&bin))]);
    hub.wait_started(Duration::from_secs(60)).await;
    let server = &hub.servers()[0];
    assert_eq!(
        server.state(),
        ServerState::Ready,
        "{}",
        server.stderr_tail()
    );
    let tools = hub.tools();
    let names: Vec<&str> = tools.iter().map(|t| t.exposed.as_str()).collect();
    for want in [
        "everything__echo",
        "everything__get-tiny-image",
        "everything__get-structured-content",
    ] {
        assert!(names.contains(&want), "{names:?}");
    }
    let echo = tools.iter().find(|t| t.name == "echo").unwrap();
    assert_eq!(echo.schema["type"], "object");

    let (s, t) = hub.find("everything__echo").unwrap();
    let out = s
        .call(
            &t.name,
            json!({"message": "hello from cove"})
                .as_object()
                .unwrap()
                .clone(),
        )
        .await
        .unwrap();
    assert!(out.text.contains("hello from cove"), "{}", out.text);
    assert!(!out.is_error);

    let out = s.call("get-tiny-image", Default::default()).await.unwrap();
    assert_eq!(out.images.len(), 1, "{}", out.text);
    assert!(out.text.contains("[image image/png"), "{}", out.text);
    // the image's bytes are not pasted into the text for the model
    assert!(out.text.len() < 2000, "{}", out.text.len());

    let out = s
        .call(
            "get-structured-content",
            json!({"location": "New York"}).as_object().unwrap().clone(),
        )
        .await
        .unwrap();
    assert!(out.text.contains("temperature"), "{}", out.text);

    // bad arguments: the server's error reaches the caller, the server stays up
    let out = s.call("echo", Default::default()).await;
    match out {
        Ok(o) => assert!(o.is_error, "{}", o.text),
        Err(e) => assert!(!e.is_empty()),
    }
    assert_eq!(s.state(), ServerState::Ready);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_tool_is_cancelled_by_dropping_it_and_bounded_by_its_timeout() {
    let Some(bin) = mcp_support::everything() else {
        return;
    };
    let mut cfg = everything(&bin);
    cfg.tool_timeout_secs = Some(2);
    let (hub, _dir) = hub_with(&[("e", cfg)]);
    hub.wait_started(Duration::from_secs(60)).await;
    let (s, _) = hub
        .find("e__trigger-long-running-operation")
        .expect("listed");
    let args = json!({"duration": 30, "steps": 30})
        .as_object()
        .unwrap()
        .clone();
    // Esc: the call's future is dropped; the session goes on at once
    let started = Instant::now();
    let call = s.call("trigger-long-running-operation", args.clone());
    assert!(
        tokio::time::timeout(Duration::from_millis(300), call)
            .await
            .is_err()
    );
    assert!(started.elapsed() < Duration::from_secs(1));
    // the timeout
    let started = Instant::now();
    let err = s
        .call("trigger-long-running-operation", args)
        .await
        .unwrap_err();
    assert!(err.contains("tool_timeout_secs"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(5));
    // the server is still there for the next call
    let out = s
        .call(
            "echo",
            json!({"message": "still here"})
                .as_object()
                .unwrap()
                .clone(),
        )
        .await
        .unwrap();
    assert!(out.text.contains("still here"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn servers_that_fail_or_die_are_reported_once_with_their_stderr() {
    let dir = tempfile::tempdir().unwrap();
    // a "server" that writes to stderr and exits before the handshake
    let script = dir.path().join("broken.sh");
    std::fs::write(
        &script,
        "#!/bin/sh\necho 'fatal: no config found' >&2\nexit 3\n",
    )
    .unwrap();
    let sh = |args: Vec<&str>| McpServerConfig {
        command: Some("sh".into()),
        args: args.into_iter().map(str::to_owned).collect(),
        ..McpServerConfig::default()
    };
    let mut slow = sh(vec!["-c", "sleep 30"]);
    slow.startup_timeout_secs = Some(1);
    let (hub, _d) = hub_with(&[
        ("broken", sh(vec![script.to_str().unwrap()])),
        (
            "missing",
            McpServerConfig {
                command: Some("/nonexistent/mcp-server".into()),
                ..Default::default()
            },
        ),
        ("silent", slow),
        (
            "off",
            McpServerConfig {
                command: Some("sh".into()),
                enabled: Some(false),
                ..Default::default()
            },
        ),
        ("bad name", sh(vec![])),
    ]);
    hub.wait_started(Duration::from_secs(10)).await;
    let state = |n: &str| hub.servers().iter().find(|s| s.name == n).unwrap().state();
    let ServerState::Failed(why) = state("broken") else {
        panic!("{:?}", state("broken"))
    };
    assert!(why.contains("fatal: no config found"), "{why}");
    assert!(why.contains("ended before the MCP handshake"), "{why}");
    let ServerState::Failed(why) = state("missing") else {
        panic!()
    };
    assert!(why.contains("could not be started"), "{why}");
    let ServerState::Failed(why) = state("silent") else {
        panic!()
    };
    assert!(why.contains("startup_timeout_secs"), "{why}");
    assert_eq!(state("off"), ServerState::Disabled);
    let notices = hub.take_notices();
    assert_eq!(notices.len(), 4, "{notices:?}");
    assert!(notices.iter().any(|n| n.contains("bad name")));
    assert!(hub.take_notices().is_empty(), "each is told once");
    assert!(hub.tools().is_empty());

    // a real server killed mid-session: its calls say so, the hub goes on
    let Some(bin) = mcp_support::everything() else {
        return;
    };
    // a marker argument, so only this test's server is killed (the tests run in parallel)
    let mut cfg = everything(&bin);
    cfg.args.push("cove-crash-test-marker".into());
    let (hub, _d) = hub_with(&[("e", cfg)]);
    hub.wait_started(Duration::from_secs(60)).await;
    let (s, _) = hub.find("e__echo").unwrap();
    let pid = std::process::Command::new("pgrep")
        .args(["-f", "cove-crash-test-marker"])
        .output()
        .unwrap();
    for p in String::from_utf8_lossy(&pid.stdout).split_whitespace() {
        let _ = std::process::Command::new("kill").args(["-9", p]).status();
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    while matches!(s.state(), ServerState::Ready) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        matches!(s.state(), ServerState::Stopped(_)),
        "{:?}",
        s.state()
    );
    let err = s.call("echo", Default::default()).await.unwrap_err();
    assert!(err.contains("not available"), "{err}");
    assert!(hub.take_notices().iter().any(|n| n.contains("stopped")));
}

/// server-everything over streamable HTTP on a loopback port chosen now.
struct HttpServer {
    child: std::process::Child,
    url: String,
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn http_server(bin: &std::path::Path) -> HttpServer {
    let index = bin
        .parent()
        .and_then(|b| b.parent())
        .unwrap()
        .join("@modelcontextprotocol/server-everything/dist/index.js");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let preload =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/loopback-only.cjs");
    let child = std::process::Command::new("node")
        .arg("--require")
        .arg(preload)
        .arg(index)
        .arg("streamableHttp")
        .env("PORT", port.to_string())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "the HTTP server did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    HttpServer {
        child,
        url: format!("http://127.0.0.1:{port}/mcp"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_streamable_http_server_is_listed_called_and_held_to_the_offline_rule() {
    let Some(bin) = mcp_support::everything() else {
        return;
    };
    let server = http_server(&bin);
    let cfg = McpServerConfig {
        url: Some(server.url.clone()),
        headers: [("X-Team".to_string(), "cove".to_string())]
            .into_iter()
            .collect(),
        ..McpServerConfig::default()
    };
    let (hub, _dir) = hub_with(&[("web", cfg)]);
    hub.wait_started(Duration::from_secs(30)).await;
    let s = &hub.servers()[0];
    assert_eq!(s.state(), ServerState::Ready, "{:?}", s.state());
    assert_eq!(s.transport(), "http");
    let (s, _) = hub.find("web__echo").expect("listed");
    let out = s
        .call(
            "echo",
            json!({"message": "over http"}).as_object().unwrap().clone(),
        )
        .await
        .unwrap();
    assert!(out.text.contains("over http"), "{}", out.text);
    // a slow call over HTTP is dropped at once too
    let slow = s.call(
        "trigger-long-running-operation",
        json!({"duration": 30, "steps": 30})
            .as_object()
            .unwrap()
            .clone(),
    );
    assert!(
        tokio::time::timeout(Duration::from_millis(300), slow)
            .await
            .is_err()
    );

    // offline (the default): a public host is refused before any connection; https and
    // other schemes are refused with a reason
    for (url, want) in [
        ("http://203.0.113.9/mcp", "offline mode"),
        ("https://127.0.0.1:1/mcp", "handshake"),
        ("ftp://127.0.0.1/mcp", "scheme"),
    ] {
        let cfg = McpServerConfig {
            url: Some(url.into()),
            ..McpServerConfig::default()
        };
        let (hub, _dir) = hub_with(&[("remote", cfg)]);
        hub.wait_started(Duration::from_secs(10)).await;
        let ServerState::Failed(why) = hub.servers()[0].state() else {
            panic!("{url}")
        };
        assert!(why.contains(want), "{url}: {why}");
    }
}
