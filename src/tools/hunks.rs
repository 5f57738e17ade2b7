//! Taking part of a proposed change: of an `edit_file`, `write_file` or `apply_patch`
//! call, only the hunks the user kept are written (all files or none), and the result tells
//! the model which hunks were applied and which declined, so it goes on from the file as it
//! really is.
//!
//! Hunks are numbered as the diff pane showed them: `domain::patch::diff_hunks(old, new, 3)`
//! of each file of the change as proposed. The kept ones are applied to the file as it is
//! now (located by their context, so an earlier call of the same reply may have changed
//! it); if they no longer fit, nothing is written.

use super::context::{FileChange, ToolContext, ToolOutput};
use crate::domain::patch::{Hunk, apply, diff_hunks};
use crate::protocol::ProposedChange;

/// Writes the call's change without the `declined` hunks (`(file index, hunk index)`).
/// `planned` is the call's preview computed again now (`Tool::preview`).
pub fn apply_kept(
    ctx: &ToolContext,
    planned: Result<Vec<FileChange>, String>,
    declined: &[(usize, usize)],
    proposed: &[ProposedChange],
) -> ToolOutput {
    let changes = match planned {
        Ok(c) => c,
        Err(e) => return ToolOutput::error(e),
    };
    let mut writes: Vec<FileChange> = Vec::new();
    let mut report = Vec::new();
    for (fi, ch) in changes.iter().enumerate() {
        let shown = ch
            .path
            .strip_prefix(&ctx.root)
            .unwrap_or(&ch.path)
            .display()
            .to_string();
        let Ok(now) = std::str::from_utf8(ch.old.as_deref().unwrap_or_default()) else {
            return ToolOutput::error(format!(
                "{shown} is not UTF-8 text: take the change whole or not at all; nothing was written"
            ));
        };
        // the hunks the user chose among: those of the proposal (same file, same order)
        let (p_old, p_new) = match proposed.iter().find(|p| p.path == shown) {
            Some(p) => (
                std::borrow::Cow::Borrowed(p.old.as_deref().unwrap_or_default()),
                std::borrow::Cow::Borrowed(p.new.as_deref().unwrap_or_default()),
            ),
            None => (
                std::borrow::Cow::Borrowed(now),
                String::from_utf8_lossy(ch.new.as_deref().unwrap_or_default()),
            ),
        };
        let hunks = diff_hunks(&p_old, &p_new, 3);
        if hunks.is_empty() {
            // an empty file created or deleted: nothing to choose among
            writes.push(ch.clone());
            report.push(format!("{shown}: applied in full"));
            continue;
        }
        type Numbered<'a> = Vec<(usize, &'a Hunk)>;
        let (kept, dropped): (Numbered, Numbered) = hunks
            .iter()
            .enumerate()
            .partition(|(hi, _)| !declined.contains(&(fi, *hi)));
        let list = |hs: &[(usize, &Hunk)]| {
            hs.iter()
                .map(|(i, h)| format!("{} ({})", i + 1, h.computed_header()))
                .collect::<Vec<_>>()
                .join(", ")
        };
        if kept.is_empty() {
            report.push(format!(
                "{shown}: every hunk declined ({}); the file is unchanged",
                list(&dropped)
            ));
            continue;
        }
        if ch.new.is_none() && !dropped.is_empty() {
            report.push(format!(
                "{shown}: not deleted (the user kept part of it: hunks {} declined)",
                list(&dropped)
            ));
            continue;
        }
        if dropped.is_empty() {
            writes.push(ch.clone());
            report.push(format!("{shown}: applied in full"));
            continue;
        }
        let keep: Vec<Hunk> = kept.iter().map(|(_, h)| (*h).clone()).collect();
        let result = match apply(now, &keep) {
            Ok(r) => r,
            Err(failures) => {
                return ToolOutput::error(format!(
                    "{shown} changed since the change was proposed and the kept hunks no longer fit ({} failed); nothing was written",
                    failures.len()
                ));
            }
        };
        writes.push(FileChange {
            path: ch.path.clone(),
            old: ch.old.clone(),
            new: Some(result.into_bytes().into()),
        });
        report.push(format!(
            "{shown}: applied hunks {}; declined hunks {}",
            list(&kept),
            list(&dropped)
        ));
    }
    if let Err(e) = super::patch::write_all(ctx, &writes) {
        return ToolOutput::error(e);
    }
    let mut text = String::from("The user took part of this change, hunk by hunk:\n");
    for line in &report {
        text.push_str("- ");
        text.push_str(line);
        text.push('\n');
    }
    text.push_str(
        "The declined hunks were not written. Read a file again before changing it further.",
    );
    ToolOutput {
        text,
        is_error: false,
        changes: writes,
    }
}
