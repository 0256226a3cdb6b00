//! Read receipts live in the conversation's segment as `read:<user>` on its root: each person
//! sets their own, and the relay refuses a receipt written for someone else.

mod common;

use common::*;
use qiao_model::schema::chat;

#[tokio::test]
async fn a_receipt_is_its_readers_own() {
    let relay = Relay::start().await;
    let ann = relay.employee("ann").await;
    let ben = relay.employee("ben").await;
    let general = relay.general(&ann).await;
    let id = general.head_document;

    let mut a = relay.connect(&ann).await;
    let mut doc_a = chat_doc(&general, &ann);
    say(&mut doc_a, &ann, "在吗");
    a.sync(id, &mut doc_a).await.expect("ann writes");

    let mut b = relay.connect(&ben).await;
    let mut doc_b = chat_doc(&general, &ben);
    b.sync(id, &mut doc_b).await.expect("ben reads");
    assert!(chat::set_receipt(&mut doc_b, ben.id, 1_800_000_000_000));
    b.sync(id, &mut doc_b).await.expect("ben's own receipt is accepted");
    a.sync_until_has(id, &mut doc_a, &doc_b.get_heads()).await.expect("ann hears of it");
    assert_eq!(chat::receipts(&doc_a).get(&ben.id), Some(&1_800_000_000_000));

    // A receipt in ann's name, written by ben: refused, never relayed.
    assert!(chat::set_receipt(&mut doc_b, ann.id, 1_900_000_000_000));
    let refusal = b.sync(id, &mut doc_b).await.expect_err("someone else's receipt is refused");
    refusal.assert_says("fixed fields");
    a.sync(id, &mut doc_a).await.expect("ann syncs");
    assert_eq!(chat::receipts(&doc_a).get(&ann.id), None);
}
