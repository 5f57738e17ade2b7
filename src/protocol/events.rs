//! The agent -> UI channel. Unbounded for the rare events, but the high-rate ones (stream
//! increments) are counted while they wait: the agent reads the backlog and, when the UI is
//! behind, merges increments instead of queueing more (`StreamCoalescer`), so a server
//! sending deltas faster than the screen can take them costs memory for the text only,
//! never for a growing queue of events.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::sync::mpsc::error::TryRecvError;
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};

use super::{AgentEvent, StreamEvent};

/// Stream increments waiting for the UI above which the agent merges instead of sending.
pub const STREAM_BACKLOG: usize = 32;

pub fn event_channel() -> (EventTx, EventRx) {
    let (tx, rx) = unbounded_channel();
    let backlog = Arc::new(AtomicUsize::new(0));
    (
        EventTx {
            tx,
            backlog: backlog.clone(),
        },
        EventRx { rx, backlog },
    )
}

#[derive(Debug, Clone)]
pub struct EventTx {
    tx: UnboundedSender<AgentEvent>,
    backlog: Arc<AtomicUsize>,
}

impl EventTx {
    /// Whether the event was sent (false: the UI is gone).
    pub fn send(&self, ev: AgentEvent) -> bool {
        let counted = matches!(ev, AgentEvent::Stream { .. });
        if counted {
            self.backlog.fetch_add(1, Ordering::Relaxed);
        }
        let sent = self.tx.send(ev).is_ok();
        if !sent && counted {
            self.backlog.fetch_sub(1, Ordering::Relaxed);
        }
        sent
    }

    /// Stream increments sent and not yet received.
    pub fn backlog(&self) -> usize {
        self.backlog.load(Ordering::Relaxed)
    }
}

#[derive(Debug)]
pub struct EventRx {
    rx: UnboundedReceiver<AgentEvent>,
    backlog: Arc<AtomicUsize>,
}

impl EventRx {
    fn took(&self, ev: &AgentEvent) {
        if matches!(ev, AgentEvent::Stream { .. }) {
            self.backlog.fetch_sub(1, Ordering::Relaxed);
        }
    }

    pub async fn recv(&mut self) -> Option<AgentEvent> {
        let ev = self.rx.recv().await?;
        self.took(&ev);
        Some(ev)
    }

    /// Events of every kind waiting to be received.
    pub fn queued(&self) -> usize {
        self.rx.len()
    }

    pub fn try_recv(&mut self) -> Result<AgentEvent, TryRecvError> {
        let ev = self.rx.try_recv()?;
        self.took(&ev);
        Ok(ev)
    }
}

/// Stream increments of one reply on their way to the UI: sent as they come while the UI
/// keeps up; merged (text appended to text, argument fragments of one call joined) while
/// it is behind, and sent on `flush`. Order between kinds is kept.
#[derive(Debug, Default)]
pub struct StreamCoalescer {
    pending: Vec<StreamEvent>,
}

impl StreamCoalescer {
    /// Takes one increment; sends what may go now.
    pub fn push(&mut self, tx: &EventTx, turn: u64, ev: StreamEvent) {
        if self.pending.is_empty() && tx.backlog() < STREAM_BACKLOG {
            let _ = tx.send(AgentEvent::Stream { turn, event: ev });
            return;
        }
        match (self.pending.last_mut(), ev) {
            (Some(StreamEvent::Content { text }), StreamEvent::Content { text: more })
            | (Some(StreamEvent::Reasoning { text }), StreamEvent::Reasoning { text: more }) => {
                text.push_str(&more)
            }
            (
                Some(StreamEvent::ToolCallArgs { index, fragment }),
                StreamEvent::ToolCallArgs {
                    index: i,
                    fragment: more,
                },
            ) if *index == i => fragment.push_str(&more),
            (_, ev) => self.pending.push(ev),
        }
        if tx.backlog() < STREAM_BACKLOG {
            self.flush(tx, turn);
        }
    }

    /// Sends everything held (at the end of a reply, before any other event, on a timer).
    pub fn flush(&mut self, tx: &EventTx, turn: u64) {
        for ev in self.pending.drain(..) {
            let _ = tx.send(AgentEvent::Stream { turn, event: ev });
        }
    }

    /// Sends what is held if the UI has caught up.
    pub fn flush_if_room(&mut self, tx: &EventTx, turn: u64) {
        if !self.pending.is_empty() && tx.backlog() < STREAM_BACKLOG {
            self.flush(tx, turn);
        }
    }

    pub fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(ev: &AgentEvent) -> String {
        match ev {
            AgentEvent::Stream {
                event: StreamEvent::Content { text },
                ..
            } => text.clone(),
            other => format!("{other:?}"),
        }
    }

    #[test]
    fn a_ui_that_keeps_up_gets_every_increment_and_one_that_does_not_gets_them_merged() {
        let (tx, mut rx) = event_channel();
        let mut c = StreamCoalescer::default();
        for i in 0..10 {
            c.push(
                &tx,
                1,
                StreamEvent::Content {
                    text: format!("{i}"),
                },
            );
            assert_eq!(text(&rx.try_recv().unwrap()), format!("{i}"));
        }
        // the UI stops reading: at most STREAM_BACKLOG events wait, the rest is merged
        for _ in 0..100_000 {
            c.push(&tx, 1, StreamEvent::Content { text: "ab".into() });
        }
        assert_eq!(tx.backlog(), STREAM_BACKLOG);
        c.push(
            &tx,
            1,
            StreamEvent::ToolCallArgs {
                index: 0,
                fragment: "{\"a\"".into(),
            },
        );
        c.push(
            &tx,
            1,
            StreamEvent::ToolCallArgs {
                index: 0,
                fragment: ":1}".into(),
            },
        );
        let mut all = String::new();
        let mut n = 0;
        while let Ok(ev) = rx.try_recv() {
            all.push_str(&text(&ev));
            n += 1;
        }
        c.flush(&tx, 1);
        let mut tail = Vec::new();
        while let Ok(ev) = rx.try_recv() {
            tail.push(ev);
        }
        assert!(n <= STREAM_BACKLOG, "{n}");
        assert_eq!(tail.len(), 2, "{tail:?}");
        all.push_str(&text(&tail[0]));
        assert_eq!(all.len(), 200_000);
        assert!(matches!(
            &tail[1],
            AgentEvent::Stream { event: StreamEvent::ToolCallArgs { index: 0, fragment }, .. } if fragment == "{\"a\":1}"
        ));
        assert_eq!(tx.backlog(), 0);
    }
}
