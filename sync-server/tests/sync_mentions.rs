//! Mentions: anyone may mention people; only admins may mention everyone (`@所有人`). An
//! employee's `@所有人` message is refused at the relay and reaches nobody.

mod common;

use common::*;
use qiao_model::schema::chat::{self, ChatMessage};

fn message(user: &User, id: &str, text: &str, all: bool, mentions: Vec<qiao_model::ids::UserId>) -> ChatMessage {
    let mut m = ChatMessage::new(id.into(), user.id, user.username.clone(), 1_700_000_000_000, text.into());
    m.mention_all = all;
    m.mentions = mentions;
    m
}

#[tokio::test]
async fn only_admins_mention_everyone() {
    let relay = Relay::start().await;
    let admin = relay.admin().await;
    let emp = relay.employee("emp").await;
    let reader = relay.employee("reader").await;
    let general = relay.general(&emp).await;
    let id = general.head_document;

    // A mention of one person is fine.
    let mut e = relay.connect(&emp).await;
    let mut doc_e = chat_doc(&general, &emp);
    chat::append(&mut doc_e, &message(&emp, "m1", "@reader 看一下", false, vec![reader.id])).unwrap();
    e.sync(id, &mut doc_e).await.expect("a personal mention is accepted");

    // @所有人 from an employee: refused and not relayed.
    chat::append(&mut doc_e, &message(&emp, "m2", "@所有人 紧急", true, vec![])).unwrap();
    let refusal = e.sync(id, &mut doc_e).await.expect_err("the relay refuses an employee's @all");
    refusal.assert_says("only admins may mention everyone");

    // From an admin: accepted.
    let mut a = relay.connect(&admin).await;
    let mut doc_a = chat_doc(&general, &admin);
    a.sync(id, &mut doc_a).await.expect("admin syncs");
    chat::append(&mut doc_a, &message(&admin, "m3", "@所有人 下午停电", true, vec![])).unwrap();
    a.sync(id, &mut doc_a).await.expect("an admin's @all is accepted");

    let mut r = relay.connect(&reader).await;
    let mut doc_r = chat_doc(&general, &reader);
    r.sync(id, &mut doc_r).await.expect("reader syncs");
    let got = chat::messages(&doc_r);
    assert_eq!(got.iter().map(|m| m.id.as_str()).collect::<Vec<_>>(), ["m1", "m3"]);
    assert!(got.iter().all(|m| m.mentions_user(reader.id)));
    assert_eq!(chat::unread_mentions_after(&doc_r, 0, reader.id), 2);
}
