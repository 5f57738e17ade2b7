//! What a run of bytes is, from its first bytes: the image formats cove decodes, and a name
//! for the common things that are not (so the error can say "this looks like a PDF").

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Png,
    Jpeg,
    WebP,
    Gif,
    Bmp,
    /// A BMP without its 14-byte file header (a Windows clipboard CF_DIB / CF_DIBV5).
    Dib,
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Format::Png => "PNG",
            Format::Jpeg => "JPEG",
            Format::WebP => "WebP",
            Format::Gif => "GIF",
            Format::Bmp | Format::Dib => "BMP",
        }
    }
}

pub enum Sniffed {
    Image(Format),
    Other(&'static str),
}

/// What `bytes` look like, from their first bytes.
pub fn sniff(bytes: &[u8]) -> Sniffed {
    let b = bytes;
    let at = |i: usize, sig: &[u8]| b.len() >= i + sig.len() && &b[i..i + sig.len()] == sig;
    let image = Sniffed::Image;
    if b.is_empty() {
        return Sniffed::Other("an empty file");
    }
    if at(0, b"\x89PNG\r\n\x1a\n") {
        return image(Format::Png);
    }
    if at(0, &[0xFF, 0xD8, 0xFF]) {
        return image(Format::Jpeg);
    }
    if at(0, b"GIF87a") || at(0, b"GIF89a") {
        return image(Format::Gif);
    }
    if at(0, b"RIFF") && at(8, b"WEBP") {
        return image(Format::WebP);
    }
    if at(0, b"BM") && b.len() >= 18 && is_dib_header_size(le32(&b[14..18])) {
        return image(Format::Bmp);
    }
    if looks_like_dib(b) {
        return image(Format::Dib);
    }
    let other = match () {
        _ if at(0, b"%PDF") => "a PDF",
        _ if at(0, b"II*\0") || at(0, b"MM\0*") => "a TIFF image",
        _ if at(4, b"ftypavif") || at(4, b"ftypavis") => "an AVIF image",
        _ if at(4, b"ftypheic")
            || at(4, b"ftypheix")
            || at(4, b"ftypmif1")
            || at(4, b"ftyphevc") =>
        {
            "a HEIC image"
        }
        _ if at(4, b"ftyp") => "an MP4/QuickTime video",
        _ if at(0, &[0xFF, 0x0A]) || at(4, b"JXL ") => "a JPEG XL image",
        _ if at(0, &[0, 0, 1, 0]) => "an icon (ICO)",
        _ if at(0, b"qoif") => "a QOI image",
        _ if at(0, b"8BPS") => "a Photoshop document",
        _ if at(0, b"PK\x03\x04") => "a ZIP archive (or an Office document)",
        _ if at(0, &[0x1F, 0x8B]) => "a gzip archive",
        _ if at(0, b"\x7FELF") => "a program (ELF)",
        _ if at(0, b"RIFF") => "a RIFF file (audio or video)",
        _ => {
            let head = &b[..b.len().min(1024)];
            if !is_text(head) {
                "binary data in an unknown format"
            } else {
                let lower = String::from_utf8_lossy(head).to_ascii_lowercase();
                if lower.contains("<svg") {
                    "an SVG image (vector images are not supported: export it as PNG)"
                } else if lower.contains("<html") || lower.contains("<!doctype html") {
                    "an HTML page"
                } else {
                    "text"
                }
            }
        }
    };
    Sniffed::Other(other)
}

fn le32(b: &[u8]) -> u32 {
    u32::from_le_bytes([b[0], b[1], b[2], b[3]])
}

fn is_dib_header_size(n: u32) -> bool {
    matches!(n, 12 | 40 | 52 | 56 | 64 | 108 | 124)
}

/// A bare BITMAPINFOHEADER (or V4/V5) with one plane and a valid bit depth.
fn looks_like_dib(b: &[u8]) -> bool {
    b.len() >= 40
        && matches!(le32(b), 40 | 52 | 56 | 108 | 124)
        && u16::from_le_bytes([b[12], b[13]]) == 1
        && matches!(u16::from_le_bytes([b[14], b[15]]), 1 | 4 | 8 | 16 | 24 | 32)
}

fn is_text(head: &[u8]) -> bool {
    let valid = match std::str::from_utf8(head) {
        Ok(_) => true,
        // Cut in the middle of a character at the end of the sample.
        Err(e) => e.error_len().is_none() && e.valid_up_to() + 4 > head.len(),
    };
    valid
        && !head
            .iter()
            .any(|&c| c == 0 || (c < 0x20 && !matches!(c, b'\n' | b'\r' | b'\t' | 0x0C)))
}
