//! How tall things are once drawn. Scrolling needs it, but `app` does not draw: the view
//! layer answers through this trait (given to `State::new`), so data flows one way and
//! nothing in `app` imports `ui`.

use super::state::State;

pub trait Measure {
    /// The chat's inner area at the current size and layout: (width, height).
    fn chat_viewport(&self, s: &State) -> (u16, usize);
    /// Lines the entry at `index` takes at `width`.
    fn entry_height(&self, s: &State, index: usize, width: u16) -> usize;
    /// Rows of text the "everything" overlay shows at the current size.
    fn view_all_rows(&self, s: &State) -> usize;
}
