//! Image intake on generated images: every input format, downscaling to `max_edge`, the
//! `max_bytes` limit (and its fallbacks), screenshots as PNG and photos as JPEG, and clear
//! errors for what is not an image, is corrupt, or is too big.

use std::io::Cursor;

use base64::Engine;
use cove::vision::encode::{ImageError, ImageLimits, prepare_bytes, prepare_file, prepare_rgba};
use image::{DynamicImage, ImageFormat, Rgb, RgbImage, Rgba, RgbaImage};

/// Flat areas and a few colours, like a screenshot.
fn screenshot(w: u32, h: u32) -> RgbImage {
    RgbImage::from_fn(w, h, |x, y| {
        if y < h / 10 {
            Rgb([40, 40, 160])
        } else if (x / 8 + y / 16) % 7 == 0 {
            Rgb([230, 230, 230])
        } else {
            Rgb([30, 30, 30])
        }
    })
}

/// Smooth gradients plus noise, like a photo.
fn photo(w: u32, h: u32) -> RgbImage {
    let mut seed = 12345u32;
    RgbImage::from_fn(w, h, |x, y| {
        seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
        let n = (seed >> 24) as u8 / 8;
        Rgb([
            ((x * 255 / w) as u8).saturating_add(n),
            ((y * 255 / h) as u8).saturating_add(n),
            (((x + y) * 127 / (w + h)) as u8).saturating_add(n),
        ])
    })
}

fn encoded(img: &DynamicImage, format: ImageFormat) -> Vec<u8> {
    let mut out = Vec::new();
    img.write_to(&mut Cursor::new(&mut out), format).unwrap();
    out
}

/// The image a data URL carries, with its MIME type and encoded size.
fn decode_url(url: &str) -> (String, usize, DynamicImage) {
    let (head, b64) = url.split_once(";base64,").expect("base64 data URL");
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .unwrap();
    let mime = head.strip_prefix("data:").unwrap().to_owned();
    let img = image::load_from_memory(&bytes).expect("a valid image");
    (mime, bytes.len(), img)
}

#[test]
fn every_format_decodes_and_large_ones_are_downscaled() {
    let limits = ImageLimits::default();
    let shot = DynamicImage::ImageRgb8(screenshot(3000, 1500));
    for (format, name) in [
        (ImageFormat::Png, "PNG"),
        (ImageFormat::Jpeg, "JPEG"),
        (ImageFormat::WebP, "WebP"),
        (ImageFormat::Gif, "GIF"),
        (ImageFormat::Bmp, "BMP"),
    ] {
        let img = if format == ImageFormat::WebP || format == ImageFormat::Gif {
            DynamicImage::ImageRgba8(shot.to_rgba8())
        } else {
            shot.clone()
        };
        let p = prepare_bytes(&encoded(&img, format), &limits)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(p.source, name);
        assert_eq!((p.original_width, p.original_height), (3000, 1500));
        assert_eq!((p.width, p.height), (1568, 784), "{name}");
        let (mime, size, sent) = decode_url(&p.data_url);
        assert_eq!(mime, p.mime);
        assert_eq!((sent.width(), sent.height()), (1568, 784));
        assert!(size as u64 <= limits.max_bytes && size == p.encoded_bytes);
        assert!(p.label().starts_with("3000x1500 "), "{}", p.label());
    }
}

#[test]
fn screenshots_go_as_png_and_photos_as_jpeg() {
    let limits = ImageLimits::default();
    let shot = encoded(
        &DynamicImage::ImageRgb8(screenshot(800, 600)),
        ImageFormat::Png,
    );
    assert_eq!(prepare_bytes(&shot, &limits).unwrap().mime, "image/png");
    let pic = encoded(&DynamicImage::ImageRgb8(photo(800, 600)), ImageFormat::Png);
    assert_eq!(prepare_bytes(&pic, &limits).unwrap().mime, "image/jpeg");
    // small images are never upscaled
    let tiny = encoded(
        &DynamicImage::ImageRgb8(screenshot(20, 10)),
        ImageFormat::Png,
    );
    let p = prepare_bytes(&tiny, &limits).unwrap();
    assert_eq!((p.width, p.height), (20, 10));
}

#[test]
fn max_edge_and_max_bytes_are_kept() {
    for (w, h, edge) in [(2000, 1500, 500), (300, 2400, 600), (900, 900, 900)] {
        let limits = ImageLimits {
            max_edge: edge,
            ..ImageLimits::default()
        };
        let p = prepare_bytes(
            &encoded(&DynamicImage::ImageRgb8(photo(w, h)), ImageFormat::Png),
            &limits,
        )
        .unwrap();
        assert_eq!(
            p.width.max(p.height),
            edge.min(w.max(h)),
            "{w}x{h} at {edge}"
        );
        let ratio = |a: u32, b: u32| a as f64 / b as f64;
        assert!((ratio(p.width, p.height) - ratio(w, h)).abs() < 0.02);
    }
    // a tight byte budget: lower JPEG quality, then smaller sizes, but always under it
    let big = encoded(
        &DynamicImage::ImageRgb8(photo(1000, 1000)),
        ImageFormat::Png,
    );
    for max_bytes in [100_000u64, 30_000, 8_000] {
        let limits = ImageLimits {
            max_bytes,
            ..ImageLimits::default()
        };
        let p = prepare_bytes(&big, &limits).unwrap();
        let (_, size, _) = decode_url(&p.data_url);
        assert!(size as u64 <= max_bytes, "{size} > {max_bytes}");
    }
    // impossible: a clear error naming the setting
    let limits = ImageLimits {
        max_bytes: 100,
        ..ImageLimits::default()
    };
    let e = prepare_bytes(&big, &limits).unwrap_err();
    assert!(matches!(e, ImageError::TooLarge { .. }), "{e}");
    assert!(e.to_string().contains("max_bytes"), "{e}");
}

#[test]
fn transparency_is_flattened_on_white_and_clipboard_pixels_are_taken() {
    let mut rgba = RgbaImage::from_pixel(64, 32, Rgba([0, 0, 0, 0]));
    rgba.put_pixel(0, 0, Rgba([255, 0, 0, 255]));
    let p = prepare_bytes(
        &encoded(&DynamicImage::ImageRgba8(rgba.clone()), ImageFormat::Png),
        &ImageLimits::default(),
    )
    .unwrap();
    let (_, _, sent) = decode_url(&p.data_url);
    let sent = sent.to_rgb8();
    assert_eq!(sent.get_pixel(10, 10).0, [255, 255, 255]);
    assert_eq!(sent.get_pixel(0, 0).0, [255, 0, 0]);

    let p = prepare_rgba(64, 32, rgba.as_raw(), &ImageLimits::default()).unwrap();
    assert_eq!(p.source, "clipboard");
    assert!(p.label().starts_with("64x32 clipboard"));
    let e = prepare_rgba(64, 32, &rgba.as_raw()[..100], &ImageLimits::default()).unwrap_err();
    assert!(matches!(e, ImageError::BadBuffer { .. }), "{e}");
    assert!(prepare_rgba(0, 32, &[], &ImageLimits::default()).is_err());
}

#[test]
fn an_animated_gif_sends_its_first_frame() {
    use image::codecs::gif::GifEncoder;
    use image::{Delay, Frame};
    let mut out = Vec::new();
    {
        let mut enc = GifEncoder::new(&mut out);
        for colour in [[250u8, 0, 0, 255], [0, 0, 250, 255]] {
            let frame = Frame::from_parts(
                RgbaImage::from_pixel(40, 20, Rgba(colour)),
                0,
                0,
                Delay::from_numer_denom_ms(100, 1),
            );
            enc.encode_frame(frame).unwrap();
        }
    }
    let p = prepare_bytes(&out, &ImageLimits::default()).unwrap();
    let (_, _, sent) = decode_url(&p.data_url);
    let px = sent.to_rgb8().get_pixel(5, 5).0;
    assert!(px[0] > 200 && px[2] < 50, "first frame is red: {px:?}");
}

#[test]
fn bad_files_give_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let limits = ImageLimits::default();
    let write = |name: &str, bytes: &[u8]| {
        let p = dir.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    };
    // text with an image's name
    let e = prepare_file(&write("notes.png", b"hello, world\n"), &limits).unwrap_err();
    assert!(
        e.to_string().contains("notes.png") && e.to_string().contains("not an image"),
        "{e}"
    );
    // a PDF
    let e = prepare_file(&write("doc.jpg", b"%PDF-1.7\n..."), &limits).unwrap_err();
    assert!(e.to_string().contains("PDF"), "{e}");
    // a truncated PNG
    let png = encoded(&DynamicImage::ImageRgb8(photo(300, 300)), ImageFormat::Png);
    let e = prepare_file(&write("cut.png", &png[..png.len() / 2]), &limits).unwrap_err();
    assert!(e.to_string().contains("cut.png"), "{e}");
    assert!(
        e.to_string().contains("corrupt") || e.to_string().contains("ends early"),
        "{e}"
    );
    // an empty file, a directory, a missing file
    assert!(
        prepare_file(&write("empty.png", b""), &limits)
            .unwrap_err()
            .to_string()
            .contains("empty")
    );
    assert!(
        prepare_file(dir.path(), &limits)
            .unwrap_err()
            .to_string()
            .contains("not a file")
    );
    let e = prepare_file(&dir.path().join("missing.png"), &limits).unwrap_err();
    assert!(e.to_string().contains("missing.png"), "{e}");
    // a huge file is refused before it is read or decoded
    let huge = dir.path().join("huge.png");
    let f = std::fs::File::create(&huge).unwrap();
    f.set_len(50_000_000).unwrap();
    let e = prepare_file(&huge, &limits).unwrap_err();
    assert!(
        e.to_string().contains("47.7 MiB") && e.to_string().contains("limit"),
        "{e}"
    );
    // a PNG header claiming 100,000 x 100,000 pixels (a decompression bomb)
    let mut bomb = png[..33].to_vec();
    bomb[16..20].copy_from_slice(&100_000u32.to_be_bytes());
    bomb[20..24].copy_from_slice(&100_000u32.to_be_bytes());
    let crc = crc32(&bomb[12..29]);
    bomb[29..33].copy_from_slice(&crc.to_be_bytes());
    let e = prepare_bytes(&bomb, &limits).unwrap_err();
    assert!(e.to_string().contains("100000x100000"), "{e}");
}

/// CRC-32 (IEEE), as PNG chunks carry it.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}
