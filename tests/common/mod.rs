//! A fake OpenAI-compatible server for tests: scripted replies written in arbitrary
//! pieces with delays, requests captured, failures on demand. Binds 127.0.0.1 on a port
//! chosen at run time and runs on its own thread, so both sync tests (which spawn the
//! `cove` binary) and async tests can use it.
#![allow(dead_code)]

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    /// Written one piece at a time, each flushed, with `delay` before each.
    pub pieces: Vec<Vec<u8>>,
    pub delay: Duration,
    /// Send the body with chunked transfer encoding (as streaming servers do).
    pub chunked: bool,
    /// After the body, keep the connection open without finishing the response.
    pub hang: bool,
    /// Close the connection without the final zero-length chunk.
    pub cut: bool,
    /// After the pieces, send this piece again and again, as fast as the socket takes it,
    /// until the client goes away (a hostile or broken server).
    pub endless: Option<Vec<u8>>,
}

impl Reply {
    /// An SSE reply: each string is one `data:` event.
    pub fn sse(events: &[&str]) -> Reply {
        let body: String = events.iter().map(|e| format!("data: {e}\n\n")).collect();
        Reply::sse_raw(body.into_bytes())
    }

    /// An SSE reply from exact bytes.
    pub fn sse_raw(body: Vec<u8>) -> Reply {
        Reply {
            status: 200,
            headers: vec![("Content-Type".into(), "text/event-stream".into())],
            pieces: vec![body],
            delay: Duration::ZERO,
            chunked: true,
            hang: false,
            cut: false,
            endless: None,
        }
    }

    pub fn json(status: u16, body: &str) -> Reply {
        Reply {
            status,
            headers: vec![("Content-Type".into(), "application/json".into())],
            pieces: vec![body.as_bytes().to_vec()],
            delay: Duration::ZERO,
            chunked: false,
            hang: false,
            cut: false,
            endless: None,
        }
    }

    pub fn header(mut self, name: &str, value: &str) -> Reply {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Re-cut the body into pieces of `n` bytes (UTF-8 characters get split too).
    pub fn pieces_of(mut self, n: usize) -> Reply {
        let all: Vec<u8> = self.pieces.concat();
        self.pieces = all.chunks(n.max(1)).map(<[u8]>::to_vec).collect();
        self
    }

    pub fn delay(mut self, d: Duration) -> Reply {
        self.delay = d;
        self
    }

    pub fn hang(mut self) -> Reply {
        self.hang = true;
        self
    }

    pub fn cut(mut self) -> Reply {
        self.cut = true;
        self
    }

    pub fn endless(mut self, piece: &[u8]) -> Reply {
        self.endless = Some(piece.to_vec());
        self
    }
}

#[derive(Debug, Clone)]
pub struct Captured {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Captured {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Default)]
struct Shared {
    posts: Mutex<VecDeque<Reply>>,
    gets: Mutex<HashMap<String, Reply>>,
    /// POSTs to these paths get a fixed answer instead of the next scripted reply
    /// (Ollama's `/api/show`).
    post_routes: Mutex<HashMap<String, Reply>>,
    requests: Mutex<Vec<Captured>>,
    /// Writes that failed because the client had gone (cancellation).
    broken_writes: AtomicUsize,
}

pub struct FakeServer {
    pub addr: SocketAddr,
    shared: Arc<Shared>,
}

impl FakeServer {
    /// POSTs are answered from `posts` in order; GET /v1/models lists `fake-model`.
    pub fn start(posts: Vec<Reply>) -> FakeServer {
        let shared = Arc::new(Shared::default());
        shared.posts.lock().unwrap().extend(posts);
        shared.gets.lock().unwrap().insert(
            "/v1/models".into(),
            Reply::json(
                200,
                r#"{"object":"list","data":[{"id":"fake-model","owned_by":"fake"}]}"#,
            ),
        );
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        std_listener.set_nonblocking(true).unwrap();
        let addr = std_listener.local_addr().unwrap();
        let s = Arc::clone(&shared);
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let listener = TcpListener::from_std(std_listener).unwrap();
                loop {
                    let Ok((sock, _)) = listener.accept().await else {
                        continue;
                    };
                    tokio::spawn(serve(sock, Arc::clone(&s)));
                }
            });
        });
        FakeServer { addr, shared }
    }

    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    pub fn push(&self, reply: Reply) {
        self.shared.posts.lock().unwrap().push_back(reply);
    }

    pub fn set_get(&self, path: &str, reply: Reply) {
        self.shared.gets.lock().unwrap().insert(path.into(), reply);
    }

    /// Every POST to `path` gets `reply` (the scripted replies are for the others).
    pub fn set_post(&self, path: &str, reply: Reply) {
        self.shared
            .post_routes
            .lock()
            .unwrap()
            .insert(path.into(), reply);
    }

    pub fn requests(&self) -> Vec<Captured> {
        self.shared.requests.lock().unwrap().clone()
    }

    pub fn posts(&self) -> Vec<Captured> {
        self.requests()
            .into_iter()
            .filter(|r| r.method == "POST")
            .collect()
    }

    pub fn broken_writes(&self) -> usize {
        self.shared.broken_writes.load(Ordering::SeqCst)
    }
}

/// A loopback port with nothing listening on it.
pub fn dead_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

async fn serve(mut sock: TcpStream, shared: Arc<Shared>) {
    let Some(req) = read_request(&mut sock).await else {
        return;
    };
    let reply = if req.method == "GET" {
        shared
            .gets
            .lock()
            .unwrap()
            .get(&req.path)
            .cloned()
            .unwrap_or_else(|| Reply::json(404, r#"{"error":{"message":"no such route"}}"#))
    } else if let Some(r) = shared.post_routes.lock().unwrap().get(&req.path).cloned() {
        r
    } else {
        shared.posts.lock().unwrap().pop_front().unwrap_or_else(|| {
            Reply::json(
                500,
                r#"{"error":{"message":"fake server: no scripted reply left"}}"#,
            )
        })
    };
    shared.requests.lock().unwrap().push(req);
    if write_reply(&mut sock, &reply).await.is_err() {
        shared.broken_writes.fetch_add(1, Ordering::SeqCst);
    }
}

async fn write_reply(sock: &mut TcpStream, r: &Reply) -> std::io::Result<()> {
    let mut head = format!("HTTP/1.1 {} {}\r\n", r.status, reason(r.status));
    for (k, v) in &r.headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    if r.chunked {
        head.push_str("Transfer-Encoding: chunked\r\n");
    } else {
        head.push_str(&format!(
            "Content-Length: {}\r\n",
            r.pieces.iter().map(Vec::len).sum::<usize>()
        ));
    }
    head.push_str("Connection: close\r\n\r\n");
    sock.write_all(head.as_bytes()).await?;
    sock.flush().await?;
    for piece in &r.pieces {
        if !r.delay.is_zero() {
            tokio::time::sleep(r.delay).await;
        }
        if r.chunked {
            if piece.is_empty() {
                continue;
            }
            sock.write_all(format!("{:x}\r\n", piece.len()).as_bytes())
                .await?;
            sock.write_all(piece).await?;
            sock.write_all(b"\r\n").await?;
        } else {
            sock.write_all(piece).await?;
        }
        sock.flush().await?;
    }
    if let Some(piece) = &r.endless {
        // many copies per write, so the server is never the slow side
        let batch: Vec<u8> = piece.repeat((65_536 / piece.len().max(1)).max(1));
        loop {
            sock.write_all(format!("{:x}\r\n", batch.len()).as_bytes())
                .await?;
            sock.write_all(&batch).await?;
            sock.write_all(b"\r\n").await?;
        }
    }
    if r.hang {
        tokio::time::sleep(Duration::from_secs(30)).await;
        return Ok(());
    }
    if r.chunked && !r.cut {
        sock.write_all(b"0\r\n\r\n").await?;
    }
    sock.flush().await?;
    let _ = sock.shutdown().await;
    Ok(())
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        413 => "Payload Too Large",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "Status",
    }
}

async fn read_request(sock: &mut TcpStream) -> Option<Captured> {
    let mut buf = Vec::new();
    let mut tmp = [0u8; 8192];
    let head_end = loop {
        let n = sock.read(&mut tmp).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&tmp[..n]);
        if let Some(pos) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break pos + 4;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut first = lines.next()?.split(' ');
    let method = first.next()?.to_owned();
    let path = first.next()?.to_owned();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let len = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse::<usize>().ok())
        .unwrap_or(0);
    let mut body = buf[head_end..].to_vec();
    while body.len() < len {
        let n = sock.read(&mut tmp).await.ok()?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&tmp[..n]);
    }
    Some(Captured {
        method,
        path,
        headers,
        body,
    })
}

/// Standard chunk JSON for tests.
pub fn content_chunk(text: &str) -> String {
    serde_json::json!({"object":"chat.completion.chunk","model":"fake-model","choices":[{"index":0,"delta":{"content":text},"finish_reason":null}]}).to_string()
}

pub fn finish_chunk(reason: &str) -> String {
    serde_json::json!({"object":"chat.completion.chunk","choices":[{"index":0,"delta":{},"finish_reason":reason}]}).to_string()
}

pub const ROLE_CHUNK: &str = r#"{"object":"chat.completion.chunk","model":"fake-model","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}"#;
pub const USAGE_CHUNK: &str = r#"{"object":"chat.completion.chunk","choices":[],"usage":{"prompt_tokens":11,"completion_tokens":4,"total_tokens":15}}"#;

/// A complete, well-formed streamed reply of `text` cut into words.
pub fn answer(text: &str) -> Reply {
    let mut events = vec![ROLE_CHUNK.to_owned()];
    for word in text.split_inclusive(' ') {
        events.push(content_chunk(word));
    }
    events.push(finish_chunk("stop"));
    events.push(USAGE_CHUNK.to_owned());
    events.push("[DONE]".to_owned());
    let refs: Vec<&str> = events.iter().map(String::as_str).collect();
    Reply::sse(&refs)
}
