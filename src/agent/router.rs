//! The router: the only reader of the op channel. While the agent is idle it hands each
//! op over; while work runs it answers the ops that concern that work (`Interrupt`
//! cancels it, `Decide` resolves the call's oneshot, `Shutdown` cancels everything) and
//! answers every other op with `AgentEvent::Busy`, so nothing a front-end sends is
//! dropped without a word. Nothing below the router reads ops: the agent awaits its
//! `Cancel` and the receivers `Decisions` hands out.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::mpsc::UnboundedReceiver;
use tokio::sync::oneshot;
use tokio_util::sync::CancellationToken;

use crate::protocol::{AgentEvent, Decision, EventTx, Op};

/// Why work stopped before its end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stop {
    /// `Op::Interrupt`: this work only; the agent goes on with the next op.
    Interrupted,
    /// `Op::Shutdown`, or every front-end has gone.
    Shutdown,
}

/// The cancellation of the work running now. `work` is a child of `shutdown`, so a
/// shutdown stops the work too; which one fired tells the two apart.
#[derive(Debug, Clone, Default)]
pub(crate) struct Cancel {
    work: CancellationToken,
    shutdown: CancellationToken,
}

impl Cancel {
    /// How the work must stop, when it must.
    pub fn stopped(&self) -> Option<Stop> {
        if self.shutdown.is_cancelled() {
            Some(Stop::Shutdown)
        } else if self.work.is_cancelled() {
            Some(Stop::Interrupted)
        } else {
            None
        }
    }

    /// Completes when the work is to stop (at once when it already is).
    pub async fn cancelled(&self) -> Stop {
        self.work.cancelled().await;
        self.stopped().unwrap_or(Stop::Interrupted)
    }
}

/// The calls waiting for a front-end's decision, by call id: the agent registers a call
/// (`expect`) before it announces it, the router resolves it on `Op::Decide`.
#[derive(Debug, Clone, Default)]
pub(crate) struct Decisions(Arc<Mutex<HashMap<String, oneshot::Sender<Decision>>>>);

impl Decisions {
    fn map(&self) -> MutexGuard<'_, HashMap<String, oneshot::Sender<Decision>>> {
        // a panic while the lock was held cannot leave the map half changed
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The receiver of the decision on `call_id`.
    pub fn expect(&self, call_id: &str) -> oneshot::Receiver<Decision> {
        let (tx, rx) = oneshot::channel();
        self.map().insert(call_id.to_owned(), tx);
        rx
    }

    /// Hands `decision` to the call waiting for it; false when none is.
    pub fn resolve(&self, call_id: &str, decision: Decision) -> bool {
        match self.map().remove(call_id) {
            Some(tx) => tx.send(decision).is_ok(),
            None => false,
        }
    }

    /// The calls no longer wait (the turn was stopped): a late decision finds nothing.
    pub fn forget<'a>(&self, call_ids: impl IntoIterator<Item = &'a str>) {
        let mut map = self.map();
        for id in call_ids {
            map.remove(id);
        }
    }

    #[cfg(test)]
    fn waiting(&self) -> usize {
        self.map().len()
    }
}

pub(super) struct Router {
    ops: UnboundedReceiver<Op>,
    events: EventTx,
    decisions: Decisions,
    shutdown: CancellationToken,
    /// The channel is closed or shutdown was asked: no more ops are read.
    done: bool,
}

impl Router {
    pub fn new(ops: UnboundedReceiver<Op>, events: EventTx) -> Self {
        Router {
            ops,
            events,
            decisions: Decisions::default(),
            shutdown: CancellationToken::new(),
            done: false,
        }
    }

    /// The map the agent registers its waiting calls in.
    pub fn decisions(&self) -> Decisions {
        self.decisions.clone()
    }

    pub fn shut_down(&self) -> bool {
        self.shutdown.is_cancelled()
    }

    /// A fresh cancellation for the next piece of work.
    pub fn cancel(&self) -> Cancel {
        Cancel {
            work: self.shutdown.child_token(),
            shutdown: self.shutdown.clone(),
        }
    }

    /// The next op for the idle agent; `None` once it is to shut down. An interrupt with
    /// nothing running, or a decision nothing waits for, ends here.
    pub async fn next(&mut self) -> Option<Op> {
        while !self.done {
            match self.ops.recv().await {
                None | Some(Op::Shutdown) => self.stop(),
                Some(Op::Interrupt) => tracing::debug!("interrupt with nothing running"),
                Some(Op::Decide { call_id, decision }) => self.decide(call_id, decision),
                Some(op) => return Some(op),
            }
        }
        None
    }

    /// Runs `work` to its end, answering ops meanwhile: `Interrupt` cancels `cancel`,
    /// `Decide` reaches the waiting call, `Shutdown` cancels everything, anything else is
    /// answered `Busy`.
    pub async fn drive<T>(
        &mut self,
        work: impl std::future::Future<Output = T>,
        cancel: &Cancel,
    ) -> T {
        tokio::pin!(work);
        loop {
            tokio::select! {
                biased;
                out = &mut work => return out,
                op = self.ops.recv(), if !self.done => match op {
                    None | Some(Op::Shutdown) => self.stop(),
                    Some(Op::Interrupt) => {
                        tracing::debug!("interrupt");
                        cancel.work.cancel();
                    }
                    Some(Op::Decide { call_id, decision }) => self.decide(call_id, decision),
                    Some(op) => self.busy(&op),
                },
            }
        }
    }

    fn stop(&mut self) {
        self.done = true;
        self.shutdown.cancel();
    }

    fn decide(&self, call_id: String, decision: Decision) {
        if !self.decisions.resolve(&call_id, decision) {
            // the turn ended (interrupted) before the front-end's answer arrived
            tracing::debug!(call_id, "a decision for a call that no longer waits");
        }
    }

    fn busy(&self, op: &Op) {
        tracing::debug!(op = op.name(), "busy");
        let _ = self.events.send(AgentEvent::Busy {
            op: op.name().to_owned(),
            turn: op.turn(),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn routes_ops_while_work_runs() {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let (ev_tx, mut ev_rx) = crate::protocol::event_channel();
        let mut router = Router::new(rx, ev_tx);
        let decisions = router.decisions();
        let cancel = router.cancel();
        let waiting = decisions.expect("c1");
        tx.send(Op::Decide {
            call_id: "c1".into(),
            decision: Decision::Approve,
        })
        .unwrap();
        tx.send(Op::Undo).unwrap();
        tx.send(Op::Interrupt).unwrap();
        let c = cancel.clone();
        let got = router
            .drive(
                async move {
                    let d = waiting.await.ok();
                    (d, c.cancelled().await)
                },
                &cancel,
            )
            .await;
        assert_eq!(got, (Some(Decision::Approve), Stop::Interrupted));
        assert_eq!(decisions.waiting(), 0);
        // the op that needed an idle agent was answered, not dropped
        assert_eq!(
            ev_rx.recv().await,
            Some(AgentEvent::Busy {
                op: "undo".into(),
                turn: None
            })
        );
        // a fresh piece of work is not cancelled by the old interrupt
        assert_eq!(router.cancel().stopped(), None);
        tx.send(Op::Permissions).unwrap();
        assert_eq!(router.next().await, Some(Op::Permissions));
        drop(tx);
        assert_eq!(router.next().await, None);
        assert!(router.shut_down());
    }

    #[tokio::test]
    async fn shutdown_stops_running_work() {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let (ev_tx, _ev_rx) = crate::protocol::event_channel();
        let mut router = Router::new(rx, ev_tx);
        let cancel = router.cancel();
        tx.send(Op::Shutdown).unwrap();
        let c = cancel.clone();
        let stop = router
            .drive(async move { c.cancelled().await }, &cancel)
            .await;
        assert_eq!(stop, Stop::Shutdown);
        assert_eq!(router.next().await, None);
    }
}
