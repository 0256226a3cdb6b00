//! Two users chat through the relay: each one's message reaches the other, and both replicas end
//! with the same heads (what the relay stored is what both see).

mod common;

use common::*;
use qiao_model::schema::chat;

#[tokio::test]
async fn two_users_exchange_chat_messages_through_the_relay() {
    let relay = Relay::start().await;
    let alice = relay.employee("alice").await;
    let bob = relay.employee("bob").await;
    let general = relay.general(&alice).await;
    let id = general.head_document;

    let mut a = relay.connect(&alice).await;
    let mut doc_a = chat_doc(&general, &alice);
    say(&mut doc_a, &alice, "你好，我是 Alice");
    a.sync(id, &mut doc_a).await.expect("alice syncs");
    assert_eq!(a.server_heads(id), doc_a.get_heads(), "the relay acknowledged alice's message");

    let mut b = relay.connect(&bob).await;
    let mut doc_b = chat_doc(&general, &bob);
    b.sync(id, &mut doc_b).await.expect("bob syncs");
    assert_eq!(texts(&doc_b), ["你好，我是 Alice"], "bob receives alice's message");

    say(&mut doc_b, &bob, "hi Alice, Bob here");
    b.sync(id, &mut doc_b).await.expect("bob writes");
    assert_eq!(b.server_heads(id), doc_b.get_heads(), "the relay acknowledged bob's message");

    // Alice is still connected: the relay pushes bob's change to her.
    a.sync_until_has(id, &mut doc_a, &doc_b.get_heads()).await.expect("alice syncs again");
    assert_eq!(texts(&doc_a), texts(&doc_b), "alice and bob see the same conversation");
    assert_eq!(texts(&doc_a), ["你好，我是 Alice", "hi Alice, Bob here"]);
    assert_eq!(doc_a.get_heads(), doc_b.get_heads(), "both replicas converged");
    let authors: Vec<_> = chat::messages(&doc_a).into_iter().map(|m| m.author).collect();
    assert_eq!(authors, [alice.id, bob.id]);

    relay.assert_still_serves(&alice, &general).await;
}
