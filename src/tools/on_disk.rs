//! A file on disk against bytes in memory, without a second copy of a big file: reading a
//! whole file into one shared buffer, and checking that a file holds exactly some bytes by
//! comparing it piece by piece.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::Path;
use std::sync::Arc;

use crate::domain::shared;

/// How much of a file is compared at a time.
const PIECE: usize = 64 * 1024;

/// The whole file, read into one allocation of its size. A file that changes size while
/// it is read is read again from the start, the ordinary way.
pub fn read_all(file: &mut File) -> io::Result<Arc<[u8]>> {
    let len = usize::try_from(file.metadata()?.len()).unwrap_or(usize::MAX);
    if let Ok(bytes) = shared::filled(len, |buf| file.read_exact(buf))
        && file.read(&mut [0u8; 1])? == 0
    {
        return Ok(bytes);
    }
    file.seek(SeekFrom::Start(0))?;
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)?;
    Ok(bytes.into())
}

/// Whether `path` holds exactly `expected`; `None` expects no readable file there (what
/// `std::fs::read(path).ok()` would say, following symlinks).
pub fn holds(path: &Path, expected: Option<&[u8]>) -> bool {
    let Ok(mut file) = File::open(path) else {
        return expected.is_none();
    };
    let Some(expected) = expected else {
        // a directory opens but does not read
        return read_some(&mut file, &mut [0u8; 1]).is_err();
    };
    let mut buf = vec![0u8; PIECE.min(expected.len() + 1)];
    let mut at = 0;
    loop {
        match read_some(&mut file, &mut buf) {
            Ok(0) => return at == expected.len(),
            Ok(n) => {
                if expected.get(at..at + n) != Some(&buf[..n]) {
                    return false;
                }
                at += n;
            }
            Err(_) => return false,
        }
    }
}

fn read_some(file: &mut File, buf: &mut [u8]) -> io::Result<usize> {
    loop {
        match file.read(buf) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            r => return r,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holds_compares_exactly() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f");
        assert!(holds(&p, None));
        assert!(!holds(&p, Some(b"")));
        std::fs::write(&p, "").unwrap();
        assert!(holds(&p, Some(b"")));
        assert!(!holds(&p, None));
        let big: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
        std::fs::write(&p, &big).unwrap();
        assert!(holds(&p, Some(&big)));
        assert!(!holds(&p, Some(&big[..big.len() - 1])));
        let mut longer = big.clone();
        longer.push(0);
        assert!(!holds(&p, Some(&longer)));
        let mut changed = big.clone();
        changed[200_000] ^= 1;
        assert!(!holds(&p, Some(&changed)));
        assert!(holds(dir.path(), None), "a directory reads as no file");
        let mut f = File::open(&p).unwrap();
        assert_eq!(&*read_all(&mut f).unwrap(), &big[..]);
    }
}
