//! An image thumbnail as half blocks: each cell is `▀` with the upper pixel as foreground and
//! the lower one as background, so a cell shows two square-ish pixels in any colour terminal.

use ratatui::style::{Color, Style};
use ratatui::text::{Line, Span};

use crate::config::theme::Theme;
use crate::protocol::Thumbnail;

/// The lines of `t`, at most `width` cells wide (nearest-neighbour when narrower). Nothing
/// under `NO_COLOR`: a picture without colours shows nothing useful.
pub fn half_blocks(t: &Thumbnail, width: usize, theme: &Theme) -> Vec<Line<'static>> {
    let (tw, th) = (t.width as usize, t.height as usize);
    if theme.no_color || tw == 0 || th == 0 || t.rgb.len() < tw * th * 3 || width < 4 {
        return Vec::new();
    }
    let cols = tw.min(width.saturating_sub(2));
    // keep the aspect ratio when the pane is narrower than the thumbnail
    let rows_px = (th * cols).div_ceil(tw).max(1);
    let pixel = |x: usize, y: usize| {
        let sx = (x * tw / cols).min(tw - 1);
        let sy = (y * th / rows_px).min(th - 1);
        let i = (sy * tw + sx) * 3;
        Color::Rgb(t.rgb[i], t.rgb[i + 1], t.rgb[i + 2])
    };
    (0..rows_px.div_ceil(2))
        .map(|row| {
            let (top, bottom) = (row * 2, row * 2 + 1);
            let mut spans = vec![Span::raw("  ")];
            spans.extend((0..cols).map(|x| {
                let mut style = Style::default().fg(pixel(x, top));
                if bottom < rows_px {
                    style = style.bg(pixel(x, bottom));
                }
                Span::styled("▀", style)
            }));
            Line::from(spans)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn theme() -> Theme {
        Theme::builtin("dark").expect("the built-in dark theme")
    }

    #[test]
    fn two_pixel_rows_per_line_with_their_colours() {
        // 2x4: red over green, then blue over white
        let rgb = [
            [255, 0, 0],
            [255, 0, 0],
            [0, 255, 0],
            [0, 255, 0],
            [0, 0, 255],
            [0, 0, 255],
            [255, 255, 255],
            [255, 255, 255],
        ]
        .concat();
        let t = Thumbnail {
            width: 2,
            height: 4,
            rgb,
        };
        let lines = half_blocks(&t, 80, &theme());
        assert_eq!(lines.len(), 2);
        let cell = &lines[0].spans[1];
        assert_eq!(cell.content, "▀");
        assert_eq!(cell.style.fg, Some(Color::Rgb(255, 0, 0)));
        assert_eq!(cell.style.bg, Some(Color::Rgb(0, 255, 0)));
        assert_eq!(lines[1].spans[2].style.bg, Some(Color::Rgb(255, 255, 255)));
    }

    #[test]
    fn narrow_panes_shrink_it_and_no_color_hides_it() {
        let t = Thumbnail {
            width: 40,
            height: 20,
            rgb: vec![9; 40 * 20 * 3],
        };
        let lines = half_blocks(&t, 12, &theme());
        assert_eq!(lines[0].spans.len(), 1 + 10);
        assert_eq!(
            lines.len(),
            3,
            "10 columns keep the 2:1 aspect: 5 pixel rows"
        );
        assert!(half_blocks(&t, 80, &Theme::monochrome()).is_empty());
    }
}
