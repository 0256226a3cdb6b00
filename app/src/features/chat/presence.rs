//! Presence (在线状态): who has the app open, for the people one talks to directly.
//!
//! Every half minute, and when it connects, the app says `Here` over ephemeral messages on the
//! newest segment of each direct message and group (small conversations only: a company-wide
//! heartbeat would cost every device a message per colleague per half minute); closing the page
//! says `Gone`. Someone is online while their last `Here` is under 70 s old. Hearing someone new
//! is answered with our own `Here` on that conversation, so both sides know at once.

use super::shell::Channels;
use crate::contexts::RepoRef;
use crate::sync::repo::ConnStatus;
use leptos::prelude::*;
use qiao_model::api::ConversationKind;
use qiao_model::ids::{DocumentId, UserId};
use qiao_model::presence::Signal;
use qiao_model::schema::chat;
use std::collections::HashMap;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;

const HEARTBEAT_MS: i32 = 30_000;
const ONLINE_FOR_MS: f64 = 70_000.0;
/// Presence goes to at most this many conversations.
const MAX_DOCS: usize = 100;

#[derive(Clone, Copy)]
pub struct Presence {
    seen: RwSignal<HashMap<UserId, f64>>,
    /// Ticks every 10 s so that "online" expires without a message.
    tick: RwSignal<u64>,
}

impl Presence {
    pub fn is_online(&self, user: UserId) -> bool {
        self.tick.track();
        let now = js_sys::Date::now();
        self.seen.with(|s| s.get(&user).is_some_and(|t| now - t < ONLINE_FOR_MS))
    }

    pub fn provide(repo: RepoRef, channels: Channels, me: UserId) -> Presence {
        let p = Presence { seen: RwSignal::new(HashMap::new()), tick: RwSignal::new(0) };
        provide_context(p);
        // Each conversation's newest segment: (channel, segment number).
        let targets = move || -> Vec<(qiao_model::ids::ChannelId, u32)> {
            channels.list.with_untracked(|l| {
                l.iter()
                    .filter(|c| c.kind != ConversationKind::Channel && !c.archived)
                    .take(MAX_DOCS)
                    .map(|c| (c.id.clone(), c.head_segment.max(super::read_state::local_head(&c.id))))
                    .collect()
            })
        };
        // Each conversation is opened first: that sends the relay our request for it before the
        // signal, so the answer to our `Here` (sent over the same ordered socket) reaches us.
        let say = move |signal: Signal| {
            let data = signal.encode();
            let r = repo.get_value();
            leptos::task::spawn_local(async move {
                for (ch, n) in targets() {
                    let d = chat::segment_id(&ch, n);
                    r.open(d, move || chat::genesis(&ch, n)).await;
                    r.send_ephemeral(d, data.clone());
                }
            });
        };
        // Answered at most once per conversation per 20 s.
        let answered: StoredValue<HashMap<DocumentId, f64>> = StoredValue::new(HashMap::new());
        repo.with_value(|r| {
            r.on_ephemeral(move |doc, data| match Signal::decode(data) {
                Some(Signal::Here { user }) if user != me => {
                    let now = js_sys::Date::now();
                    let new = p.seen.with_untracked(|s| s.get(&user).is_none_or(|t| now - t >= ONLINE_FOR_MS));
                    p.seen.update(|s| {
                        s.insert(user, now);
                    });
                    let recent = answered.with_value(|a| a.get(&doc).is_some_and(|t| now - t < 20_000.0));
                    if new && !recent {
                        answered.update_value(|a| {
                            a.insert(doc, now);
                        });
                        repo.with_value(|r| r.send_ephemeral(doc, Signal::Here { user: me }.encode()));
                    }
                }
                Some(Signal::Gone { user }) if user != me => p.seen.update(|s| {
                    s.remove(&user);
                }),
                _ => {}
            });
        });
        // On every (re)connection, and when the list of conversations changes.
        let status = repo.with_value(|r| r.status);
        Effect::new(move |_| {
            channels.list.track();
            if status.get() == ConnStatus::Online {
                say(Signal::Here { user: me });
            }
        });
        if let Some(w) = web_sys::window() {
            let beat = Closure::<dyn FnMut()>::new(move || {
                if status.try_get_untracked() == Some(ConnStatus::Online) {
                    say(Signal::Here { user: me });
                }
            });
            let _ =
                w.set_interval_with_callback_and_timeout_and_arguments_0(beat.as_ref().unchecked_ref(), HEARTBEAT_MS);
            beat.forget();
            let tick = Closure::<dyn FnMut()>::new(move || p.tick.update(|t| *t += 1));
            let _ = w.set_interval_with_callback_and_timeout_and_arguments_0(tick.as_ref().unchecked_ref(), 10_000);
            tick.forget();
            let gone = Closure::<dyn FnMut()>::new(move || say(Signal::Gone { user: me }));
            let _ = w.add_event_listener_with_callback("pagehide", gone.as_ref().unchecked_ref());
            gone.forget();
        }
        p
    }
}

pub fn expect_presence() -> Presence {
    expect_context::<Presence>()
}
