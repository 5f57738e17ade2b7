//! The ledger line of one HTTP request the client sends: opened when the request goes
//! out, finished with what came back; a request whose future is dropped (an interrupt,
//! a timeout around it) is recorded as cancelled when its `Sent` is dropped, so no
//! request that left the machine is missing from the ledger.

use std::sync::Arc;

use crate::domain::conversation::Usage;
use crate::guard::Guard;
use crate::guard::ledger::{Entry, Purpose};

pub(super) struct Sent {
    guard: Arc<Guard>,
    entry: Option<Entry>,
}

impl Sent {
    pub(super) fn new(
        guard: &Arc<Guard>,
        purpose: Purpose,
        method: &str,
        url: &str,
        model: Option<&str>,
        bytes_out: usize,
    ) -> Sent {
        let mut entry = Entry::request(purpose, method, url);
        entry.model = model.filter(|m| !m.is_empty()).map(str::to_owned);
        entry.bytes_out = bytes_out as u64;
        Sent {
            guard: guard.clone(),
            entry: Some(entry),
        }
    }

    pub(super) fn redactions(&mut self, counts: &std::collections::BTreeMap<String, u64>) {
        if let Some(e) = &mut self.entry {
            e.redactions = counts.clone();
        }
    }

    pub(super) fn received(&mut self, n: usize) {
        if let Some(e) = &mut self.entry {
            e.bytes_in += n as u64;
        }
    }

    pub(super) fn usage(&mut self, usage: Option<Usage>) {
        if let (Some(e), Some(u)) = (&mut self.entry, usage) {
            e.prompt_tokens = Some(u.prompt_tokens);
            e.completion_tokens = Some(u.completion_tokens);
        }
    }

    /// The event the reply ended with, when a guard rule or the server's filter ended it.
    pub(super) fn event(&mut self, event: &str) {
        if let Some(e) = &mut self.entry {
            e.event = Some(event.to_owned());
        }
    }

    pub(super) fn finish(mut self, outcome: impl Into<String>) {
        if let Some(mut e) = self.entry.take() {
            e.outcome = Some(outcome.into());
            self.guard.record(e);
        }
    }
}

impl Drop for Sent {
    fn drop(&mut self) {
        if let Some(mut e) = self.entry.take() {
            e.outcome = Some("cancelled".into());
            self.guard.record(e);
        }
    }
}
