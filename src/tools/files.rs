//! Workspace files as the user sees them. On their own, the tools read and write the disk;
//! inside an editor that offers its file system (`cove acp` with a client that offers
//! `fs/read_text_file` and `fs/write_text_file`), text files are read from and written
//! through the editor, so the model reads the unsaved buffer the user is looking at and
//! the editor's buffer takes the change. Everything else stays as it is: paths are
//! resolved and confined first, protected paths ask, previews, stale checks, undo and the
//! journal work on the same bytes. Files that are not UTF-8, or too large to send as one
//! message, always go to the disk.

use std::io;
use std::path::Path;
use std::sync::Arc;

use super::context::ToolContext;

/// The largest file whose text is asked of (or sent to) the editor.
pub const EDITOR_MAX_BYTES: u64 = 4 * 1024 * 1024;

/// An editor's view of the workspace's files. Called from blocking threads (the tools run
/// on tokio's blocking pool); an implementation may wait for the editor's answer.
pub trait EditorFiles: Send + Sync + std::fmt::Debug {
    /// The text the editor holds for `path` (absolute), unsaved changes included; `None`
    /// when it cannot say (it does not answer in time, or refuses): the disk is read.
    fn read(&self, path: &Path) -> Option<String>;
    /// Writes `text` to `path` through the editor (its buffer, and the file).
    fn write(&self, path: &Path, text: &str) -> Result<(), String>;
    /// Whether it writes (a client may offer reading only).
    fn writes(&self) -> bool;
}

/// Whether the editor is asked about `path`: a regular file no larger than
/// `EDITOR_MAX_BYTES` (or one that does not exist yet, for writes).
fn editor_for<'a>(ctx: &'a ToolContext, path: &Path) -> Option<&'a Arc<dyn EditorFiles>> {
    let editor = ctx.editor.as_ref()?;
    match std::fs::metadata(path) {
        Ok(m) if m.is_file() && m.len() <= EDITOR_MAX_BYTES => Some(editor),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Some(editor),
        _ => None,
    }
}

/// The editor's text of an existing file, when there is an editor and it answers.
pub fn editor_text(ctx: &ToolContext, path: &Path) -> Option<Arc<[u8]>> {
    if !path.is_file() {
        return None;
    }
    let text = editor_for(ctx, path)?.read(path)?;
    Some(Arc::from(text.into_bytes()))
}

/// Whether `path` holds exactly `expected` (`None`: no readable file), as the editor sees
/// it when there is one.
pub fn holds(ctx: &ToolContext, path: &Path, expected: Option<&[u8]>) -> bool {
    match editor_text(ctx, path) {
        Some(text) => expected == Some(&text[..]),
        None => super::on_disk::holds(path, expected),
    }
}

/// Writes `bytes` to `path`: through the editor for UTF-8 text when it writes, else
/// atomically on disk.
pub fn write(ctx: &ToolContext, path: &Path, bytes: &[u8]) -> io::Result<()> {
    let through_editor = editor_for(ctx, path)
        .filter(|e| e.writes() && bytes.len() as u64 <= EDITOR_MAX_BYTES)
        .zip(std::str::from_utf8(bytes).ok());
    match through_editor {
        Some((editor, text)) => editor.write(path, text).map_err(io::Error::other),
        None => super::atomic::write_atomic(path, bytes),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;
    use std::path::PathBuf;
    use std::sync::Mutex;

    /// An editor with unsaved buffers.
    #[derive(Debug, Default)]
    struct Buffers {
        open: Mutex<HashMap<PathBuf, String>>,
        writes: Mutex<Vec<(PathBuf, String)>>,
    }

    impl EditorFiles for Buffers {
        fn read(&self, path: &Path) -> Option<String> {
            self.open.lock().unwrap().get(path).cloned()
        }
        fn write(&self, path: &Path, text: &str) -> Result<(), String> {
            self.writes
                .lock()
                .unwrap()
                .push((path.to_owned(), text.to_owned()));
            std::fs::write(path, text).map_err(|e| e.to_string())
        }
        fn writes(&self) -> bool {
            true
        }
    }

    #[test]
    fn the_editors_buffer_is_read_and_text_is_written_through_it() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.txt");
        std::fs::write(&a, "on disk\n").unwrap();
        let editor = Arc::new(Buffers::default());
        editor
            .open
            .lock()
            .unwrap()
            .insert(a.clone(), "unsaved\n".into());
        let mut ctx = ToolContext::new(dir.path().to_owned());
        assert_eq!(editor_text(&ctx, &a), None, "no editor: the disk");
        ctx.editor = Some(editor.clone());
        assert_eq!(editor_text(&ctx, &a).as_deref(), Some(&b"unsaved\n"[..]));
        assert!(holds(&ctx, &a, Some(b"unsaved\n")));
        assert!(!holds(&ctx, &a, Some(b"on disk\n")));
        write(&ctx, &a, b"new\n").unwrap();
        // not UTF-8: the disk
        let bin = dir.path().join("b.bin");
        write(&ctx, &bin, &[0xff, 0xfe]).unwrap();
        let writes = editor.writes.lock().unwrap();
        assert_eq!(writes.as_slice(), [(a.clone(), "new\n".to_owned())]);
        assert_eq!(std::fs::read(&bin).unwrap(), [0xff, 0xfe]);
        // a file the editor does not hold: the disk
        let c = dir.path().join("c.txt");
        std::fs::write(&c, "c\n").unwrap();
        assert!(holds(&ctx, &c, Some(b"c\n")));
    }
}
