//! The conversation as the chat shows it: entries with stable ids, and what is derived
//! from them (the files cove changed, the cards with changes, the last reply) rather than
//! kept in copies that could disagree.

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};

use ratatui::text::Line;

use crate::protocol::ProposedChange;

/// An entry's identity. Ids only ever grow (an entry inserted above the streaming reply
/// gets a new, larger id), so they name entries, not positions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EntryId(u64);

impl EntryId {
    fn fresh() -> EntryId {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        EntryId(NEXT.fetch_add(1, Ordering::Relaxed))
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum ReplyStatus {
    Streaming,
    Done,
    Interrupted,
    /// Ended early or with a server error mid-stream.
    CutShort(String),
}

#[derive(Debug, Clone, PartialEq)]
pub enum ToolState {
    /// Arguments still streaming.
    Streaming,
    /// Complete; the agent has not decided what to do with it yet.
    Proposed,
    /// In the approval queue.
    Waiting,
    /// Approved by the user; runs once every call of the reply is decided.
    Approved,
    Running,
    Done(String),
    Failed(String),
    Rejected(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct ToolCard {
    pub id: String,
    pub name: String,
    pub arguments: String,
    /// "recovered from text", "repaired JSON: …" (see `ToolCall::mended`).
    pub mended: Option<String>,
    pub state: ToolState,
    /// The files the call changed (`d` in the chat shows them in the diff pane).
    pub changes: Vec<crate::protocol::ProposedChange>,
    /// The user edited the arguments (`e`) before approving: `arguments` holds what ran.
    pub edited: bool,
    /// `/undo` reverted its changes.
    pub undone: bool,
    /// What the call gave the model, bounded and safe to show (`ToolFinished::output`).
    pub output: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Assistant {
    pub model: String,
    pub content: String,
    pub reasoning: String,
    pub tools: Vec<ToolCard>,
    pub status: ReplyStatus,
    pub ttft_ms: Option<f64>,
    pub tokens_per_s: Option<f64>,
}

impl Assistant {
    /// A reply about to stream from `model`.
    pub fn streaming(model: String) -> Self {
        Assistant {
            model,
            content: String::new(),
            reasoning: String::new(),
            tools: Vec::new(),
            status: ReplyStatus::Streaming,
            ttft_ms: None,
            tokens_per_s: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum EntryKind {
    User {
        text: String,
        images: Vec<SentImage>,
    },
    Assistant(Assistant),
    Error {
        title: String,
        message: String,
        hint: String,
    },
    Notice(String),
}

/// An image sent with a user message: its label and thumbnail (the data itself went to the
/// agent).
#[derive(Debug, Clone, PartialEq)]
pub struct SentImage {
    pub label: String,
    pub preview: Option<crate::protocol::Thumbnail>,
}

/// Cached layout of an entry for one width.
#[derive(Debug, Clone)]
pub struct LaidOut {
    pub width: u16,
    pub version: u64,
    pub reasoning_expanded: bool,
    /// Tool cards with their raw arguments (`details`).
    pub details: bool,
    pub lines: Rc<Vec<Line<'static>>>,
}

#[derive(Debug)]
pub struct Entry {
    /// Stable for the entry's life: inserting or removing other entries never changes it,
    /// so a scroll anchor or a turn's "current entry" holds its place.
    pub id: EntryId,
    pub kind: EntryKind,
    /// Bumped on every change, so cached layouts know they are stale.
    pub version: u64,
    pub cache: RefCell<Option<LaidOut>>,
}

impl Entry {
    pub fn new(kind: EntryKind) -> Self {
        Entry {
            id: EntryId::fresh(),
            kind,
            version: 0,
            cache: RefCell::new(None),
        }
    }

    pub fn touch(&mut self) {
        self.version += 1;
    }
}

/// The chat's entries, oldest first.
#[derive(Debug, Default)]
pub struct Conversation {
    pub entries: Vec<Entry>,
}

impl Conversation {
    /// Appends an entry; its id.
    pub fn push(&mut self, kind: EntryKind) -> EntryId {
        let e = Entry::new(kind);
        let id = e.id;
        self.entries.push(e);
        id
    }

    /// Inserts an entry before the one with id `before` (at the end if it is gone).
    pub fn insert_before(&mut self, before: EntryId, kind: EntryKind) -> EntryId {
        let e = Entry::new(kind);
        let id = e.id;
        let at = self.index_of(before).unwrap_or(self.entries.len());
        self.entries.insert(at, e);
        id
    }

    /// Where the entry with `id` is now. Searched from the end: the entries asked for
    /// are almost always the newest.
    pub fn index_of(&self, id: EntryId) -> Option<usize> {
        self.entries.iter().rposition(|e| e.id == id)
    }

    pub fn get(&self, id: EntryId) -> Option<&Entry> {
        self.index_of(id).map(|i| &self.entries[i])
    }

    pub fn get_mut(&mut self, id: EntryId) -> Option<&mut Entry> {
        self.index_of(id).map(move |i| &mut self.entries[i])
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Changes the card of `call_id` (newest first) and marks its entry for a new layout;
    /// false when no card has that id.
    pub fn update_card(&mut self, call_id: &str, change: impl FnOnce(&mut ToolCard)) -> bool {
        for entry in self.entries.iter_mut().rev() {
            if let EntryKind::Assistant(a) = &mut entry.kind
                && let Some(card) = a.tools.iter_mut().find(|c| c.id == call_id)
            {
                change(card);
                entry.touch();
                return true;
            }
        }
        false
    }

    /// Tool cards that changed files, newest first.
    pub fn cards_with_changes(&self) -> impl Iterator<Item = &ToolCard> {
        self.entries
            .iter()
            .rev()
            .filter_map(|e| match &e.kind {
                EntryKind::Assistant(a) => Some(a.tools.iter().rev()),
                _ => None,
            })
            .flatten()
            .filter(|c| !c.changes.is_empty() && !c.undone)
    }

    /// `/undo`: the agent reverts the last turn that changed files (and is still
    /// changed); its cards are marked, so what is derived from them forgets the changes.
    pub fn mark_last_turn_undone(&mut self) {
        let live = |e: &Entry| match &e.kind {
            EntryKind::Assistant(a) => a.tools.iter().any(|c| !c.changes.is_empty() && !c.undone),
            _ => false,
        };
        let Some(newest) = self.entries.iter().rposition(live) else {
            return;
        };
        let start = self.entries[..newest]
            .iter()
            .rposition(|e| matches!(e.kind, EntryKind::User { .. }))
            .map_or(0, |i| i + 1);
        for e in &mut self.entries[start..=newest] {
            if let EntryKind::Assistant(a) = &mut e.kind {
                for c in a.tools.iter_mut().filter(|c| !c.changes.is_empty()) {
                    c.undone = true;
                }
                e.version += 1;
            }
        }
    }

    /// Every file cove changed in this conversation (resumed turns included).
    pub fn changed_files(&self) -> BTreeSet<&str> {
        self.cards_with_changes()
            .flat_map(|c| c.changes.iter().map(|ch| ch.path.as_str()))
            .collect()
    }

    /// The newest change a tool call made.
    pub fn last_changes(&self) -> Option<&[ProposedChange]> {
        self.cards_with_changes()
            .next()
            .map(|c| c.changes.as_slice())
    }

    /// The text of the newest reply that has any.
    pub fn last_reply(&self) -> Option<&str> {
        self.entries.iter().rev().find_map(|e| match &e.kind {
            EntryKind::Assistant(a) if !a.content.is_empty() => Some(a.content.as_str()),
            _ => None,
        })
    }
}
