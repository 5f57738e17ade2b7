//! Image intake cost: a 3840x2160 screenshot as the clipboard hands it over (raw RGBA) to a
//! ready-to-send `data:` URL (downscale to 1568 px, PNG encode, base64, thumbnail), and the
//! same from a PNG file on disk. `scripts/bench-check.sh` holds the clipboard figure under
//! 150 ms.

use cove::vision::encode::{ImageLimits, prepare_bytes, prepare_rgba};
use criterion::{Criterion, criterion_group, criterion_main};

/// A 4K screenshot-like image: a dark editor with lines of "text" (short runs of a few
/// colours), a side bar and a dialog box, so it compresses like a real one.
fn screenshot(w: u32, h: u32) -> Vec<u8> {
    let mut px = Vec::with_capacity((w * h * 4) as usize);
    let mut seed = 0x2545_f491_u32;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        seed
    };
    let palette = [
        [212u8, 212, 212],
        [86, 156, 214],
        [206, 145, 120],
        [106, 153, 85],
    ];
    for y in 0..h {
        let line = y / 32;
        let in_text_row = y % 32 >= 8 && y % 32 < 24;
        let indent = 300 + (line % 7) * 48;
        let len = 400 + (line * 7919 % 1900);
        let mut run = 0u32;
        let mut colour = [30u8, 30, 30];
        for x in 0..w {
            let sidebar = x < 260;
            let dialog = (1200..2600).contains(&x) && (800..1400).contains(&y);
            let p = if dialog {
                if y < 860 {
                    [200, 60, 60]
                } else {
                    [240, 240, 240]
                }
            } else if sidebar {
                [37, 37, 38]
            } else if in_text_row && x >= indent && x < indent + len {
                if run == 0 {
                    run = 6 + next() % 40;
                    colour = if next() % 5 == 0 {
                        [30, 30, 30]
                    } else {
                        palette[(next() % 4) as usize]
                    };
                }
                run -= 1;
                // glyph strokes: every other column in a run
                if x % 3 == 0 { colour } else { [30, 30, 30] }
            } else {
                [30, 30, 30]
            };
            px.extend_from_slice(&[p[0], p[1], p[2], 255]);
        }
    }
    px
}

fn bench(c: &mut Criterion) {
    let (w, h) = (3840, 2160);
    let rgba = screenshot(w, h);
    let limits = ImageLimits::default();
    let mut png = Vec::new();
    image::RgbaImage::from_raw(w, h, rgba.clone())
        .expect("buffer size")
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .expect("png");
    let mut g = c.benchmark_group("vision");
    g.sample_size(20);
    g.bench_function("clipboard_4k_to_data_url", |b| {
        b.iter(|| prepare_rgba(w, h, &rgba, &limits).expect("prepared"))
    });
    g.bench_function("png_file_4k_to_data_url", |b| {
        b.iter(|| prepare_bytes(&png, &limits).expect("prepared"))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
