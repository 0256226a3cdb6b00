//! The app's side of sync: [`repo::Repo`] keeps the open Automerge documents, persists every
//! change to IndexedDB before it is sent, and speaks the automerge-repo protocol to the relay over
//! one websocket, reconnecting with backoff.

pub mod repo;
pub mod socket;
