//! Image intake: sniff, decode (bounded), downscale and encode an image as a `data:` URL
//! a vision model accepts.
//!
//! Output is always opaque RGB (alpha is flattened on white: JPEG has none, and servers that
//! drop alpha themselves show whatever colour hides under transparent pixels). Screenshot-like
//! images (flat areas, few colours) become PNG, photos JPEG; an image over `max_bytes` falls back
//! to lower JPEG qualities, then to smaller sizes, down to 256 px on the longer edge.

use std::borrow::Cow;
use std::fs::File;
use std::io::{Cursor, Read};
use std::path::{Path, PathBuf};

use base64::Engine as _;
use image::codecs::{
    bmp::BmpDecoder, gif::GifDecoder, jpeg::JpegDecoder, jpeg::JpegEncoder, png::PngDecoder,
    png::PngEncoder, webp::WebPDecoder,
};
use image::{DynamicImage, ExtendedColorType, ImageDecoder, ImageEncoder};

use super::resample::resample;
use super::sniff::{Format, Sniffed, sniff};
use crate::config::VisionConfig;

/// Longer edge sent when `[vision] max_edge` is unset.
pub const DEFAULT_MAX_EDGE: u32 = 1568;
/// Encoded size limit when `[vision] max_bytes` is unset.
pub const DEFAULT_MAX_BYTES: u64 = 4_000_000;
/// Input (file or clipboard bytes) larger than this is refused before decoding.
pub const MAX_INPUT_BYTES: u64 = 40 * 1024 * 1024;
/// Largest width or height decoded.
pub const MAX_DIMENSION: u32 = 16384;
/// Most memory a decoder may allocate.
pub const MAX_DECODE_ALLOC: u64 = 512 * 1024 * 1024;
/// The size fallback stops shrinking here.
pub const MIN_EDGE: u32 = 256;
/// JPEG quality for photos; the fallback continues with the lower ones.
const JPEG_QUALITIES: [u8; 3] = [85, 75, 60];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImageLimits {
    /// Longer edge of the image sent, in pixels.
    pub max_edge: u32,
    /// Largest encoded image sent (the bytes of the PNG or JPEG, before base64).
    pub max_bytes: u64,
    /// Largest input accepted, checked before decoding.
    pub max_input_bytes: u64,
}

impl Default for ImageLimits {
    fn default() -> Self {
        ImageLimits {
            max_edge: DEFAULT_MAX_EDGE,
            max_bytes: DEFAULT_MAX_BYTES,
            max_input_bytes: MAX_INPUT_BYTES,
        }
    }
}

impl ImageLimits {
    /// Limits from `[vision]`; zero (unset) means the default.
    pub fn from_config(config: &VisionConfig) -> Self {
        let max_edge = match config.max_edge {
            0 => DEFAULT_MAX_EDGE,
            n => n.min(MAX_DIMENSION),
        };
        let max_bytes = match config.max_bytes {
            0 => DEFAULT_MAX_BYTES,
            n => n,
        };
        ImageLimits {
            max_edge,
            max_bytes,
            max_input_bytes: MAX_INPUT_BYTES,
        }
    }
}

/// An image ready to send: `data_url` goes into an `image_url` content part.
#[derive(Debug, Clone, PartialEq)]
pub struct PreparedImage {
    /// "image/png" or "image/jpeg".
    pub mime: &'static str,
    /// `data:MIME;base64,...`
    pub data_url: String,
    /// Size sent.
    pub width: u32,
    pub height: u32,
    /// Size of the input.
    pub original_width: u32,
    pub original_height: u32,
    /// Input format ("PNG", "JPEG", "WebP", "GIF", "BMP") or "clipboard".
    pub source: String,
    /// Size of the encoded image (before base64).
    pub encoded_bytes: usize,
    /// A thumbnail for the chat.
    pub preview: crate::protocol::Thumbnail,
}

impl PreparedImage {
    /// The image as a message attachment.
    pub fn into_attachment(self) -> crate::protocol::ImageAttachment {
        crate::protocol::ImageAttachment {
            label: self.label(),
            data_url: self.data_url,
            preview: Some(self.preview),
        }
    }

    /// `1920x1080 PNG 412 KB`: the original size and format, and the size sent.
    pub fn label(&self) -> String {
        let kb = (self.encoded_bytes as u64).div_ceil(1024).max(1);
        format!(
            "{}x{} {} {kb} KB",
            self.original_width, self.original_height, self.source
        )
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    #[error("not an image: this looks like {0} (cove reads PNG, JPEG, WebP, GIF and BMP)")]
    NotAnImage(String),
    #[error("this {format} image uses something cove cannot decode: {detail}")]
    Unsupported {
        format: &'static str,
        detail: String,
    },
    #[error("the image data is corrupt or truncated: {0}")]
    Corrupt(String),
    #[error(
        "the image claims to be {width}x{height} pixels; cove decodes at most {max}x{max}",
        max = MAX_DIMENSION
    )]
    Dimensions { width: u32, height: u32 },
    #[error("the image is too large to decode: {0}")]
    TooManyPixels(String),
    #[error("the image is {}, over the {} limit for images", human_bytes(*.size), human_bytes(*.limit))]
    InputTooLarge { size: u64, limit: u64 },
    #[error(
        "the image does not fit in {} even at {MIN_EDGE} px (smallest try: {}); raise [vision] max_bytes",
        human_bytes(*.max_bytes), human_bytes(*.smallest)
    )]
    TooLarge { max_bytes: u64, smallest: u64 },
    #[error("bad image buffer: {width}x{height} RGBA needs {expected} bytes, got {actual}")]
    BadBuffer {
        width: u32,
        height: u32,
        expected: u64,
        actual: usize,
    },
    #[error("the image has no pixels ({width}x{height})")]
    Empty { width: u32, height: u32 },
    #[error("cannot encode the image: {0}")]
    Encode(String),
    #[error("cannot read {}: {source}", .path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{} is not a file", .0.display())]
    NotAFile(PathBuf),
    /// An error about the contents of a file, naming the file.
    #[error("{}: {source}", .path.display())]
    File {
        path: PathBuf,
        #[source]
        source: Box<ImageError>,
    },
}

/// Read, check and prepare an image file. Errors name the file.
pub fn prepare_file(path: &Path, limits: &ImageLimits) -> Result<PreparedImage, ImageError> {
    let in_file = |source: ImageError| ImageError::File {
        path: path.to_path_buf(),
        source: Box::new(source),
    };
    let io = |source| ImageError::Io {
        path: path.to_path_buf(),
        source,
    };
    let meta = std::fs::metadata(path).map_err(io)?;
    if !meta.is_file() {
        return Err(ImageError::NotAFile(path.to_path_buf()));
    }
    let limit = limits.max_input_bytes;
    if meta.len() > limit {
        return Err(in_file(ImageError::InputTooLarge {
            size: meta.len(),
            limit,
        }));
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    File::open(path)
        .and_then(|f| f.take(limit + 1).read_to_end(&mut bytes))
        .map_err(io)?;
    if bytes.len() as u64 > limit {
        // It grew between the check and the read.
        return Err(in_file(ImageError::InputTooLarge {
            size: bytes.len() as u64,
            limit,
        }));
    }
    prepare_bytes(&bytes, limits).map_err(in_file)
}

/// Prepare an encoded image (PNG, JPEG, WebP, GIF's first frame, BMP or a bare DIB); the format
/// comes from the bytes, never from a name.
pub fn prepare_bytes(bytes: &[u8], limits: &ImageLimits) -> Result<PreparedImage, ImageError> {
    if bytes.len() as u64 > limits.max_input_bytes {
        return Err(ImageError::InputTooLarge {
            size: bytes.len() as u64,
            limit: limits.max_input_bytes,
        });
    }
    let format = match sniff(bytes) {
        Sniffed::Image(format) => format,
        Sniffed::Other(what) => return Err(ImageError::NotAnImage(what.to_string())),
    };
    let image = decode(bytes, format)?;
    let source = format.name().to_string();
    let (w, h) = (image.width(), image.height());
    match image {
        DynamicImage::ImageRgb8(buf) => encode_pixels(buf.as_raw(), 3, w, h, source, limits),
        DynamicImage::ImageRgba8(mut buf) => {
            if matches!(format, Format::Bmp | Format::Dib) {
                fix_zero_alpha(&mut buf);
            }
            encode_rgba(buf.as_raw(), w, h, source, limits)
        }
        other if other.color().has_alpha() => {
            encode_rgba(other.to_rgba8().as_raw(), w, h, source, limits)
        }
        other => encode_pixels(other.to_rgb8().as_raw(), 3, w, h, source, limits),
    }
}

/// Prepare raw RGBA pixels (a clipboard image).
pub fn prepare_rgba(
    width: u32,
    height: u32,
    rgba: &[u8],
    limits: &ImageLimits,
) -> Result<PreparedImage, ImageError> {
    if width == 0 || height == 0 {
        return Err(ImageError::Empty { width, height });
    }
    let expected = u64::from(width) * u64::from(height) * 4;
    if expected != rgba.len() as u64 {
        return Err(ImageError::BadBuffer {
            width,
            height,
            expected,
            actual: rgba.len(),
        });
    }
    encode_rgba(rgba, width, height, "clipboard".to_string(), limits)
}

/// Whether `head` (the first bytes of a file) is a format cove decodes.
pub fn looks_like_image(head: &[u8]) -> bool {
    matches!(sniff(head), Sniffed::Image(_))
}

// ---- decoding ---------------------------------------------------------------------------------

fn decode(bytes: &[u8], format: Format) -> Result<DynamicImage, ImageError> {
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(MAX_DIMENSION);
    limits.max_image_height = Some(MAX_DIMENSION);
    limits.max_alloc = Some(MAX_DECODE_ALLOC);
    let err = |e| decode_error(e, format, bytes);
    let cursor = Cursor::new(bytes);
    let decoder: Box<dyn ImageDecoder + '_> = match format {
        Format::Png => Box::new(PngDecoder::with_limits(cursor, limits.clone()).map_err(err)?),
        Format::Jpeg => Box::new(JpegDecoder::new(cursor).map_err(err)?),
        Format::WebP => Box::new(WebPDecoder::new(cursor).map_err(err)?),
        Format::Gif => Box::new(GifDecoder::new(cursor).map_err(err)?),
        Format::Bmp => Box::new(BmpDecoder::new(cursor).map_err(err)?),
        Format::Dib => Box::new(BmpDecoder::new_without_file_header(cursor).map_err(err)?),
    };
    let mut decoder = decoder;
    let (width, height) = decoder.dimensions();
    if width > MAX_DIMENSION || height > MAX_DIMENSION {
        return Err(ImageError::Dimensions { width, height });
    }
    if width == 0 || height == 0 {
        return Err(ImageError::Empty { width, height });
    }
    let total = decoder.total_bytes();
    if total > MAX_DECODE_ALLOC {
        return Err(ImageError::TooManyPixels(format!(
            "{width}x{height} needs {} of memory, over the {} limit",
            human_bytes(total),
            human_bytes(MAX_DECODE_ALLOC)
        )));
    }
    limits.reserve(total).map_err(err)?;
    decoder.set_limits(limits).map_err(err)?;
    DynamicImage::from_decoder(decoder).map_err(err)
}

fn decode_error(e: image::ImageError, format: Format, bytes: &[u8]) -> ImageError {
    use image::ImageError as E;
    match e {
        E::Limits(l) => match (l.kind(), png_ihdr_size(bytes)) {
            (image::error::LimitErrorKind::DimensionError, Some((width, height))) => {
                ImageError::Dimensions { width, height }
            }
            _ => ImageError::TooManyPixels(l.to_string()),
        },
        E::Unsupported(u) => ImageError::Unsupported {
            format: format.name(),
            detail: u.to_string(),
        },
        E::IoError(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
            ImageError::Corrupt(format!("the {} data ends early", format.name()))
        }
        other => ImageError::Corrupt(format!("{}: {other}", format.name())),
    }
}

/// Width and height from a PNG's IHDR, to name them when the decoder refuses them.
fn png_ihdr_size(b: &[u8]) -> Option<(u32, u32)> {
    if b.len() < 24 || &b[12..16] != b"IHDR" {
        return None;
    }
    let be = |i: usize| u32::from_be_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
    Some((be(16), be(20)))
}

/// Windows clipboard bitmaps often carry an alpha mask with every alpha byte zero: taken at
/// face value the image is invisible. All-zero alpha means "no alpha".
fn fix_zero_alpha(buf: &mut image::RgbaImage) {
    if buf.pixels().all(|p| p.0[3] == 0) {
        buf.pixels_mut().for_each(|p| p.0[3] = 255);
    }
}

// ---- downscale and encode ---------------------------------------------------------------------

fn encode_rgba(
    rgba: &[u8],
    w: u32,
    h: u32,
    source: String,
    limits: &ImageLimits,
) -> Result<PreparedImage, ImageError> {
    if rgba.chunks_exact(4).all(|p| p[3] == 255) {
        // Opaque: resample straight from the input, dropping alpha on the way.
        return encode_pixels(rgba, 4, w, h, source, limits);
    }
    let mut rgb = Vec::with_capacity(rgba.len() / 4 * 3);
    for p in rgba.chunks_exact(4) {
        let a = u32::from(p[3]);
        let white = 255 * (255 - a);
        for &c in &p[..3] {
            rgb.push(((u32::from(c) * a + white + 127) / 255) as u8);
        }
    }
    encode_pixels(&rgb, 3, w, h, source, limits)
}

#[derive(Debug, Clone, Copy)]
enum Encoding {
    Png,
    Jpeg(u8),
}

/// `px` holds `w * h` pixels of `channels` bytes (3 = RGB, 4 = opaque RGBA).
fn encode_pixels(
    px: &[u8],
    channels: usize,
    w: u32,
    h: u32,
    source: String,
    limits: &ImageLimits,
) -> Result<PreparedImage, ImageError> {
    let flat = looks_like_screenshot(px, channels, w, h);
    let ladder: &[Encoding] = if flat {
        &[
            Encoding::Png,
            Encoding::Jpeg(85),
            Encoding::Jpeg(75),
            Encoding::Jpeg(60),
        ]
    } else {
        &[
            Encoding::Jpeg(JPEG_QUALITIES[0]),
            Encoding::Jpeg(JPEG_QUALITIES[1]),
            Encoding::Jpeg(JPEG_QUALITIES[2]),
        ]
    };
    let mut edge = w.max(h).min(limits.max_edge.max(1));
    let mut smallest = u64::MAX;
    loop {
        let (tw, th) = fit(w, h, edge);
        let rgb: Cow<[u8]> = if (tw, th) == (w, h) && channels == 3 {
            Cow::Borrowed(px)
        } else {
            Cow::Owned(resample(px, channels, w, h, tw, th))
        };
        for &enc in ladder {
            let data = encode(&rgb, tw, th, enc)?;
            if data.len() as u64 <= limits.max_bytes {
                let mime = match enc {
                    Encoding::Png => "image/png",
                    Encoding::Jpeg(_) => "image/jpeg",
                };
                return Ok(PreparedImage {
                    mime,
                    data_url: data_url(mime, &data),
                    width: tw,
                    height: th,
                    original_width: w,
                    original_height: h,
                    source,
                    encoded_bytes: data.len(),
                    preview: super::preview::thumbnail(&rgb, 3, tw, th),
                });
            }
            smallest = smallest.min(data.len() as u64);
        }
        if edge <= MIN_EDGE {
            return Err(ImageError::TooLarge {
                max_bytes: limits.max_bytes,
                smallest,
            });
        }
        edge = ((edge as f64 * 0.75) as u32).max(MIN_EDGE);
    }
}

/// Dimensions with the longer edge at most `edge`, aspect ratio kept; never upscaled.
fn fit(w: u32, h: u32, edge: u32) -> (u32, u32) {
    let long = w.max(h);
    if long <= edge {
        return (w, h);
    }
    let scale = |n: u32| {
        ((u64::from(n) * u64::from(edge) + u64::from(long) / 2) / u64::from(long)).max(1) as u32
    };
    (scale(w), scale(h))
}

fn encode(rgb: &[u8], w: u32, h: u32, enc: Encoding) -> Result<Vec<u8>, ImageError> {
    let mut out = Vec::with_capacity(rgb.len() / 8);
    let result = match enc {
        Encoding::Png => PngEncoder::new_with_quality(
            &mut out,
            image::codecs::png::CompressionType::Fast,
            image::codecs::png::FilterType::Adaptive,
        )
        .write_image(rgb, w, h, ExtendedColorType::Rgb8),
        Encoding::Jpeg(q) => {
            JpegEncoder::new_with_quality(&mut out, q).encode(rgb, w, h, ExtendedColorType::Rgb8)
        }
    };
    result.map_err(|e| ImageError::Encode(e.to_string()))?;
    Ok(out)
}

fn data_url(mime: &str, data: &[u8]) -> String {
    let prefix = format!("data:{mime};base64,");
    let mut url = String::with_capacity(prefix.len() + data.len().div_ceil(3) * 4);
    url.push_str(&prefix);
    base64::engine::general_purpose::STANDARD.encode_string(data, &mut url);
    url
}

/// Screenshots, diagrams and UI have long runs of identical pixels and few colours; photos have
/// neither. Looks at up to 64x64 sample points and each one's right-hand neighbour.
fn looks_like_screenshot(px: &[u8], channels: usize, w: u32, h: u32) -> bool {
    let (w, h) = (w as usize, h as usize);
    let (nx, ny) = (w.min(64), h.min(64));
    let rgb = |i: usize| u32::from(px[i]) << 16 | u32::from(px[i + 1]) << 8 | u32::from(px[i + 2]);
    let mut colours = Vec::with_capacity(nx * ny);
    let (mut pairs, mut same) = (0usize, 0usize);
    for sy in 0..ny {
        let y = (2 * sy + 1) * h / (2 * ny);
        for sx in 0..nx {
            let x = sx * w / nx;
            let i = (y * w + x) * channels;
            let c = rgb(i);
            colours.push(c);
            if x + 1 < w {
                pairs += 1;
                same += usize::from(rgb(i + channels) == c);
            }
        }
    }
    colours.sort_unstable();
    colours.dedup();
    colours.len() <= 64 || (pairs > 0 && same * 2 >= pairs)
}

/// `412 KB`, `47.7 MiB`.
pub fn human_bytes(n: u64) -> String {
    const MIB: u64 = 1024 * 1024;
    if n < 1024 {
        format!("{n} bytes")
    } else if n < MIB {
        format!("{} KB", n.div_ceil(1024))
    } else if n.is_multiple_of(MIB) {
        format!("{} MiB", n / MIB)
    } else {
        format!("{:.1} MiB", n as f64 / MIB as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fit_keeps_aspect_and_never_upscales() {
        assert_eq!(fit(3840, 2160, 1568), (1568, 882));
        assert_eq!(fit(2160, 3840, 1568), (882, 1568));
        assert_eq!(fit(800, 600, 1568), (800, 600));
        assert_eq!(fit(10_000, 1, 1568), (1568, 1));
    }

    #[test]
    fn sniff_names_common_non_images() {
        let what = |b: &[u8]| match sniff(b) {
            Sniffed::Other(s) => s,
            Sniffed::Image(f) => f.name(),
        };
        assert_eq!(what(b"%PDF-1.7\n"), "a PDF");
        assert_eq!(what(b"fn main() {}\n"), "text");
        assert_eq!(what(b""), "an empty file");
        assert_eq!(
            what(b"PK\x03\x04rest"),
            "a ZIP archive (or an Office document)"
        );
        assert!(what(b"<?xml version=\"1.0\"?><svg xmlns=").starts_with("an SVG"));
        assert_eq!(
            what(&[0u8, 1, 2, 3, 200, 201, 0, 0]),
            "binary data in an unknown format"
        );
        assert_eq!(what(b"\x89PNG\r\n\x1a\n"), "PNG");
        assert_eq!(what(b"\x00\x00\x00\x18ftypheic"), "a HEIC image");
    }

    #[test]
    fn zero_alpha_bitmaps_become_opaque() {
        let mut img = image::RgbaImage::from_pixel(3, 2, image::Rgba([9, 8, 7, 0]));
        fix_zero_alpha(&mut img);
        assert!(img.pixels().all(|p| p.0 == [9, 8, 7, 255]));
        let mut img = image::RgbaImage::from_pixel(3, 2, image::Rgba([9, 8, 7, 0]));
        img.put_pixel(0, 0, image::Rgba([1, 1, 1, 5]));
        fix_zero_alpha(&mut img);
        assert_eq!(img.get_pixel(1, 1).0[3], 0);
    }

    #[test]
    fn label_shows_original_size_format_and_sent_kb() {
        let img = PreparedImage {
            mime: "image/png",
            data_url: String::new(),
            width: 1568,
            height: 882,
            original_width: 1920,
            original_height: 1080,
            source: "PNG".into(),
            encoded_bytes: 412 * 1024,
            preview: crate::protocol::Thumbnail {
                width: 1,
                height: 1,
                rgb: vec![0, 0, 0],
            },
        };
        assert_eq!(img.label(), "1920x1080 PNG 412 KB");
    }

    #[test]
    fn human_sizes() {
        assert_eq!(human_bytes(MAX_INPUT_BYTES), "40 MiB");
        assert_eq!(human_bytes(50_000_000), "47.7 MiB");
        assert_eq!(human_bytes(2048), "2 KB");
    }
}
