//! A server that never stops: deltas as fast as the socket takes them, for ever. The reply
//! is cut at `max_reply_bytes` with what arrived kept, the UI is never sent more than a
//! bounded backlog of increments however slowly it reads, and Esc ends the turn at once.

mod agent_support;
mod common;

use std::time::{Duration, Instant};

use agent_support::*;
use common::*;
use cove::protocol::{AgentEvent, Op, STREAM_BACKLOG, StreamEvent};

fn endless_reply() -> Reply {
    let first = format!("data: {}\n\n", content_chunk("start "));
    let piece = format!("data: {}\n\n", content_chunk("more "));
    Reply::sse_raw(first.into_bytes()).endless(piece.as_bytes())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endless_stream_is_cut_at_the_reply_limit_and_the_ui_backlog_stays_bounded() {
    let server = FakeServer::start(vec![endless_reply(), answer("next turn works")]);
    let mut h = start(&server.base_url(), "max_reply_bytes = 2000000\n").await;
    h.say(1, "go");
    // a UI that does not read for a while: the agent must not queue more than the backlog
    // (sampled without receiving, so the reader never makes room while it counts)
    let mut most = 0;
    for _ in 0..30 {
        tokio::time::sleep(Duration::from_millis(50)).await;
        most = most.max(h.events.queued());
    }
    // a few rare events (turn start, notes) may wait beside the increments
    assert!(most <= STREAM_BACKLOG + 8, "{most} events were queued");
    // the reply ends at the limit, cut short, with what arrived kept
    let started = Instant::now();
    let mut text = 0usize;
    let done = loop {
        let ev = tokio::time::timeout(Duration::from_secs(30), h.events.recv())
            .await
            .expect("the turn ends")
            .expect("agent alive");
        match ev {
            AgentEvent::Stream {
                event: StreamEvent::Content { text: t },
                ..
            } => text += t.len(),
            AgentEvent::TurnDone { outcome, .. } => break outcome,
            _ => {}
        }
    };
    assert!(started.elapsed() < Duration::from_secs(30));
    let why = done.cut_short.expect("the reply is marked cut short");
    assert!(why.contains("max_reply_bytes"), "{why}");
    assert!(text > 0);
    h.say(2, "again");
    h.until(|e| matches!(e, AgentEvent::TurnDone { .. })).await;
    let posts = server.posts();
    let kept = posts[1].json()["messages"].to_string();
    assert!(
        kept.contains("start more more"),
        "what arrived was not kept"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn esc_ends_an_endless_stream_at_once() {
    let server = FakeServer::start(vec![endless_reply()]);
    // a limit far away: the interrupt is what ends this reply
    let mut h = start(&server.base_url(), "max_reply_bytes = 1000000000\n").await;
    h.say(1, "go");
    h.until(|e| matches!(e, AgentEvent::Stream { .. })).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let sent = Instant::now();
    h.ops.send(Op::Interrupt).unwrap();
    loop {
        if let AgentEvent::TurnDone { outcome, .. } = h.next_raw().await {
            assert!(outcome.interrupted);
            break;
        }
    }
    // the backlog, the reply so far (journaled, fsync'd) and the end of the turn: well
    // under half a second even in a debug build
    assert!(
        sent.elapsed() < Duration::from_millis(500),
        "{:?}",
        sent.elapsed()
    );
}
