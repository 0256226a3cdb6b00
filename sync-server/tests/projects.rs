//! Projects and their boards at the relay: members write the board, a company-visible project
//! is readable (not writable) by everyone else, a private one does not exist for outsiders, and
//! the board's own rules (comments in one's own name) hold. Removing a member ends their sync.

mod common;

use automerge::AutoCommit;
use common::*;
use qiao_model::actor::actor_for;
use qiao_model::api::{Member, ProjectSummary};
use qiao_model::protocol::Message;
use qiao_model::schema::tasks::{self, Edit, Task};

fn board(p: &ProjectSummary, user: &User) -> AutoCommit {
    let mut d = tasks::genesis(&p.id);
    d.set_actor(actor_for(user.id, [7; 8]));
    d
}

fn task(id: &str, title: &str, by: &User) -> Task {
    Task {
        id: id.into(),
        title: title.into(),
        column: "todo".into(),
        order: 1.0,
        created_by: by.id,
        created_at: 1_000,
        ..Default::default()
    }
}

async fn create(relay: &Relay, owner: &User, body: serde_json::Value) -> ProjectSummary {
    let r = relay.post("/api/projects", Some(&owner.token), body).await;
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()
}

async fn listed(relay: &Relay, user: &User) -> Vec<ProjectSummary> {
    let r = relay.get("/api/projects", Some(&user.token)).await;
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()
}

/// Request `id` and wait for `doc-unavailable`, with no sync data about it.
async fn unavailable(c: &mut SyncClient, id: qiao_model::ids::DocumentId, doc: &mut AutoCommit) {
    c.send(&c.sync_frame(id, first_sync_bytes(doc), true)).await.expect("send request");
    loop {
        match c.next_event(STEP).await {
            Event::Msg(Message::DocUnavailable { document_id, .. }) if document_id == id => return,
            Event::Msg(Message::Sync { document_id, .. }) => assert_ne!(document_id, id, "sync data about {id}"),
            Event::Msg(_) => {}
            other => panic!("expected doc-unavailable, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn members_share_a_board_and_outsiders_see_nothing_of_a_private_project() {
    let relay = Relay::start().await;
    let ann = relay.employee("ann").await;
    let ben = relay.employee("ben").await;
    let eve = relay.employee("eve").await;
    let p = create(&relay, &ann, serde_json::json!({ "name": "发布 2.0", "members": [ben.id] })).await;
    assert!(p.member);
    assert_eq!(p.members, 2);
    assert_eq!(p.document, tasks::board_id(&p.id));

    // Ann adds a task; Ben moves it and comments.
    let mut a = relay.connect(&ann).await;
    let mut doc_a = board(&p, &ann);
    tasks::create(&mut doc_a, &task("t1", "写发布说明", &ann), 1_000).unwrap();
    a.sync(p.document, &mut doc_a).await.expect("ann writes the board");
    let mut b = relay.connect(&ben).await;
    let mut doc_b = board(&p, &ben);
    b.sync(p.document, &mut doc_b).await.expect("ben reads it");
    assert_eq!(tasks::tasks(&doc_b).len(), 1);
    tasks::edit(&mut doc_b, "t1", Edit::Move("doing".into(), 1.0), 2_000).unwrap();
    tasks::add_comment(&mut doc_b, "t1", ben.id, "我来写", "n1", 2_000).unwrap();
    b.sync(p.document, &mut doc_b).await.expect("ben moves and comments");
    a.sync_until_has(p.document, &mut doc_a, &doc_b.get_heads()).await.expect("ann hears of it");
    assert_eq!(tasks::task(&doc_a, "t1").unwrap().column, "doing");
    assert_eq!(tasks::comments(&doc_a, "t1")[0].author, ben.id);

    // Eve: not listed, no members, and the board is unavailable.
    assert!(listed(&relay, &eve).await.iter().all(|x| x.id != p.id));
    let r = relay.get(&format!("/api/projects/{}/members", p.id), Some(&eve.token)).await;
    assert_eq!(r.status, 404, "{}", r.text());
    let mut e = relay.connect(&eve).await;
    let mut doc_e = board(&p, &eve);
    unavailable(&mut e, p.document, &mut doc_e).await;
    assert!(tasks::tasks(&doc_e).is_empty());

    // A comment in someone else's name is refused and never relayed.
    tasks::add_comment(&mut doc_b, "t1", ann.id, "假冒", "n2", 3_000).unwrap();
    let refusal = b.sync(p.document, &mut doc_b).await.expect_err("a forged comment is refused");
    refusal.assert_says("real author");
    a.sync(p.document, &mut doc_a).await.expect("ann syncs");
    assert_eq!(tasks::comments(&doc_a, "t1").len(), 1);

    // Ben (a member) may not remove Ann's comment; Ann, the project's owner, may remove his.
    tasks::add_comment(&mut doc_a, "t1", ann.id, "收到", "n3", 4_000).unwrap();
    a.sync(p.document, &mut doc_a).await.expect("ann comments");
    let mut b = relay.connect(&ben).await;
    let mut doc_b = board(&p, &ben);
    b.sync(p.document, &mut doc_b).await.expect("ben reads again");
    let anns = tasks::comments(&doc_b, "t1").into_iter().find(|c| c.author == ann.id).unwrap().key;
    tasks::remove_comment(&mut doc_b, &anns, 5_000).unwrap();
    b.sync(p.document, &mut doc_b).await.expect_err("removing another's comment is refused").assert_says("owner");
    let bens = tasks::comments(&doc_a, "t1").into_iter().find(|c| c.author == ben.id).unwrap().key;
    tasks::remove_comment(&mut doc_a, &bens, 6_000).unwrap();
    a.sync(p.document, &mut doc_a).await.expect("the owner moderates her board");
    assert_eq!(tasks::comments(&doc_a, "t1").len(), 1);
}

#[tokio::test]
async fn a_company_project_is_read_only_to_non_members_and_membership_is_the_owners() {
    let relay = Relay::start().await;
    let ann = relay.employee("ann").await;
    let ben = relay.employee("ben").await;
    let p = create(&relay, &ann, serde_json::json!({ "name": "公司路线图", "visibility": "company" })).await;
    let seen = listed(&relay, &ben).await;
    let mine = seen.iter().find(|x| x.id == p.id).expect("everyone sees a company project");
    assert!(!mine.member);

    let mut a = relay.connect(&ann).await;
    let mut doc_a = board(&p, &ann);
    tasks::create(&mut doc_a, &task("t1", "Q3 目标", &ann), 1_000).unwrap();
    a.sync(p.document, &mut doc_a).await.expect("owner writes");

    let mut b = relay.connect(&ben).await;
    let mut doc_b = board(&p, &ben);
    b.sync(p.document, &mut doc_b).await.expect("ben reads");
    assert_eq!(tasks::tasks(&doc_b)[0].title, "Q3 目标");
    tasks::edit(&mut doc_b, "t1", Edit::Title("改掉".into()), 2_000).unwrap();
    b.sync(p.document, &mut doc_b).await.expect_err("a non-member's edit is refused").assert_says("read-only");

    // Ben cannot add himself; the owner can, and then his edits go through.
    let add = format!("/api/projects/{}/members", p.id);
    let r = relay.post(&add, Some(&ben.token), serde_json::json!({ "user": ben.id })).await;
    assert_eq!(r.status, 403, "{}", r.text());
    assert!(!relay.refused_audit("project.member_add").await.is_empty());
    let r = relay.post(&add, Some(&ann.token), serde_json::json!({ "user": ben.id })).await;
    assert_eq!(r.status, 204, "{}", r.text());
    let members: Vec<Member> = relay.get(&add, Some(&ben.token)).await.json();
    assert_eq!(members.len(), 2);

    let mut b = relay.connect(&ben).await;
    let mut doc_b = board(&p, &ben);
    b.sync(p.document, &mut doc_b).await.expect("ben reads again");
    tasks::edit(&mut doc_b, "t1", Edit::Assign(ben.id, true), 3_000).unwrap();
    b.sync(p.document, &mut doc_b).await.expect("a member's edit is accepted");

    // Removed again: his live sync ends at once (doc-unavailable), and the owner stays.
    let r = http(relay.addr, "DELETE", &format!("{add}/{}", ben.id), Some(&ann.token), None).await;
    assert_eq!(r.status, 204, "{}", r.text());
    loop {
        match b.next_event(STEP).await {
            Event::Msg(Message::DocUnavailable { document_id, .. }) if document_id == p.document => break,
            Event::Msg(_) => {}
            other => panic!("expected the relay to end ben's sync, got {other:?}"),
        }
    }
    let r = http(relay.addr, "DELETE", &format!("{add}/{}", ann.id), Some(&ann.token), None).await;
    assert_eq!(r.status, 400, "{}", r.text());
}

#[tokio::test]
async fn the_tasks_module_off_refuses_projects() {
    let relay = Relay::start().await;
    let admin = relay.admin().await;
    let ann = relay.employee("ann").await;
    let p = create(&relay, &ann, serde_json::json!({ "name": "x" })).await;
    let r =
        http(relay.addr, "PUT", "/api/admin/modules", Some(&admin.token), Some(serde_json::json!({ "tasks": false })))
            .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(listed(&relay, &ann).await.is_empty());
    let r = relay.post("/api/projects", Some(&ann.token), serde_json::json!({ "name": "y" })).await;
    assert_ne!(r.status, 200);
    let mut a = relay.connect(&ann).await;
    let mut doc = board(&p, &ann);
    unavailable(&mut a, p.document, &mut doc).await;
}
