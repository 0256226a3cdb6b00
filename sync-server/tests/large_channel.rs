//! A channel of 10,000 members works like a small one: its member list, access checks and a
//! message's fan-out cost do not depend on how many members are offline, because the relay sends
//! a change only to the connections that have the document open (the others catch up when they
//! connect). The figures are printed for the record; the assertions are what must hold.

mod common;

use common::*;
use qiao_model::api::{ChannelSummary, Member, MemberPage};
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

    // The member list comes a page at a time: the owner first, then by name; every member
    // exactly once across the pages, and the last page costs what the first one did.
    let everyone = OFFLINE_MEMBERS + ONLINE_MEMBERS + 1;
    let mut members: Vec<Member> = Vec::new();
    let mut after: Option<String> = None;
    let mut page_times = Vec::new();
    loop {
        let t = Instant::now();
        let path = match &after {
            Some(a) => format!("/api/channels/{}/members?limit=1000&after={a}", ch.id),
            None => format!("/api/channels/{}/members?limit=1000", ch.id),
        };
        let r = relay.get(&path, Some(&online[0].token)).await;
        page_times.push(t.elapsed());
        assert_eq!(r.status, 200, "{}", r.text());
        let page: MemberPage = r.json();
        assert_eq!(page.total as usize, everyone);
        assert!(page.members.len() <= 1000);
        members.extend(page.members);
        match page.next {
            Some(n) => after = Some(n),
            None => break,
        }
    }
    assert_eq!(members.len(), everyone, "everyone, the owner included");
    assert_eq!(members[0].role, "owner");
    let ids: std::collections::HashSet<_> = members.iter().map(|m| m.id).collect();
    assert_eq!(ids.len(), everyone, "no one twice");
    assert!(members[1..].windows(2).all(|w| (&w[0].display_name, w[0].id) <= (&w[1].display_name, w[1].id)));
    eprintln!("member list of {everyone} in {} pages: {page_times:?}", page_times.len());
    // A filter finds people on the relay, however far down the list they are.
    let r =
        relay.get(&format!("/api/channels/{}/members?q=%E6%88%90%E5%91%989999", ch.id), Some(&online[0].token)).await;
    let page: MemberPage = r.json();
    assert_eq!((page.total, page.members[0].username.as_str()), (1, "off9999"), "成员9999");
    let r = relay.get(&format!("/api/channels/{}/members?q=%25", ch.id), Some(&online[0].token)).await;
    assert_eq!(r.json::<MemberPage>().total, 0, "a % in the filter is a character, not a wildcard");
    let r = relay.get(&format!("/api/channels/{}/members?after=garbage", ch.id), Some(&online[0].token)).await;
    assert_eq!(r.status, 400);

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
