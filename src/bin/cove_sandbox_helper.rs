//! `cove-sandbox-helper`: the sandbox helper (`src/sandbox/`) alone, in a binary small
//! enough to start in a fraction of the time cove's own takes (cove's dynamic relocations
//! alone cost ~200 page faults per start). cove uses it when it sits beside the cove
//! binary and falls back to re-executing itself otherwise; both run the same code.

fn main() -> std::process::ExitCode {
    cove::sandbox::run_helper_if_requested();
    eprintln!(
        "cove-sandbox-helper is started by cove; to try the sandbox, run `cove sandbox -- CMD`"
    );
    std::process::ExitCode::from(2)
}
