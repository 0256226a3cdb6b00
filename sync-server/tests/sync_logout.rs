//! Logging out ends the session's live sockets at once — not at their next frame — and nothing a
//! client sends on such a socket afterwards is applied.

mod common;

use common::*;
use std::time::Duration;

#[tokio::test]
async fn logout_closes_the_sessions_live_socket_within_a_second() {
    let relay = Relay::start().await;
    let alice = relay.employee("alice").await;
    let general = relay.general(&alice).await;
    let id = general.head_document;

    let mut a = relay.connect(&alice).await;
    let mut doc = chat_doc(&general, &alice);
    say(&mut doc, &alice, "about to log out");
    a.sync(id, &mut doc).await.expect("alice syncs");
    // A second session of the same user (another device) must stay up.
    let other = relay.login("alice", PASSWORD).await;
    let mut o = relay.connect(&other).await;

    let r = relay.post("/api/auth/logout", Some(&alice.token), serde_json::json!({})).await;
    assert_eq!(r.status, 204, "{}", r.text());
    let refusal = tokio::time::timeout(Duration::from_secs(1), a.expect_refusal())
        .await
        .expect("the socket closed within 1 s of the logout");
    refusal.assert_says("session ended");

    // The token is dead for new sockets too; the other session is untouched.
    let (status, _) = relay.refused_upgrade(relay.ws_request(Some(&alice.token), Some(&relay.origin()))).await;
    assert_eq!(status, 401);
    let mut doc_o = chat_doc(&general, &other);
    o.sync(id, &mut doc_o).await.expect("the other session still syncs");
    assert_eq!(texts(&doc_o), ["about to log out"]);
    relay.assert_still_serves(&other, &general).await;
}

/// A client that ignores the close and keeps sending must not get anything stored.
#[tokio::test]
async fn frames_sent_after_logout_are_not_applied() {
    let relay = Relay::start().await;
    let alice = relay.employee("alice").await;
    let bob = relay.employee("bob").await;
    let general = relay.general(&alice).await;
    let id = general.head_document;

    let mut a = relay.connect(&alice).await;
    let mut doc = chat_doc(&general, &alice);
    say(&mut doc, &alice, "before logout");
    a.sync(id, &mut doc).await.expect("alice syncs");

    let r = relay.post("/api/auth/logout", Some(&alice.token), serde_json::json!({})).await;
    assert_eq!(r.status, 204);
    // Without reading the relay's close, send a change: the sync state is established, so this
    // one frame carries it.
    say(&mut doc, &alice, "after logout");
    let frame = a.next_sync_frame(id, &mut doc).expect("a frame with the new change");
    let qiao_model::protocol::Message::Sync { data, .. } = &frame else { unreachable!() };
    assert!(!automerge::sync::Message::decode(data).expect("valid").changes.is_empty(), "it carries the change");
    let _ = a.send(&frame).await;
    a.expect_refusal().await.assert_says("session ended");
    // The close frame can overtake the relay's handling of our frame: wait until the connection
    // is gone on the relay's side, i.e. its reader has finished, before looking.
    relay.wait_connections(0).await;

    let mut b = relay.connect(&bob).await;
    let mut doc_b = chat_doc(&general, &bob);
    b.sync(id, &mut doc_b).await.expect("bob syncs");
    assert_eq!(texts(&doc_b), ["before logout"], "nothing sent after the logout was stored");
    relay.assert_still_serves(&bob, &general).await;
}
