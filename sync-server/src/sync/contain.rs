//! Automerge can panic on hostile bytes (a malformed change or sync message). Everything that
//! decodes client bytes with it runs through [`contain`], which turns a panic into an error for
//! that one connection. The release profile keeps `panic = "unwind"` for this reason.

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

/// Most `have` entries a sync message may carry. Automerge sends none or one; every document
/// hash is tested against every entry when the relay answers.
const MAX_HAVES: usize = 4;
/// Bloom parameters automerge uses are 10 bits per entry and 7 probes.
const MAX_BLOOM_BITS_PER_ENTRY: u64 = 64;
const MAX_BLOOM_PROBES: u64 = 64;

/// Check what a decoded sync message makes the relay compute later, when it *generates* its
/// answer — which no [`contain`] guards, and which repeats for every later change of the document
/// while the peer stays connected. Automerge takes a peer's bloom filter parameters as they come:
/// zero bits per entry divides by zero (a panic in the relay's fan-out that silently kills the
/// connection of whichever peer triggers it next), and `num_probes` sizes a vector per hash tested
/// (2^32-1 probes: 16 GiB per hash).
pub fn check_sync_message(msg: &automerge::sync::Message) -> Result<(), String> {
    if msg.have.len() > MAX_HAVES {
        return Err(format!("{} bloom filters (at most {MAX_HAVES})", msg.have.len()));
    }
    for have in &msg.have {
        let bytes = have.bloom.to_bytes();
        if bytes.is_empty() {
            continue; // the empty filter
        }
        let mut input = bytes.iter();
        let mut next = || {
            // Unsigned LEB128, as automerge wrote it when it re-encoded the filter.
            let mut v = 0u64;
            for shift in (0..64).step_by(7) {
                let b = *input.next().ok_or("bloom filter header is cut short")?;
                v |= u64::from(b & 0x7f) << shift;
                if b & 0x80 == 0 {
                    return Ok(v);
                }
            }
            Err("bloom filter header is too long")
        };
        let (_entries, bits_per_entry, probes) = (next()?, next()?, next()?);
        if !(1..=MAX_BLOOM_BITS_PER_ENTRY).contains(&bits_per_entry) || !(1..=MAX_BLOOM_PROBES).contains(&probes) {
            return Err(format!("bloom filter with {bits_per_entry} bits per entry and {probes} probes"));
        }
    }
    Ok(())
}
