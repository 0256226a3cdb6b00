//! One folder per product module.

pub mod admin;
pub mod announcements;
pub mod auth;
pub mod chat;
pub mod feedback;
pub mod helpdesk;
pub mod kb;
pub mod library;
pub mod tasks;
