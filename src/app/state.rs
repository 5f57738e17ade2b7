//! Everything the UI shows, in one place. `update` changes it; `ui::render` draws it.

use std::cell::RefCell;
use std::path::PathBuf;
use std::rc::Rc;
use std::time::{Duration, Instant};

use ratatui::text::Line;
use ratatui_textarea::{TextArea, WrapMode};

use super::history::InputHistory;
use crate::config::theme::Theme;
use crate::protocol::{ApprovalRequest, ServerStatus};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    Chat,
    Diff,
    Approvals,
    Input,
}

impl Focus {
    pub fn next(self) -> Focus {
        match self {
            Focus::Chat => Focus::Diff,
            Focus::Diff => Focus::Approvals,
            Focus::Approvals => Focus::Input,
            Focus::Input => Focus::Chat,
        }
    }
}

/// What has the keys and is drawn on top, highest first. [`State::layer`] decides it, for
/// both `update` (which handler gets a key) and `ui::render` (which overlay is drawn), so
/// the two cannot disagree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layer {
    Help,
    /// The session picker.
    Sessions,
    /// Everything a queued call will run or write (`view_all`).
    ViewAll,
    /// A rejection reason, edited arguments or a command prefix being typed.
    ApprovalInput,
    /// A pasted image path offered for attaching.
    PasteOffer,
    /// The `/` command list or the `@` file picker under the composer.
    Popup,
    /// The panes.
    Main,
}

/// Where the chat view is: following the end, or held at a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scroll {
    Follow,
    /// The top visible line: entry index and line within that entry.
    Anchored {
        entry: usize,
        line: usize,
    },
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
    pub kind: EntryKind,
    /// Bumped on every change, so cached layouts know they are stale.
    pub version: u64,
    pub cache: RefCell<Option<LaidOut>>,
}

impl Entry {
    pub fn new(kind: EntryKind) -> Self {
        Entry {
            kind,
            version: 0,
            cache: RefCell::new(None),
        }
    }

    pub fn touch(&mut self) {
        self.version += 1;
    }
}

/// What cove is doing for the user; one thing at a time, so "busy" has one answer.
#[derive(Debug, Clone, PartialEq)]
pub enum Activity {
    Idle,
    /// A turn: the model replies, tools run, calls wait for the user.
    Turn(RunningTurn),
    /// A `!command` the user typed (its turn id).
    Shell(u64),
    /// An op the agent answers with `Ready`: nothing else is sent until then.
    Agent(AgentWork),
}

/// Work the agent does between turns, answered with `Ready`.
#[derive(Debug, Clone, PartialEq)]
pub enum AgentWork {
    NewSession,
    /// Loading a session (its id, or "the session" at start-up).
    Resuming(String),
    Compacting,
    /// The model writes a commit message (`/commit` alone).
    Committing,
    /// The agent's task ended: nothing more can be sent.
    Gone,
}

impl AgentWork {
    /// What the composer's title says meanwhile.
    pub fn label(&self) -> String {
        match self {
            AgentWork::NewSession => "starting a new session".into(),
            AgentWork::Resuming(what) => format!("resuming {what}"),
            AgentWork::Compacting => "compacting".into(),
            AgentWork::Committing => "writing the commit message".into(),
            AgentWork::Gone => "the agent stopped: quit and run `cove --continue`".into(),
        }
    }

    /// Esc stops it (starting or resuming a session cannot be stopped and takes a moment).
    pub fn stoppable(&self) -> bool {
        matches!(self, AgentWork::Compacting | AgentWork::Committing)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct RunningTurn {
    pub id: u64,
    pub started: Instant,
    /// Index of the assistant entry the current model response streams into; `None`
    /// between responses (while tools run), until the next response starts.
    pub entry: Option<usize>,
    /// Model responses finished so far in this turn.
    pub steps: u32,
    /// Time spent waiting for the user's decisions (not cove's time).
    pub waited: Duration,
    /// Calls wait for the user since then.
    pub waiting_since: Option<Instant>,
}

impl RunningTurn {
    /// How long cove has been working on the turn: the user's time deciding left out.
    pub fn working(&self, now: Instant) -> Duration {
        let waiting = self
            .waiting_since
            .map_or(Duration::ZERO, |at| now.saturating_duration_since(at));
        now.saturating_duration_since(self.started)
            .saturating_sub(self.waited + waiting)
    }
}

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

#[derive(Debug, Clone, Default)]
pub struct LastStats {
    pub ttft_ms: Option<f64>,
    pub tokens_per_s: Option<f64>,
}

pub struct State {
    pub workspace: PathBuf,
    pub session_id: String,
    pub profile: Option<String>,
    pub theme: Theme,
    pub server: ServerStatus,
    /// True until the agent's first probe reports.
    pub probing: bool,
    /// What the status bar says about the sandbox: `None` while the model's commands run
    /// confined; else why they do not ("unsandboxed", or refused where it is unavailable).
    pub sandbox_warning: Option<String>,
    pub transcript: Vec<Entry>,
    /// What runs now: a turn, a `!command`, the agent's own work, or nothing.
    pub activity: Activity,
    pub next_turn: u64,
    pub last: LastStats,
    pub context_used: Option<u64>,
    /// `tools.max_iterations`: model requests per turn.
    pub max_steps: u32,
    /// Images attached to the next message (shown as chips above the composer).
    pub attachments: Vec<crate::protocol::ImageAttachment>,
    /// `[vision] max_images`.
    pub max_images: usize,
    /// A pasted image path, offered for attaching.
    pub paste_offer: Option<super::attachments::PasteOffer>,
    /// Tool calls waiting for the user, oldest first.
    pub approvals: Vec<Queued>,
    pub approval_selected: usize,
    pub approval_input: Option<ApprovalInput>,
    /// The changes of the last tool call that changed files (for the diff pane).
    pub last_changes: Vec<super::diffs::FileDiff>,
    /// The file change a streaming tool call is writing.
    pub live: Option<super::diffs::LiveCall>,
    /// The hunk under the cursor in the selected call's diff (over all its files).
    pub diff_cursor: usize,
    pub diff_side_by_side: bool,
    /// The diff pane has the whole screen above the composer (`zoom`, z; z or Esc returns).
    pub diff_zoomed: bool,
    /// Enter in the diff pane: more of the file around each hunk.
    pub diff_expanded: bool,
    /// Lines scrolled in a shown diff (PgUp/PgDn with the diff pane focused).
    pub diff_scroll: usize,
    /// A diff the user asked to see (`/diff`, or a tool card's with `d`), until Esc.
    pub diff_shown: Option<super::diffs::ShownDiff>,
    /// Which tool card with changes `d` showed last, counted from the newest.
    pub card_cursor: Option<usize>,
    /// Every file cove changed in this session.
    pub changed_files: std::collections::BTreeSet<String>,
    pub composer: TextArea<'static>,
    pub history: InputHistory,
    pub focus: Focus,
    /// The pane shown in the main area when the layout has tabs.
    pub main_tab: Focus,
    pub scroll: Scroll,
    /// Output arrived below the view while the user was scrolled up.
    pub unseen_below: bool,
    pub show_help: bool,
    pub help_scroll: u16,
    /// Everything a queued call will run or write, wrapped (`v`), while open.
    pub view_all: Option<super::view_all::ViewAll>,
    pub reasoning_expanded: bool,
    /// The terminal tells Shift+Enter from Enter (keyboard enhancement protocol): the
    /// newline hint names it, else Ctrl+J.
    pub shift_enter: bool,
    /// A message sent while a reply streams: sent when the turn ends.
    pub queued_message: Option<String>,
    /// Tool cards show the raw arguments the model sent (`details`, Ctrl+O).
    pub details_expanded: bool,
    pub mouse_capture: bool,
    /// `$VISUAL`/`$EDITOR` is set: `e` on a file change opens it there.
    pub editor: bool,
    pub quit_armed_at: Option<Instant>,
    pub flash: Option<(String, Instant)>,
    pub size: (u16, u16),
    /// The clock as of the message being handled (set by the loop; tests set it).
    pub now: Instant,
    pub should_quit: bool,
    /// The terminal went away (SIGHUP, the pty closed): quit without a word to it.
    pub hung_up: bool,
    pub dirty: bool,
    /// The session picker (`/sessions`, `cove --resume`), while open.
    pub sessions: Option<SessionPicker>,
    /// The selected row of the command popup (shown while the input is a partial `/command`).
    pub command_selected: usize,
    /// Esc closed the command popup for the input as it is.
    pub command_popup_closed: bool,
    /// The `@` file picker, while open.
    pub file_picker: Option<super::file_picker::FilePicker>,
    /// The workspace's files for the picker (`None` until indexed).
    pub file_index: Option<std::sync::Arc<Vec<String>>>,
    /// The file index is being built.
    pub indexing: bool,
    /// The user's key bindings (`[keys]`).
    pub keymap: super::keymap::KeyMap,
    /// A screenshot is being taken (a region tool may be waiting for a selection): Esc stops it.
    pub taking_screenshot: bool,
}

/// The list of this workspace's sessions, to resume one.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SessionPicker {
    /// `None` until the agent has listed them.
    pub sessions: Option<Vec<crate::protocol::SessionSummary>>,
    pub current: String,
    pub selected: usize,
}

impl SessionPicker {
    pub fn loading() -> Self {
        SessionPicker::default()
    }
}

/// From this width on, panes sit side by side (below it: one at a time under tabs).
pub const WIDE: u16 = 100;

pub const QUIT_WINDOW: Duration = Duration::from_secs(2);
pub const FLASH_FOR: Duration = Duration::from_secs(3);

impl State {
    pub fn new(
        workspace: PathBuf,
        session_id: String,
        theme: Theme,
        history: InputHistory,
    ) -> Self {
        State {
            workspace,
            session_id,
            profile: None,
            theme,
            server: ServerStatus::default(),
            probing: true,
            sandbox_warning: None,
            transcript: Vec::new(),
            activity: Activity::Idle,
            next_turn: 1,
            last: LastStats::default(),
            context_used: None,
            max_steps: 25,
            attachments: Vec::new(),
            max_images: 8,
            paste_offer: None,
            approvals: Vec::new(),
            approval_selected: 0,
            approval_input: None,
            last_changes: Vec::new(),
            live: None,
            diff_cursor: 0,
            diff_side_by_side: false,
            diff_zoomed: false,
            diff_expanded: false,
            diff_scroll: 0,
            diff_shown: None,
            card_cursor: None,
            changed_files: Default::default(),
            composer: new_composer(""),
            history,
            focus: Focus::Input,
            main_tab: Focus::Chat,
            scroll: Scroll::Follow,
            unseen_below: false,
            show_help: false,
            help_scroll: 0,
            view_all: None,
            reasoning_expanded: false,
            shift_enter: true,
            queued_message: None,
            details_expanded: false,
            mouse_capture: true,
            editor: false,
            quit_armed_at: None,
            flash: None,
            size: (80, 24),
            now: Instant::now(),
            should_quit: false,
            hung_up: false,
            dirty: true,
            sessions: None,
            command_selected: 0,
            command_popup_closed: false,
            file_picker: None,
            file_index: None,
            indexing: false,
            keymap: Default::default(),
            taking_screenshot: false,
        }
    }

    /// The composer's placeholder: the keys as bound, the newline key this terminal has.
    pub fn composer_hint(&self) -> String {
        use super::keymap::Action;
        let newline = if self.keymap.is_bound(Action::Newline) {
            self.keymap.keys(Action::Newline)
        } else if self.shift_enter {
            "Shift+Enter".into()
        } else {
            "Ctrl+J".into()
        };
        format!(
            "Ask anything · {} send · {newline} newline · {} help",
            self.keymap.keys(Action::Send),
            self.keymap.keys(Action::Help)
        )
    }

    pub fn composer_text(&self) -> String {
        self.composer.lines().join("\n")
    }

    pub fn flash(&mut self, text: impl Into<String>) {
        self.flash = Some((text.into(), self.now));
    }

    /// Something Esc / Ctrl+C can stop: a reply, a `!command`, a compaction (starting or
    /// resuming a session cannot be stopped and takes a moment).
    /// After calls left the queue: the selection stays on a call, and once none is left
    /// the keys go back to the input and the main area to the chat (unless a diff the user
    /// asked for is open). The one place this rule lives.
    pub fn queue_changed(&mut self) {
        self.approval_selected = self
            .approval_selected
            .min(self.approvals.len().saturating_sub(1));
        let now = self.now;
        let waiting = !self.approvals.is_empty();
        if let Some(t) = self.turn_mut() {
            match (waiting, t.waiting_since) {
                (true, None) => t.waiting_since = Some(now),
                (false, Some(at)) => {
                    t.waited += now.saturating_duration_since(at);
                    t.waiting_since = None;
                }
                _ => {}
            }
        }
        if waiting {
            return;
        }
        let queue_pane =
            |f: Focus, shown: bool| f == Focus::Approvals || (f == Focus::Diff && !shown);
        let shown = self.diff_shown.is_some();
        if queue_pane(self.focus, shown) {
            self.focus = Focus::Input;
        }
        if queue_pane(self.main_tab, shown) {
            self.main_tab = Focus::Chat;
        }
    }

    /// The top layer now (see [`Layer`]).
    pub fn layer(&self) -> Layer {
        if self.show_help {
            Layer::Help
        } else if self.sessions.is_some() {
            Layer::Sessions
        } else if self.view_all.is_some() {
            Layer::ViewAll
        } else if self.approval_input.is_some() {
            Layer::ApprovalInput
        } else if self.paste_offer.is_some() {
            Layer::PasteOffer
        } else if self.file_picker.is_some() || !super::popups::command_matches(self).is_empty() {
            Layer::Popup
        } else {
            Layer::Main
        }
    }

    pub fn can_interrupt(&self) -> bool {
        match &self.activity {
            Activity::Idle => false,
            Activity::Turn(_) | Activity::Shell(_) => true,
            Activity::Agent(work) => work.stoppable(),
        }
    }

    pub fn is_running(&self) -> bool {
        self.activity != Activity::Idle
    }

    /// The running turn, if a turn runs.
    pub fn turn(&self) -> Option<&RunningTurn> {
        match &self.activity {
            Activity::Turn(t) => Some(t),
            _ => None,
        }
    }

    pub fn turn_mut(&mut self) -> Option<&mut RunningTurn> {
        match &mut self.activity {
            Activity::Turn(t) => Some(t),
            _ => None,
        }
    }

    pub fn selected_approval(&self) -> Option<&Queued> {
        self.approvals.get(
            self.approval_selected
                .min(self.approvals.len().saturating_sub(1)),
        )
    }
}

/// A composer holding `text`, cursor at the end.
pub fn new_composer(text: &str) -> TextArea<'static> {
    let mut t = if text.is_empty() {
        TextArea::default()
    } else {
        TextArea::new(text.split('\n').map(str::to_owned).collect())
    };
    t.set_wrap_mode(WrapMode::WordOrGlyph);
    t.move_cursor(ratatui_textarea::CursorMove::Bottom);
    t.move_cursor(ratatui_textarea::CursorMove::End);
    t
}
