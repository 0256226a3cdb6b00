//! Live connections, indexed by session and by user, so that logging out (and, later,
//! deactivation or removal from a channel) closes sockets at once instead of at their next frame.

use super::ws::ConnHandle;
use std::collections::HashMap;
use std::sync::Mutex;

pub type ConnId = u64;

#[derive(Default)]
pub struct Connections {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    next: ConnId,
    by_conn: HashMap<ConnId, (i64, ConnHandle)>,
}

impl Connections {
    pub fn register(&self, session_id: i64, tx: ConnHandle) -> ConnId {
        let mut g = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        g.next += 1;
        let id = g.next;
        g.by_conn.insert(id, (session_id, tx));
        id
    }

    pub fn unregister(&self, id: ConnId) {
        self.inner.lock().unwrap_or_else(|p| p.into_inner()).by_conn.remove(&id);
    }

    /// Close every connection of a session.
    pub fn close_session(&self, session_id: i64) {
        let g = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        for (sid, tx) in g.by_conn.values() {
            if *sid == session_id {
                tx.close("session ended".into());
            }
        }
    }

    pub fn count(&self) -> usize {
        self.inner.lock().unwrap_or_else(|p| p.into_inner()).by_conn.len()
    }
}
