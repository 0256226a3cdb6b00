//! Live connections, indexed by session and by user, so that logging out, logging out other
//! devices and deactivation close sockets at once instead of at their next frame.
//!
//! The index also caps the connections one person may hold (`--max-connections-per-user`): every
//! socket costs the relay memory (its buffers and queue) and fan-out work on every change to the
//! documents it syncs, so a buggy or hostile client opening sockets in a loop must not get an
//! unbounded number of them. The upgrade takes a [`Reservation`] first, which counts against the
//! cap at once, so that concurrent upgrades cannot all pass the check before any registers.

use super::ws::ConnHandle;
use qiao_model::ids::UserId;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A person refused a connection is audited at most once in this long: a client retrying in a
/// loop must not turn its refusals into a flood of audit-log writes.
const REFUSAL_AUDIT_EVERY: Duration = Duration::from_secs(60);

pub type ConnId = u64;

#[derive(Default)]
pub struct Connections {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    next: ConnId,
    by_conn: HashMap<ConnId, Entry>,
    /// Registered and reserved connections of each user.
    by_user: HashMap<UserId, HashSet<ConnId>>,
    /// When each user was last audited for a refused connection.
    refusals_audited: HashMap<UserId, Instant>,
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

    /// Hold one of `user`'s at most `max` connections (0: no cap) for an upgrade in progress;
    /// `Err` with the number they hold when they are at the cap. The slot is freed when the
    /// reservation is dropped unregistered (the upgrade failed) or the registered connection is
    /// unregistered.
    pub fn reserve(self: &Arc<Self>, user: UserId, max: usize) -> Result<Reservation, usize> {
        let mut g = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let held = g.by_user.get(&user).map_or(0, HashSet::len);
        if max > 0 && held >= max {
            return Err(held);
        }
        g.next += 1;
        let id = g.next;
        g.by_user.entry(user).or_default().insert(id);
        Ok(Reservation { connections: self.clone(), id, user, registered: false })
    }

    /// Whether a refusal of `user` should be audited now (at most once per
    /// [`REFUSAL_AUDIT_EVERY`]).
    pub fn audit_refusal_due(&self, user: UserId) -> bool {
        let mut g = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        g.refusals_audited.retain(|_, at| now.duration_since(*at) < REFUSAL_AUDIT_EVERY);
        match g.refusals_audited.entry(user) {
            std::collections::hash_map::Entry::Occupied(_) => false,
            std::collections::hash_map::Entry::Vacant(v) => {
                v.insert(now);
                true
            }
        }
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
        let mut n = 0;
        for id in ids {
            if let Some(e) = g.by_conn.get(id) {
                e.handle.close(reason.into());
                n += 1;
            }
        }
        n
    }

    /// Live connections of `user` (registered with [`Connections::register_user`] or through a
    /// [`Reservation`]), counting upgrades in progress.
    pub fn user_count(&self, user: UserId) -> usize {
        self.inner.lock().unwrap_or_else(|p| p.into_inner()).by_user.get(&user).map_or(0, HashSet::len)
    }

    pub fn count(&self) -> usize {
        self.inner.lock().unwrap_or_else(|p| p.into_inner()).by_conn.len()
    }
}

/// One of a user's connection slots, held from before the websocket upgrade until the
/// connection registers ([`Reservation::register`]) or the upgrade fails (dropped).
pub struct Reservation {
    connections: Arc<Connections>,
    id: ConnId,
    user: UserId,
    registered: bool,
}

impl Reservation {
    /// The upgraded connection of session `session_id`: registered under the reserved id, which
    /// it keeps until [`Connections::unregister`].
    pub fn register(mut self, session_id: i64, handle: ConnHandle) -> ConnId {
        let mut g = self.connections.inner.lock().unwrap_or_else(|p| p.into_inner());
        g.by_conn.insert(self.id, Entry { session_id, user: Some(self.user), handle });
        self.registered = true;
        self.id
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        if self.registered {
            return;
        }
        let mut g = self.connections.inner.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(set) = g.by_user.get_mut(&self.user) {
            set.remove(&self.id);
            if set.is_empty() {
                g.by_user.remove(&self.user);
            }
        }
    }
}
