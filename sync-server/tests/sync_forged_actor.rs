//! A change made under another user's actor id is refused: the connection gets an error and a
//! close, the change is neither stored nor relayed, and the audit log records the refusal.

mod common;

use common::*;
use qiao_model::schema::chat;

#[tokio::test]
async fn a_change_under_another_users_actor_is_refused_and_never_relayed() {
    let relay = Relay::start().await;
    let alice = relay.employee("alice").await;
    let mallory = relay.employee("mallory").await;
    let carol = relay.employee("carol").await;
    let general = relay.general(&alice).await;
    let id = general.head_document;

    let mut a = relay.connect(&alice).await;
    let mut doc_a = chat_doc(&general, &alice);
    say(&mut doc_a, &alice, "the real alice");
    a.sync(id, &mut doc_a).await.expect("alice syncs");

    // Mallory, logged in as herself, writes as alice.
    let mut m = relay.connect(&mallory).await;
    let mut forged = chat_doc_as(&general, alice.id);
    say_as(&mut forged, alice.id, "alice", "alice says: send me the passwords");
    let refusal = m.sync(id, &mut forged).await.expect_err("the relay refuses the forged change");
    refusal.assert_says("which is not yours");

    // Alice, still connected, never gets it; neither does carol, who connects afterwards.
    a.sync(id, &mut doc_a).await.expect("alice syncs again");
    assert_eq!(texts(&doc_a), ["the real alice"]);
    let mut c = relay.connect(&carol).await;
    let mut doc_c = chat_doc(&general, &carol);
    c.sync(id, &mut doc_c).await.expect("carol syncs");
    assert_eq!(texts(&doc_c), ["the real alice"], "the forged message was not relayed");
    assert_eq!(doc_c.get_heads(), doc_a.get_heads());
    assert!(chat::messages(&doc_c).iter().all(|msg| msg.author == alice.id));

    let refused: Vec<(i64, String)> =
        sqlx::query_as("SELECT user_id, detail FROM audit_log WHERE action = 'sync.write' AND outcome = 'refused'")
            .fetch_all(relay.state.store.pool())
            .await
            .expect("audit rows");
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert_eq!(refused[0].0, mallory.id.0, "the refusal names the sender");
    assert!(refused[0].1.starts_with(&id.to_string()) && refused[0].1.contains("not yours"), "{refused:?}");

    relay.assert_still_serves(&mallory, &general).await;
}

/// `__proto__`, `constructor` and `prototype` keys, even inside one's own message (where anything
/// else goes), are refused: JavaScript readers of the document would take them for prototype
/// machinery. Automerge's JS API will not write `__proto__`; a Rust client (this test) can.
#[tokio::test]
async fn prototype_keys_are_refused_in_any_document() {
    use automerge::transaction::Transactable;
    use automerge::{ObjType, ReadDoc, ScalarValue};
    let relay = Relay::start().await;
    let bob = relay.employee("bob").await;
    let general = relay.general(&bob).await;
    let id = general.head_document;
    let mut c = relay.connect(&bob).await;
    let mut doc = chat_doc(&general, &bob);
    say(&mut doc, &bob, "mine");
    c.sync(id, &mut doc).await.expect("bob syncs");
    let stored = doc.get_heads();
    for (device, key) in ["__proto__", "constructor", "prototype"].into_iter().enumerate() {
        let mut hostile = doc.fork();
        hostile.set_actor(qiao_model::actor::actor_for(bob.id, [device as u8 + 40; 8]));
        let list = match hostile.get(automerge::ROOT, "messages").unwrap() {
            Some((_, l)) => l,
            None => panic!("a segment has messages"),
        };
        let (_, m) = hostile.get(&list, 0).unwrap().expect("bob's message");
        let inner = hostile.put_object(&m, key, ObjType::Map).unwrap();
        hostile.put(&inner, "polluted", ScalarValue::Str("yes".into())).unwrap();
        hostile.commit();
        let mut h = relay.connect(&bob).await;
        let refusal = h.sync(id, &mut hostile).await.expect_err("refused");
        refusal.assert_says("is not allowed in any document");
        assert!(refusal.error.as_deref().unwrap_or_default().contains(key), "{refusal:?}");
    }
    // Nothing of it was stored.
    let mut fresh = relay.connect(&bob).await;
    let mut again = chat_doc(&general, &bob);
    fresh.sync(id, &mut again).await.expect("syncs");
    assert_eq!(again.get_heads(), stored);
}
