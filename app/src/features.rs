//! One folder per product module.

pub mod auth;
pub mod chat;
