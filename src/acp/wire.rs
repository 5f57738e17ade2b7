//! The wire side of `cove acp`: reading and writing JSON-RPC lines (bounded), and the ACP
//! shapes cove reads (prompt blocks, the editor's MCP servers) or writes (diffs, tool kinds).

use std::path::Path;

use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender};

use super::{INVALID_REQUEST, ImagePrep, MAX_LINE, PARSE_ERROR};
use crate::protocol::{ImageAttachment, ProposedChange};

/// An MCP server the editor passes with `session/new`, started like a configured one.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct EditorMcpServer {
    /// Made safe for tool names (`[A-Za-z0-9_-]`, no `__`, at most 32 characters).
    pub name: String,
    /// stdio: the command, its arguments and environment.
    pub command: Option<String>,
    pub args: Vec<String>,
    pub env: Vec<(String, String)>,
    /// http: the URL and headers.
    pub url: Option<String>,
    pub headers: Vec<(String, String)>,
}

/// The editor's `mcpServers` (stdio entries, and `type: "http"` ones); others are refused.
pub(super) fn editor_mcp_servers(params: &Value) -> Result<Vec<EditorMcpServer>, String> {
    let pairs = |v: Option<&Value>| -> Vec<(String, String)> {
        v.and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|e| {
                        Some((
                            e.get("name")?.as_str()?.to_owned(),
                            e.get("value")?.as_str()?.to_owned(),
                        ))
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    let Some(list) = params.get("mcpServers").and_then(Value::as_array) else {
        return Ok(Vec::new());
    };
    let mut out: Vec<EditorMcpServer> = Vec::new();
    for entry in list.iter().take(64) {
        let raw = entry.get("name").and_then(Value::as_str).unwrap_or("mcp");
        let mut name: String = raw
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .take(28)
            .collect();
        while name.contains("__") {
            name = name.replace("__", "_");
        }
        if name.is_empty() || name == "_" {
            name = "mcp".into();
        }
        let base = name.clone();
        let mut n = 1;
        while out.iter().any(|s| s.name == name) {
            n += 1;
            name = format!("{base}-{n}");
        }
        let kind = entry.get("type").and_then(Value::as_str);
        let server = match kind {
            None | Some("stdio") => EditorMcpServer {
                name,
                command: Some(
                    entry
                        .get("command")
                        .and_then(Value::as_str)
                        .ok_or_else(|| format!("MCP server {raw}: no command"))?
                        .to_owned(),
                ),
                args: entry
                    .get("args")
                    .and_then(Value::as_array)
                    .map(|a| {
                        a.iter()
                            .filter_map(|x| x.as_str().map(str::to_owned))
                            .collect()
                    })
                    .unwrap_or_default(),
                env: pairs(entry.get("env")),
                ..EditorMcpServer::default()
            },
            Some("http") => EditorMcpServer {
                name,
                url: Some(
                    entry
                        .get("url")
                        .and_then(Value::as_str)
                        .ok_or_else(|| format!("MCP server {raw}: no url"))?
                        .to_owned(),
                ),
                headers: pairs(entry.get("headers")),
                ..EditorMcpServer::default()
            },
            Some(other) => {
                return Err(format!(
                    "MCP server {raw}: transport {other} is not supported"
                ));
            }
        };
        out.push(server);
    }
    Ok(out)
}

/// What the reader hands the loop: one line parsed, or why it could not be.
pub(super) enum Incoming {
    Message(Value),
    Bad { code: i64, message: String },
}

/// Reads lines of at most `MAX_LINE` bytes; longer ones are skipped to their end.
pub(super) async fn read_lines<R: AsyncRead + Unpin>(reader: R, tx: UnboundedSender<Incoming>) {
    let mut reader = BufReader::new(reader);
    let mut line: Vec<u8> = Vec::new();
    let mut too_long = false;
    loop {
        let buf = match reader.fill_buf().await {
            Ok(b) => b,
            Err(e) => {
                tracing::warn!("acp: cannot read stdin: {e}");
                return;
            }
        };
        if buf.is_empty() {
            // end of input: a last unterminated line still counts
            if !line.is_empty() && !too_long {
                let _ = tx.send(parse_line(&line));
            }
            return;
        }
        let (take, end) = match buf.iter().position(|&b| b == b'\n') {
            Some(i) => (i + 1, true),
            None => (buf.len(), false),
        };
        if !too_long {
            let piece = &buf[..if end { take - 1 } else { take }];
            if line.len() + piece.len() > MAX_LINE {
                too_long = true;
                line = Vec::new();
            } else {
                line.extend_from_slice(piece);
            }
        }
        reader.consume(take);
        if end {
            if too_long {
                let _ = tx.send(Incoming::Bad {
                    code: INVALID_REQUEST,
                    message: format!("message longer than {MAX_LINE} bytes"),
                });
            } else if !line.iter().all(u8::is_ascii_whitespace)
                && tx.send(parse_line(&line)).is_err()
            {
                return;
            }
            line.clear();
            too_long = false;
        }
    }
}

fn parse_line(line: &[u8]) -> Incoming {
    match serde_json::from_slice::<Value>(line) {
        Ok(v) if v.is_object() => Incoming::Message(v),
        Ok(_) => Incoming::Bad {
            code: INVALID_REQUEST,
            message: "a JSON-RPC message must be an object".into(),
        },
        Err(e) => Incoming::Bad {
            code: PARSE_ERROR,
            message: format!("parse error: {e}"),
        },
    }
}

/// Writes each message as one line, flushed.
pub(super) async fn write_lines<W: AsyncWrite + Unpin>(
    mut writer: W,
    mut rx: UnboundedReceiver<Value>,
) {
    while let Some(v) = rx.recv().await {
        let mut line = v.to_string();
        line.push('\n');
        if writer.write_all(line.as_bytes()).await.is_err() || writer.flush().await.is_err() {
            tracing::warn!("acp: stdout closed");
            return;
        }
    }
}

/// The prompt's image blocks (`{type: image, data: base64, mimeType}`) as attachments.
pub(super) fn prompt_images(
    blocks: &[Value],
    max_images: usize,
    prepare_image: &ImagePrep,
) -> Result<Vec<ImageAttachment>, String> {
    use base64::Engine;
    let mut images = Vec::new();
    for b in blocks {
        if b.get("type").and_then(Value::as_str) != Some("image") {
            continue;
        }
        if images.len() >= max_images {
            return Err(format!("at most {max_images} images a prompt"));
        }
        let data = b
            .get("data")
            .and_then(Value::as_str)
            .ok_or("an image block without data")?;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(data.trim())
            .map_err(|e| format!("image data is not base64: {e}"))?;
        images.push(prepare_image(&bytes)?);
    }
    Ok(images)
}

/// The most of a linked file attached to a prompt (more is cut, with a note).
const MAX_LINKED: usize = 64 * 1024;

/// A `resource_link` to a text file inside the workspace `root`, read for the prompt
/// (at most `MAX_LINKED` bytes); `None` for anything else (another scheme, outside the
/// workspace through `..` or a symlink, not a regular file, not text).
fn linked_file(root: &Path, uri: &str) -> Option<String> {
    let path = uri.strip_prefix("file://")?;
    let path = percent_decoded(path)?;
    let real = Path::new(&path).canonicalize().ok()?;
    if !real.starts_with(root) || !real.is_file() {
        return None;
    }
    let mut bytes = Vec::new();
    use std::io::Read;
    std::fs::File::open(&real)
        .ok()?
        .take(MAX_LINKED as u64 + 1)
        .read_to_end(&mut bytes)
        .ok()?;
    let cut = bytes.len() > MAX_LINKED;
    bytes.truncate(MAX_LINKED);
    if bytes.contains(&0) {
        return None;
    }
    let mut text = String::from_utf8_lossy(&bytes).into_owned();
    if cut {
        text.push_str("\n[cut: the file is longer than 64 KiB]");
    }
    Some(text)
}

/// `%XX` escapes of a URI path decoded; `None` when they do not make UTF-8.
fn percent_decoded(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            let hex = std::str::from_utf8(&b[i + 1..i + 3]).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// The text of a prompt's content blocks: text, embedded text resources and links to
/// text files in the workspace `root` as attachments; other links are named.
pub(super) fn prompt_text(blocks: &[Value], root: &Path) -> String {
    let mut parts = Vec::new();
    for b in blocks {
        match b.get("type").and_then(Value::as_str) {
            Some("text") => {
                if let Some(t) = b.get("text").and_then(Value::as_str) {
                    parts.push(t.to_owned());
                }
            }
            Some("resource") => {
                let r = b.get("resource");
                let uri = r.and_then(|r| r.get("uri")).and_then(Value::as_str);
                if let Some(t) = r.and_then(|r| r.get("text")).and_then(Value::as_str) {
                    parts.push(format!(
                        "<file uri=\"{}\">\n{t}\n</file>",
                        uri.unwrap_or("")
                    ));
                }
            }
            Some("resource_link") => {
                if let Some(uri) = b.get("uri").and_then(Value::as_str) {
                    match linked_file(root, uri) {
                        Some(t) => parts.push(format!("<file uri=\"{uri}\">\n{t}\n</file>")),
                        None => parts.push(format!("(see {uri})")),
                    }
                }
            }
            _ => {}
        }
    }
    parts.join("\n\n")
}

/// The most text of one change sent as an ACP `diff` (old and new together); a larger
/// change is named by its location only.
const MAX_DIFF: usize = 2 * 1024 * 1024;

/// File changes as ACP `diff` contents (absolute paths), so the editor shows its own diff.
pub(super) fn diff_content(root: &Path, changes: &[ProposedChange]) -> Vec<Value> {
    changes
        .iter()
        .filter(|c| {
            c.old.as_deref().map_or(0, str::len) + c.new.as_deref().map_or(0, str::len) <= MAX_DIFF
        })
        .map(|c| {
            json!({
                "type": "diff",
                "path": root.join(&c.path),
                "oldText": c.old.as_deref(),
                "newText": c.new.as_deref().unwrap_or(""),
            })
        })
        .collect()
}

/// ACP's tool kind for one of cove's tools.
pub(super) fn tool_kind(tool: &str) -> &'static str {
    match tool {
        "read_file" | "list_files" | "git_status" | "git_diff" => "read",
        "search" => "search",
        "write_file" | "edit_file" | "apply_patch" => "edit",
        "shell" | "git_commit" => "execute",
        _ => "other",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prompt_blocks_become_text() {
        let blocks = vec![
            json!({"type": "text", "text": "fix it"}),
            json!({"type": "resource", "resource": {"uri": "file:///a.rs", "text": "fn a() {}"}}),
            json!({"type": "resource_link", "uri": "file:///b.rs", "name": "b.rs"}),
            json!({"type": "image", "data": "x", "mimeType": "image/png"}),
        ];
        let t = prompt_text(&blocks, Path::new("/nonexistent-root"));
        assert!(t.starts_with("fix it\n\n<file uri=\"file:///a.rs\">\nfn a() {}\n</file>"));
        assert!(t.ends_with("(see file:///b.rs)"));
    }

    #[test]
    fn links_to_workspace_text_files_are_attached_and_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("ws");
        std::fs::create_dir_all(&root).unwrap();
        let root = root.canonicalize().unwrap();
        std::fs::write(root.join("my file.rs"), "fn linked() {}").unwrap();
        std::fs::write(dir.path().join("outside.txt"), "secret").unwrap();
        std::os::unix::fs::symlink(dir.path().join("outside.txt"), root.join("link.txt")).unwrap();
        std::fs::write(root.join("bin"), [0u8, 1, 2]).unwrap();
        std::fs::write(root.join("big.txt"), "x".repeat(MAX_LINKED + 10)).unwrap();
        let link = |p: &str| json!({"type": "resource_link", "uri": p, "name": "n"});
        let r = root.display().to_string();
        let blocks = vec![
            link(&format!("file://{r}/my%20file.rs")),
            link(&format!("file://{r}/../outside.txt")),
            link(&format!("file://{r}/link.txt")),
            link(&format!("file://{r}/bin")),
            link(&format!("file://{r}/big.txt")),
            link(&format!("file://{r}/%ZZ")),
            link("https://example.com/x"),
        ];
        let t = prompt_text(&blocks, &root);
        assert!(t.contains("fn linked() {}"), "{t}");
        assert!(!t.contains("secret"), "{t}");
        assert!(t.contains(&format!("(see file://{r}/../outside.txt)")));
        assert!(t.contains(&format!("(see file://{r}/link.txt)")));
        assert!(t.contains(&format!("(see file://{r}/bin)")));
        assert!(t.contains("[cut: the file is longer than 64 KiB]"));
        assert!(t.contains("(see https://example.com/x)"));
    }

    #[test]
    fn editor_mcp_servers_get_safe_unique_names() {
        let params = json!({"mcpServers": [
            {"name": "my files/v2", "command": "fs-server", "args": ["--ro"], "env": [{"name": "K", "value": "v"}]},
            {"name": "my files/v2", "command": "other"},
            {"type": "http", "name": "a__b", "url": "http://127.0.0.1:9/mcp", "headers": []},
        ]});
        let s = editor_mcp_servers(&params).unwrap();
        assert_eq!(s[0].name, "my_files_v2");
        assert_eq!(s[0].args, ["--ro"]);
        assert_eq!(s[0].env, [("K".to_owned(), "v".to_owned())]);
        assert_eq!(s[1].name, "my_files_v2-2");
        assert_eq!(s[2].name, "a_b");
        assert_eq!(s[2].url.as_deref(), Some("http://127.0.0.1:9/mcp"));
        assert!(
            editor_mcp_servers(&json!({"mcpServers": [{"type": "sse", "name": "x", "url": "u"}]}))
                .is_err()
        );
        assert!(editor_mcp_servers(&json!({"mcpServers": [{"name": "x"}]})).is_err());
    }

    #[test]
    fn bad_lines_are_errors() {
        assert!(matches!(
            parse_line(b"{nope"),
            Incoming::Bad {
                code: PARSE_ERROR,
                ..
            }
        ));
        assert!(matches!(
            parse_line(b"[1]"),
            Incoming::Bad {
                code: INVALID_REQUEST,
                ..
            }
        ));
        assert!(matches!(parse_line(b"{}"), Incoming::Message(_)));
    }
}
