//! Session allowances: `a`, `/permissions`, revoking.

use super::*;

impl Agent {
    pub(super) fn permissions(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .allowed_tools
            .iter()
            .map(|t| format!("tool `{t}`"))
            .collect();
        out.sort();
        out.extend(
            self.allowed_prefixes
                .iter()
                .map(|p| format!("shell commands starting `{p}`")),
        );
        out
    }

    pub(super) fn show_permissions(&self) {
        let list = self.permissions();
        let mut lines = vec![if list.is_empty() {
            "No session allowances (press `a` on a queued call to add one).".to_string()
        } else {
            let items: Vec<String> = list
                .iter()
                .enumerate()
                .map(|(i, p)| format!("{}. {p}", i + 1))
                .collect();
            format!(
                "Allowed for this session: {}. `/permissions revoke N` or `/permissions revoke all` takes one back.",
                items.join("; ")
            )
        }];
        // what the configuration says, which /permissions cannot change
        let t = &self.settings.tools;
        let tools = self.settings.registry.policies();
        let mut by_policy: Vec<String> = Vec::new();
        for policy in [Policy::Always, Policy::Ask, Policy::Never] {
            let names: Vec<&str> = tools
                .iter()
                .filter(|(_, p)| *p == policy)
                .map(|(n, _)| n.as_str())
                .collect();
            if !names.is_empty() {
                by_policy.push(format!("{policy:?}: {}", names.join(", ")).to_lowercase());
            }
        }
        lines.push(format!("From the config: {}.", by_policy.join("; ")));
        let quote = |v: &[String]| {
            v.iter()
                .map(|p| format!("`{p}`"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        if !t.shell_allow.is_empty() {
            lines.push(format!(
                "Shell commands run without asking: {}.",
                quote(&t.shell_allow)
            ));
        }
        if !t.shell_deny.is_empty() {
            lines.push(format!(
                "Shell commands never run: {}.",
                quote(&t.shell_deny)
            ));
        }
        lines.push(self.settings.ctx.sandbox.status_line());
        self.send(AgentEvent::Notice {
            text: lines.join("\n"),
        });
    }

    pub(super) fn revoke(&mut self, which: Option<usize>) {
        let list = self.permissions();
        let text = match which {
            None => {
                self.allowed_tools.clear();
                self.allowed_prefixes.clear();
                "Revoked every session allowance.".to_string()
            }
            Some(n) if n >= 1 && n <= list.len() => {
                let mut tools: Vec<String> = self.allowed_tools.iter().cloned().collect();
                tools.sort();
                if n <= tools.len() {
                    self.allowed_tools.remove(&tools[n - 1]);
                } else {
                    self.allowed_prefixes.remove(n - 1 - tools.len());
                }
                format!("Revoked: {}.", list[n - 1])
            }
            Some(n) => format!("There is no allowance number {n} (see /permissions)."),
        };
        self.send(AgentEvent::Notice { text });
    }

    pub(super) fn allow_prefix(&mut self, prefix: &str) {
        let p = prefix.split_whitespace().collect::<Vec<_>>().join(" ");
        if !p.is_empty() && !self.allowed_prefixes.contains(&p) {
            self.allowed_prefixes.push(p);
        }
    }

    pub(super) fn allow_for_session(&mut self, call: &ToolCall, parsed: &crate::tools::Call) {
        // a command: its prefix, not the whole tool
        if let Some(cmd) = parsed.command() {
            let prefix = registry::command_prefix(cmd);
            if !prefix.is_empty() && !self.allowed_prefixes.contains(&prefix) {
                self.allowed_prefixes.push(prefix);
            }
        } else {
            self.allowed_tools.insert(call.name.clone());
        }
    }
}
