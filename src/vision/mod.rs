//! Image intake for vision models: clipboard, files and screenshots, downscaled and encoded as
//! `data:` URLs.

pub mod clipboard;
pub mod encode;
pub mod preview;
mod resample;
pub mod screenshot;
mod sniff;

pub use clipboard::{Clipboard, image_path_in, read_clipboard};
pub use encode::{
    ImageError, ImageLimits, PreparedImage, prepare_bytes, prepare_file, prepare_rgba,
};
pub use screenshot::capture;
