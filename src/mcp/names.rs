//! The name a server's tool is offered under: `<server>__<tool>`, made of the characters
//! OpenAI-compatible servers accept in a function name (`[A-Za-z0-9_-]`, at most 64).

/// `<server>__<tool>` with every other character replaced by `_`, cut to 64 characters.
pub fn exposed(server: &str, tool: &str) -> String {
    let clean = |s: &str| -> String {
        s.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .collect()
    };
    let mut name = format!("{}__{}", clean(server), clean(tool));
    name.truncate(64);
    name
}

/// Whether a configured server name can be used (the first half of every tool name).
pub fn valid_server_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 32
        && !name.contains("__")
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_safe_for_every_server() {
        assert_eq!(exposed("everything", "echo"), "everything__echo");
        assert_eq!(exposed("fs", "read file/v2"), "fs__read_file_v2");
        assert_eq!(exposed("a", &"x".repeat(200)).len(), 64);
        assert_eq!(exposed("a", "\u{1b}[31mé"), "a____31m_");
        assert!(valid_server_name("git-hub_2"));
        for bad in ["", "a__b", "a b", "é", &"x".repeat(33)] {
            assert!(!valid_server_name(bad), "{bad}");
        }
    }
}
