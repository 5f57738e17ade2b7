//! File contents held once, whoever holds them: the proposal, the queue, the diff pane, the
//! card, undo and the journal share one allocation (`Arc<[u8]>`, seen as `Arc<str>` when it
//! is UTF-8) instead of copying a file that may be 200 MB.

use std::sync::Arc;

/// `len` bytes in one allocation, written by `fill` (a read, pieces copied in): the buffer
/// becomes shared without the copy that `Arc::from(Vec)` makes.
pub fn filled<E>(
    len: usize,
    fill: impl FnOnce(&mut [u8]) -> Result<(), E>,
) -> Result<Arc<[u8]>, E> {
    let mut bytes: Arc<[u8]> = std::iter::repeat_n(0, len).collect();
    fill(Arc::get_mut(&mut bytes).expect("a new Arc is not shared"))?;
    Ok(bytes)
}

/// The pieces one after another, in one allocation.
pub fn concat(pieces: &[&[u8]]) -> Arc<[u8]> {
    let len = pieces.iter().map(|p| p.len()).sum();
    let result: Result<_, std::convert::Infallible> = filled(len, |out| {
        let mut at = 0;
        for p in pieces {
            out[at..at + p.len()].copy_from_slice(p);
            at += p.len();
        }
        Ok(())
    });
    match result {
        Ok(bytes) => bytes,
        Err(never) => match never {},
    }
}

/// The bytes as text, sharing their allocation; `None` when they are not UTF-8.
pub fn text(bytes: &Arc<[u8]>) -> Option<Arc<str>> {
    std::str::from_utf8(bytes).ok()?;
    let raw = Arc::into_raw(Arc::clone(bytes)) as *const str;
    // SAFETY: `str` is `[u8]` that is UTF-8, with the same layout (std turns an `Arc<str>`
    // into an `Arc<[u8]>` by this same cast). The bytes were just checked, and no `&mut` to
    // them can exist while this `Arc` shares them (`Arc::get_mut` needs a unique `Arc`).
    Some(unsafe { Arc::from_raw(raw) })
}

/// The text's bytes, sharing its allocation.
pub fn bytes(text: &Arc<str>) -> Arc<[u8]> {
    Arc::from(Arc::clone(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_and_bytes_share_one_allocation() {
        let b = concat(&[b"h\xc3\xa9llo ", b"", b"world"]);
        assert_eq!(&*b, "héllo world".as_bytes());
        let t = text(&b).unwrap();
        assert_eq!(&*t, "héllo world");
        assert_eq!(t.as_ptr(), b.as_ptr());
        assert_eq!(bytes(&t).as_ptr(), b.as_ptr());
        assert_eq!(Arc::strong_count(&b), 2);
        drop(t);
        assert_eq!(Arc::strong_count(&b), 1);
        assert!(text(&Arc::from(&b"\xff\xfe"[..])).is_none());
        assert_eq!(&*concat(&[]), b"");
    }

    #[test]
    fn a_failed_fill_is_returned() {
        let r: Result<Arc<[u8]>, &str> = filled(4, |_| Err("short read"));
        assert_eq!(r.unwrap_err(), "short read");
        let ok: Result<Arc<[u8]>, ()> = filled(3, |b| {
            b.copy_from_slice(b"abc");
            Ok(())
        });
        assert_eq!(&*ok.unwrap(), b"abc");
    }
}
