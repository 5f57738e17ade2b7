//! `/ledger`: this session's lines of the privacy ledger, as a notice.

use super::Agent;
use crate::protocol::AgentEvent;

impl Agent {
    pub(super) async fn show_ledger(&self) {
        let guard = self.settings.client.guard().clone();
        let session = self.log.id.clone();
        let Some(path) = guard.ledger_path().map(ToOwned::to_owned) else {
            self.send(AgentEvent::Notice {
                text: "No data directory: the ledger is not being written.".into(),
            });
            return;
        };
        let read = tokio::task::spawn_blocking(move || crate::guard::ledger::read(&path, 0)).await;
        let text = match read {
            Ok(Ok((mut entries, _))) => {
                entries.retain(|e| e.session.as_deref() == Some(session.as_str()));
                if entries.is_empty() {
                    "The ledger has nothing for this session yet.".to_owned()
                } else {
                    let sent = entries.iter().filter(|e| e.kind == "request").count();
                    let bytes: u64 = entries.iter().map(|e| e.bytes_out).sum();
                    format!(
                        "This session's ledger: {sent} request(s), {bytes} bytes sent (`cove ledger` has every session).\n{}",
                        crate::guard::ledger::table(&entries)
                    )
                }
            }
            Ok(Err(e)) => format!("Cannot read the ledger: {e}"),
            Err(e) => format!("Cannot read the ledger: {e}"),
        };
        self.send(AgentEvent::Notice { text });
    }
}
