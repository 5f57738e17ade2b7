//! The files a streaming edit is about, read as soon as the call's `path` has arrived, so
//! the diff pane can show the change against them while the model is still writing it.
//! Paths are confined to the workspace like every tool's.

use std::collections::HashMap;
use std::path::Path;

use crate::domain::live_edit::previews;
use crate::domain::partial_json::PartialObject;
use crate::domain::paths::resolve_in_root;
use crate::protocol::StreamEvent;

/// Files larger than this are not previewed while streaming.
pub const MAX_PREVIEW_BYTES: u64 = 8 * 1024 * 1024;

/// A file read for a preview: `Ok(None)` when it does not exist (yet).
pub type Base = Result<Option<String>, String>;

/// Watches a reply's tool-call stream; yields each previewable call's file once.
#[derive(Default)]
pub struct BaseWatcher {
    calls: HashMap<usize, (PartialObject, bool)>,
}

impl BaseWatcher {
    /// Reads the stream event; `Some((index, path, base))` when a call's path has just
    /// become whole.
    pub fn see(&mut self, root: &Path, ev: &StreamEvent) -> Option<(usize, String, Base)> {
        match ev {
            StreamEvent::ToolCallStart { index, name, .. }
                if previews(name) && name != "apply_patch" =>
            {
                self.calls.insert(*index, (PartialObject::new(), false));
                None
            }
            StreamEvent::ToolCallArgs { index, fragment } => {
                let (args, sent) = self.calls.get_mut(index)?;
                if *sent {
                    return None;
                }
                args.feed(fragment);
                if !args.complete("path") {
                    return None;
                }
                *sent = true;
                let path = args.get("path").unwrap_or("").to_owned();
                let base = read(root, &path);
                Some((*index, path, base))
            }
            _ => None,
        }
    }
}

/// The file's text, `None` when it does not exist; an error for paths outside the
/// workspace, directories, huge files.
pub fn read(root: &Path, path: &str) -> Base {
    let abs = resolve_in_root(root, path).map_err(|e| e.to_string())?;
    match std::fs::metadata(&abs) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("cannot read {path}: {e}")),
        Ok(m) if m.is_dir() => return Err(format!("{path} is a directory")),
        // a FIFO or device would block the stream while it is read
        Ok(m) if !m.is_file() => return Err(format!("{path} is not a regular file")),
        Ok(m) if m.len() > MAX_PREVIEW_BYTES => {
            return Err(format!("{path} is too large to preview while streaming"));
        }
        Ok(_) => {}
    }
    std::fs::read(&abs)
        .map(|b| Some(String::from_utf8_lossy(&b).into_owned()))
        .map_err(|e| format!("cannot read {path}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_is_read_once_when_its_path_is_whole() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        std::fs::write(root.join("a.txt"), "hello\n").unwrap();
        let mut w = BaseWatcher::default();
        let start = StreamEvent::ToolCallStart {
            index: 0,
            id: "x".into(),
            name: "edit_file".into(),
        };
        assert!(w.see(&root, &start).is_none());
        let args = |f: &str| StreamEvent::ToolCallArgs {
            index: 0,
            fragment: f.into(),
        };
        assert!(w.see(&root, &args(r#"{"path": "a.t"#)).is_none());
        let got = w.see(&root, &args(r#"xt", "old_string": "#));
        assert_eq!(got, Some((0, "a.txt".into(), Ok(Some("hello\n".into())))));
        assert!(w.see(&root, &args(r#""hello""#)).is_none(), "once");
        // escapes are refused, missing files are new files
        let mut w = BaseWatcher::default();
        let start = StreamEvent::ToolCallStart {
            index: 1,
            id: "y".into(),
            name: "write_file".into(),
        };
        w.see(&root, &start);
        let got = w.see(
            &root,
            &StreamEvent::ToolCallArgs {
                index: 1,
                fragment: r#"{"path":"../../etc/passwd","#.into(),
            },
        );
        assert!(matches!(got, Some((1, _, Err(_)))), "{got:?}");
        assert_eq!(read(&root, "new.rs"), Ok(None));
    }
}
