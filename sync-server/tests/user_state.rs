//! A person's own state document (read positions, muted conversations) syncs between their
//! devices and nobody else's: another user who asks for it gets `doc-unavailable`, and the
//! relay keeps every position it acknowledged.

mod common;

use common::*;
use qiao_model::actor::actor_for;
use qiao_model::ids::ChannelId;
use qiao_model::protocol::Message;
use qiao_model::schema::user_state;
use std::sync::atomic::{AtomicU64, Ordering};

fn state_doc(user: &User) -> automerge::AutoCommit {
    static DEVICE: AtomicU64 = AtomicU64::new(1);
    let mut doc = user_state::genesis(user.id);
    doc.set_actor(actor_for(user.id, DEVICE.fetch_add(1, Ordering::Relaxed).to_be_bytes()));
    doc
}

#[tokio::test]
async fn read_positions_sync_between_a_users_devices_and_no_one_else() {
    let relay = Relay::start().await;
    let ann = relay.employee("ann").await;
    let eve = relay.employee("eve").await;
    let general = relay.general(&ann).await;
    let id = user_state::doc_id(ann.id);
    let channel: ChannelId = general.id.clone();

    // Device 1 reads up to t=100 and syncs; device 2 (offline meanwhile) read up to t=50.
    let mut phone = state_doc(&ann);
    assert!(user_state::mark_read(&mut phone, &channel, "phone", 100));
    let mut a1 = relay.connect(&ann).await;
    a1.sync(id, &mut phone).await.expect("ann syncs her state from the phone");
    assert_eq!(a1.server_heads(id), phone.get_heads());

    let mut laptop = state_doc(&ann);
    assert!(user_state::mark_read(&mut laptop, &channel, "laptop", 50));
    let mut a2 = relay.connect(&ann).await;
    a2.sync(id, &mut laptop).await.expect("ann syncs her state from the laptop");
    // Merged: the furthest position either device reached; the laptop cannot move it back.
    assert_eq!(user_state::read_position(&laptop, &channel), 100);
    assert!(!user_state::mark_read(&mut laptop, &channel, "laptop", 80));

    // Another user asking for it learns nothing.
    let mut e = relay.connect(&eve).await;
    let mut guess = state_doc(&eve);
    e.send(&e.sync_frame(id, first_sync_bytes(&mut guess), true)).await.expect("send");
    loop {
        match e.next_event(STEP).await {
            Event::Msg(Message::DocUnavailable { document_id, .. }) if document_id == id => break,
            Event::Msg(Message::Sync { document_id, .. }) => assert_ne!(document_id, id, "eve got ann's state"),
            Event::Msg(_) => {}
            other => panic!("expected doc-unavailable, got {other:?}"),
        }
    }
    assert_eq!(relay.refused_audit("sync.read").await, [id.to_string()]);

    // What the relay acknowledged survives a restart.
    let heads = laptop.get_heads();
    let relay = relay.restart().await;
    let ann = relay.login("ann", PASSWORD).await;
    let mut fresh = state_doc(&ann);
    let mut a3 = relay.connect(&ann).await;
    a3.sync(id, &mut fresh).await.expect("a new device fetches ann's state");
    assert_eq!(fresh.get_heads(), heads);
    assert_eq!(user_state::read_position(&fresh, &channel), 100);
}
