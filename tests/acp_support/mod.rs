//! An editor's side of a `cove acp` conversation, for the tests that speak JSON-RPC lines
//! to the real binary.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

use crate::cli_support::Sandbox;
use crate::common::*;
use serde_json::{Value, json};

pub const WAIT: Duration = Duration::from_secs(20);

/// An editor's side of the conversation.
pub struct Client {
    pub child: Child,
    pub stdin: Option<ChildStdin>,
    lines: Receiver<String>,
    next_id: u64,
}

impl Client {
    pub fn start(sb: &Sandbox, server: &FakeServer) -> Client {
        let url = server.base_url();
        Client::start_with(
            sb,
            &[
                ("COVE_BASE_URL", url.as_str()),
                ("COVE_MODEL", "fake-model"),
            ],
        )
    }

    pub fn start_with(sb: &Sandbox, env: &[(&str, &str)]) -> Client {
        let mut child = sb
            .command(&["acp"], env)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn cove acp");
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { return };
                if tx.send(line).is_err() {
                    return;
                }
            }
        });
        let stdin = child.stdin.take();
        Client {
            child,
            stdin,
            lines,
            next_id: 0,
        }
    }

    pub fn write_raw(&mut self, bytes: &[u8]) {
        let stdin = self.stdin.as_mut().unwrap();
        stdin.write_all(bytes).unwrap();
        stdin.flush().unwrap();
    }

    pub fn send(&mut self, v: Value) {
        let mut line = v.to_string();
        line.push('\n');
        self.write_raw(line.as_bytes());
    }

    pub fn request(&mut self, method: &str, params: Value) -> u64 {
        self.next_id += 1;
        let id = self.next_id;
        self.send(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        id
    }

    /// The next message; every line on stdout must be a JSON-RPC message.
    pub fn next(&mut self) -> Value {
        match self.lines.recv_timeout(WAIT) {
            Ok(line) => {
                let v: Value = serde_json::from_str(&line)
                    .unwrap_or_else(|e| panic!("stdout line is not JSON ({e}): {line:?}"));
                assert_eq!(v["jsonrpc"], "2.0", "{v}");
                v
            }
            Err(RecvTimeoutError::Timeout) => panic!("no message from cove acp in {WAIT:?}"),
            Err(RecvTimeoutError::Disconnected) => panic!("cove acp closed stdout"),
        }
    }

    /// Messages until (and with) the response to request `id`.
    pub fn until_response(&mut self, id: u64) -> (Vec<Value>, Value) {
        let mut seen = Vec::new();
        loop {
            let v = self.next();
            if v["id"] == json!(id) && v.get("method").is_none() {
                return (seen, v);
            }
            seen.push(v);
        }
    }

    /// Messages until one matches `pred` (returned last).
    pub fn until(&mut self, pred: impl Fn(&Value) -> bool) -> Vec<Value> {
        let mut seen = Vec::new();
        let started = Instant::now();
        loop {
            assert!(started.elapsed() < WAIT, "waited too long: {seen:?}");
            let v = self.next();
            let done = pred(&v);
            seen.push(v);
            if done {
                return seen;
            }
        }
    }

    pub fn handshake(&mut self, cwd: &std::path::Path) -> String {
        let id = self.request(
            "initialize",
            json!({"protocolVersion": 1, "clientCapabilities": {}}),
        );
        let (_, init) = self.until_response(id);
        assert_eq!(init["result"]["protocolVersion"], 1, "{init}");
        let id = self.request(
            "session/new",
            json!({"cwd": cwd.to_str().unwrap(), "mcpServers": []}),
        );
        let (_, new) = self.until_response(id);
        new["result"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no sessionId: {new}"))
            .to_owned()
    }

    /// Closes stdin and expects cove to leave promptly and cleanly.
    pub fn finish(mut self) {
        drop(self.stdin.take());
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                assert!(status.success(), "cove acp exited with {status}");
                return;
            }
            if started.elapsed() > WAIT {
                let _ = self.child.kill();
                panic!("cove acp did not exit after stdin closed");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn updates<'a>(msgs: &'a [Value], kind: &str) -> Vec<&'a Value> {
    msgs.iter()
        .filter(|m| {
            m["method"] == "session/update" && m["params"]["update"]["sessionUpdate"] == kind
        })
        .map(|m| &m["params"]["update"])
        .collect()
}

pub fn tool_messages(request: &Captured) -> Vec<String> {
    request.json()["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["role"] == "tool")
        .map(|m| m["content"].as_str().unwrap_or("").to_owned())
        .collect()
}
