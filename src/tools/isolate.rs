//! Running tool work so that neither a panic nor a slow file operation can take the session
//! down or freeze it: blocking work goes to tokio's blocking pool, and a panic inside it (or
//! inside an async tool) becomes an error result for the model and a card for the user.

use std::any::Any;
use std::future::Future;
use std::panic::AssertUnwindSafe;

use futures_util::FutureExt;

use super::context::ToolOutput;

/// Fault injection for tests of the panic and hang paths: in debug builds, panics when the
/// environment variable `COVE_FAULT` names `point` (`preview`, `tool`, `turn`), and sleeps
/// 5 s when it says `slow:POINT`. Release builds compile it to nothing.
pub fn fault_point(point: &str) {
    #[cfg(debug_assertions)]
    {
        let set = FAULT.lock().map(|f| f.clone()).unwrap_or_default();
        let env = std::env::var("COVE_FAULT").ok();
        if set.as_deref() == Some(point) || env.as_deref() == Some(point) {
            panic!("injected fault at {point}");
        }
        // `slow:POINT`: the point takes 5 s (a tool that hangs), for the tests of Esc
        let slow = format!("slow:{point}");
        if set.as_deref() == Some(slow.as_str()) || env.as_deref() == Some(slow.as_str()) {
            std::thread::sleep(std::time::Duration::from_secs(5));
        }
    }
    #[cfg(not(debug_assertions))]
    let _ = point;
}

/// In debug builds, tests set the fault point here (like `COVE_FAULT`, without touching
/// the process environment).
#[cfg(debug_assertions)]
pub static FAULT: std::sync::Mutex<Option<String>> = std::sync::Mutex::new(None);

/// The text of a panic payload.
pub fn panic_message(payload: Box<dyn Any + Send>) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic without a message".to_owned()
    }
}

/// What the model and the user are told when cove itself failed inside a tool.
pub fn internal_error(what: &str, message: &str) -> String {
    format!(
        "cove hit an internal error while {what} ({message}). This is a bug in cove, not in \
         your call; the call did not complete. Try another way, or tell the user."
    )
}

/// Runs `f` on the blocking pool; a panic is returned as its message.
pub async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, String> {
    match tokio::task::spawn_blocking(f).await {
        Ok(v) => Ok(v),
        Err(e) if e.is_panic() => Err(panic_message(e.into_panic())),
        Err(e) => Err(e.to_string()),
    }
}

/// Awaits a tool's future; a panic becomes an error result.
pub async fn guarded(fut: impl Future<Output = ToolOutput>) -> ToolOutput {
    match AssertUnwindSafe(fut).catch_unwind().await {
        Ok(out) => out,
        Err(p) => ToolOutput::error(internal_error("running this tool", &panic_message(p))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn panics_become_errors() {
        let r = blocking(|| -> u8 { panic!("boom {}", 7) }).await;
        assert_eq!(r.unwrap_err(), "boom 7");
        let out = guarded(async { panic!("async boom") }).await;
        assert!(out.is_error);
        assert!(out.text.contains("async boom"), "{}", out.text);
        assert_eq!(blocking(|| 3).await.unwrap(), 3);
    }
}
