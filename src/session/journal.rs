//! The journal file: append one record per line, each written and fsync'd before the
//! caller goes on; load skipping a torn last line (a crash mid-write) with a warning.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use super::record::Record;

#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    #[error("session journal {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: io::Error,
    },
    #[error("session {0} is open in another cove; quit that one first")]
    Busy(String),
}

/// Takes the journal's lock (advisory, released when the file closes): two cove
/// processes appending to one session would interleave their turns.
fn lock(file: &File, path: &Path) -> Result<(), JournalError> {
    use std::os::fd::AsRawFd;
    // SAFETY: flock on a descriptor this function's caller owns and keeps open.
    let r = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    if r == 0 {
        return Ok(());
    }
    let e = io::Error::last_os_error();
    if e.raw_os_error() == Some(libc::EWOULDBLOCK) {
        let id = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        return Err(JournalError::Busy(id));
    }
    Err(io_err(path)(e))
}

/// Records up to this size are written with one call.
const LINE_BUFFER: usize = 64 * 1024;

/// An open journal, appended to.
#[derive(Debug)]
pub struct Journal {
    file: File,
    path: PathBuf,
}

fn io_err(path: &Path) -> impl Fn(io::Error) -> JournalError + '_ {
    move |source| JournalError::Io {
        path: path.display().to_string(),
        source,
    }
}

impl Journal {
    /// A new journal at `path` (its directory is created; the file must not exist),
    /// readable by the user only: it holds code and conversation.
    pub fn create(path: &Path) -> Result<Journal, JournalError> {
        if let Some(dir) = path.parent() {
            crate::private_files::create_dir(dir).map_err(io_err(path))?;
        }
        let mut opts = OpenOptions::new();
        opts.append(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let file = opts.open(path).map_err(io_err(path))?;
        lock(&file, path)?;
        Ok(Journal {
            file,
            path: path.to_owned(),
        })
    }

    /// Opens an existing journal to go on appending. A torn last line (no newline: the
    /// writer died mid-record) is cut off first, so the next record starts on its own line.
    pub fn reopen(path: &Path) -> Result<Journal, JournalError> {
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .open(path)
            .map_err(io_err(path))?;
        lock(&file, path)?;
        let len = file.metadata().map_err(io_err(path))?.len();
        if len > 0 {
            let keep = complete_length(&mut file, len).map_err(io_err(path))?;
            if keep < len {
                file.set_len(keep).map_err(io_err(path))?;
                file.sync_all().map_err(io_err(path))?;
            }
        }
        file.seek(SeekFrom::End(0)).map_err(io_err(path))?;
        Ok(Journal {
            file,
            path: path.to_owned(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes one record as one line and waits for it to reach the disk.
    /// A record up to `LINE_BUFFER` long is one write call; a longer one (a big file's text)
    /// is written as it is serialised, never built whole in memory. Either way a crash
    /// leaves at most this line torn, and a failed write is cut off again.
    pub fn append(&mut self, record: &Record) -> Result<(), JournalError> {
        let start = self
            .file
            .seek(SeekFrom::End(0))
            .map_err(io_err(&self.path))?;
        let written = (|| {
            let mut out = io::BufWriter::with_capacity(LINE_BUFFER, &self.file);
            serde_json::to_writer(&mut out, record).map_err(io::Error::other)?;
            out.write_all(b"\n")?;
            out.flush()
        })();
        if let Err(e) = written {
            let _ = self.file.set_len(start);
            return Err(io_err(&self.path)(e));
        }
        self.file.sync_data().map_err(io_err(&self.path))
    }
}

/// The length of the file up to and including its last newline.
fn complete_length(file: &mut File, len: u64) -> io::Result<u64> {
    let mut end = len;
    let mut buf = vec![0u8; 64 * 1024];
    while end > 0 {
        let start = end.saturating_sub(buf.len() as u64);
        let n = (end - start) as usize;
        file.seek(SeekFrom::Start(start))?;
        file.read_exact(&mut buf[..n])?;
        if let Some(i) = memchr::memrchr(b'\n', &buf[..n]) {
            return Ok(start + i as u64 + 1);
        }
        end = start;
    }
    Ok(0)
}

/// A journal as read back.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Loaded {
    pub records: Vec<Record>,
    /// Lines that were skipped, and why (a torn last line, a damaged line).
    pub warnings: Vec<String>,
}

/// Reads every complete record. A last line without its newline that does not parse is
/// a torn write and is skipped; a damaged line elsewhere is skipped too; both are named
/// in `warnings`. Nothing here panics on any bytes.
pub fn load(path: &Path) -> Result<Loaded, JournalError> {
    let bytes = std::fs::read(path).map_err(io_err(path))?;
    Ok(parse(&bytes))
}

/// `load` on bytes in memory.
pub fn parse(bytes: &[u8]) -> Loaded {
    let mut out = Loaded::default();
    let mut lines: Vec<&[u8]> = bytes.split(|&b| b == b'\n').collect();
    let torn_tail = !bytes.is_empty() && !bytes.ends_with(b"\n");
    if !torn_tail {
        lines.pop(); // the empty piece after the final newline
    }
    let last = lines.len().saturating_sub(1);
    for (i, line) in lines.iter().enumerate() {
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        if i == last && torn_tail {
            // unterminated: the write did not finish (reopening cuts it off, so loading
            // must not use it either, even when it happens to parse)
            out.warnings.push(format!(
                "skipped the last line ({} bytes), cut off by a crash while it was written",
                line.len()
            ));
            continue;
        }
        match serde_json::from_slice::<Record>(line) {
            Ok(r) => out.records.push(r),
            Err(e) => out.warnings.push(format!(
                "skipped line {}: not a journal record ({e})",
                i + 1
            )),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn note(t: &str) -> Record {
        Record::Note { text: t.into() }
    }

    #[test]
    fn appends_and_loads() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a/b/s.jsonl");
        let mut j = Journal::create(&path).unwrap();
        j.append(&note("one")).unwrap();
        j.append(&note("two\nlines")).unwrap();
        let l = load(&path).unwrap();
        assert_eq!(l.records, vec![note("one"), note("two\nlines")]);
        assert!(l.warnings.is_empty());
        assert!(Journal::create(&path).is_err(), "never overwrites");
    }

    #[test]
    fn torn_tail_is_skipped_and_cut_before_appending() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.jsonl");
        let mut j = Journal::create(&path).unwrap();
        j.append(&note("kept")).unwrap();
        drop(j);
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(br#"{"type":"note","te"#).unwrap();
        drop(f);
        let l = load(&path).unwrap();
        assert_eq!(l.records, vec![note("kept")]);
        assert_eq!(l.warnings.len(), 1);
        assert!(l.warnings[0].contains("last line"), "{:?}", l.warnings);
        let mut j = Journal::reopen(&path).unwrap();
        j.append(&note("after")).unwrap();
        let l = load(&path).unwrap();
        assert_eq!(l.records, vec![note("kept"), note("after")]);
        assert!(l.warnings.is_empty());
    }

    #[test]
    fn a_journal_open_in_one_place_cannot_be_reopened_in_another() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("20261130-101500-abcd.jsonl");
        let j = Journal::create(&path).unwrap();
        let e = Journal::reopen(&path).unwrap_err();
        assert!(
            matches!(e, JournalError::Busy(ref id) if id == "20261130-101500-abcd"),
            "{e}"
        );
        drop(j);
        assert!(Journal::reopen(&path).is_ok());
    }

    #[test]
    fn damaged_middle_line_is_named_and_the_rest_kept() {
        let l = parse(b"{\"type\":\"note\",\"text\":\"a\"}\nnot json\n{\"type\":\"undo\"}\n");
        assert_eq!(l.records, vec![note("a"), Record::Undo]);
        assert_eq!(l.warnings.len(), 1);
        assert!(l.warnings[0].contains("line 2"));
    }

    #[test]
    fn any_bytes_parse_without_panic() {
        for bytes in [
            &b""[..],
            b"\n\n",
            b"\xff\xfe\n{",
            b"{}\n[]\n\"x\"",
            b"{\"type\":\"start\"}",
        ] {
            let _ = parse(bytes);
        }
    }
}
