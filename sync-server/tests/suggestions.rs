//! The suggestion box at the relay: suggestions come in through `POST /api/suggestions` only;
//! over sync an employee may only give and take back their own upvote, and an admin (super or
//! department) may set a status and reply. Everything else is refused and audited.

mod common;

use automerge::AutoCommit;
use automerge::ReadDoc;
use automerge::transaction::Transactable;
use common::*;
use qiao_model::actor::actor_for;
use qiao_model::ids::UserId;
use qiao_model::schema::directory::SERVER_USER;
use qiao_model::schema::suggestions::{self as sug, Signer, Status};
use serde_json::json;

fn doc(user: UserId) -> AutoCommit {
    let mut d = sug::genesis();
    d.set_actor(actor_for(user, [7; 8]));
    d
}

async fn submit(relay: &Relay, who: &User, id: &str, body: &str, anonymous: bool) -> Reply {
    relay
        .post(
            "/api/suggestions",
            Some(&who.token),
            json!({ "id": id, "title": "", "body": body, "anonymous": anonymous }),
        )
        .await
}

#[tokio::test]
async fn only_the_relay_files_suggestions_employees_vote_for_themselves_admins_reply() {
    let relay = Relay::start().await;
    let admin = relay.admin().await;
    let alice = relay.employee("alice").await;
    let bob = relay.employee("bob").await;
    let id = sug::document_id();

    // Filing through the relay: anonymous and signed; a resent id files once; bad input is 400.
    let r = submit(&relay, &alice, "sug-anon-0001", "会议室预订系统太慢", true).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json::<sug::Submitted>(), sug::Submitted { id: "sug-anon-0001".into(), created: true });
    let r = submit(&relay, &alice, "sug-anon-0001", "会议室预订系统太慢", true).await;
    assert!(!r.json::<sug::Submitted>().created, "the same outbox entry sent twice files once");
    assert_eq!(submit(&relay, &bob, "sug-signed-01", "增加自行车停车位", false).await.status, 200);
    assert_eq!(submit(&relay, &bob, "sug-empty-001", "   ", false).await.status, 400);
    assert_eq!(submit(&relay, &bob, "bad id", "x", false).await.status, 400);
    assert_eq!(
        relay
            .post("/api/suggestions", None, json!({ "id": "sug-nobody-01", "body": "x", "anonymous": true }))
            .await
            .status,
        401
    );

    // Everyone reads both; the anonymous one has no author, the signed one names Bob.
    let mut b = relay.connect(&bob).await;
    let mut bd = doc(bob.id);
    b.sync(id, &mut bd).await.expect("reads");
    let list = sug::list(&bd);
    assert_eq!(list.len(), 2);
    let anon = list.iter().find(|s| s.id == "sug-anon-0001").unwrap();
    assert_eq!((anon.author, anon.author_name.as_str(), anon.status), (None, "", Status::New));
    assert_eq!(list.iter().find(|s| s.id == "sug-signed-01").unwrap().author, Some(bob.id));

    // Bob upvotes and takes it back, in his own name.
    assert!(sug::toggle_vote(&mut bd, "sug-anon-0001", bob.id).unwrap());
    b.sync(id, &mut bd).await.expect("one's own upvote");
    assert!(!sug::toggle_vote(&mut bd, "sug-anon-0001", bob.id).unwrap());
    b.sync(id, &mut bd).await.expect("taking one's own upvote back");
    assert!(sug::toggle_vote(&mut bd, "sug-anon-0001", bob.id).unwrap());
    b.sync(id, &mut bd).await.expect("and giving it again");

    // Bob forges Alice's upvote.
    sug::toggle_vote(&mut bd, "sug-signed-01", alice.id).unwrap();
    b.sync(id, &mut bd).await.expect_err("someone else's upvote").assert_says("person it names");

    // Bob sets a status and replies.
    let mut b = relay.connect(&bob).await;
    let mut bd = doc(bob.id);
    b.sync(id, &mut bd).await.expect("reads");
    let bob_signer = Signer { id: bob.id, name: "bob".into() };
    sug::respond(&mut bd, "sug-anon-0001", Status::Adopted, "我批准了", &bob_signer, 1).unwrap();
    b.sync(id, &mut bd).await.expect_err("an employee's status").assert_says("only admins");

    // Bob writes a suggestion over sync, even one that looks like the relay's.
    let mut b = relay.connect(&bob).await;
    let mut bd = doc(bob.id);
    b.sync(id, &mut bd).await.expect("reads");
    let (_, items) = bd.get(automerge::ROOT, "items").unwrap().unwrap();
    let o = bd.put_object(&items, "sug-forged-01", automerge::ObjType::Map).unwrap();
    bd.put(&o, "body", "伪造的建议").unwrap();
    bd.commit();
    b.sync(id, &mut bd).await.expect_err("a submission over sync").assert_says("filed through the relay");
    let mut b = relay.connect(&bob).await;
    let mut bd = sug::genesis();
    bd.set_actor(actor_for(SERVER_USER, [7; 8]));
    b.sync(id, &mut bd).await.expect("reads");
    let forged = sug::Submission {
        id: "sug-forged-02".into(),
        title: String::new(),
        body: "冒充中继".into(),
        category: String::new(),
        anonymous: true,
    };
    sug::submit(&mut bd, &forged, None, 0).unwrap();
    bd.commit();
    b.sync(id, &mut bd).await.expect_err("under the relay's actor").assert_says("not yours");
    assert!(relay.refused_audit("sync.write").await.len() >= 4, "each refusal is audited");

    // The super admin replies and sets the status; a department admin may too.
    let mut a = relay.connect(&admin).await;
    let mut ad = doc(admin.id);
    a.sync(id, &mut ad).await.expect("reads");
    let admin_signer = Signer { id: admin.id, name: "管理员".into() };
    sug::respond(&mut ad, "sug-anon-0001", Status::Review, "已转交行政部评估", &admin_signer, 5_000).unwrap();
    a.sync(id, &mut ad).await.expect("an admin replies");
    sqlx::query("UPDATE users SET role = 'dept_admin' WHERE id = ?")
        .bind(alice.id.0)
        .execute(relay.state.store.pool())
        .await
        .unwrap();
    let mut c = relay.connect(&alice).await;
    let mut cd = doc(alice.id);
    c.sync(id, &mut cd).await.expect("reads");
    let alice_signer = Signer { id: alice.id, name: "alice".into() };
    sug::respond(&mut cd, "sug-signed-01", Status::Declined, "", &alice_signer, 6_000).unwrap();
    c.sync(id, &mut cd).await.expect("a department admin sets a status");

    // What everyone now reads, from a fresh copy.
    let mut f = relay.connect(&bob).await;
    let mut fd = doc(bob.id);
    f.sync(id, &mut fd).await.expect("reads");
    f.sync(id, &mut fd).await.expect("reads");
    let list = sug::list(&fd);
    let anon = list.iter().find(|s| s.id == "sug-anon-0001").unwrap();
    assert_eq!(
        (anon.status, anon.reply.as_str(), anon.reply_name.as_str(), anon.votes),
        (Status::Review, "已转交行政部评估", "管理员", 1)
    );
    assert_eq!(list.iter().find(|s| s.id == "sug-signed-01").unwrap().status, Status::Declined);
    assert_eq!(list.len(), 2, "nothing forged got in");
}

#[tokio::test]
async fn a_switched_off_suggestion_box_takes_nothing() {
    let relay = Relay::start().await;
    let admin = relay.admin().await;
    let alice = relay.employee("alice").await;
    let r =
        http(relay.addr, "PUT", "/api/admin/modules", Some(&admin.token), Some(json!({ "suggestions": false }))).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let r = submit(&relay, &alice, "sug-off-00001", "x", true).await;
    assert_eq!(r.status, 403, "{}", r.text());
    let r = submit(&relay, &alice, "sug-off-00002", "x", false).await;
    assert_eq!(r.status, 403);
    // Only the signed attempt is audited: a row for the anonymous one would name its sender.
    let refused = relay.refused_audit("module.disabled").await;
    assert_eq!(refused.len(), 1, "{refused:?}");
    let mut c = relay.connect(&alice).await;
    let mut d = doc(alice.id);
    c.sync(sug::document_id(), &mut d).await.expect("answered");
    assert!(c.unavailable.contains(&sug::document_id()), "the document is unavailable while the module is off");
}

#[tokio::test]
async fn a_flood_of_suggestions_is_refused_for_a_while() {
    let relay = Relay::start().await;
    let alice = relay.employee("alice").await;
    for n in 0..qiao_server::http::suggestions::FLOOD_LIMIT {
        let r = submit(&relay, &alice, &format!("sug-flood-{n:04}"), "刷屏", true).await;
        assert_eq!(r.status, 200, "{n}: {}", r.text());
    }
    let r = submit(&relay, &alice, "sug-flood-over", "刷屏", true).await;
    assert_eq!(r.status, 429, "{}", r.text());
    let bob = relay.employee("bob").await;
    assert_eq!(submit(&relay, &bob, "sug-other-0001", "别人不受影响", true).await.status, 200);
}
