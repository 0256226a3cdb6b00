//! Everyone in the company, from the synced directory document (readable offline): names for
//! mentions, and the people the mention picker offers.

use crate::contexts::RepoRef;
use leptos::prelude::*;
use qiao_model::api::{DirectoryUser, UserStatus};
use qiao_model::ids::UserId;
use qiao_model::schema::directory;

#[derive(Clone, Copy)]
pub struct People {
    /// Active people, by name.
    pub list: Memo<Vec<DirectoryUser>>,
}

impl People {
    /// Open the directory document and provide the list below.
    pub fn provide(repo: RepoRef) -> People {
        let id = directory::document_id();
        let r = repo.get_value();
        // The relay writes the directory; a replica starts empty and fills in by sync.
        leptos::task::spawn_local(async move {
            r.open(id, automerge::AutoCommit::new).await;
        });
        let list = Memo::new(move |_| {
            let mut users = repo
                .with_value(|r| r.read(id, |d| directory::read(d).1))
                .unwrap_or_default()
                .into_iter()
                .filter(|u| u.status == UserStatus::Active)
                .collect::<Vec<_>>();
            users.sort_by(|a, b| a.name.cmp(&b.name));
            users
        });
        let people = People { list };
        provide_context(people);
        people
    }

    pub fn name_of(&self, id: UserId) -> Option<String> {
        self.list.with(|l| l.iter().find(|u| u.id == id).map(|u| u.name.clone()))
    }

    /// Up to `limit` people whose name or username contains `query` (case-insensitive).
    pub fn matching(&self, query: &str, limit: usize) -> Vec<DirectoryUser> {
        let q = query.to_lowercase();
        self.list.with(|l| {
            l.iter()
                .filter(|u| {
                    q.is_empty() || u.name.to_lowercase().contains(&q) || u.username.to_lowercase().contains(&q)
                })
                .take(limit)
                .cloned()
                .collect()
        })
    }
}

pub fn expect_people() -> People {
    expect_context::<People>()
}
