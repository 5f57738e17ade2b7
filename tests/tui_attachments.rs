//! Images in the composer at the `update` level: Ctrl+V asks for the clipboard, attached
//! images become chips and travel with the message, the `max_images` limit, removal with
//! Backspace, and a pasted image path offered for attaching.

mod tui_support;

use std::path::PathBuf;

use cove::app::state::*;
use cove::app::{Command, Msg, update};
use cove::protocol::{ImageAttachment, Op, Thumbnail};
use crossterm::event::KeyCode;
use tui_support::*;

fn image(label: &str) -> ImageAttachment {
    ImageAttachment {
        data_url: format!("data:image/png;base64,{label}"),
        label: label.into(),
        preview: Some(Thumbnail {
            width: 1,
            height: 1,
            rgb: vec![1, 2, 3],
        }),
    }
}

#[test]
fn ctrl_v_reads_the_clipboard_and_images_go_with_the_message() {
    let mut s = state();
    assert_eq!(update(&mut s, ctrl('v')), vec![Command::ReadClipboard]);
    update(&mut s, Msg::Attached(Ok(image("1920x1080 PNG 412 KB"))));
    update(&mut s, Msg::Attached(Ok(image("800x600 JPEG 90 KB"))));
    assert_eq!(s.composer.attachments.len(), 2);
    assert!(
        s.flash
            .as_ref()
            .unwrap()
            .0
            .contains("image 2: 800x600 JPEG 90 KB")
    );
    type_text(&mut s, "what is wrong here?");
    let cmds = update(&mut s, key(KeyCode::Enter));
    let Some(Command::Agent(Op::UserTurn { text, images, .. })) = cmds.last() else {
        panic!("{cmds:?}")
    };
    assert_eq!(text, "what is wrong here?");
    assert_eq!(images.len(), 2);
    assert_eq!(
        images[0].data_url,
        "data:image/png;base64,1920x1080 PNG 412 KB"
    );
    assert!(
        s.composer.attachments.is_empty(),
        "sent images leave the composer"
    );
    let EntryKind::User { images, .. } = &s.chat.entries[0].kind else {
        panic!()
    };
    assert_eq!(images[1].label, "800x600 JPEG 90 KB");
    assert!(images[1].preview.is_some(), "the chat keeps the thumbnail");
}

#[test]
fn an_image_alone_can_be_sent_and_text_from_the_clipboard_is_pasted() {
    let mut s = state();
    update(&mut s, Msg::Attached(Ok(image("a"))));
    let cmds = update(&mut s, key(KeyCode::Enter));
    assert!(
        matches!(cmds.last(), Some(Command::Agent(Op::UserTurn { images, .. })) if images.len() == 1),
        "{cmds:?}"
    );
    let mut s = state();
    update(&mut s, Msg::ClipboardText("line one\r\nline two".into()));
    assert_eq!(s.composer_text(), "line one\nline two");
    assert!(s.composer.attachments.is_empty());
}

#[test]
fn the_image_limit_is_named_and_errors_are_shown() {
    let mut s = state();
    s.composer.max_images = 2;
    for l in ["a", "b", "c"] {
        update(&mut s, Msg::Attached(Ok(image(l))));
    }
    assert_eq!(s.composer.attachments.len(), 2);
    assert!(
        s.flash.as_ref().unwrap().0.contains("at most 2 images"),
        "{:?}",
        s.flash
    );
    update(
        &mut s,
        Msg::Attached(Err("shot.png: not an image: this looks like text".into())),
    );
    // an error card in the chat, with what to do
    match &s.chat.entries.last().unwrap().kind {
        EntryKind::Error {
            title,
            message,
            hint,
        } => {
            assert_eq!(title, "Image not attached");
            assert!(message.contains("not an image"), "{message}");
            assert!(hint.contains("/image PATH"), "{hint}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(s.composer.attachments.len(), 2);
}

#[test]
fn backspace_on_an_empty_composer_removes_the_last_image() {
    let mut s = state();
    update(&mut s, Msg::Attached(Ok(image("a"))));
    update(&mut s, Msg::Attached(Ok(image("b"))));
    type_text(&mut s, "x");
    update(&mut s, key(KeyCode::Backspace));
    assert_eq!(
        s.composer.attachments.len(),
        2,
        "the first Backspace deletes the text"
    );
    update(&mut s, key(KeyCode::Backspace));
    assert_eq!(s.composer.attachments.len(), 1);
    assert_eq!(s.composer.attachments[0].label, "a");
}

#[test]
fn a_pasted_image_path_is_offered_for_attaching() {
    let mut s = state();
    // a path-like paste is checked first; ordinary text goes straight in
    let cmds = update(&mut s, Msg::Paste("'/home/me/shot.png' ".into()));
    assert_eq!(
        cmds,
        vec![Command::CheckPaste("'/home/me/shot.png' ".into())]
    );
    assert!(s.composer.area.is_empty());
    update(
        &mut s,
        Msg::PasteChecked {
            text: "'/home/me/shot.png' ".into(),
            image: Some(PathBuf::from("/home/me/shot.png")),
        },
    );
    assert!(s.composer.paste_offer.is_some());
    // Enter attaches, and does not send
    let cmds = update(&mut s, key(KeyCode::Enter));
    assert_eq!(
        cmds,
        vec![Command::AttachFile(PathBuf::from("/home/me/shot.png"))]
    );
    assert!(s.composer.paste_offer.is_none() && s.composer.area.is_empty() && !s.is_running());

    // Esc keeps the path as text, and does not interrupt or leave the input
    let mut s = state();
    let offer = |s: &mut State, text: &str| {
        update(
            s,
            Msg::PasteChecked {
                text: text.into(),
                image: Some(PathBuf::from(text)),
            },
        )
    };
    offer(&mut s, "/tmp/a.png");
    assert!(update(&mut s, key(KeyCode::Esc)).is_empty());
    assert_eq!(s.composer_text(), "/tmp/a.png");

    // typing on keeps the text and the key
    let mut s = state();
    offer(&mut s, "/tmp/a.png");
    update(&mut s, key(KeyCode::Char('!')));
    assert_eq!(s.composer_text(), "/tmp/a.png!");

    // a path that is not an image is just text
    let mut s = state();
    update(
        &mut s,
        Msg::PasteChecked {
            text: "/etc/hosts".into(),
            image: None,
        },
    );
    assert_eq!(s.composer_text(), "/etc/hosts");
    assert!(update(&mut s, Msg::Paste("fn main() {}".into())).is_empty());
    assert_eq!(s.composer_text(), "/etc/hostsfn main() {}");
}

#[test]
fn slash_image_and_screenshot_ask_the_loop() {
    let mut s = state();
    type_text(&mut s, "/image ~/Pictures/error dialog.png");
    let cmds = update(&mut s, key(KeyCode::Enter));
    let home = std::env::var("HOME").unwrap();
    let want = Command::AttachFile(PathBuf::from(home).join("Pictures/error dialog.png"));
    assert!(cmds.contains(&want), "{cmds:?}");
    type_text(&mut s, "/screenshot");
    assert!(update(&mut s, key(KeyCode::Enter)).contains(&Command::Screenshot));
    assert!(s.chat.entries.is_empty(), "commands are not messages");
}

#[test]
fn a_screenshot_says_what_it_waits_for_and_esc_stops_it() {
    let mut s = state();
    type_text(&mut s, "/screenshot");
    update(&mut s, key(KeyCode::Enter));
    assert!(s.taking_screenshot);
    // the prompt stays while the region tool waits (not a flash gone in 3 seconds)
    let screen = render_text(&s, 100, 20);
    assert!(
        screen.contains("select a region on your screen"),
        "{screen}"
    );
    s.now += std::time::Duration::from_secs(10);
    update(&mut s, Msg::Tick);
    assert!(render_text(&s, 100, 20).contains("select a region on your screen"));
    // Esc stops the tool; its late answer attaches nothing and shows no error
    let cmds = update(&mut s, key(KeyCode::Esc));
    assert!(cmds.contains(&Command::StopScreenshot), "{cmds:?}");
    assert!(!s.taking_screenshot);
    update(
        &mut s,
        Msg::Screenshot(Err(cove::vision::screenshot::STOPPED.into())),
    );
    assert!(s.chat.entries.is_empty() && s.composer.attachments.is_empty());
    // a screenshot that fails is an error card with what to do
    type_text(&mut s, "/screenshot");
    update(&mut s, key(KeyCode::Enter));
    update(
        &mut s,
        Msg::Screenshot(Err("no screenshot tool found".into())),
    );
    assert!(
        matches!(&s.chat.entries[0].kind, EntryKind::Error { hint, .. } if hint.contains("screenshot_command"))
    );
    // and one taken is attached
    type_text(&mut s, "/screenshot");
    update(&mut s, key(KeyCode::Enter));
    update(&mut s, Msg::Screenshot(Ok(image("1280x720 PNG 80 KB"))));
    assert_eq!(s.composer.attachments.len(), 1);
    assert!(!s.taking_screenshot);
}
