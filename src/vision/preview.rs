//! A small thumbnail of an attached image, drawn in the chat with half blocks (two pixels per
//! cell, one above the other), which every colour terminal shows.

use super::resample::resample;
use crate::protocol::Thumbnail;

/// Thumbnails fit in this many pixels: 40 columns by 10 rows of half blocks.
pub const MAX_WIDTH: u32 = 40;
pub const MAX_HEIGHT: u32 = 20;

/// A thumbnail of `w x h` pixels of `channels` bytes (3 = RGB, 4 = opaque RGBA).
pub fn thumbnail(px: &[u8], channels: usize, w: u32, h: u32) -> Thumbnail {
    let (tw, th) = fit_box(w, h, MAX_WIDTH, MAX_HEIGHT);
    let rgb = if (tw, th) == (w, h) && channels == 3 {
        px.to_vec()
    } else {
        resample(px, channels, w, h, tw, th)
    };
    Thumbnail {
        width: tw,
        height: th,
        rgb,
    }
}

/// The thumbnail of an image sent earlier as a `data:` URL (a resumed session's): `None`
/// for anything that is not a decodable image within the usual limits.
pub fn from_data_url(url: &str) -> Option<Thumbnail> {
    use base64::Engine;
    let (head, data) = url.split_once(',')?;
    if !head.starts_with("data:image/") || !head.ends_with(";base64") {
        return None;
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(data)
        .ok()?;
    let mut reader = image::ImageReader::new(std::io::Cursor::new(bytes))
        .with_guessed_format()
        .ok()?;
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(16_384);
    limits.max_image_height = Some(16_384);
    limits.max_alloc = Some(512 * 1024 * 1024);
    reader.limits(limits);
    let img = reader.decode().ok()?.to_rgb8();
    let (w, h) = img.dimensions();
    Some(thumbnail(img.as_raw(), 3, w, h))
}

/// The largest size with the aspect ratio of `w x h` inside `bw x bh`; never upscaled.
fn fit_box(w: u32, h: u32, bw: u32, bh: u32) -> (u32, u32) {
    let (w64, h64) = (u64::from(w.max(1)), u64::from(h.max(1)));
    if w64 <= u64::from(bw) && h64 <= u64::from(bh) {
        return (w.max(1), h.max(1));
    }
    // scale = min(bw / w, bh / h)
    if w64 * u64::from(bh) >= h64 * u64::from(bw) {
        (bw, ((h64 * u64::from(bw) + w64 / 2) / w64).max(1) as u32)
    } else {
        (((w64 * u64::from(bh) + h64 / 2) / h64).max(1) as u32, bh)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fits_the_box_keeping_the_aspect() {
        assert_eq!(fit_box(1920, 1080, 40, 20), (36, 20));
        assert_eq!(fit_box(1080, 1920, 40, 20), (11, 20));
        assert_eq!(fit_box(10, 5, 40, 20), (10, 5));
        assert_eq!(fit_box(10_000, 1, 40, 20), (40, 1));
    }

    #[test]
    fn thumbnail_keeps_colours() {
        let px: Vec<u8> = (0..200 * 100).flat_map(|_| [200u8, 10, 30]).collect();
        let t = thumbnail(&px, 3, 200, 100);
        assert_eq!((t.width, t.height), (40, 20));
        assert_eq!(t.rgb.len(), 40 * 20 * 3);
        assert!(t.rgb.chunks_exact(3).all(|p| p == [200, 10, 30]));
    }
}
