//! Protected paths: writes to `.git/`, `.cove/` and secret-looking files always ask, flagged,
//! whatever the tool's policy or the session's allowances say. A model that got one
//! harmless write approved must not be able to plant a git hook, `core.fsmonitor` in
//! `.git/config`, or a looser `.cove/config.toml`.

use std::path::{Component, Path};

use super::context::ToolContext;

/// Secret-looking file names (matched case-insensitively against the file name); `[guard]
/// deny_read` adds more.
pub const SECRET_FILES: &[&str] = &[
    ".env*",
    "*.pem",
    "*.key",
    "*.p12",
    "*.pfx",
    "id_*",
    ".netrc",
    ".npmrc",
    ".pypirc",
    ".pgpass",
    ".git-credentials",
    "credentials*",
];

/// Why writing `rel` (relative to the workspace) needs the user's explicit approval, if it
/// does. `extra` are the user's `[guard] deny_read` globs.
pub fn reason(rel: &Path, extra: &[String]) -> Option<String> {
    for c in rel.components() {
        if let Component::Normal(name) = c {
            let name = name.to_string_lossy().to_lowercase();
            if name == ".git" {
                return Some(
                    "writes inside .git/ (git's hooks and config can run code)".to_owned(),
                );
            }
            if name == ".cove" {
                return Some("writes inside .cove/ (cove's own configuration)".to_owned());
            }
        }
    }
    let hit = secret_glob(rel, extra)?;
    Some(format!("writes a secret-looking file (`{hit}`)"))
}

/// Why reading `rel` (relative to the workspace) needs the user's explicit approval, if
/// it does: a secret-looking name or a `[guard] deny_read` glob. Reading `.git/` and
/// `.cove/` is harmless.
pub fn read_reason(rel: &Path, extra: &[String]) -> Option<String> {
    let hit = secret_glob(rel, extra)?;
    Some(format!(
        "reads a secret-looking file (`{hit}`, guard.deny_read)"
    ))
}

/// The built-in or `extra` glob `rel` matches.
fn secret_glob(rel: &Path, extra: &[String]) -> Option<String> {
    let name = rel.file_name()?.to_string_lossy().to_lowercase();
    SECRET_FILES
        .iter()
        .copied()
        .find(|g| glob_match(g, &name) && (*g != "id_*" || ssh_key_name(&name)))
        .map(str::to_owned)
        .or_else(|| {
            let full = rel.to_string_lossy().to_lowercase();
            extra.iter().find_map(|g| {
                let g = g.to_lowercase();
                (glob_match(&g, &name) || glob_match(&g, &full)).then_some(g)
            })
        })
}

/// `id_rsa`, `id_ed25519.pub`: an `id_` name without an extension other than `.pub`.
fn ssh_key_name(name: &str) -> bool {
    let stem = name.strip_suffix(".pub").unwrap_or(name);
    stem.starts_with("id_") && !stem.contains('.')
}

/// `*` (any run, `/` included) and `?` (one character); everything else literal.
fn glob_match(glob: &str, text: &str) -> bool {
    let g: Vec<char> = glob.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut gi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if gi < g.len() && (g[gi] == '?' || g[gi] == t[ti]) {
            gi += 1;
            ti += 1;
        } else if gi < g.len() && g[gi] == '*' {
            star = Some((gi, ti));
            gi += 1;
        } else if let Some((sg, st)) = star {
            gi = sg + 1;
            ti = st + 1;
            star = Some((sg, st + 1));
        } else {
            return false;
        }
    }
    g[gi..].iter().all(|c| *c == '*')
}

/// Why a call that writes `targets` (the paths as the model wrote them: `Tool::writes`)
/// writes somewhere protected, if it does: each target is checked as written and as it
/// resolves (a symlink to `.git/config` is `.git/config`).
pub fn protected_target(ctx: &ToolContext, targets: &[String]) -> Option<String> {
    checked(ctx, targets, reason)
}

/// Why a call that reads `sources` (`Tool::reads`) reads a secret-looking file, if it
/// does: checked as written and as resolved, like a write.
pub fn denied_read(ctx: &ToolContext, sources: &[String]) -> Option<String> {
    checked(ctx, sources, read_reason)
}

/// Whether a file found while walking the workspace (search hits) is one whose content
/// must not reach the model without the user's approval.
pub fn read_denied(ctx: &ToolContext, path: &Path) -> bool {
    let rel = path.strip_prefix(&ctx.root).unwrap_or(path);
    read_reason(rel, &ctx.protected).is_some()
}

fn checked(
    ctx: &ToolContext,
    targets: &[String],
    reason: fn(&Path, &[String]) -> Option<String>,
) -> Option<String> {
    targets.iter().find_map(|t| {
        let as_written = Path::new(t);
        let as_written = as_written.strip_prefix(&ctx.root).unwrap_or(as_written);
        let resolved = crate::domain::paths::resolve_in_root(&ctx.root, t)
            .ok()
            .and_then(|p| p.strip_prefix(&ctx.root).ok().map(Path::to_path_buf));
        reason(as_written, &ctx.protected)
            .or_else(|| resolved.and_then(|r| reason(&r, &ctx.protected)))
            .map(|why| format!("{why}: {}", crate::domain::text::shown_path(t)))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(p: &str) -> Option<String> {
        reason(
            Path::new(p),
            &["secrets/**".to_owned(), "*.tfvars".to_owned()],
        )
    }

    #[test]
    fn git_cove_and_secret_files_are_protected() {
        for p in [
            ".git/config",
            ".git/hooks/pre-commit",
            "sub/.git/config",
            ".GIT/config",
            ".cove/config.toml",
            ".cove",
            ".env",
            ".env.local",
            ".envrc",
            "deploy/key.pem",
            "server.KEY",
            "id_rsa",
            "home/.ssh/id_ed25519.pub",
            ".netrc",
            ".npmrc",
            "credentials.json",
            "aws/credentials",
            "secrets/db/password.txt",
            "prod.tfvars",
        ] {
            assert!(r(p).is_some(), "{p} not protected");
        }
        for p in [
            "src/main.rs",
            "git/config",
            ".github/workflows/ci.yml",
            "id_utils.py",
            "environment.rs",
            "docs/keys.md",
            ".gitignore",
            "cove.toml",
        ] {
            assert_eq!(r(p), None, "{p} protected");
        }
    }

    #[test]
    fn secret_files_ask_before_they_are_read_but_git_and_cove_do_not() {
        let extra = ["*.tfvars".to_owned()];
        for p in [
            ".env",
            "deploy/key.pem",
            "id_rsa",
            ".netrc",
            ".npmrc",
            "credentials.json",
            "prod.tfvars",
        ] {
            assert!(
                read_reason(Path::new(p), &extra).is_some(),
                "{p} read freely"
            );
        }
        for p in [
            ".git/config",
            ".cove/config.toml",
            "src/main.rs",
            "environment.rs",
        ] {
            assert_eq!(read_reason(Path::new(p), &extra), None, "{p} asks");
        }
    }

    #[test]
    fn globs() {
        assert!(glob_match("*.pem", "a.pem"));
        assert!(glob_match(".env*", ".env"));
        assert!(!glob_match("*.pem", "a.pem.txt"));
        assert!(glob_match("a?c", "abc"));
        assert!(glob_match("secrets/**", "secrets/a/b"));
    }

    #[test]
    fn every_path_of_a_patch_is_a_target() {
        let patch = "diff --git a/src/a.rs b/.git/hooks/post-checkout\nrename from src/a.rs\nrename to .git/hooks/post-checkout\n";
        let t = crate::tools::patch::parse_args(serde_json::json!({ "patch": patch }))
            .unwrap()
            .paths();
        assert!(t.iter().any(|p| p == ".git/hooks/post-checkout"), "{t:?}");
    }
}
