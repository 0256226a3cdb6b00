//! A frame larger than `max_frame_bytes` ends that one connection with an `error` and a close;
//! the relay and its other clients carry on.

mod common;

use common::*;
use tokio_tungstenite::tungstenite::Message as WsMessage;

const LIMIT: usize = 64 * 1024;

#[tokio::test]
async fn oversized_frame_ends_only_its_own_connection() {
    let relay = Relay::start_with(|c| c.max_frame_bytes = LIMIT).await;
    let alice = relay.employee("alice").await;
    let bob = relay.employee("bob").await;
    let general = relay.general(&alice).await;
    let id = general.head_document;

    // Bob is mid-conversation when alice's client misbehaves.
    let mut b = relay.connect(&bob).await;
    let mut doc_b = chat_doc(&general, &bob);
    b.sync(id, &mut doc_b).await.expect("bob syncs");

    let mut a = relay.connect(&alice).await;
    // Any content: the size alone must end it, before the relay reads or decodes the payload.
    let _ = a.send_frame(WsMessage::binary(vec![0xa5; LIMIT + 1024])).await;
    let refusal = a.expect_refusal().await;
    refusal.assert_says("frame too large");
    relay.wait_connections(1).await; // bob's
    // A frame just under the limit is a frame like any other (here: not CBOR, refused as such).
    let mut a = relay.connect(&alice).await;
    let _ = a.send_frame(WsMessage::binary(vec![0xa5; LIMIT - 64])).await;
    a.expect_refusal().await.assert_says("not a CBOR protocol message");

    say(&mut doc_b, &bob, "after the big frame");
    b.sync(id, &mut doc_b).await.expect("bob's connection is unaffected");
    assert_eq!(b.server_heads(id), doc_b.get_heads());
    relay.assert_still_serves(&alice, &general).await;
}
