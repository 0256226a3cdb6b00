//! Write paths: validate → persist → audit, one `do_*` function per action.

pub mod channels;
pub mod directory;
pub mod files;
pub mod helpdesk;
pub mod import;
pub mod library;
pub mod modules;
pub mod oidc;
pub mod projects;
pub mod sessions;
pub mod settings;
pub mod users;
