//! Qiao's shared core: everything both the browser app and the relay must agree on.
//!
//! Pure Rust, no IO: it compiles for `wasm32-unknown-unknown` and native alike.
//! - [`ids`]: one newtype per identifier, including automerge-repo's base58check document ids.
//! - [`protocol`]: the automerge-repo websocket wire messages (CBOR), decoded defensively.
//! - [`schema`]: how each kind of document is laid out in Automerge.
//! - [`acl`]: roles and the permission matrix as pure functions.
//! - [`api`]: REST request/response bodies and the wire error type.
//! - [`audit`]: audit event codes, grouped by domain.
//! - [`markdown`]: message markdown rendered to HTML that cannot run script.
//! - [`actor`]: how an Automerge actor id is bound to a user and a device.
//! - [`automerge_bounds`]: what a client's Automerge bytes would expand to, checked before decoding.
//! - [`files`]: uploads and file serving rules shared by the app and the relay.
//! - [`library`]: the file library's folders, versions and approval, and who may do what there.

pub mod acl;
pub mod actor;
pub mod api;
pub mod audit;
pub mod automerge_bounds;
pub mod files;
pub mod ids;
pub mod library;
pub mod markdown;
pub mod presence;
pub mod protocol;
pub mod schema;
pub mod search;
