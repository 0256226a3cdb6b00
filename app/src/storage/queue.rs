//! Requests typed offline, kept on the device until the relay takes them: a suggestion, a survey
//! answer, a new helpdesk ticket. (Files have their own outbox in IndexedDB, `outbox.js`.)
//!
//! A [`Queue`] is a list in localStorage under one key (per account), shown through a signal.
//! Every change re-reads the stored list first, so two tabs of one person adding at once keep
//! both. [`Queue::flush`] sends what waits, oldest first, through the caller's `send`, which says
//! what came of it: taken (the item leaves the queue), not now (no network: stop, try again
//! later), or refused with a reason (the item stays, with the reason shown, until the person
//! discards it — what they typed is not lost).

use crate::storage;
use leptos::prelude::*;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::future::Future;

/// An item of a queue, stored as it is (so queues written by earlier versions still load).
pub trait Queued: Clone + PartialEq + Serialize + DeserializeOwned + Send + Sync + 'static {
    /// What tells two items apart (and the same item sent twice).
    fn id(&self) -> String;
    /// Why the relay refused it, once it has.
    fn error(&self) -> Option<&str>;
    fn set_error(&mut self, why: String);
}

/// What came of sending one item.
pub enum Sent {
    /// The relay has it.
    Taken,
    /// No network (or no session) now: stop and try again later.
    Later,
    /// Refused, with the reason to show.
    Refused(String),
}

pub struct Queue<T: Queued> {
    pub items: RwSignal<Vec<T>>,
    key: StoredValue<String>,
    sending: StoredValue<bool>,
}

impl<T: Queued> Clone for Queue<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T: Queued> Copy for Queue<T> {}

impl<T: Queued> Queue<T> {
    /// The queue stored under `key`.
    pub fn load(key: String) -> Queue<T> {
        Queue {
            items: RwSignal::new(storage::get_json(&key).unwrap_or_default()),
            key: StoredValue::new(key),
            sending: StoredValue::new(false),
        }
    }

    /// Change the list as stored (another tab may have changed it since this one read it), and
    /// show the result.
    pub fn update(&self, f: impl FnOnce(&mut Vec<T>)) {
        let key = self.key.get_value();
        let mut items = storage::get_json::<Vec<T>>(&key).unwrap_or_default();
        f(&mut items);
        if items.is_empty() {
            storage::remove(&key)
        } else {
            storage::set_json(&key, &items)
        }
        // After logout the signal is gone: the stored list was still kept up to date.
        if self.items.try_with_untracked(|shown| *shown != items) == Some(true) {
            self.items.try_set(items);
        }
    }

    /// Whether the session this queue belongs to is still on (logging out disposes it; loops
    /// that send it stop then).
    pub fn alive(&self) -> bool {
        !self.items.is_disposed()
    }

    /// Add `item`, replacing one with the same id.
    pub fn push(&self, item: T) {
        let id = item.id();
        self.update(|l| {
            l.retain(|x| x.id() != id);
            l.push(item);
        });
    }

    pub fn discard(&self, id: &str) {
        self.update(|l| l.retain(|x| x.id() != id));
    }

    /// Whether anything waits that was not refused.
    pub fn waiting(&self) -> bool {
        self.items.try_with_untracked(|l| l.iter().any(|x| x.error().is_none())).unwrap_or(false)
    }

    /// Send what waits, oldest first, until the relay is out of reach; items added meanwhile
    /// (another tab, or typed during the round) go in the same call. One round at a time.
    pub async fn flush<F, Fut>(self, send: F)
    where
        F: Fn(T) -> Fut,
        Fut: Future<Output = Sent>,
    {
        if self.sending.try_get_value() != Some(false) {
            return;
        }
        self.sending.set_value(true);
        // Pick up what other tabs stored.
        self.update(|_| {});
        let mut tried: Vec<String> = Vec::new();
        'rounds: loop {
            let Some(items) = self.items.try_get_untracked() else { break };
            let next: Vec<T> = items.into_iter().filter(|x| x.error().is_none() && !tried.contains(&x.id())).collect();
            if next.is_empty() {
                break;
            }
            for item in next {
                let id = item.id();
                tried.push(id.clone());
                match send(item).await {
                    Sent::Taken => self.discard(&id),
                    Sent::Later => break 'rounds,
                    Sent::Refused(why) => self.update(|l| {
                        if let Some(x) = l.iter_mut().find(|x| x.id() == id) {
                            x.set_error(why.clone());
                        }
                    }),
                }
            }
        }
        self.sending.try_update_value(|s| *s = false);
    }
}
