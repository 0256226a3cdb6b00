//! Conversations beyond public channels: direct messages, groups within the matrix's size limit,
//! membership changes — and that removing someone from a private conversation ends their live
//! sync of it at once, with nothing more for them afterwards.

mod common;

use common::*;
use qiao_model::api::{ChannelSummary, ConversationKind, Member, MemberPage};
use qiao_model::protocol::Message;
use std::time::{Duration, Instant};

async fn delete(relay: &Relay, path: &str, token: &str) -> Reply {
    http(relay.addr, "DELETE", path, Some(token), None).await
}

#[tokio::test]
async fn a_direct_message_is_found_again_and_private_to_its_two_people() {
    let relay = Relay::start().await;
    let ann = relay.employee("ann").await;
    let ben = relay.employee("ben").await;
    let cat = relay.employee("cat").await;
    let r = relay.post("/api/dms", Some(&ann.token), serde_json::json!({ "user": ben.id })).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let dm: ChannelSummary = r.json();
    assert_eq!(dm.kind, ConversationKind::Dm);
    assert_eq!(dm.dm_peer.as_ref().map(|p| p.id), Some(ben.id));
    // Ben opening it finds the same conversation, naming Ann.
    let again: ChannelSummary =
        relay.post("/api/dms", Some(&ben.token), serde_json::json!({ "user": ann.id })).await.json();
    assert_eq!(again.id, dm.id);
    assert_eq!(again.dm_peer.map(|p| p.id), Some(ann.id));
    assert!(relay.channels(&cat).await.iter().all(|c| c.id != dm.id), "a third person does not see it");
    let r = relay.get(&format!("/api/channels/{}/members", dm.id), Some(&cat.token)).await;
    assert_eq!(r.status, 404);
    // Nobody can be added to a DM.
    let r = relay
        .post(&format!("/api/channels/{}/members", dm.id), Some(&ann.token), serde_json::json!({ "user": cat.id }))
        .await;
    assert_eq!(r.status, 403, "{}", r.text());
}

#[tokio::test]
async fn employees_create_groups_of_at_most_five() {
    let relay = Relay::start().await;
    let boss = relay.employee("boss").await;
    let mut people = Vec::new();
    for n in 0..5 {
        people.push(relay.employee(&format!("p{n}")).await.id);
    }
    let r = relay
        .post(
            "/api/channels",
            Some(&boss.token),
            serde_json::json!({ "name": "六人组", "kind": "group", "members": people }),
        )
        .await;
    assert_eq!(r.status, 403, "six people is over the limit: {}", r.text());
    let r = relay
        .post(
            "/api/channels",
            Some(&boss.token),
            serde_json::json!({ "name": "五人组", "kind": "group", "members": &people[..4] }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let group: ChannelSummary = r.json();
    assert_eq!((group.kind, group.members, group.private), (ConversationKind::Group, 5, true));
    // A sixth by adding: refused too; an admin's own groups are not limited.
    let r = relay
        .post(
            &format!("/api/channels/{}/members", group.id),
            Some(&boss.token),
            serde_json::json!({ "user": people[4] }),
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.text());
    assert_eq!(relay.refused_audit("channel.create").await.len(), 1);
    let admin = relay.admin().await;
    let r = relay
        .post(
            "/api/channels",
            Some(&admin.token),
            serde_json::json!({ "name": "全员群", "kind": "group", "members": people }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    // Employees cannot create public channels; members see the member list.
    let r =
        relay.post("/api/channels", Some(&boss.token), serde_json::json!({ "name": "公告", "private": false })).await;
    assert_eq!(r.status, 403);
    let members: Vec<Member> =
        relay.get(&format!("/api/channels/{}/members", group.id), Some(&boss.token)).await.json::<MemberPage>().members;
    assert_eq!(members.len(), 5);
    assert_eq!(members.iter().filter(|m| m.role == "owner").count(), 1);
}

#[tokio::test]
async fn removal_cuts_live_sync_within_a_second_and_nothing_more_arrives() {
    let relay = Relay::start().await;
    let owner = relay.employee("owner").await;
    let gone = relay.employee("gone").await;
    let r = relay
        .post(
            "/api/channels",
            Some(&owner.token),
            serde_json::json!({ "name": "项目组", "kind": "group", "members": [gone.id] }),
        )
        .await;
    let group: ChannelSummary = r.json();
    let id = group.head_document;

    let mut o = relay.connect(&owner).await;
    let mut doc_o = chat_doc(&group, &owner);
    say(&mut doc_o, &owner, "before");
    o.sync(id, &mut doc_o).await.expect("owner syncs");
    let mut g = relay.connect(&gone).await;
    let mut doc_g = chat_doc(&group, &gone);
    g.sync_until_has(id, &mut doc_g, &doc_o.get_heads()).await.expect("gone receives");
    assert_eq!(texts(&doc_g), ["before"]);

    let t = Instant::now();
    let r = delete(&relay, &format!("/api/channels/{}/members/{}", group.id, gone.id), &owner.token).await;
    assert_eq!(r.status, 204, "{}", r.text());
    // The removed member's live socket hears doc-unavailable for the document at once.
    loop {
        match g.next_event(Duration::from_secs(1)).await {
            Event::Msg(Message::DocUnavailable { document_id, .. }) if document_id == id => break,
            Event::Msg(_) => {}
            other => panic!("expected doc-unavailable within 1 s, got {other:?} after {:?}", t.elapsed()),
        }
    }
    assert!(t.elapsed() < Duration::from_secs(1), "revoked after {:?}", t.elapsed());

    // New messages never reach them, and their own writes are not accepted.
    say(&mut doc_o, &owner, "after");
    o.sync(id, &mut doc_o).await.expect("owner syncs");
    say(&mut doc_g, &gone, "sneaking in");
    g.send(&g.sync_frame(id, sync_bytes_with_changes(&mut doc_g), false)).await.expect("send");
    let deadline = Instant::now() + Duration::from_millis(800);
    while Instant::now() < deadline {
        if let Event::Msg(Message::Sync { document_id, .. }) = g.next_event(Duration::from_millis(200)).await {
            assert_ne!(document_id, id, "sync data after removal");
        }
    }
    assert!(relay.channels(&gone).await.iter().all(|c| c.id != group.id));
    let mut fresh = chat_doc(&group, &owner);
    let mut o2 = relay.connect(&owner).await;
    o2.sync(id, &mut fresh).await.expect("a fresh owner device syncs");
    assert_eq!(texts(&fresh), ["before", "after"], "the removed member's write was not stored");
}

#[tokio::test]
async fn archived_conversations_are_read_only() {
    let relay = Relay::start().await;
    let admin = relay.admin().await;
    let emp = relay.employee("emp").await;
    let general = relay.general(&admin).await;
    let r = relay.post(&format!("/api/channels/{}/archive", general.id), Some(&emp.token), serde_json::json!({})).await;
    assert_eq!(r.status, 403);
    let r =
        relay.post(&format!("/api/channels/{}/archive", general.id), Some(&admin.token), serde_json::json!({})).await;
    assert_eq!(r.status, 204, "{}", r.text());
    let listed = relay.general(&emp).await;
    assert!(listed.archived);
    let mut c = relay.connect(&emp).await;
    let mut doc = chat_doc(&general, &emp);
    say(&mut doc, &emp, "too late");
    let refusal = c.sync(general.head_document, &mut doc).await.expect_err("write to an archived channel");
    refusal.assert_says("read-only");
}
