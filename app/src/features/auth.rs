//! Logging in and out.

pub mod login_page;
