//! Images in the real session: an image put on the X clipboard (xclip, under Xvfb) is
//! attached by Ctrl+V and sent in the OpenAI content-array shape; a dropped image path is
//! offered for attaching; `/screenshot` runs the configured capture command. The binary runs
//! in tmux against the fake server.

mod cli_support;
mod common;
mod tmux_support;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use cli_support::Sandbox;
use common::*;
use tmux_support::Tmux;

/// A private X server; killed on drop.
struct Xvfb {
    child: Child,
    display: String,
}

impl Xvfb {
    /// None (with the reason printed) when there is no Xvfb on this machine.
    fn start() -> Option<Xvfb> {
        if !has("Xvfb") || !has("xclip") {
            eprintln!(
                "SKIPPED: the clipboard test needs Xvfb and xclip (scripts/test.sh installs them with apt-get)"
            );
            return None;
        }
        for n in 90 + std::process::id() % 50..300 {
            if Path::new(&format!("/tmp/.X11-unix/X{n}")).exists()
                || Path::new(&format!("/tmp/.X{n}-lock")).exists()
            {
                continue;
            }
            let display = format!(":{n}");
            let child = Command::new("Xvfb")
                .args([&display, "-screen", "0", "1280x800x24", "-nolisten", "tcp"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("start Xvfb");
            let mut x = Xvfb { child, display };
            let start = Instant::now();
            while start.elapsed() < Duration::from_secs(10) {
                if Path::new(&format!("/tmp/.X11-unix/X{n}")).exists() {
                    return Some(x);
                }
                if let Ok(Some(_)) = x.child.try_wait() {
                    break; // lost a race for this display number: try the next
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        panic!("could not start Xvfb on any display");
    }
}

impl Drop for Xvfb {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn has(program: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {program}")])
        .output()
        .is_ok_and(|o| o.status.success())
}

fn png(dir: &Path, name: &str, w: u32, h: u32) -> PathBuf {
    let img = image::RgbImage::from_fn(w, h, |x, y| {
        if (x / 64 + y / 64) % 2 == 0 {
            image::Rgb([20, 20, 20])
        } else {
            image::Rgb([200, 40, 40])
        }
    });
    let path = dir.join(name);
    img.save(&path).unwrap();
    path
}

fn start_cove(sb: &Sandbox, url: &str, display: Option<&str>) -> Tmux {
    let mut extra = vec![("COVE_MODEL", "fake-model")];
    extra.extend(display.map(|d| ("DISPLAY", d)));
    let t = Tmux::start(120, 40);
    t.run_cove_in(sb.dir.path(), &sb.workspace(), url, &extra);
    t.wait_for(
        |s| s.contains("message") && s.contains("fake-model"),
        Duration::from_secs(20),
    );
    t
}

/// The images of the last user message of a captured request: (MIME type, decoded image).
fn sent_images(body: &serde_json::Value) -> Vec<(String, image::DynamicImage)> {
    let msgs = body["messages"].as_array().unwrap();
    let user = msgs.iter().rev().find(|m| m["role"] == "user").unwrap();
    let parts = user["content"].as_array().expect("a content array");
    assert_eq!(parts[0]["type"], "text");
    parts[1..]
        .iter()
        .map(|p| {
            assert_eq!(p["type"], "image_url");
            let url = p["image_url"]["url"].as_str().unwrap();
            let (head, b64) = url.split_once(";base64,").unwrap();
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(b64)
                .unwrap();
            (
                head.trim_start_matches("data:").to_owned(),
                image::load_from_memory(&bytes).unwrap(),
            )
        })
        .collect()
}

#[test]
fn ctrl_v_attaches_the_image_on_the_x_clipboard() {
    let Some(x) = Xvfb::start() else { return };
    let server = FakeServer::start(vec![answer("A red and black checkerboard.")]);
    let sb = Sandbox::new();
    let shot = png(&sb.workspace(), "clip.png", 2400, 1200);
    // xclip serves the clipboard from the background until another owner takes it
    let status = Command::new("xclip")
        .args(["-selection", "clipboard", "-t", "image/png", "-i"])
        .arg(&shot)
        .env("DISPLAY", &x.display)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    let t = start_cove(&sb, &server.base_url(), Some(&x.display));
    t.keys(&["C-v"]);
    let screen = t.wait_for(
        |s| s.contains("[image 1: 2400x1200 clipboard"),
        Duration::from_secs(20),
    );
    assert!(
        screen.contains("Backspace on empty input removes"),
        "{screen}"
    );
    t.send_literal("what is this?");
    t.keys(&["Enter"]);
    let screen = t.wait_for(|s| s.contains("checkerboard."), Duration::from_secs(20));
    // the message in the chat carries its chip (and a half-block thumbnail)
    assert!(screen.contains("[image 1: 2400x1200"), "{screen}");
    assert!(screen.contains('▀'), "a thumbnail in the chat:\n{screen}");
    let images = sent_images(&server.posts()[0].json());
    assert_eq!(images.len(), 1);
    assert_eq!(images[0].0, "image/png");
    assert_eq!(
        (images[0].1.width(), images[0].1.height()),
        (1568, 784),
        "downscaled to the default max_edge"
    );
    t.keys(&["C-c", "C-c"]);
}

#[test]
fn a_dropped_image_path_is_offered_and_screenshot_runs_the_configured_command() {
    let server = FakeServer::start(vec![answer("Two images seen.")]);
    let sb = Sandbox::new();
    let dropped = png(&sb.workspace(), "my shot.png", 640, 480);
    let captured = png(&sb.workspace(), "captured.png", 800, 600);
    sb.write_user_config(&format!(
        "[vision]\nscreenshot_command = \"cp '{}' {{path}}\"\n",
        captured.display()
    ));
    let t = start_cove(&sb, &server.base_url(), None);
    // a terminal pastes a dropped file as its quoted path, in a bracketed paste
    t.paste(&format!("'{}' ", dropped.display()));
    t.wait_for(
        |s| s.contains("Attach my shot.png as an image?"),
        Duration::from_secs(20),
    );
    t.keys(&["Enter"]);
    t.wait_for(
        |s| s.contains("[image 1: 640x480 PNG"),
        Duration::from_secs(20),
    );
    t.send_literal("/screenshot");
    t.keys(&["Enter"]);
    t.wait_for(
        |s| s.contains("[image 2: 800x600 PNG"),
        Duration::from_secs(20),
    );
    t.send_literal("compare them");
    t.keys(&["Enter"]);
    t.wait_for(|s| s.contains("Two images seen."), Duration::from_secs(20));
    let images = sent_images(&server.posts()[0].json());
    let sizes: Vec<(u32, u32)> = images
        .iter()
        .map(|(_, i)| (i.width(), i.height()))
        .collect();
    assert_eq!(sizes, [(640, 480), (800, 600)]);
    t.keys(&["C-c", "C-c"]);
}
