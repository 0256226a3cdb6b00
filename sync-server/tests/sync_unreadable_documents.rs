//! A `request` for a document the user may not read — another team's private channel, or an id
//! the relay never registered — is answered `doc-unavailable`, the same for both, with no sync
//! data about it. The connection stays open and keeps working.

mod common;

use common::*;
use qiao_model::api::ChannelSummary;
use qiao_model::ids::DocumentId;
use qiao_model::protocol::Message;

/// Request `id` with a valid first sync message and wait for the relay's `doc-unavailable`.
async fn request_unavailable(c: &mut SyncClient, id: DocumentId, first: Vec<u8>) {
    c.send(&c.sync_frame(id, first, true)).await.expect("send request");
    loop {
        match c.next_event(STEP).await {
            Event::Msg(Message::DocUnavailable { document_id, target_id, .. }) if document_id == id => {
                assert_eq!(target_id, c.peer_id);
                return;
            }
            Event::Msg(Message::Sync { document_id, .. }) => assert_ne!(document_id, id, "sync data about {id}"),
            Event::Msg(_) => {}
            other => panic!("expected doc-unavailable for {id}, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn another_teams_private_channel_is_doc_unavailable() {
    let relay = Relay::start().await;
    let admin = relay.admin().await;
    let eve = relay.employee("eve").await;

    let r =
        relay.post("/api/channels", Some(&admin.token), serde_json::json!({ "name": "secret", "private": true })).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let secret: ChannelSummary = r.json();
    assert!(secret.private);
    let id = secret.head_document;

    // The admin (a member) writes to it, so there is something to leak.
    let mut a = relay.connect(&admin).await;
    let mut doc_a = chat_doc(&secret, &admin);
    say(&mut doc_a, &admin, "salary figures");
    a.sync(id, &mut doc_a).await.expect("admin syncs the private channel");
    assert_eq!(a.server_heads(id), doc_a.get_heads());

    assert!(relay.channels(&eve).await.iter().all(|c| c.id != secret.id), "eve does not see the channel");
    let mut e = relay.connect(&eve).await;
    let mut doc_e = chat_doc(&secret, &eve);
    request_unavailable(&mut e, id, first_sync_bytes(&mut doc_e)).await;
    // A `sync` (not only a `request`) gets the same answer; other segments of it too.
    let next = qiao_model::schema::chat::segment_id(&secret.id, 1);
    e.send(&e.sync_frame(id, first_sync_bytes(&mut doc_e), false)).await.expect("send");
    e.send(&e.sync_frame(next, first_sync_bytes(&mut doc_e), true)).await.expect("send");

    // The same connection still syncs what eve may read. The relay answers frames in order, so
    // once this sync is through, any answer about the secret documents has arrived.
    let general = relay.general(&eve).await;
    let mut doc_g = chat_doc(&general, &eve);
    say(&mut doc_g, &eve, "hello everyone");
    e.sync(general.head_document, &mut doc_g).await.expect("eve syncs the public channel");
    assert_eq!(e.server_heads(general.head_document), doc_g.get_heads());
    assert!(!e.synced.contains(&id) && !e.synced.contains(&next), "no sync data about the private channel");
    assert_eq!(e.unavailable, [id, id, next]);

    let refused = relay.refused_audit("sync.read").await;
    assert_eq!(refused, [id.to_string(), id.to_string(), next.to_string()], "each refused read is audited");
    relay.assert_still_serves(&eve, &general).await;
}

#[tokio::test]
async fn an_unregistered_document_is_doc_unavailable() {
    let relay = Relay::start().await;
    let eve = relay.employee("eve").await;
    let general = relay.general(&eve).await;
    let mut e = relay.connect(&eve).await;

    let mut doc = chat_doc(&general, &eve);
    for id in [DocumentId::from_bytes([0x5a; 16]), DocumentId::derived(&["chat", "no-such-channel", "0"])] {
        request_unavailable(&mut e, id, first_sync_bytes(&mut doc)).await;
    }
    let id = general.head_document;
    e.sync(id, &mut doc).await.expect("the connection still syncs");
    assert_eq!(e.synced.len(), 1, "sync data only about the public channel");
    relay.assert_still_serves(&eve, &general).await;
}
