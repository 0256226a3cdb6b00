//! Live connections, indexed by session and by user, so that logging out, logging out other
//! devices and deactivation close sockets at once instead of at their next frame.

use super::ws::ConnHandle;
use qiao_model::ids::UserId;
use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

pub type ConnId = u64;

#[derive(Default)]
pub struct Connections {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    next: ConnId,
    by_conn: HashMap<ConnId, Entry>,
    by_user: HashMap<UserId, HashSet<ConnId>>,
}

struct Entry {
    session_id: i64,
    user: Option<UserId>,
    handle: ConnHandle,
}

impl Connections {
    /// Register a connection of `session_id` whose user is not known here (prefer
    /// [`Connections::register_user`]).
    pub fn register(&self, session_id: i64, tx: ConnHandle) -> ConnId {
        self.insert(session_id, None, tx)
    }

    /// Register a connection of `user`'s session `session_id`.
    pub fn register_user(&self, session_id: i64, user: UserId, tx: ConnHandle) -> ConnId {
        self.insert(session_id, Some(user), tx)
    }

    fn insert(&self, session_id: i64, user: Option<UserId>, handle: ConnHandle) -> ConnId {
        let mut g = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        g.next += 1;
        let id = g.next;
        g.by_conn.insert(id, Entry { session_id, user, handle });
        if let Some(u) = user {
            g.by_user.entry(u).or_default().insert(id);
        }
        id
    }

    pub fn unregister(&self, id: ConnId) {
        let mut g = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(Entry { user: Some(u), .. }) = g.by_conn.remove(&id)
            && let Some(set) = g.by_user.get_mut(&u)
        {
            set.remove(&id);
            if set.is_empty() {
                g.by_user.remove(&u);
            }
        }
    }

    /// Close every connection of a session.
    pub fn close_session(&self, session_id: i64) {
        self.close_sessions(&[session_id], "session ended");
    }

    /// Close every connection of these sessions; how many.
    pub fn close_sessions(&self, sessions: &[i64], reason: &str) -> usize {
        let g = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let mut n = 0;
        for e in g.by_conn.values() {
            if sessions.contains(&e.session_id) {
                e.handle.close(reason.into());
                n += 1;
            }
        }
        n
    }

    /// Close every connection of `user`; how many.
    pub fn close_user(&self, user: UserId, reason: &str) -> usize {
        let g = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let Some(ids) = g.by_user.get(&user) else { return 0 };
        for id in ids {
            if let Some(e) = g.by_conn.get(id) {
                e.handle.close(reason.into());
            }
        }
        ids.len()
    }

    /// Live connections of `user` (registered with [`Connections::register_user`]).
    pub fn user_count(&self, user: UserId) -> usize {
        self.inner.lock().unwrap_or_else(|p| p.into_inner()).by_user.get(&user).map_or(0, HashSet::len)
    }

    pub fn count(&self) -> usize {
        self.inner.lock().unwrap_or_else(|p| p.into_inner()).by_conn.len()
    }
}
