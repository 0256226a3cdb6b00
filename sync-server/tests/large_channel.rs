//! A channel of 10,000 members works like a small one: its member list, access checks and a
//! message's fan-out cost do not depend on how many members are offline, because the relay sends
//! a change only to the connections that have the document open (the others catch up when they
//! connect). The figures are printed for the record; the assertions are what must hold.

mod common;

use common::*;
use qiao_model::api::ChannelSummary;
use qiao_model::protocol::Message;
use std::time::Instant;

const OFFLINE_MEMBERS: usize = 10_000;
const ONLINE_MEMBERS: usize = 20;

#[tokio::test]
async fn a_channel_of_ten_thousand_members_fans_out_to_the_online_ones() {
    let relay = Relay::start().await;
    let admin = relay.admin().await;
    let r = relay
        .post("/api/channels", Some(&admin.token), serde_json::json!({ "name": "全员大群", "private": true }))
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let ch: ChannelSummary = r.json();
    let id = ch.head_document;

    let mut online = Vec::new();
    for i in 0..ONLINE_MEMBERS {
        online.push(relay.employee(&format!("on{i}")).await);
    }
    let outsider = relay.employee("outsider").await;

    // 10,000 accounts that never log in, all members, written in one transaction.
    let t = Instant::now();
    let mut tx = relay.state.store.pool().begin().await.expect("begin");
    for i in 0..OFFLINE_MEMBERS {
        let uid: i64 = sqlx::query_scalar(
            "INSERT INTO users (username, display_name, password_hash, role, created_at) VALUES (?, ?, 'x', 'employee', 0) RETURNING id",
        )
        .bind(format!("off{i}"))
        .bind(format!("成员{i}"))
        .fetch_one(&mut *tx)
        .await
        .expect("insert user");
        sqlx::query("INSERT INTO channel_members (channel_id, user_id, role, joined_at) VALUES (?, ?, 'member', 0)")
            .bind(ch.id.as_str())
            .bind(uid)
            .execute(&mut *tx)
            .await
            .expect("insert member");
    }
    for u in &online {
        sqlx::query("INSERT INTO channel_members (channel_id, user_id, role, joined_at) VALUES (?, ?, 'member', 0)")
            .bind(ch.id.as_str())
            .bind(u.id.0)
            .execute(&mut *tx)
            .await
            .expect("insert member");
    }
    tx.commit().await.expect("commit");
    eprintln!("seeded {OFFLINE_MEMBERS} members in {:?}", t.elapsed());

    // The member list answers with everyone.
    let t = Instant::now();
    let r = relay.get(&format!("/api/channels/{}/members", ch.id), Some(&online[0].token)).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let members: Vec<serde_json::Value> = r.json();
    assert_eq!(members.len(), OFFLINE_MEMBERS + ONLINE_MEMBERS + 1, "everyone, the owner included");
    eprintln!("member list of {} in {:?}", members.len(), t.elapsed());

    // The online members open the channel; the outsider is refused.
    let mut clients = Vec::new();
    for u in &online {
        let mut c = relay.connect(u).await;
        let mut doc = chat_doc(&ch, u);
        c.sync(id, &mut doc).await.expect("a member opens the big channel");
        clients.push((c, doc));
    }
    let mut o = relay.connect(&outsider).await;
    let mut odoc = chat_doc(&ch, &outsider);
    o.send(&o.sync_frame(id, first_sync_bytes(&mut odoc), true)).await.expect("send");

    // One message: every online member gets it pushed, without asking.
    let mut a = relay.connect(&admin).await;
    let mut adoc = chat_doc(&ch, &admin);
    a.sync(id, &mut adoc).await.expect("admin syncs");
    say(&mut adoc, &admin, "明天上午十点全员大会");
    let t = Instant::now();
    a.sync(id, &mut adoc).await.expect("admin's message is acknowledged");
    let head = adoc.get_heads();
    let mut worst = std::time::Duration::ZERO;
    for (c, doc) in clients.iter_mut() {
        loop {
            match c.next_event(STEP).await {
                Event::Msg(Message::Sync { document_id, data, .. }) if document_id == id => {
                    c.receive(id, doc, &data);
                    if head.iter().all(|h| doc.get_change_by_hash(h).is_some()) {
                        break;
                    }
                }
                Event::Msg(_) => {}
                other => panic!("the message was not pushed to an online member: {other:?}"),
            }
        }
        worst = worst.max(t.elapsed());
        assert_eq!(texts(doc), ["明天上午十点全员大会"]);
    }
    eprintln!("fan-out to {ONLINE_MEMBERS} online of {} members: last delivery after {worst:?}", members.len());
    loop {
        match o.next_event(STEP).await {
            Event::Msg(Message::DocUnavailable { document_id, .. }) if document_id == id => break,
            Event::Msg(Message::Sync { document_id, .. }) => {
                assert_ne!(document_id, id, "the outsider got the big channel")
            }
            Event::Msg(_) => {}
            other => panic!("expected doc-unavailable for the outsider, got {other:?}"),
        }
    }
}
