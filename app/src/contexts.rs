//! Shared state handed down the component tree: `provide_*` at the top, `expect_*` below.

use crate::sync::repo::Repo;
use leptos::prelude::*;
use qiao_model::api::Me;

/// Who is logged in (`None`: show the login page). Cached in localStorage so the app opens
/// offline.
#[derive(Clone, Copy)]
pub struct Session {
    pub me: RwSignal<Option<Me>>,
}

pub fn provide_session() -> Session {
    let s = Session { me: RwSignal::new(crate::storage::get_json::<Me>("qiao.me")) };
    provide_context(s);
    s
}

pub fn expect_session() -> Session {
    expect_context::<Session>()
}

/// The document repository. It holds browser objects (not `Send`), so it lives in a local arena.
pub fn provide_repo(repo: Repo) {
    provide_context(StoredValue::new_local(repo));
}

/// A `Copy` handle to the repository that reactive closures may capture.
pub type RepoRef = StoredValue<Repo, LocalStorage>;

pub fn expect_repo() -> RepoRef {
    expect_context::<RepoRef>()
}
