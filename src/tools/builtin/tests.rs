//! Each built-in tool through the trait, as the agent uses it: from the registry, arguments
//! parsed once, approval, preview, run.

use super::*;
use crate::config::{Policy, ToolsConfig};
use crate::tools::registry::{Registry, describe_call};
use serde_json::json;

struct Ws {
    _dir: tempfile::TempDir,
    ctx: ToolContext,
    reg: Registry,
}

fn ws() -> Ws {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap();
    std::fs::write(root.join("a.txt"), "one\ntwo\nthree\n").unwrap();
    let mut ctx = ToolContext::new(root);
    ctx.sandbox = crate::sandbox::Sandbox::off();
    Ws {
        _dir: dir,
        ctx,
        reg: Registry::builtin(&ToolsConfig::default()),
    }
}

impl Ws {
    fn call(&self, name: &str, args: serde_json::Value) -> Call {
        self.reg.parse(name, &args.to_string()).unwrap()
    }

    async fn run(&self, call: &Call) -> ToolOutput {
        super::super::registry::into_output(call.run(&self.ctx, &Turn::default()).await)
    }

    fn file(&self, name: &str) -> String {
        std::fs::read_to_string(self.ctx.root.join(name)).unwrap()
    }
}

#[test]
fn the_registry_holds_the_ten_in_the_contract_order_with_their_flags() {
    let w = ws();
    assert_eq!(w.reg.names(), crate::tools::BUILTIN_TOOLS);
    let read_only: Vec<String> = w
        .reg
        .names()
        .into_iter()
        .filter(|n| w.reg.read_only(n))
        .collect();
    assert_eq!(
        read_only,
        [
            "read_file",
            "list_files",
            "search",
            "git_status",
            "git_diff"
        ]
    );
    assert_eq!(
        w.reg.offered(),
        crate::tools::offered_tools(&ToolsConfig::default())
    );
    for name in w.reg.names() {
        let t = w.reg.get(&name).unwrap();
        assert_eq!(t.spec().name, name);
        // processes are killed on Esc, reads abandoned; writes are let finish
        assert_eq!(t.abandonable(), t.read_only() || name == "shell", "{name}");
    }
}

#[tokio::test]
async fn read_list_and_search_run_through_the_trait() {
    let w = ws();
    let read = w.call(
        "read_file",
        json!({"path": "a.txt", "offset": 2, "limit": 1}),
    );
    assert!(read.read_only());
    assert_eq!(read.approval().kind, ApprovalKind::Other);
    assert!(read.preview(&w.ctx).is_none());
    let out = w.run(&read).await;
    assert!(
        !out.is_error && out.text.contains("2│two") && !out.text.contains("one"),
        "{out:?}"
    );
    let out = w.run(&w.call("list_files", json!({"glob": "*.txt"}))).await;
    assert_eq!(out.text, "a.txt\n");
    let out = w.run(&w.call("search", json!({"pattern": "^t"}))).await;
    assert_eq!(out.text, "a.txt:2: two\na.txt:3: three\n");
    // a typed argument error is found when the call is parsed, before anything runs
    assert_eq!(
        w.reg.parse("read_file", r#"{"path": 7}"#).unwrap_err(),
        "read_file: `path` must be a string, got a number"
    );
}

#[tokio::test]
async fn write_and_edit_preview_their_change_and_offer_the_editor() {
    let w = ws();
    let edit = w.call(
        "edit_file",
        json!({"path": "a.txt", "old_string": "two", "new_string": "2"}),
    );
    assert_eq!(
        edit.approval().kind,
        ApprovalKind::Files { in_editor: true }
    );
    assert_eq!(edit.writes(), ["a.txt"]);
    let p = edit.preview(&w.ctx).unwrap().unwrap();
    assert_eq!(p.files.len(), 1);
    assert_eq!(p.files[0].new.as_deref(), Some(&b"one\n2\nthree\n"[..]));
    assert!(p.result.unwrap().starts_with("edited a.txt"));
    // the preview wrote nothing
    assert_eq!(w.file("a.txt"), "one\ntwo\nthree\n");
    let (req, previewed) = describe_call(&w.ctx, "c1", &edit, "{}");
    assert_eq!(req.summary, "a.txt +1 -1");
    assert_eq!(req.changes[0].new.as_deref(), Some("one\n2\nthree\n"));
    assert!(previewed.fails.is_none() && req.danger.is_none());
    // `e` in $EDITOR: the user's content is written by a write_file call
    let own = edit.with_content("mine\n".into()).unwrap();
    assert_eq!(own.name(), "write_file");
    assert!(!w.run(&own).await.is_error);
    assert_eq!(w.file("a.txt"), "mine\n");

    let write = w.call("write_file", json!({"path": "new/b.txt", "content": "x\n"}));
    let out = w.run(&write).await;
    assert!(!out.is_error, "{out:?}");
    assert_eq!(out.changes.len(), 1);
    assert_eq!(w.file("new/b.txt"), "x\n");

    // a change that cannot apply says so in its preview
    let bad = w.call(
        "edit_file",
        json!({"path": "a.txt", "old_string": "absent", "new_string": "y"}),
    );
    let (_, previewed) = describe_call(&w.ctx, "c2", &bad, "{}");
    assert!(previewed.fails.unwrap().contains("was not found"));
}

#[tokio::test]
async fn a_patch_names_every_path_it_writes_and_a_protected_one_is_flagged() {
    let w = ws();
    let patch = "--- a/a.txt\n+++ b/a.txt\n@@ -1,3 +1,3 @@\n one\n-two\n+TWO\n three\n--- /dev/null\n+++ b/.env\n@@ -0,0 +1 @@\n+K=1\n";
    let call = w.call("apply_patch", json!({ "patch": patch }));
    assert_eq!(call.writes(), ["a.txt", "a.txt", ".env"]);
    assert_eq!(
        call.approval().kind,
        ApprovalKind::Files { in_editor: false }
    );
    assert!(call.with_content("x".into()).is_none());
    let (req, _) = describe_call(&w.ctx, "p1", &call, "{}");
    assert_eq!(req.summary, "a.txt +1 -1, .env (new) +1 -0");
    assert!(req.danger.unwrap().contains(".env"));
    let out = w.run(&call).await;
    assert!(!out.is_error, "{out:?}");
    assert_eq!(w.file("a.txt"), "one\nTWO\nthree\n");
    // an unreadable diff is refused when the call is parsed
    assert!(
        w.reg
            .parse("apply_patch", r#"{"patch": "not a diff"}"#)
            .unwrap_err()
            .contains("could not be read")
    );
}

#[tokio::test]
async fn shell_is_a_command_the_user_edits_as_a_line() {
    let w = ws();
    let call = w.call(
        "shell",
        json!({"command": "cargo test --all", "timeout_secs": 5}),
    );
    assert_eq!(call.command(), Some("cargo test --all"));
    let a = call.approval();
    assert_eq!(a.kind, ApprovalKind::Command("cargo test --all".into()));
    assert_eq!(a.session_prefix.as_deref(), Some("cargo test"));
    assert_eq!(a.edit_text.as_deref(), Some("cargo test --all"));
    assert_eq!(a.danger, None);
    let danger = w.call("shell", json!({"command": "rm -rf ~"})).approval();
    assert!(danger.danger.is_some());
    // the edit replaces the command line and keeps the rest
    let edited = call.edited("  echo edited  ").unwrap();
    assert_eq!(edited.command(), Some("echo edited"));
    let out = w.run(&edited).await;
    assert_eq!(out.text, "edited\nexit code 0");
    let out = w.run(&w.call("shell", json!({"command": "exit 3"}))).await;
    assert!(out.is_error && out.text.ends_with("exit code 3"), "{out:?}");
}

#[tokio::test]
async fn git_tools_outside_a_repository_and_a_commit_summary() {
    let w = ws();
    let out = w.run(&w.call("git_status", json!({"anything": 1}))).await;
    assert!(out.is_error, "{out:?}");
    let commit = w.call("git_commit", json!({"message": "fix: it\n\nbody"}));
    let a = commit.approval();
    assert_eq!(a.kind, ApprovalKind::Commit("fix: it\n\nbody".into()));
    assert_eq!(a.summary.as_deref(), Some("commit: fix: it …"));
    assert_eq!(
        w.reg.parse("git_commit", "{}").unwrap_err(),
        "git_commit needs `message` (a string)"
    );
    // a `path` that is not a string is ignored, as before
    assert!(w.reg.parse("git_diff", r#"{"path": 3}"#).is_ok());
}

#[test]
fn the_gate_checks_name_policy_json_and_arguments_in_that_order() {
    let cfg = ToolsConfig {
        shell: Some(Policy::Never),
        ..ToolsConfig::default()
    };
    let reg = Registry::builtin(&cfg);
    let unknown = reg.parse("rm", "{}").unwrap_err();
    assert!(
        unknown.starts_with("there is no tool named `rm`; the tools are: read_file, list_files"),
        "{unknown}"
    );
    assert_eq!(
        reg.parse("shell", "not json").unwrap_err(),
        "the tool `shell` is disabled in this workspace"
    );
    assert!(
        reg.parse("read_file", "{\"path\": ")
            .unwrap_err()
            .starts_with("error: the arguments are cut off")
    );
    assert!(
        reg.parse("read_file", "")
            .unwrap_err()
            .contains("`path` is required")
    );
    assert_eq!(reg.offered().len(), 9);
    assert_eq!(reg.policy("shell"), Some(Policy::Never));
    assert_eq!(reg.policy("read_file"), Some(Policy::Ask));
}

#[test]
fn registration_is_dynamic_and_names_are_unique() {
    struct Echo(&'static str);
    impl Tool for Echo {
        type Args = serde_json::Value;
        fn name(&self) -> &str {
            self.0
        }
        fn spec(&self) -> ToolSpec {
            ToolSpec {
                name: self.0.into(),
                description: "echo".into(),
                parameters: json!({"type": "object"}),
            }
        }
        fn read_only(&self) -> bool {
            true
        }
        fn parse(&self, args: Value) -> Result<Value, String> {
            Ok(args)
        }
        fn run(
            &self,
            _: &ToolContext,
            args: Arc<Value>,
            _: &Turn,
        ) -> BoxFuture<'static, RunResult> {
            Box::pin(async move { Ok(ToolOutput::ok(args.to_string())) })
        }
    }
    let reg = Registry::builtin(&ToolsConfig::default());
    let shared = reg.clone();
    shared
        .add(Arc::new(Echo("srv__echo")), Policy::Always)
        .unwrap();
    // every holder sees it, after the built-ins
    assert_eq!(reg.offered().last().unwrap().name, "srv__echo");
    assert!(reg.read_only("srv__echo"));
    assert_eq!(
        reg.add(Arc::new(Echo("shell")), Policy::Always),
        Err(super::super::registry::RegistryError::Taken("shell".into()))
    );
    assert!(matches!(
        reg.add(Arc::new(Echo("a b")), Policy::Ask),
        Err(super::super::registry::RegistryError::BadName(_))
    ));
    assert!(reg.remove("srv__echo"));
    assert!(reg.get("srv__echo").is_none());
    assert!(!reg.remove("srv__echo"));
}
