//! Automerge can panic on hostile bytes (a malformed change or sync message). Everything that
//! decodes client bytes with it runs through [`contain`], which turns a panic into an error for
//! that one connection. The release profile keeps `panic = "unwind"` for this reason.

use qiao_model::automerge_bounds::{self, Limits};
use std::panic::{AssertUnwindSafe, catch_unwind};

#[derive(Debug, thiserror::Error)]
#[error("automerge could not process the data: {0}")]
pub struct Contained(pub String);

/// Run `f`, turning both its error and any panic into [`Contained`].
///
/// A panic may leave state that `f` borrowed half-updated; callers that pass in a document must
/// treat it as poisoned after an `Err` (the registry reloads it from the store).
pub fn contain<T, E: std::fmt::Display>(f: impl FnOnce() -> Result<T, E>) -> Result<T, Contained> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(Contained(e.to_string())),
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "panic".into());
            Err(Contained(format!("panicked: {what}")))
        }
    }
}

/// Silence the default panic hook's stderr output for panics we contain, while keeping it for
/// real bugs elsewhere: install once at start-up.
pub fn install_quiet_hook() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let from_automerge = info.location().is_some_and(|l| l.file().contains("automerge"));
        if from_automerge {
            tracing::warn!(location = ?info.location(), "contained a panic in automerge");
        } else {
            default(info);
        }
    }));
}

/// Check a client's sync message before automerge applies it or computes with it: its bloom
/// filters (used later, when the relay answers, where no [`contain`] guards) and what its changes
/// would expand to (an allocation failure aborts the process, which no [`contain`] catches). See
/// [`qiao_model::automerge_bounds`].
pub fn check_sync_message(msg: &automerge::sync::Message) -> Result<(), String> {
    automerge_bounds::check_sync_message(msg, Limits::RELAY).map(|_| ())
}
