//! Images reach the right model: the exact request shape, a separate vision model's answer
//! feeding the coding model's next request, and clear refusals for bad input.

mod cli_support;
mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use base64::Engine;
use cli_support::Sandbox;
use common::*;
use cove::agent::{self, AgentSettings};
use cove::config::{LoadInput, Overrides, load};
use cove::protocol::{AgentEvent, ImageAttachment, Op};

/// A screenshot-like PNG of `w`x`h` written into `dir`.
fn png(dir: &Path, name: &str, w: u32, h: u32) -> PathBuf {
    let img = image::RgbImage::from_fn(w, h, |x, y| {
        if (x / 40 + y / 40) % 2 == 0 {
            image::Rgb([30, 30, 30])
        } else {
            image::Rgb([220, 50, 50])
        }
    });
    let path = dir.join(name);
    img.save(&path).unwrap();
    path
}

/// The data URL of the first image in a captured chat request, decoded.
fn sent_image(body: &serde_json::Value) -> (String, image::DynamicImage) {
    let parts = body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .find_map(|m| m["content"].as_array().cloned())
        .expect("a content array");
    assert_eq!(parts[0]["type"], "text");
    let url = parts[1]["image_url"]["url"].as_str().unwrap().to_owned();
    assert_eq!(parts[1]["type"], "image_url");
    let (head, b64) = url.split_once(";base64,").expect("a base64 data URL");
    let mime = head.strip_prefix("data:").unwrap().to_owned();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .unwrap();
    (
        mime,
        image::load_from_memory(&bytes).expect("a valid image"),
    )
}

#[test]
fn ask_with_an_image_goes_only_to_the_vision_model_in_the_openai_shape() {
    let code = FakeServer::start(vec![answer("code model should not answer")]);
    let vision = FakeServer::start(vec![answer("The dialog says: disk full.")]);
    let sb = Sandbox::new();
    sb.write_user_config(&format!(
        "[model]\nname = \"devstral\"\napi_base = \"{}\"\n[vision]\nname = \"qwen3-vl\"\napi_base = \"{}\"\nmax_edge = 800\n",
        code.base_url(),
        vision.base_url()
    ));
    let shot = png(&sb.workspace(), "shot.png", 2000, 1000);
    let run = sb.run(&[
        "ask",
        "--image",
        shot.to_str().unwrap(),
        "what is wrong here?",
    ]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(run.stdout, "The dialog says: disk full.\n");
    assert!(code.posts().is_empty(), "nothing went to the coding model");
    let body = vision.posts()[0].json();
    assert_eq!(body["model"], "qwen3-vl");
    let (mime, img) = sent_image(&body);
    assert_eq!(mime, "image/png", "a flat screenshot goes as PNG");
    assert_eq!(
        (img.width(), img.height()),
        (800, 400),
        "downscaled to max_edge, aspect kept"
    );
}

#[test]
fn with_vision_true_the_main_model_gets_the_image() {
    let main = FakeServer::start(vec![answer("I see a chessboard.")]);
    let sb = Sandbox::new();
    sb.write_user_config(&format!("[model]\nname = \"qwen3-vl\"\napi_base = \"{}\"\nvision = true\n[vision]\nname = \"other\"\n", main.base_url()));
    let shot = png(&sb.workspace(), "board.png", 300, 200);
    let run = sb.run(&["ask", "--image", shot.to_str().unwrap(), "what is this?"]);
    assert_eq!(run.code, 0, "{run:?}");
    let (_, img) = sent_image(&main.posts()[0].json());
    assert_eq!(
        (img.width(), img.height()),
        (300, 200),
        "small images are not upscaled"
    );
}

#[test]
fn bad_images_and_too_many_are_refused_before_sending() {
    let server = FakeServer::start(vec![]);
    let sb = Sandbox::new();
    sb.write_user_config(&format!(
        "[model]\nname = \"m\"\napi_base = \"{}\"\n[vision]\nmax_images = 2\n",
        server.base_url()
    ));
    let text = sb.workspace().join("notes.png");
    std::fs::write(&text, "this is not an image").unwrap();
    let run = sb.run(&["ask", "--image", text.to_str().unwrap(), "hi"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("notes.png"), "{run:?}");
    let ok = png(&sb.workspace(), "a.png", 10, 10);
    let p = ok.to_str().unwrap();
    let run = sb.run(&["ask", "--image", p, "--image", p, "--image", p, "hi"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("at most 2"), "{run:?}");
    let missing = sb.workspace().join("missing.png");
    let run = sb.run(&["ask", "--image", missing.to_str().unwrap(), "hi"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(server.posts().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_vision_answer_reaches_the_coding_models_next_request() {
    let code = FakeServer::start(vec![answer("Free some disk space, then retry.")]);
    let vision = FakeServer::start(vec![answer(
        "An error dialog: ENOSPC, no space left on device.",
    )]);
    let (_dir, ops, mut events) = coding_and_vision_agent(&code, &vision);
    let image = ImageAttachment {
        data_url: "data:image/png;base64,iVBORw0KGgo=".into(),
        label: "1x1 PNG 1 KB".into(),
        preview: None,
    };
    ops.send(Op::UserTurn {
        turn: 1,
        text: "what is this error?".into(),
        images: vec![image],
    })
    .unwrap();
    let mut responder = None;
    loop {
        match next(&mut events).await {
            AgentEvent::Responder { model, .. } => responder = Some(model),
            AgentEvent::TurnDone { .. } => break,
            AgentEvent::TurnFailed { error, .. } => panic!("{error}"),
            _ => {}
        }
    }
    assert_eq!(
        responder.as_deref(),
        Some("qwen3-vl"),
        "the reply is labelled with the vision model"
    );
    assert!(code.posts().is_empty());
    ops.send(Op::UserTurn {
        turn: 2,
        text: "how do I fix it?".into(),
        images: vec![],
    })
    .unwrap();
    loop {
        if let AgentEvent::TurnDone { .. } = next(&mut events).await {
            break;
        }
    }
    let body = code.posts()[0].json();
    let last = body["messages"].as_array().unwrap().last().unwrap()["content"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        last.contains("ENOSPC") && last.ends_with("how do I fix it?"),
        "{last}"
    );
    assert!(
        !body.to_string().contains("base64"),
        "the coding model gets text, not the image"
    );
}

async fn next(events: &mut cove::protocol::EventRx) -> AgentEvent {
    tokio::time::timeout(Duration::from_secs(10), events.recv())
        .await
        .unwrap()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn asked_for_a_fix_the_coding_model_acts_in_the_same_turn() {
    let code = FakeServer::start(vec![answer("I will free the disk: delete /tmp/cache.")]);
    let vision = FakeServer::start(vec![answer("A dialog: ENOSPC writing /var/log/app.log.")]);
    let (_dir, ops, mut events) = coding_and_vision_agent(&code, &vision);
    let image = ImageAttachment {
        data_url: "data:image/png;base64,iVBORw0KGgo=".into(),
        label: "1x1 PNG 1 KB".into(),
        preview: None,
    };
    ops.send(Op::UserTurn {
        turn: 1,
        text: "please fix this error".into(),
        images: vec![image],
    })
    .unwrap();
    let mut responders = Vec::new();
    let mut steps = 0;
    loop {
        match next(&mut events).await {
            AgentEvent::Responder { model, .. } => responders.push(model),
            AgentEvent::StepDone { .. } => steps += 1,
            AgentEvent::TurnDone { .. } => break,
            AgentEvent::TurnFailed { error, .. } => panic!("{error}"),
            _ => {}
        }
    }
    assert_eq!(steps, 1, "the vision answer is one step of the turn");
    assert_eq!(responders, ["qwen3-vl", "devstral"]);
    assert_eq!(vision.posts().len(), 1);
    let posts = code.posts();
    assert_eq!(posts.len(), 1, "the coding model answered in the same turn");
    let body = posts[0].json();
    let last = body["messages"].as_array().unwrap().last().unwrap()["content"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        last.contains("ENOSPC") && last.contains("please fix this error"),
        "{last}"
    );
    assert!(
        !body.to_string().contains("base64"),
        "the coding model gets text, not the image"
    );
}

#[test]
fn the_offline_rule_covers_the_vision_endpoint() {
    let code = FakeServer::start(vec![answer("not me")]);
    let sb = Sandbox::new();
    sb.write_user_config(&format!(
        "[model]\nname = \"devstral\"\napi_base = \"{}\"\n[vision]\nname = \"qwen3-vl\"\napi_base = \"http://93.184.216.34/v1\"\n",
        code.base_url()
    ));
    let shot = png(&sb.workspace(), "shot.png", 50, 50);
    let run = sb.run(&["ask", "--image", shot.to_str().unwrap(), "what is this?"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr.contains("offline mode") && run.stderr.contains("93.184.216.34"),
        "{run:?}"
    );
    assert!(code.posts().is_empty(), "nothing went anywhere");
}

/// An agent with `code` as the coding model (devstral) and `vision` as the vision model
/// (qwen3-vl), in a temporary workspace (kept alive by the returned guard).
fn coding_and_vision_agent(
    code: &FakeServer,
    vision: &FakeServer,
) -> (
    tempfile::TempDir,
    tokio::sync::mpsc::UnboundedSender<Op>,
    cove::protocol::EventRx,
) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join(".cove")).unwrap();
    std::fs::write(
        dir.path().join(".cove/config.toml"),
        format!(
            "[model]\nname = \"devstral\"\napi_base = \"{}\"\n[vision]\nname = \"qwen3-vl\"\napi_base = \"{}\"\n",
            code.base_url(),
            vision.base_url()
        ),
    )
    .unwrap();
    let config = load(&LoadInput {
        user_file: None,
        workspace: dir.path().to_owned(),
        env: Default::default(),
        flags: Overrides::default(),
        // the test's own config: applied whole
        trust: cove::config::trust::TrustCheck::Trusted,
    })
    .unwrap()
    .config;
    let settings =
        AgentSettings::from_config(&config, "system".into(), dir.path().canonicalize().unwrap())
            .unwrap();
    let (ops, events) = agent::spawn(settings);
    (dir, ops, events)
}
