//! An incremental Server-Sent Events parser.
//!
//! Bytes go in as they arrive from the socket, split anywhere (inside a line, inside a
//! UTF-8 character, between the CR and LF of a CRLF); complete events come out. Only
//! whole lines are decoded, so a character split across two reads is decoded once it is
//! whole. Invalid UTF-8 becomes U+FFFD rather than an error: a hostile server cannot
//! make the parser panic, only produce text that later fails to parse as JSON.
//!
//! Two departures from the browser's rules, for what model servers really send: a line
//! `error: {json}` (older llama.cpp builds name the field `error` instead of sending
//! `event: error` + `data:`) is an event of type `error` carrying that text; and a UTF-8
//! byte-order mark at the very start is dropped (as the SSE spec says), however the first
//! bytes are split, so it cannot turn the first field name into something unknown.

use memchr::memchr2;

/// Longest line accepted. A server that sends more without a newline is broken or
/// hostile; refusing bounds memory.
pub const MAX_LINE_BYTES: usize = 16 * 1024 * 1024;

/// Longest event (its `data:` lines together). `data:` lines that never reach the blank
/// line ending their event would otherwise grow without limit.
pub const MAX_EVENT_BYTES: usize = 16 * 1024 * 1024;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseEvent {
    /// The `event:` field, when the server named the event type.
    pub event: Option<String>,
    /// The `data:` lines of the event joined with `\n`.
    pub data: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SseError {
    #[error("the server sent a line longer than {MAX_LINE_BYTES} bytes without a line break")]
    LineTooLong,
    #[error(
        "the server sent an event longer than {MAX_EVENT_BYTES} bytes (`data:` lines without the blank line that ends an event)"
    )]
    EventTooLong,
}

#[derive(Debug, Default)]
pub struct SseParser {
    /// Bytes of the current, not yet terminated line.
    line: Vec<u8>,
    /// The previous byte ended a line with CR; a LF right after it belongs to it.
    after_cr: bool,
    data: String,
    has_data: bool,
    event: Option<String>,
    /// The current event's data passed `MAX_EVENT_BYTES`.
    too_long: bool,
    /// Bytes of a leading byte-order mark matched so far (the stream's first bytes).
    bom_seen: usize,
    /// The start of the stream is behind us: no byte-order mark is looked for any more.
    started: bool,
}

/// The UTF-8 byte-order mark.
const BOM: &[u8] = b"\xEF\xBB\xBF";

impl SseParser {
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds bytes; appends every event they complete to `out`.
    pub fn push(&mut self, mut bytes: &[u8], out: &mut Vec<SseEvent>) -> Result<(), SseError> {
        if !self.started {
            while let (Some(&b), Some(&want)) = (bytes.first(), BOM.get(self.bom_seen)) {
                if b != want {
                    break;
                }
                self.bom_seen += 1;
                bytes = &bytes[1..];
            }
            if self.bom_seen < BOM.len() && bytes.is_empty() {
                return Ok(()); // still possibly a mark: wait for more
            }
            self.started = true;
            if self.bom_seen < BOM.len() && self.bom_seen > 0 {
                // the start of a mark and then something else: those bytes were text
                let seen = &BOM[..self.bom_seen];
                self.push(seen, out)?;
            }
        }
        while !bytes.is_empty() {
            if self.after_cr {
                self.after_cr = false;
                if bytes[0] == b'\n' {
                    bytes = &bytes[1..];
                    continue;
                }
            }
            match memchr2(b'\n', b'\r', bytes) {
                Some(pos) => {
                    let ends_with_cr = bytes[pos] == b'\r';
                    if self.line.is_empty() {
                        self.process_line(&bytes[..pos], out);
                    } else {
                        self.check_len(pos)?;
                        self.line.extend_from_slice(&bytes[..pos]);
                        let line = std::mem::take(&mut self.line);
                        self.process_line(&line, out);
                        self.line = line;
                        self.line.clear();
                    }
                    if self.too_long {
                        return Err(SseError::EventTooLong);
                    }
                    self.after_cr = ends_with_cr;
                    bytes = &bytes[pos + 1..];
                }
                None => {
                    self.check_len(bytes.len())?;
                    self.line.extend_from_slice(bytes);
                    bytes = &[];
                }
            }
        }
        Ok(())
    }

    /// The stream closed. A final event that was not followed by a blank line is still
    /// delivered (lenient: several servers end with `data: [DONE]\n` and close).
    pub fn finish(&mut self, out: &mut Vec<SseEvent>) {
        if !self.started {
            self.started = true;
            if self.bom_seen < BOM.len() && self.bom_seen > 0 {
                let _ = self.push(&BOM[..self.bom_seen], out);
            }
        }
        if !self.line.is_empty() {
            let line = std::mem::take(&mut self.line);
            self.process_line(&line, out);
        }
        self.dispatch(out);
    }

    fn check_len(&self, extra: usize) -> Result<(), SseError> {
        if self.line.len() + extra > MAX_LINE_BYTES {
            Err(SseError::LineTooLong)
        } else {
            Ok(())
        }
    }

    fn process_line(&mut self, line: &[u8], out: &mut Vec<SseEvent>) {
        if line.is_empty() {
            self.dispatch(out);
            return;
        }
        if line[0] == b':' {
            return; // comment / keep-alive
        }
        let (field, value) = match line.iter().position(|&b| b == b':') {
            Some(i) => {
                let v = &line[i + 1..];
                (&line[..i], v.strip_prefix(b" ").unwrap_or(v))
            }
            None => (line, &b""[..]),
        };
        match field {
            b"data" => self.push_data(value),
            b"event" => self.event = Some(String::from_utf8_lossy(value).into_owned()),
            // older llama.cpp: `error: {"code":400,"message":…}` as a field of its own
            b"error" => {
                self.event = Some("error".into());
                self.push_data(value);
            }
            // `id:` and `retry:` matter for browser reconnection, not for a chat stream.
            _ => {}
        }
    }

    fn push_data(&mut self, value: &[u8]) {
        if self.data.len() + value.len() > MAX_EVENT_BYTES {
            self.too_long = true;
            return;
        }
        if self.has_data {
            self.data.push('\n');
        }
        self.data.push_str(&String::from_utf8_lossy(value));
        self.has_data = true;
    }

    fn dispatch(&mut self, out: &mut Vec<SseEvent>) {
        if self.has_data {
            out.push(SseEvent {
                event: self.event.take(),
                data: std::mem::take(&mut self.data),
            });
            self.has_data = false;
        } else {
            self.event = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_all(chunks: &[&[u8]]) -> Vec<SseEvent> {
        let mut p = SseParser::new();
        let mut out = Vec::new();
        for c in chunks {
            p.push(c, &mut out).unwrap();
        }
        p.finish(&mut out);
        out
    }

    fn data(events: &[SseEvent]) -> Vec<&str> {
        events.iter().map(|e| e.data.as_str()).collect()
    }

    #[test]
    fn lf_crlf_and_cr_line_endings() {
        let lf = parse_all(&[b"data: a\n\ndata: b\n\n"]);
        let crlf = parse_all(&[b"data: a\r\n\r\ndata: b\r\n\r\n"]);
        let cr = parse_all(&[b"data: a\r\rdata: b\r\r"]);
        assert_eq!(data(&lf), ["a", "b"]);
        assert_eq!(lf, crlf);
        assert_eq!(lf, cr);
    }

    #[test]
    fn crlf_split_between_cr_and_lf() {
        let ev = parse_all(&[b"data: a\r", b"\n\r", b"\ndata: b\r\n\r\n"]);
        assert_eq!(data(&ev), ["a", "b"]);
    }

    #[test]
    fn comments_ids_and_event_types() {
        let ev = parse_all(&[
            b": keep-alive\n\nid: 7\nevent: error\ndata: {\"x\":1}\nretry: 10\n\ndata: y\n\n",
        ]);
        assert_eq!(ev.len(), 2);
        assert_eq!(ev[0].event.as_deref(), Some("error"));
        assert_eq!(ev[0].data, "{\"x\":1}");
        assert_eq!(ev[1].event, None);
    }

    #[test]
    fn multi_line_data_is_joined_with_newlines() {
        let ev = parse_all(&[b"data: one\ndata:two\ndata\n\n"]);
        assert_eq!(data(&ev), ["one\ntwo\n"]);
    }

    #[test]
    fn utf8_split_inside_a_character() {
        let text = "data: h\u{e9}llo \u{1F980}\n\n".as_bytes();
        let ev = parse_all(&[&text[..8], &text[8..15], &text[15..]]);
        assert_eq!(data(&ev), ["h\u{e9}llo \u{1F980}"]);
    }

    #[test]
    fn final_event_without_blank_line_is_delivered() {
        let ev = parse_all(&[b"data: a\n\ndata: [DONE]"]);
        assert_eq!(data(&ev), ["a", "[DONE]"]);
    }

    #[test]
    fn an_error_field_is_an_error_event() {
        // what an older llama-server sends when the prompt does not fit
        let ev = parse_all(&[
            b"error: {\"code\":400,\"message\":\"the request exceeds the available context size, try increasing it\",\"type\":\"exceed_context_size_error\"}\n\ndata: [DONE]\n\n",
        ]);
        assert_eq!(ev.len(), 2);
        assert_eq!(ev[0].event.as_deref(), Some("error"));
        assert!(ev[0].data.starts_with("{\"code\":400"), "{:?}", ev[0]);
        assert_eq!(ev[1].event, None);
        assert_eq!(ev[1].data, "[DONE]");
        // an error field without a value is still an error event
        let ev = parse_all(&[b"error\n\n"]);
        assert_eq!(ev[0].event.as_deref(), Some("error"));
    }

    #[test]
    fn a_leading_byte_order_mark_is_dropped_however_it_is_split() {
        let body = b"\xEF\xBB\xBFdata: first\n\ndata: second\n\n";
        for split in 0..body.len() {
            let ev = parse_all(&[&body[..split], &body[split..]]);
            assert_eq!(data(&ev), ["first", "second"], "split at {split}");
            assert_eq!(ev[0].event, None);
        }
        let ones: Vec<&[u8]> = body.chunks(1).collect();
        assert_eq!(data(&parse_all(&ones)), ["first", "second"]);
        // only at the very start: a mark later is text
        let ev = parse_all(&[b"data: a\n\n\xEF\xBB\xBFdata: b\n\n"]);
        assert_eq!(data(&ev), ["a"]);
        // the start of a mark that turns out not to be one is kept as text (U+FFFD)
        let ev = parse_all(&[b"\xEF", b"\xBBdata: x\n\n"]);
        assert!(ev.is_empty(), "{ev:?}");
        let ev = parse_all(&[b"\xEFdata: x\n\ndata: y\n\n"]);
        assert_eq!(data(&ev), ["y"]);
        // a stream that is nothing but part of a mark gives nothing, and does not panic
        assert!(parse_all(&[b"\xEF\xBB"]).is_empty());
    }

    #[test]
    fn overlong_line_is_refused() {
        let mut p = SseParser::new();
        let mut out = Vec::new();
        let big = vec![b'x'; MAX_LINE_BYTES / 2 + 1];
        p.push(&big, &mut out).unwrap();
        assert_eq!(p.push(&big, &mut out), Err(SseError::LineTooLong));
    }

    #[test]
    fn data_lines_that_never_end_their_event_are_refused() {
        let mut p = SseParser::new();
        let mut out = Vec::new();
        let line = format!("data: {}\n", "x".repeat(1024 * 1024));
        let mut result = Ok(());
        for _ in 0..(MAX_EVENT_BYTES / (1024 * 1024) + 2) {
            result = p.push(line.as_bytes(), &mut out);
            if result.is_err() {
                break;
            }
        }
        assert_eq!(result, Err(SseError::EventTooLong));
        assert!(out.is_empty());
        assert!(p.data.len() <= MAX_EVENT_BYTES);
    }
}
