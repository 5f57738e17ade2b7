//! The diff pane's state in `update`: the change a streaming call is writing (live), the
//! hunks of each queued call with the user's hunk choices, the last change made, and the
//! keys that move between hunks and take or leave them.

use super::keymap::Action;
use super::msg::Command;
use super::state::*;
use crate::domain::live_edit::{LiveView, previews, view};
use crate::domain::partial_json::PartialObject;
use crate::domain::patch::{Hunk, diff_hunks};
use crate::protocol::{Decision, ProposedChange, StreamEvent};

/// One file of a change, with its hunks as the pane numbers them.
#[derive(Debug, Clone, PartialEq)]
pub struct FileDiff {
    pub path: String,
    pub old: Option<std::sync::Arc<str>>,
    pub new_file: bool,
    pub deleted: bool,
    pub hunks: Vec<Hunk>,
}

impl FileDiff {
    pub fn of(c: &ProposedChange) -> FileDiff {
        let old = c.old.as_deref().unwrap_or_default();
        let new = c.new.as_deref().unwrap_or_default();
        FileDiff {
            path: c.path.clone(),
            hunks: diff_hunks(old, new, 3),
            old: c.old.clone(),
            new_file: c.old.is_none(),
            deleted: c.new.is_none(),
        }
    }
}

/// A diff the user asked for.
#[derive(Debug, Clone, PartialEq)]
pub struct ShownDiff {
    pub title: String,
    pub files: Vec<FileDiff>,
}

/// The diff pane: what it shows and how.
#[derive(Debug, Default)]
pub struct DiffPane {
    /// The file change a streaming tool call is writing.
    pub live: Option<LiveCall>,
    /// The hunk under the cursor in the selected call's diff (over all its files).
    pub cursor: usize,
    pub side_by_side: bool,
    /// The pane has the whole screen above the composer (`zoom`, z; z or Esc returns).
    pub zoomed: bool,
    /// Enter in the pane: more of the file around each hunk.
    pub expanded: bool,
    /// Lines scrolled in a shown diff (PgUp/PgDn with the pane focused).
    pub scroll: usize,
    /// A diff the user asked to see (`/diff`, or a tool card's with `d`), until Esc.
    pub shown: Option<ShownDiff>,
    /// Which tool card with changes `d` showed last, counted from the newest.
    pub card_cursor: Option<usize>,
}

impl DiffPane {
    /// A pane for another session: the user's way of looking (side by side, expanded)
    /// stays, everything about the old session goes.
    pub fn for_new_session(&self) -> DiffPane {
        DiffPane {
            side_by_side: self.side_by_side,
            expanded: self.expanded,
            ..DiffPane::default()
        }
    }
}

/// What the diff pane shows, decided here once for `update` (which keys act on it) and
/// the view (what is drawn), highest first: the selected queued call, the change being
/// written, a diff the user asked for, the last change made.
pub enum PaneShows<'a> {
    /// A queued call that changes files: its hunks to take or leave.
    Change(&'a Queued),
    /// A queued call that changes no files (a command, an MCP or custom tool).
    Call(&'a Queued),
    Live(&'a LiveCall),
    Shown(&'a ShownDiff),
    /// The newest change a tool call made.
    Last(&'a [ProposedChange]),
    Nothing,
}

impl State {
    pub fn pane_shows(&self) -> PaneShows<'_> {
        match (self.queue.selected(), &self.diff.live) {
            (Some(q), _) if !q.files.is_empty() => PaneShows::Change(q),
            (Some(q), _) => PaneShows::Call(q),
            (None, Some(live)) => PaneShows::Live(live),
            _ => match (&self.diff.shown, self.chat.last_changes()) {
                (Some(shown), _) => PaneShows::Shown(shown),
                (None, Some(last)) => PaneShows::Last(last),
                (None, None) => PaneShows::Nothing,
            },
        }
    }
}

/// Shows `changes` in the diff pane (and brings it forward) until Esc.
pub fn show(s: &mut State, title: String, changes: &[ProposedChange]) {
    s.diff.shown = Some(ShownDiff {
        title,
        files: changes.iter().map(FileDiff::of).collect(),
    });
    s.view.main_tab = Focus::Diff;
    s.view.focus = Focus::Diff;
    s.diff.scroll = 0;
}

/// `d` in the chat: the diff of the newest tool card that changed files, then older ones.
pub fn next_card(s: &mut State) {
    let cards: Vec<(String, Vec<ProposedChange>)> = s
        .chat
        .cards_with_changes()
        .map(|c| (c.name.clone(), c.changes.clone()))
        .collect();
    if cards.is_empty() {
        s.flash("No change to show: no tool call has changed a file, or /undo took it back");
        return;
    }
    let i = s.diff.card_cursor.map_or(0, |i| (i + 1) % cards.len());
    s.diff.card_cursor = Some(i);
    let (name, changes) = &cards[i];
    let paths: Vec<&str> = changes.iter().map(|c| c.path.as_str()).collect();
    show(
        s,
        format!(
            "{name} {} ({} of {} changes, newest first)",
            paths.join(", "),
            i + 1,
            cards.len()
        ),
        changes,
    );
    s.flash("d: an older change · Esc: close");
}

/// A file-changing tool call of the reply being streamed.
#[derive(Debug, Clone)]
pub struct LiveCall {
    pub turn: u64,
    pub index: usize,
    pub tool: String,
    pub args: PartialObject,
    /// The file on disk, once the agent has read it (`Ok(None)`: a new file).
    pub base: Option<Result<Option<String>, String>>,
    pub view: LiveView,
    /// When the view was last computed; fragments in between only mark it `stale`, so
    /// a reply streamed in tiny pieces costs one view per `LIVE_REFRESH`, not one per piece.
    computed_at: Option<std::time::Instant>,
    stale: bool,
}

/// How often the live view of a streaming change is recomputed at most.
pub const LIVE_REFRESH: std::time::Duration = std::time::Duration::from_millis(50);

impl LiveCall {
    /// Recomputes the view now if it is due (or `force`: a new call, the file read, the
    /// arguments complete); otherwise marks it stale for the next tick.
    fn refresh_at(&mut self, now: std::time::Instant, force: bool) {
        let due = self
            .computed_at
            .is_none_or(|at| now.duration_since(at) >= LIVE_REFRESH);
        if !(force || due || self.args.done()) {
            self.stale = true;
            return;
        }
        self.computed_at = Some(now);
        self.stale = false;
        self.refresh();
    }

    fn refresh(&mut self) {
        self.view = match &self.base {
            Some(Err(e)) => LiveView::Problem {
                path: self.args.get("path").unwrap_or("").to_owned(),
                message: e.clone(),
            },
            Some(Ok(text)) => view(&self.tool, &self.args, Some(text.as_deref())),
            None => view(&self.tool, &self.args, None),
        };
    }
}

/// A stream event of the current turn: starts or feeds the live view.
pub fn on_stream(s: &mut State, turn: u64, ev: &StreamEvent) {
    match ev {
        StreamEvent::ToolCallStart { index, name, .. } if previews(name) => {
            let mut call = LiveCall {
                turn,
                index: *index,
                tool: name.clone(),
                args: PartialObject::new(),
                base: None,
                view: LiveView::Waiting(String::new()),
                computed_at: None,
                stale: false,
            };
            call.refresh_at(s.now, true);
            s.diff.live = Some(call);
            if s.queue.items.is_empty() && s.view.size.0 < WIDE {
                // narrow: the diff tab comes forward while the change is written
                s.view.main_tab = Focus::Diff;
            }
        }
        StreamEvent::ToolCallArgs { index, fragment } => {
            if let Some(call) = s
                .diff
                .live
                .as_mut()
                .filter(|c| c.turn == turn && c.index == *index)
            {
                call.args.feed(fragment);
                let now = s.now;
                call.refresh_at(now, false);
            }
        }
        _ => {}
    }
}

/// The agent read the file a live call is about.
pub fn on_base(s: &mut State, turn: u64, index: usize, text: Result<Option<String>, String>) {
    if let Some(call) = s
        .diff
        .live
        .as_mut()
        .filter(|c| c.turn == turn && c.index == index)
    {
        call.base = Some(text);
        let now = s.now;
        call.refresh_at(now, true);
    }
}

/// A tick while a turn runs: a live view left stale by throttled fragments catches up.
pub fn on_tick(s: &mut State) {
    let now = s.now;
    if let Some(call) = s.diff.live.as_mut().filter(|c| c.stale) {
        call.refresh_at(now, true);
    }
}

/// A call entered the queue: its hunks, all taken to begin with.
pub fn queued(request: &crate::protocol::ApprovalRequest) -> (Vec<FileDiff>, Vec<Vec<bool>>) {
    let files: Vec<FileDiff> = request.changes.iter().map(FileDiff::of).collect();
    let declined = files.iter().map(|f| vec![false; f.hunks.len()]).collect();
    (files, declined)
}

/// Hunks of the selected queued call, flattened: `(file, hunk)` in pane order.
pub fn hunk_ids(q: &Queued) -> Vec<(usize, usize)> {
    q.files
        .iter()
        .enumerate()
        .flat_map(|(f, d)| (0..d.hunks.len()).map(move |h| (f, h)))
        .collect()
}

/// Diff actions (in the diff pane, and in the queue): take or leave the hunk under the
/// cursor, move between hunks, unified / side by side, zoom, more context.
pub fn diff_action(s: &mut State, action: Action) {
    match action {
        Action::ExpandDiff => {
            s.diff.expanded = !s.diff.expanded;
            s.flash(if s.diff.expanded {
                "Diff: 15 more lines around each hunk (Enter to collapse)"
            } else {
                "Diff: 3 lines of context (Enter to expand)"
            });
        }
        Action::Zoom => {
            s.diff.zoomed = !s.diff.zoomed;
            if s.diff.zoomed {
                s.view.focus = Focus::Diff;
            }
        }
        Action::SideBySide => {
            s.diff.side_by_side = !s.diff.side_by_side;
            let text = s.keymap.expand(if s.diff.side_by_side {
                "Diff: side by side ({side_by_side} for unified)"
            } else {
                "Diff: unified ({side_by_side} for side by side)"
            });
            s.flash(text);
        }
        Action::NextHunk | Action::PrevHunk => {
            let n = s.selected_approval().map_or(0, |q| hunk_ids(q).len());
            if n == 0 {
                return;
            }
            s.diff.scroll = 0;
            s.diff.cursor = if action == Action::NextHunk {
                (s.diff.cursor + 1).min(n - 1)
            } else {
                s.diff.cursor.saturating_sub(1)
            };
        }
        Action::ToggleHunk => {
            let cursor = s.diff.cursor;
            let i = s.queue.selected;
            let Some(q) = s.queue.items.get_mut(i) else {
                return;
            };
            let ids = hunk_ids(q);
            let Some(&(f, h)) = ids.get(cursor) else {
                return;
            };
            if let Some(d) = q.declined.get_mut(f).and_then(|v| v.get_mut(h)) {
                *d = !*d;
            }
            let left = q.declined.iter().flatten().filter(|d| **d).count();
            let total = ids.len();
            let text = s.keymap.expand(&format!(
                "{} of {total} hunks taken · {{approve}} applies them · {{toggle_hunk}} toggles · {{next_hunk}}/{{prev_hunk}} move",
                total - left
            ));
            s.flash(text);
        }
        _ => {}
    }
}

/// `y` on a call: the hunks the user left out, if any, go with the approval.
pub fn approval(q: &Queued) -> Decision {
    let declined: Vec<(usize, usize)> = hunk_ids(q)
        .into_iter()
        .filter(|&(f, h)| q.declined.get(f).and_then(|v| v.get(h)).copied() == Some(true))
        .collect();
    if declined.is_empty() {
        Decision::Approve
    } else {
        Decision::ApproveHunks { declined }
    }
}

/// Approves the selected call with the user's hunk choices (the diff pane's `y`).
pub fn approve_selected(s: &mut State, cmds: &mut Vec<Command>) {
    let Some(q) = s.selected_approval() else {
        return;
    };
    let (id, decision) = (q.request.call_id.clone(), approval(q));
    super::approvals::decide(s, cmds, &id, decision);
}

/// Rejects the selected call (the diff pane's `n`).
pub fn reject_selected(s: &mut State, cmds: &mut Vec<Command>) {
    if let Some(id) = s.selected_approval().map(|q| q.request.call_id.clone()) {
        super::approvals::decide(s, cmds, &id, Decision::Reject { reason: None });
    }
}
