//! Everything the UI shows, as sub-states that own their rules: the conversation, the
//! approval queue, the diff pane, the composer, the viewport, the overlay. `update`
//! changes it; `ui::render` draws it.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use super::history::InputHistory;
use crate::config::theme::Theme;
use crate::protocol::ServerStatus;

pub use super::composer::{Composer, new_composer};
pub use super::conversation::*;
pub use super::queue::*;

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
    /// The top visible line: the entry and the line within it.
    Anchored {
        entry: EntryId,
        line: usize,
    },
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
    /// The assistant entry the current model response streams into; `None` between
    /// responses (while tools run), until the next response starts.
    pub entry: Option<EntryId>,
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

#[derive(Debug, Clone, Default)]
pub struct LastStats {
    pub ttft_ms: Option<f64>,
    pub tokens_per_s: Option<f64>,
}

/// Figures of the session in use (reset when another is loaded).
#[derive(Debug, Clone, Default)]
pub struct Usage {
    pub last: LastStats,
    pub context_used: Option<u64>,
}

/// Where the user looks: which pane has the keys, which tab is shown, where the chat is
/// scrolled, the terminal's size, and what the chat unfolds.
pub struct Viewport {
    pub focus: Focus,
    /// The pane shown in the main area when the layout has tabs.
    pub main_tab: Focus,
    pub scroll: Scroll,
    /// Output arrived below the view while the user was scrolled up.
    pub unseen_below: bool,
    pub size: (u16, u16),
    pub reasoning_expanded: bool,
    /// Tool cards show the raw arguments the model sent and all the output kept
    /// (`details`, Ctrl+O).
    pub details_expanded: bool,
    pub mouse_capture: bool,
}

impl Default for Viewport {
    fn default() -> Self {
        Viewport {
            focus: Focus::Input,
            main_tab: Focus::Chat,
            scroll: Scroll::Follow,
            unseen_below: false,
            size: (80, 24),
            reasoning_expanded: false,
            details_expanded: false,
            mouse_capture: true,
        }
    }
}

/// A full-screen layer over the panes, at most one at a time.
#[derive(Default)]
pub enum Overlay {
    #[default]
    None,
    Help {
        scroll: u16,
    },
    /// The session picker (`/sessions`, `cove --resume`).
    Sessions(SessionPicker),
    /// Everything a queued call will run or write, wrapped (`v`).
    ViewAll(super::view_all::ViewAll),
}

impl Overlay {
    pub fn help() -> Overlay {
        Overlay::Help { scroll: 0 }
    }

    pub fn is_help(&self) -> bool {
        matches!(self, Overlay::Help { .. })
    }

    pub fn sessions(&self) -> Option<&SessionPicker> {
        match self {
            Overlay::Sessions(p) => Some(p),
            _ => None,
        }
    }

    pub fn sessions_mut(&mut self) -> Option<&mut SessionPicker> {
        match self {
            Overlay::Sessions(p) => Some(p),
            _ => None,
        }
    }

    pub fn view_all(&self) -> Option<&super::view_all::ViewAll> {
        match self {
            Overlay::ViewAll(v) => Some(v),
            _ => None,
        }
    }

    pub fn view_all_mut(&mut self) -> Option<&mut super::view_all::ViewAll> {
        match self {
            Overlay::ViewAll(v) => Some(v),
            _ => None,
        }
    }

    pub fn is_open(&self) -> bool {
        !matches!(self, Overlay::None)
    }
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
    /// The chat's entries.
    pub chat: Conversation,
    /// What runs now: a turn, a `!command`, the agent's own work, or nothing.
    pub activity: Activity,
    pub next_turn: u64,
    pub usage: Usage,
    /// `tools.max_iterations`: model requests per turn.
    pub max_steps: u32,
    /// Tool calls waiting for the user.
    pub queue: ApprovalQueue,
    /// What the diff pane shows and how.
    pub diff: super::diffs::DiffPane,
    pub composer: Composer,
    pub view: Viewport,
    pub overlay: Overlay,
    /// `$VISUAL`/`$EDITOR` is set: `e` on a file change opens it there.
    pub editor: bool,
    pub quit_armed_at: Option<Instant>,
    pub flash: Option<(String, Instant)>,
    /// The clock as of the message being handled (set by the loop; tests set it).
    pub now: Instant,
    pub should_quit: bool,
    /// The terminal went away (SIGHUP, the pty closed): quit without a word to it.
    pub hung_up: bool,
    pub dirty: bool,
    /// The user's key bindings (`[keys]`).
    pub keymap: super::keymap::KeyMap,
    /// A screenshot is being taken (a region tool may be waiting for a selection): Esc stops it.
    pub taking_screenshot: bool,
    /// How tall things are once drawn (the view layer's answer; `app` does not draw).
    pub measure: std::rc::Rc<dyn super::measure::Measure>,
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
        measure: std::rc::Rc<dyn super::measure::Measure>,
    ) -> Self {
        State {
            workspace,
            session_id,
            profile: None,
            theme,
            server: ServerStatus::default(),
            probing: true,
            sandbox_warning: None,
            chat: Conversation::default(),
            activity: Activity::Idle,
            next_turn: 1,
            usage: Usage::default(),
            max_steps: 25,
            queue: ApprovalQueue::default(),
            diff: Default::default(),
            composer: Composer::new(history),
            view: Viewport::default(),
            overlay: Overlay::None,
            editor: false,
            quit_armed_at: None,
            flash: None,
            now: Instant::now(),
            should_quit: false,
            hung_up: false,
            dirty: true,
            keymap: Default::default(),
            taking_screenshot: false,
            measure,
        }
    }

    /// The composer's placeholder: the keys as bound, the newline key this terminal has.
    pub fn composer_hint(&self) -> String {
        use super::keymap::Action;
        let newline = if self.keymap.is_bound(Action::Newline) {
            self.keymap.keys(Action::Newline)
        } else if self.composer.shift_enter {
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
        self.composer.text()
    }

    pub fn flash(&mut self, text: impl Into<String>) {
        self.flash = Some((text.into(), self.now));
    }

    /// After calls left the queue: the selection stays on a call, and once none is left
    /// the keys go back to the input and the main area to the chat (unless a diff the user
    /// asked for is open). The one place this rule lives.
    pub fn queue_changed(&mut self) {
        self.queue.clamp();
        let now = self.now;
        let waiting = !self.queue.is_empty();
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
        let shown = self.diff.shown.is_some();
        if queue_pane(self.view.focus, shown) {
            self.view.focus = Focus::Input;
        }
        if queue_pane(self.view.main_tab, shown) {
            self.view.main_tab = Focus::Chat;
        }
    }

    /// The top layer now (see [`Layer`]).
    pub fn layer(&self) -> Layer {
        match self.overlay {
            Overlay::Help { .. } => return Layer::Help,
            Overlay::Sessions(_) => return Layer::Sessions,
            Overlay::ViewAll(_) => return Layer::ViewAll,
            Overlay::None => {}
        }
        if self.queue.input.is_some() {
            Layer::ApprovalInput
        } else if self.composer.paste_offer.is_some() {
            Layer::PasteOffer
        } else if self.composer.file_picker.is_some()
            || !super::popups::command_matches(self).is_empty()
        {
            Layer::Popup
        } else {
            Layer::Main
        }
    }

    /// Something Esc / Ctrl+C can stop: a reply, a `!command`, a compaction (starting or
    /// resuming a session cannot be stopped and takes a moment).
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
        self.queue.selected()
    }

    /// The entry the current model response streams into.
    pub fn current_entry_mut(&mut self) -> Option<&mut Entry> {
        let id = self.turn()?.entry?;
        self.chat.get_mut(id)
    }
}
