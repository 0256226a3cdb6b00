//! Binding Automerge actor ids to users.
//!
//! Every change in a Qiao document is made under an actor id whose first 8 bytes are the author's
//! [`UserId`] (big-endian) and whose last 8 bytes name the device. The relay refuses any change
//! whose actor does not start with the sender's user id, so a change cannot be passed off as
//! someone else's. The all-zero actor is reserved for deterministic genesis changes
//! ([`crate::schema`]) that every replica creates identically.

use crate::ids::UserId;
use automerge::ActorId;

/// The actor of deterministic genesis changes.
pub const GENESIS_ACTOR: [u8; 16] = [0; 16];

/// The actor id for `user` on the device named by `device` (8 random bytes kept by the device).
pub fn actor_for(user: UserId, device: [u8; 8]) -> ActorId {
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&user.0.to_be_bytes());
    bytes[8..].copy_from_slice(&device);
    ActorId::from(bytes.as_slice())
}

/// Who an actor id belongs to: `Some(user)`, or `None` for the genesis actor or a malformed id.
pub fn user_of(actor: &ActorId) -> Option<UserId> {
    let bytes = actor.to_bytes();
    if bytes.len() != 16 || bytes == GENESIS_ACTOR {
        return None;
    }
    let mut id = [0u8; 8];
    id.copy_from_slice(&bytes[..8]);
    Some(UserId(i64::from_be_bytes(id)))
}

/// Whether `user` may author a change under `actor`.
pub fn may_author(user: UserId, actor: &ActorId) -> bool {
    actor.to_bytes() == GENESIS_ACTOR || user_of(actor) == Some(user)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actor_round_trips_to_user() {
        let a = actor_for(UserId(42), [1, 2, 3, 4, 5, 6, 7, 8]);
        assert_eq!(user_of(&a), Some(UserId(42)));
        assert!(may_author(UserId(42), &a));
        assert!(!may_author(UserId(43), &a));
    }

    #[test]
    fn genesis_actor_is_anyones() {
        let g = ActorId::from(GENESIS_ACTOR.as_slice());
        assert!(may_author(UserId(1), &g));
        assert_eq!(user_of(&g), None);
    }

    #[test]
    fn short_actor_belongs_to_nobody() {
        let a = ActorId::from([1u8, 2, 3].as_slice());
        assert_eq!(user_of(&a), None);
        assert!(!may_author(UserId(1), &a));
    }
}
