//! Acknowledged means durable: once the relay's sync reply shows a change in its heads, the change
//! survives the relay dying on the spot and a new relay starting on the same data directory.

mod common;

use common::*;

#[tokio::test]
async fn acknowledged_messages_survive_a_relay_restart() {
    let relay = Relay::start().await;
    let alice = relay.employee("alice").await;
    let carol = relay.employee("carol").await;
    let general = relay.general(&alice).await;
    let id = general.head_document;

    let mut a = relay.connect(&alice).await;
    let mut doc_a = chat_doc(&general, &alice);
    for i in 0..5 {
        say(&mut doc_a, &alice, &format!("message {i} 消息"));
        a.sync(id, &mut doc_a).await.expect("alice syncs");
        assert_eq!(a.server_heads(id), doc_a.get_heads(), "the relay acknowledged message {i}");
    }
    let acknowledged = texts(&doc_a);

    // Kill it with alice's socket still open: no graceful shutdown, nothing flushed on the way out.
    let relay = relay.restart().await;
    assert!(matches!(a.next_event(STEP).await, Event::Closed(_)), "the dead relay's socket ended");

    let mut c = relay.connect(&carol).await;
    let mut doc_c = chat_doc(&general, &carol);
    c.sync(id, &mut doc_c).await.expect("carol syncs with the new relay");
    assert_eq!(texts(&doc_c), acknowledged, "every acknowledged message is still there");
    assert_eq!(doc_c.get_heads(), doc_a.get_heads());
    assert_eq!(relay.general(&carol).await.head_document, id, "the channel still points at the same segment");

    relay.assert_still_serves(&alice, &general).await;
}
