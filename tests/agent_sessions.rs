//! Sessions at the agent level against the fake server: the journal, resuming (the same
//! context, the undo history), compaction when a request would pass the threshold,
//! `@file` attachments, `!command` output, the project context in the system prompt.

mod agent_support;
mod common;

use agent_support::*;
use common::*;
use cove::protocol::{AgentEvent, Decision, Op, TranscriptItem};
use serde_json::json;

/// A reply of `text` whose usage says the request and reply took `total` tokens.
fn answer_counting(text: &str, total: u64) -> Reply {
    let usage = json!({"object":"chat.completion.chunk","choices":[],"usage":{"prompt_tokens":total - 10,"completion_tokens":10,"total_tokens":total}}).to_string();
    let chunk = content_chunk(text);
    let fin = finish_chunk("stop");
    Reply::sse(&[ROLE_CHUNK, &chunk, &fin, &usage, "[DONE]"])
}

fn messages(body: &serde_json::Value) -> Vec<serde_json::Value> {
    body["messages"].as_array().cloned().unwrap_or_default()
}

fn all_text(body: &serde_json::Value) -> String {
    body["messages"].to_string()
}

async fn turn_done(h: &mut Harness) {
    h.until(|e| matches!(e, AgentEvent::TurnDone { .. })).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resumed_session_has_its_transcript_context_and_undo_history() {
    let server = FakeServer::start(vec![
        tool_call_reply(&[(
            "call00001",
            "write_file",
            json!({"path":"new.txt","content":"made by cove\n"}),
        )]),
        answer("I wrote new.txt."),
        answer("Still here."),
    ]);
    let sessions = tempfile::tempdir().unwrap();
    let sdir = sessions.path().to_owned();
    let mut h = start_with(&server.base_url(), "", |s, _| {
        s.sessions_dir = Some(sdir.clone());
    })
    .await;
    let root = h.root.clone();
    h.say(1, "please write new.txt");
    h.until(|e| matches!(e, AgentEvent::ApprovalNeeded { .. }))
        .await;
    h.ops
        .send(Op::Decide {
            call_id: "call00001".into(),
            decision: Decision::Approve,
        })
        .unwrap();
    turn_done(&mut h).await;
    assert_eq!(
        std::fs::read_to_string(root.join("new.txt")).unwrap(),
        "made by cove\n"
    );
    h.ops.send(Op::Shutdown).unwrap();
    // the first agent has let go of its journal (its lock) once its events end
    while tokio::time::timeout(std::time::Duration::from_secs(10), h.events.recv())
        .await
        .unwrap()
        .is_some()
    {}

    // the journal is there, with the session's records
    let list = cove::session::store::list(&sdir);
    assert_eq!(list.len(), 1, "{list:?}");
    assert_eq!(list[0].turns, 1);
    assert_eq!(list[0].files_changed, 1);
    assert_eq!(list[0].first_prompt, "please write new.txt");

    // a second agent in the same workspace resumes it
    let path = list[0].path.clone();
    let settings = {
        let mut s = cove::agent::AgentSettings::from_config(
            &config(&server.base_url(), ""),
            "system".into(),
            root.clone(),
        )
        .unwrap();
        s.sessions_dir = Some(sdir.clone());
        s.resume = Some(path);
        s
    };
    let (ops, mut events) = cove::agent::spawn(settings);
    let loaded = loop {
        match tokio::time::timeout(std::time::Duration::from_secs(10), events.recv())
            .await
            .unwrap()
            .unwrap()
        {
            AgentEvent::SessionLoaded {
                transcript, turns, ..
            } => break (transcript, turns),
            _ => continue,
        }
    };
    let (transcript, turns) = loaded;
    assert_eq!(turns, 1);
    assert!(
        matches!(&transcript[0], TranscriptItem::User { text, .. } if text == "please write new.txt")
    );
    assert!(transcript.iter().any(
        |t| matches!(t, TranscriptItem::Assistant { content, .. } if content == "I wrote new.txt.")
    ));
    assert!(transcript.iter().any(|t| matches!(t, TranscriptItem::Assistant { tools, .. } if tools.iter().any(|c| c.name == "write_file" && c.result.is_some()))));

    // the next request carries the earlier messages, under the same system prompt
    ops.send(Op::UserTurn {
        turn: 2,
        text: "and now?".into(),
        images: vec![],
    })
    .unwrap();
    loop {
        if let AgentEvent::TurnDone { .. } = events.recv().await.unwrap() {
            break;
        }
    }
    let posts = server.posts();
    let first = posts[0].json();
    let last = posts.last().unwrap().json();
    assert_eq!(
        messages(&first)[0],
        messages(&last)[0],
        "same system prompt"
    );
    let text = all_text(&last);
    assert!(text.contains("please write new.txt"), "{text}");
    assert!(text.contains("I wrote new.txt."), "{text}");
    assert!(
        text.contains("call00001"),
        "the tool call and its result: {text}"
    );

    // the undo history survived the restart
    ops.send(Op::Undo).unwrap();
    loop {
        if let AgentEvent::Notice { text } = events.recv().await.unwrap() {
            assert!(text.contains("Undone: new.txt"), "{text}");
            break;
        }
    }
    assert!(!root.join("new.txt").exists());
    ops.send(Op::Shutdown).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edited_call_is_journaled_as_it_ran_and_resumes_so() {
    let server = FakeServer::start(vec![
        tool_call_reply(&[("e1", "shell", json!({"command":"echo proposed"}))]),
        answer("ok"),
    ]);
    let sessions = tempfile::tempdir().unwrap();
    let sdir = sessions.path().to_owned();
    let mut h = start_with(&server.base_url(), "", |s, _| {
        s.sessions_dir = Some(sdir.clone());
    })
    .await;
    h.say(1, "go");
    h.until(|e| matches!(e, AgentEvent::ApprovalNeeded { .. }))
        .await;
    h.ops
        .send(Op::Decide {
            call_id: "e1".into(),
            decision: Decision::ApproveEdited("echo edited-by-user".into()),
        })
        .unwrap();
    turn_done(&mut h).await;
    h.ops.send(Op::Shutdown).unwrap();
    while tokio::time::timeout(std::time::Duration::from_secs(10), h.events.recv())
        .await
        .unwrap()
        .is_some()
    {}
    let list = cove::session::store::list(&sdir);
    let loaded = cove::session::journal::load(&list[0].path).unwrap();
    let resumed =
        cove::session::replay::replay(loaded.records, list[0].path.clone(), vec![]).unwrap();
    // the card: marked, with the command that ran and its output
    let tool = resumed
        .transcript
        .iter()
        .find_map(|t| match t {
            TranscriptItem::Assistant { tools, .. } => tools.first().cloned(),
            _ => None,
        })
        .expect("the call's card");
    assert!(tool.edited, "{tool:?}");
    let args: serde_json::Value = serde_json::from_str(&tool.arguments).unwrap();
    assert_eq!(args["command"], "echo edited-by-user");
    assert!(tool.output.starts_with("edited-by-user"), "{tool:?}");
    // the conversation to go on with: the model's message holds what ran
    let text = format!("{:?}", resumed.messages);
    assert!(text.contains("echo edited-by-user"), "{text}");
    assert!(!text.contains("echo proposed"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crossing_the_threshold_compacts_older_turns_into_a_summary() {
    // window 4000, compaction at 75% = 3000; the server's count for the third reply says 3100
    let server = FakeServer::start(vec![
        answer_counting(&"first answer ".repeat(60), 1200),
        answer_counting(&"second answer ".repeat(60), 2100),
        answer_counting(&"third answer ".repeat(60), 3100),
        answer_counting("SUMMARY: the user asked three questions about alpha.", 900),
        answer_counting("fourth answer", 1500),
    ]);
    let sessions = tempfile::tempdir().unwrap();
    let sdir = sessions.path().to_owned();
    let mut h = start_with(
        &server.base_url(),
        "context_window = 4000\n[context]\nkeep_recent = 400\nsummary_max = 300\n",
        |s, _| s.sessions_dir = Some(sdir.clone()),
    )
    .await;
    for (i, q) in ["question one", "question two", "question three"]
        .iter()
        .enumerate()
    {
        h.say(i as u64 + 1, q);
        turn_done(&mut h).await;
    }
    h.say(4, "question four");
    let report = h
        .until(|e| matches!(e, AgentEvent::Notice { text } if text.starts_with("Compacted")))
        .await;
    let AgentEvent::Notice { text: report } = report else {
        unreachable!()
    };
    assert!(report.contains("summarised"), "{report}");
    turn_done(&mut h).await;

    let posts = server.posts();
    assert_eq!(posts.len(), 5);
    // the summary request: no tools, the older turns as a transcript
    let summary_req = posts[3].json();
    assert!(
        summary_req
            .get("tools")
            .is_none_or(|t| t.as_array().is_none_or(Vec::is_empty))
    );
    let s = all_text(&summary_req);
    assert!(
        s.contains("question one") && s.contains("first answer"),
        "{s}"
    );
    // the next request: same system prompt, the summary, the recent turn, not the old ones
    let next = posts[4].json();
    let ms = messages(&next);
    assert_eq!(
        ms[0],
        messages(&posts[0].json())[0],
        "the prefix is unchanged"
    );
    let t = all_text(&next);
    assert!(t.contains("SUMMARY: the user asked three questions"), "{t}");
    assert!(t.contains("question four"), "{t}");
    assert!(
        !t.contains("first answer"),
        "older turns are summarised: {t}"
    );
    // it fits the window by cove's own estimate
    let est: usize = serde_json::to_string(&next).unwrap().len() * 2 / 7;
    assert!(est < 4000, "request of ~{est} tokens");

    // the journal keeps the full history and the compaction
    h.ops.send(Op::Shutdown).unwrap();
    let list = cove::session::store::list(&sdir);
    let loaded = cove::session::journal::load(&list[0].path).unwrap();
    let text = format!("{:?}", loaded.records);
    assert!(text.contains("first answer"));
    assert!(text.contains("Compacted"));
    let resumed =
        cove::session::replay::replay(loaded.records, list[0].path.clone(), vec![]).unwrap();
    let resumed_text = format!("{:?}", resumed.messages);
    assert!(
        resumed_text.contains("SUMMARY"),
        "a resumed session continues compacted"
    );
    assert!(!resumed_text.contains("first answer"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_small_window_with_default_settings_still_compacts() {
    // 4k window (the bundled local model's), default keep_recent (12k) and summary_max
    let server = FakeServer::start(vec![
        answer_counting("first answer", 1500),
        answer_counting("second answer", 3500),
        answer_counting("SUMMARY of the first turn", 900),
        answer_counting("third answer", 1500),
    ]);
    let mut h = start(&server.base_url(), "context_window = 4096\n").await;
    h.say(1, "question one");
    turn_done(&mut h).await;
    h.say(2, "question two");
    turn_done(&mut h).await;
    h.say(3, "question three");
    let AgentEvent::Notice { text } = h
        .until(|e| matches!(e, AgentEvent::Notice { text } if text.starts_with("Compacted")))
        .await
    else {
        unreachable!()
    };
    assert!(text.contains("summarised"), "{text}");
    turn_done(&mut h).await;
    let last = all_text(&server.posts()[3].json());
    assert!(
        last.contains("SUMMARY of the first turn") && last.contains("question three"),
        "{last}"
    );
    assert!(!last.contains("first answer"), "{last}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compact_on_demand_and_with_nothing_to_compact() {
    let server = FakeServer::start(vec![answer("one"), answer("two"), answer("SUMMARY of one")]);
    let mut h = start(&server.base_url(), "").await;
    h.ops.send(Op::Compact).unwrap();
    let AgentEvent::Notice { text } = h.until(|e| matches!(e, AgentEvent::Notice { .. })).await
    else {
        unreachable!()
    };
    assert!(text.starts_with("Nothing to compact"), "{text}");
    h.say(1, "first");
    turn_done(&mut h).await;
    h.say(2, "second");
    turn_done(&mut h).await;
    h.ops.send(Op::Compact).unwrap();
    let AgentEvent::Notice { text } = h
        .until(|e| matches!(e, AgentEvent::Notice { text } if text.starts_with("Compacted")))
        .await
    else {
        unreachable!()
    };
    // everything fitted `keep_recent`; asked anyway, all but the last turn is summarised
    assert!(text.contains("2 older message(s) summarised"), "{text}");
    assert!(text.contains("the last 2 message(s) kept"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_files_are_attached_and_bang_commands_reach_the_model() {
    let server = FakeServer::start(vec![answer("seen")]);
    let mut h = start(&server.base_url(), "").await;
    std::fs::write(
        h.root.join("code.rs"),
        (1..=50).map(|i| format!("line {i}\n")).collect::<String>(),
    )
    .unwrap();
    h.ops
        .send(Op::UserShell {
            turn: 1,
            command: "echo from-the-shell".into(),
        })
        .unwrap();
    let AgentEvent::ShellDone { output, ok, .. } =
        h.until(|e| matches!(e, AgentEvent::ShellDone { .. })).await
    else {
        unreachable!()
    };
    assert!(ok);
    assert!(output.contains("from-the-shell"), "{output}");
    h.say(2, "look at @code.rs:3-4 and @notes.txt please");
    let AgentEvent::Notice { text } = h.until(|e| matches!(e, AgentEvent::Notice { .. })).await
    else {
        unreachable!()
    };
    assert_eq!(text, "Attached code.rs (lines 3-4), notes.txt.");
    turn_done(&mut h).await;
    let body = server.posts()[0].json();
    let ms = messages(&body);
    let user = ms.last().unwrap()["content"].as_str().unwrap().to_owned();
    assert!(
        user.contains("from-the-shell"),
        "the command's output: {user}"
    );
    assert!(user.contains("line 3\nline 4\n```"), "{user}");
    assert!(!user.contains("line 5"), "{user}");
    assert!(user.contains("alpha\nbeta"), "{user}");
    // the system prompt carries the project context
    let system = ms[0]["content"].as_str().unwrap();
    assert!(
        system.contains(&format!("Workspace: {}", h.root.display())),
        "{system}"
    );
    assert!(system.contains("notes.txt"), "the tree: {system}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_git_change_between_turns_is_a_note_and_the_system_prompt_stays() {
    let server = FakeServer::start(vec![answer("one"), answer("two"), answer("three")]);
    let mut h = start_with(&server.base_url(), "", |_, root| {
        let repo = git2::Repository::init(root).unwrap();
        let mut index = repo.index().unwrap();
        index.add_path(std::path::Path::new("notes.txt")).unwrap();
        index.write().unwrap();
        let tree = repo.find_tree(index.write_tree().unwrap()).unwrap();
        let sig = git2::Signature::now("t", "t@example.com").unwrap();
        repo.commit(Some("HEAD"), &sig, &sig, "init", &tree, &[])
            .unwrap();
    })
    .await;
    h.say(1, "first");
    turn_done(&mut h).await;
    h.say(2, "second");
    turn_done(&mut h).await;
    // after the turn the agent notes the git state (then reports the context use)
    while !matches!(h.next_raw().await, AgentEvent::ContextUsage { .. }) {}
    // the user edits a file between turns
    std::fs::write(h.root.join("notes.txt"), "changed by the user\n").unwrap();
    h.say(3, "third");
    turn_done(&mut h).await;
    let posts = server.posts();
    let sys: Vec<serde_json::Value> = posts
        .iter()
        .map(|p| messages(&p.json())[0].clone())
        .collect();
    assert!(
        sys.windows(2).all(|w| w[0] == w[1]),
        "the system prompt never changes"
    );
    assert!(sys[0].to_string().contains("Git: branch"), "{}", sys[0]);
    let last_user = |i: usize| messages(&posts[i].json()).last().unwrap()["content"].to_string();
    assert!(
        !last_user(1).contains("git state changed"),
        "{}",
        last_user(1)
    );
    let third = last_user(2);
    assert!(third.contains("git state changed"), "{third}");
    assert!(third.contains("1 modified (notes.txt)"), "{third}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_writes_the_session_as_markdown() {
    let server = FakeServer::start(vec![answer("The answer is **42**.")]);
    let sessions = tempfile::tempdir().unwrap();
    let sdir = sessions.path().to_owned();
    let mut h = start_with(&server.base_url(), "", |s, _| {
        s.sessions_dir = Some(sdir.clone())
    })
    .await;
    h.ops.send(Op::Export { path: None }).unwrap();
    let AgentEvent::Notice { text } = h.until(|e| matches!(e, AgentEvent::Notice { .. })).await
    else {
        unreachable!()
    };
    assert!(text.starts_with("Nothing to export"), "{text}");
    h.say(1, "what is the answer?");
    turn_done(&mut h).await;
    h.ops
        .send(Op::Export {
            path: Some("out/session.md".into()),
        })
        .unwrap();
    let AgentEvent::Notice { text } = h.until(|e| matches!(e, AgentEvent::Notice { .. })).await
    else {
        unreachable!()
    };
    assert!(text.starts_with("Exported the session to"), "{text}");
    let md = std::fs::read_to_string(h.root.join("out/session.md")).unwrap();
    assert!(md.starts_with("# cove session "), "{md}");
    assert!(md.contains("## You\n\nwhat is the answer?"), "{md}");
    assert!(
        md.contains("## fake-model\n\nThe answer is **42**."),
        "{md}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn model_switches_profile_or_model_name() {
    let server = FakeServer::start(vec![answer("from big"), answer("from other")]);
    let extra = format!(
        "\n[profiles.big]\nname = \"big-model\"\napi_base = \"{}\"\ncontext_window = 65536\n",
        server.base_url()
    );
    let mut h = start(&server.base_url(), &extra).await;
    h.ops.send(Op::SwitchModel { name: None }).unwrap();
    let AgentEvent::Notice { text } = h.until(|e| matches!(e, AgentEvent::Notice { .. })).await
    else {
        unreachable!()
    };
    assert!(text.contains("Profiles: big"), "{text}");
    h.ops
        .send(Op::SwitchModel {
            name: Some("big".into()),
        })
        .unwrap();
    let AgentEvent::Notice { text } = h.until(|e| matches!(e, AgentEvent::Notice { .. })).await
    else {
        unreachable!()
    };
    assert!(
        text.starts_with("Switched to profile big: big-model"),
        "{text}"
    );
    h.say(1, "hi");
    turn_done(&mut h).await;
    h.ops
        .send(Op::SwitchModel {
            name: Some("other-model".into()),
        })
        .unwrap();
    let AgentEvent::Notice { text } = h
        .until(
            |e| matches!(e, AgentEvent::Notice { text } if text.starts_with("Using model other-model")),
        )
        .await
    else {
        unreachable!()
    };
    // a name the server does not list is used, but not without a word
    assert!(
        text.contains("the server does not list a model named other-model (it lists: fake-model)"),
        "{text}"
    );
    h.say(2, "hi again");
    turn_done(&mut h).await;
    let posts = server.posts();
    assert_eq!(posts[0].json()["model"], "big-model");
    assert_eq!(posts[1].json()["model"], "other-model");
    // one the server lists: no warning
    h.ops
        .send(Op::SwitchModel {
            name: Some("fake-model".into()),
        })
        .unwrap();
    let AgentEvent::Notice { text } = h
        .until(
            |e| matches!(e, AgentEvent::Notice { text } if text.starts_with("Using model fake-model")),
        )
        .await
    else {
        unreachable!()
    };
    assert!(!text.contains("does not list"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roles_alternate_after_a_turn_stopped_at_its_tool_calls() {
    let server = FakeServer::start(vec![
        tool_call_reply(&[("call00007", "shell", json!({"command": "make"}))]),
        answer("ok"),
    ]);
    let mut h = start(&server.base_url(), "").await;
    h.say(1, "build it");
    h.until(|e| matches!(e, AgentEvent::ApprovalNeeded { .. }))
        .await;
    h.ops.send(Op::Interrupt).unwrap();
    turn_done(&mut h).await;
    h.say(2, "try again later");
    turn_done(&mut h).await;
    let body = server.posts()[1].json();
    let roles: Vec<String> = messages(&body)
        .iter()
        .map(|m| m["role"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        roles,
        ["system", "user", "assistant", "tool", "assistant", "user"],
        "{body}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resumed_transcript_shows_thumbnails_of_earlier_images() {
    let server = FakeServer::start(vec![answer("a red square")]);
    let sessions = tempfile::tempdir().unwrap();
    let sdir = sessions.path().to_owned();
    let mut h = start_with(&server.base_url(), "vision = true\n", |s, _| {
        s.sessions_dir = Some(sdir.clone())
    })
    .await;
    let mut png = Vec::new();
    image::RgbImage::from_pixel(16, 8, image::Rgb([200, 0, 0]))
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    use base64::Engine;
    let url = format!(
        "data:image/png;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(&png)
    );
    h.ops
        .send(Op::UserTurn {
            turn: 1,
            text: "what is this?".into(),
            images: vec![cove::protocol::ImageAttachment {
                data_url: url,
                label: "16x8 PNG".into(),
                preview: None,
            }],
        })
        .unwrap();
    turn_done(&mut h).await;
    h.ops.send(Op::Shutdown).unwrap();
    // the first agent has let go of its journal (its lock) once its events end
    while tokio::time::timeout(std::time::Duration::from_secs(10), h.events.recv())
        .await
        .unwrap()
        .is_some()
    {}
    let path = cove::session::store::list(&sdir)[0].path.clone();
    let mut s = cove::agent::AgentSettings::from_config(
        &config(&server.base_url(), ""),
        "system".into(),
        h.root.clone(),
    )
    .unwrap();
    s.sessions_dir = Some(sdir.clone());
    s.resume = Some(path);
    let (_ops, mut events) = cove::agent::spawn(s);
    loop {
        if let AgentEvent::SessionLoaded { transcript, .. } = events.recv().await.unwrap() {
            let TranscriptItem::User {
                images, previews, ..
            } = &transcript[0]
            else {
                panic!("{transcript:?}")
            };
            assert_eq!(images, &vec!["image 1".to_string()]);
            let t = previews[0].as_ref().expect("a thumbnail");
            assert_eq!((t.width, t.height), (16, 8));
            assert_eq!(&t.rgb[..3], &[200, 0, 0]);
            break;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commit_alone_commits_every_uncommitted_change_of_the_session() {
    let server = FakeServer::start(vec![
        tool_call_reply(&[(
            "call00001",
            "write_file",
            json!({"path":"new.txt","content":"made by cove\n"}),
        )]),
        answer("I wrote new.txt."),
        tool_call_reply(&[(
            "call00002",
            "edit_file",
            json!({"path":"notes.txt","old_string":"beta","new_string":"gamma"}),
        )]),
        answer("I changed notes.txt."),
        answer("Add new.txt and rename beta"),
    ]);
    let mut h = start_with(&server.base_url(), "", |_, root| {
        let repo = git2::Repository::init(root).unwrap();
        let mut index = repo.index().unwrap();
        index.add_path(std::path::Path::new("notes.txt")).unwrap();
        index.write().unwrap();
        let tree = repo.find_tree(index.write_tree().unwrap()).unwrap();
        let sig = git2::Signature::now("t", "t@example.com").unwrap();
        repo.commit(Some("HEAD"), &sig, &sig, "init", &tree, &[])
            .unwrap();
    })
    .await;
    // two turns, each changing a file: the second turn's git_commit would see only notes.txt
    for (turn, call) in [(1, "call00001"), (2, "call00002")] {
        h.say(turn, "change something");
        h.until(|e| matches!(e, AgentEvent::ApprovalNeeded { .. }))
            .await;
        h.ops
            .send(Op::Decide {
                call_id: call.into(),
                decision: Decision::Approve,
            })
            .unwrap();
        turn_done(&mut h).await;
    }
    h.ops
        .send(Op::Commit {
            message: String::new(),
        })
        .unwrap();
    let AgentEvent::Notice { text } = h
        .until(|e| matches!(e, AgentEvent::Notice { text } if text.contains("ommit")))
        .await
    else {
        unreachable!()
    };
    assert!(
        text.starts_with("Committed ") && text.ends_with(": Add new.txt and rename beta"),
        "{text}"
    );
    // the message was asked for without tools, with both files' changes
    let ask = server.posts().last().unwrap().json();
    assert!(
        ask.get("tools")
            .is_none_or(|t| t.as_array().is_none_or(Vec::is_empty)),
        "{ask}"
    );
    let asked = ask["messages"].to_string();
    assert!(
        asked.contains("new.txt") && asked.contains("notes.txt"),
        "{asked}"
    );
    let repo = git2::Repository::open(&h.root).unwrap();
    let head = repo.head().unwrap().peel_to_commit().unwrap();
    assert_eq!(head.message().ok(), Some("Add new.txt and rename beta"));
    let tree = head.tree().unwrap();
    assert!(tree.get_path(std::path::Path::new("new.txt")).is_ok());
    let notes = tree.get_path(std::path::Path::new("notes.txt")).unwrap();
    let blob = repo.find_blob(notes.id()).unwrap();
    assert_eq!(blob.content(), b"alpha\ngamma\n");
    // nothing left: said so, nothing asked of the model
    let before = server.posts().len();
    h.ops
        .send(Op::Commit {
            message: String::new(),
        })
        .unwrap();
    let AgentEvent::Notice { text } = h
        .until(|e| matches!(e, AgentEvent::Notice { text } if text.contains("ommit")))
        .await
    else {
        unreachable!()
    };
    assert!(text.starts_with("Nothing to commit"), "{text}");
    assert_eq!(server.posts().len(), before);
}
