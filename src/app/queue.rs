//! The approval queue: tool calls waiting for the user, the selected one, and a reason or
//! edited arguments being typed for it.

use ratatui_textarea::TextArea;

use crate::protocol::ApprovalRequest;

/// A tool call in the approval queue.
#[derive(Debug, Clone, PartialEq)]
pub struct Queued {
    pub turn: u64,
    pub request: ApprovalRequest,
    /// The change per file, with hunks as the diff pane numbers them.
    pub files: Vec<super::diffs::FileDiff>,
    /// Per file, per hunk: left out by the user (Space in the diff pane).
    pub declined: Vec<Vec<bool>>,
    /// What the queue, the card and the diff pane cannot show of it (`v` shows all).
    pub unseen: super::unseen::Unseen,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputMode {
    /// Typing the optional reason for a rejection.
    Reason,
    /// Editing the arguments (or the command) before approving.
    Edit,
    /// Confirming (or narrowing) the command prefix that `a` allows for the session.
    Prefix,
}

/// A one-off input in the approvals pane.
pub struct ApprovalInput {
    pub mode: InputMode,
    pub call_id: String,
    pub text: TextArea<'static>,
}

/// Calls waiting for the user, oldest first.
#[derive(Default)]
pub struct ApprovalQueue {
    pub items: Vec<Queued>,
    pub selected: usize,
    /// A reason, edited arguments or a prefix being typed for a call.
    pub input: Option<ApprovalInput>,
}

impl ApprovalQueue {
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// The selected call (the selection is kept within the queue).
    pub fn selected(&self) -> Option<&Queued> {
        self.items
            .get(self.selected.min(self.items.len().saturating_sub(1)))
    }

    pub fn get(&self, call_id: &str) -> Option<&Queued> {
        self.items.iter().find(|q| q.request.call_id == call_id)
    }

    /// Takes the call out of the queue (and the input typed for it); the selection stays
    /// on a call.
    pub fn remove(&mut self, call_id: &str) {
        self.items.retain(|q| q.request.call_id != call_id);
        if self.input.as_ref().is_some_and(|i| i.call_id == call_id) {
            self.input = None;
        }
        self.clamp();
    }

    pub fn clamp(&mut self) {
        self.selected = self.selected.min(self.items.len().saturating_sub(1));
    }
}
