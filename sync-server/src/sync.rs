//! The sync relay: the automerge-repo websocket protocol with access control on every frame.
//!
//! - [`ws`]: the upgrade (session and Origin checked first), the handshake and the frame loop of
//!   one connection; frames are size-limited and decoded defensively.
//! - [`registry`]: the documents that are open, each with its peers' sync states; applies
//!   incoming sync messages, persists new changes, then fans out.
//! - [`connections`]: live connections by session, so logout and revocation can cut them.
//! - [`contain`]: runs Automerge decoding under `catch_unwind`.

pub mod connections;
pub mod contain;
pub mod registry;
pub mod ws;
