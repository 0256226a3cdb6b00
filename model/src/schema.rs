//! Document schemas: how each kind of Qiao document is laid out in Automerge.
//!
//! A document that several replicas may create independently (offline) starts from a *genesis*
//! change made under the all-zero actor with time 0: every replica produces the byte-identical
//! change, so their root objects are one and the same and nothing written to them is lost.

pub mod announcements;
pub mod chat;
pub mod directory;
pub mod helpdesk;
pub mod kb;
mod read;
pub mod stored;
pub mod suggestions;
pub mod surveys;
pub mod tasks;
pub mod user_state;

use automerge::transaction::CommitOptions;
use automerge::{ActorId, AutoCommit};

/// A fresh document whose first change is the deterministic genesis built by `init`.
pub(crate) fn from_genesis(init: impl FnOnce(&mut AutoCommit)) -> AutoCommit {
    let mut doc = AutoCommit::new().with_actor(ActorId::from(crate::actor::GENESIS_ACTOR.as_slice()));
    init(&mut doc);
    doc.commit_with(CommitOptions::default().with_time(0));
    doc
}

/// Map keys no document may hold. JavaScript readers of a document — automerge's JS API, a stock
/// automerge-repo client, an integration reading exported JSON — treat them as an object's
/// prototype machinery: a `__proto__` key materialised by plain assignment replaces the object's
/// prototype (prototype pollution). Automerge's JS API refuses to write `__proto__` but any other
/// client can; the relay refuses all three in every document ([`forbidden_key`]).
pub const FORBIDDEN_KEYS: [&str; 3] = ["__proto__", "constructor", "prototype"];

/// The first forbidden key a change writes, if any.
pub fn forbidden_key(change: &automerge::ExpandedChange) -> Option<&'static str> {
    change.operations.iter().find_map(|op| match &op.key {
        automerge::legacy::Key::Map(k) => FORBIDDEN_KEYS.iter().find(|f| k.as_str() == **f).copied(),
        _ => None,
    })
}
