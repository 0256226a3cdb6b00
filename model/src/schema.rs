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

/// The id of the object a genesis document's change creates at root key `key`: the rules of
/// each kind recognise their shared maps and lists by these ids (a client cannot forge the
/// genesis actor, see `actor`). Panics when the genesis creates no such object — a schema bug
/// that each kind's tests hit at once.
pub(crate) fn genesis_object(genesis: &mut AutoCommit, key: &str) -> automerge::legacy::OpId {
    use automerge::legacy::{Key, ObjectId, OpType};
    let change = genesis.get_last_local_change().expect("a genesis has its change").decode();
    let i = change
        .operations
        .iter()
        .position(|op| {
            op.obj == ObjectId::Root
                && matches!(&op.key, Key::Map(k) if k.as_str() == key)
                && matches!(op.action, OpType::Make(_))
        })
        .unwrap_or_else(|| panic!("the genesis creates no {key:?}"));
    automerge::legacy::OpId::new(
        change.start_op.get() + i as u64,
        &ActorId::from(crate::actor::GENESIS_ACTOR.as_slice()),
    )
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
