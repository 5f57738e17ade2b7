//! What a session journal holds: one JSON object per line, tagged by `type`.
//! Only ever appended; replaying the records in order rebuilds the session.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::splice::Splice;

use crate::domain::conversation::Message;

/// The journal format's version, in the `start` record.
pub const VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Record {
    /// The first line of every journal.
    Start {
        version: u32,
        id: String,
        workspace: String,
        /// Unix seconds.
        started: u64,
        /// The whole system prompt, project context included: a resumed session sends
        /// the same prefix.
        system_prompt: String,
        /// The short git state the prompt was built with.
        #[serde(default)]
        git: Option<String>,
    },
    /// A message added to the conversation. For a user message, `shown` is what the user
    /// typed when the message sent to the model differs (notes, attached files).
    Message {
        turn: u64,
        message: Message,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        shown: Option<String>,
        /// The model's reasoning for an assistant message (kept, never sent back).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reasoning: Option<String>,
        /// The model that wrote an assistant message.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        model: Option<String>,
    },
    /// A message with images answered by the separate vision model: shown in the
    /// transcript; the model hears of it through a `note`.
    Vision {
        turn: u64,
        text: String,
        images: Vec<String>,
        model: String,
        answer: String,
    },
    /// The user's decision on a queued call (`approve`, `reject: reason`, …).
    Decision {
        turn: u64,
        call_id: String,
        tool: String,
        decision: String,
    },
    /// How a tool call ended, as its card shows it.
    Tool {
        turn: u64,
        call_id: String,
        name: String,
        /// The arguments that ran (the user's, when `edited`).
        arguments: String,
        /// The user edited the arguments before approving: the model's message with the
        /// call (journaled before) is to hold `arguments` instead of what it proposed.
        /// Absent in journals of earlier versions.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        edited: bool,
        /// `done`, `failed` or `rejected`.
        kind: String,
        summary: String,
    },
    /// A file cove changed: relative path, bytes before and after (`None`: absent).
    Change {
        turn: u64,
        path: String,
        old: Option<Blob>,
        new: Option<Blob>,
    },
    /// The turn ended; its changes form one `/undo` step.
    TurnEnd { turn: u64 },
    /// The newest `/undo` step was taken back.
    Undo,
    /// The git state the model knows of, after a turn (for the next turn's change note).
    Git { summary: Option<String> },
    /// What cove will tell the model with the next user message (empty: nothing).
    Note { text: String },
    /// The conversation was compacted: the messages that replace it (after the system
    /// prompt), and what was done, for the card.
    Compacted {
        messages: Vec<Message>,
        report: String,
    },
    /// A line for the transcript outside turns (undo, commit, errors).
    Notice { text: String },
}

/// File bytes in a journal: text when it is UTF-8, else base64.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Blob {
    /// Shared with the change it was made from (written out, never copied).
    Text(Arc<str>),
    Base64(String),
    /// The new text of a change as a unified diff against its old text. Written by earlier
    /// versions; still read.
    Patch(String),
    /// The new text of a change as its old text with byte ranges replaced (a one-line edit
    /// of a 200 MB file journals a few bytes, not 200 MB twice).
    Splice(Vec<Splice>),
}

/// Below this size a change's new text is journaled whole.
const SPLICE_FROM_BYTES: usize = 4096;

impl Blob {
    /// The bytes as they are: text sharing their allocation, else base64.
    pub fn of(bytes: &Arc<[u8]>) -> Blob {
        match crate::domain::shared::text(bytes) {
            Some(t) => Blob::Text(t),
            None => {
                use base64::Engine;
                Blob::Base64(base64::engine::general_purpose::STANDARD.encode(bytes))
            }
        }
    }

    /// `None` for base64 that does not decode (a damaged journal), and for the new side of a
    /// change (see [`Blob::to_bytes_after`]).
    pub fn to_bytes(&self) -> Option<Arc<[u8]>> {
        match self {
            Blob::Text(t) => Some(crate::domain::shared::bytes(t)),
            Blob::Base64(b) => {
                use base64::Engine;
                base64::engine::general_purpose::STANDARD
                    .decode(b)
                    .ok()
                    .map(Into::into)
            }
            Blob::Patch(_) | Blob::Splice(_) => None,
        }
    }

    /// The bytes, given the old bytes a patch or splices apply to. `None` when they do not
    /// apply (a damaged journal).
    pub fn to_bytes_after(&self, old: Option<&[u8]>) -> Option<Arc<[u8]>> {
        match self {
            Blob::Splice(s) => super::splice::apply(old.unwrap_or_default(), s),
            Blob::Patch(p) => {
                let old = std::str::from_utf8(old.unwrap_or_default()).ok()?;
                let files = crate::domain::patch::parse(p).ok()?;
                let hunks = files
                    .into_iter()
                    .next()
                    .map(|f| f.hunks)
                    .unwrap_or_default();
                crate::domain::patch::apply(old, &hunks)
                    .ok()
                    .map(|t| t.into_bytes().into())
            }
            other => other.to_bytes(),
        }
    }

    /// The new side of a change: splices of `old` when both are text, the file is not small
    /// and the splices are under half its size (checked to give `new` back exactly);
    /// otherwise the bytes themselves.
    pub fn new_side(old: Option<&Arc<[u8]>>, new: &Arc<[u8]>) -> Blob {
        if new.len() >= SPLICE_FROM_BYTES
            && let (Some(Ok(o)), Ok(n)) = (
                old.map(|o| std::str::from_utf8(o)),
                std::str::from_utf8(new),
            )
            && let Some(splices) = super::splice::between(o, n)
            && splices.iter().map(|s| s.text.len()).sum::<usize>() < new.len() / 2
        {
            return Blob::Splice(splices);
        }
        Blob::of(new)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_one_line_edit_of_a_big_file_is_journaled_as_a_splice() {
        let old: String = (0..50_000).map(|i| format!("line {i}\n")).collect();
        let new = old.replace("line 25000\n", "line 25000 changed\n");
        let (old, new): (Arc<[u8]>, Arc<[u8]>) = (old.as_bytes().into(), new.as_bytes().into());
        let blob = Blob::new_side(Some(&old), &new);
        let Blob::Splice(s) = &blob else {
            panic!("not a splice")
        };
        assert_eq!(s.len(), 1);
        assert_eq!(blob.to_bytes_after(Some(&old)).unwrap(), new);
        let json = serde_json::to_string(&blob).unwrap();
        assert!(json.len() < 100, "{json}");
        let back: Blob = serde_json::from_str(&json).unwrap();
        assert_eq!(back, blob);
        // small, binary or new files stay whole; text shares the change's bytes
        let small: Arc<[u8]> = b"b\n"[..].into();
        assert!(matches!(
            Blob::new_side(Some(&b"a\n"[..].into()), &small),
            Blob::Text(_)
        ));
        let Blob::Text(t) = Blob::new_side(None, &new) else {
            panic!("not text")
        };
        assert_eq!(t.as_ptr(), new.as_ptr());
        let bin: Arc<[u8]> = vec![0xffu8; 10_000].into();
        assert!(matches!(Blob::new_side(Some(&bin), &bin), Blob::Base64(_)));
    }

    #[test]
    fn patches_of_earlier_versions_still_apply() {
        let blob: Blob =
            serde_json::from_str(r#"{"patch":"--- a/f\n+++ b/f\n@@ -2,1 +2,1 @@\n-b\n+B\n"}"#)
                .unwrap();
        assert_eq!(
            &*blob.to_bytes_after(Some(b"a\nb\nc\n")).unwrap(),
            b"a\nB\nc\n"
        );
    }

    proptest! {
        #[test]
        fn new_side_always_gives_the_new_bytes_back(
            lines in prop::collection::vec("[a-c]{0,3}(\r)?", 0..300),
            edits in prop::collection::vec((any::<prop::sample::Index>(), "[a-d]{0,4}"), 0..6),
            final_newline in any::<bool>(),
        ) {
            let mut old: String = lines.iter().map(|l| format!("{l}\n")).collect();
            old.push_str(&"padding line\n".repeat(400));
            if !final_newline { old.pop(); }
            let mut new_lines: Vec<String> = old.split('\n').map(str::to_owned).collect();
            for (at, text) in &edits {
                let i = at.index(new_lines.len());
                new_lines[i] = text.clone();
            }
            let new = new_lines.join("\n");
            let (old, new): (Arc<[u8]>, Arc<[u8]>) = (old.as_bytes().into(), new.as_bytes().into());
            let blob = Blob::new_side(Some(&old), &new);
            prop_assert_eq!(blob.to_bytes_after(Some(&old)).unwrap(), new);
        }
    }
}
