//! Helpdesk tickets at the relay: a ticket through its whole life (opened, assigned, answered,
//! resolved, confirmed with a rating) with the times the relay records by its own clock, the
//! figures computed from them, and the walls around a ticket: an outsider gets nothing of it
//! (document, list entry, attachment), a requester cannot resolve their own ticket nor touch an
//! agent's reply, and only a super admin names agents or reads the figures.

mod common;
mod org_support;

use automerge::AutoCommit;
use automerge::ReadDoc;
use automerge::transaction::Transactable;
use common::*;
use qiao_model::actor::actor_for;
use qiao_model::api::{FileInfo, UploadState};
use qiao_model::protocol::Message;
use qiao_model::schema::helpdesk::{self, Agent, Figures, FiguresScope, Status, TicketList, TicketSummary};
use sha2::{Digest, Sha256};

async fn open(relay: &Relay, user: &User, title: &str, category: &str, key: &str) -> TicketSummary {
    let body = serde_json::json!({
        "title": title, "category": category, "description": "三楼东侧", "client_key": key,
    });
    let r = relay.post("/api/helpdesk/tickets", Some(&user.token), body).await;
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()
}

async fn list(relay: &Relay, user: &User) -> TicketList {
    let r = relay.get("/api/helpdesk/tickets", Some(&user.token)).await;
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()
}

async fn entry(relay: &Relay, user: &User, id: &str) -> TicketSummary {
    let r = relay.get(&format!("/api/helpdesk/tickets/{id}"), Some(&user.token)).await;
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()
}

fn replica(t: &TicketSummary, user: &User, device: u8) -> AutoCommit {
    let mut d = helpdesk::genesis(&t.id, t.requester);
    d.set_actor(actor_for(user.id, [device; 8]));
    d
}

/// Make the relay's clock visibly move on between two steps (its stamps are milliseconds).
async fn tick() {
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
}

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

fn median(mut v: Vec<i64>) -> Option<i64> {
    v.sort();
    match v.len() {
        0 => None,
        n if n % 2 == 1 => Some(v[n / 2]),
        n => Some((v[n / 2 - 1] + v[n / 2]) / 2),
    }
}

#[tokio::test]
async fn a_ticket_through_its_whole_life_and_the_figures_add_up() {
    let relay = Relay::start().await;
    let admin = relay.admin().await;
    let ann = relay.employee("ann").await;
    let ivy = relay.employee("ivy").await;
    let eve = relay.employee("eve").await;

    // Only a super admin names agents; Ivy becomes one.
    let r = http(
        relay.addr,
        "PUT",
        "/api/helpdesk/agents",
        Some(&ivy.token),
        Some(serde_json::json!({ "users": [ivy.id] })),
    )
    .await;
    assert_eq!(r.status, 403, "{}", r.text());
    let r = http(
        relay.addr,
        "PUT",
        "/api/helpdesk/agents",
        Some(&admin.token),
        Some(serde_json::json!({ "users": [ivy.id] })),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let agents: Vec<Agent> = r.json();
    assert!(agents.iter().any(|a| a.id == ivy.id && !a.super_admin));
    assert!(agents.iter().any(|a| a.id == admin.id && a.super_admin), "super admins always are agents");

    // Ann opens a ticket; a retry with the same client key answers the same ticket.
    let before = qiao_server::store::now_ms();
    let t = open(&relay, &ann, "打印机卡纸", "printer", "k1").await;
    assert_eq!(open(&relay, &ann, "打印机卡纸", "printer", "k1").await.id, t.id);
    assert!(t.created_at >= before);
    assert_eq!((t.status, t.first_response_at, t.requester), (Status::New, None, ann.id));
    let bad = relay
        .post(
            "/api/helpdesk/tickets",
            Some(&ann.token),
            serde_json::json!({ "title": "x", "category": "coffee", "client_key": "k9" }),
        )
        .await;
    assert_eq!(bad.status, 400, "an unknown category is refused: {}", bad.text());

    // Her replica gets what the relay wrote.
    let mut a = relay.connect(&ann).await;
    let mut doc_a = replica(&t, &ann, 1);
    a.sync(t.document, &mut doc_a).await.expect("ann reads her ticket");
    let read = helpdesk::read(&doc_a).expect("a ticket");
    assert_eq!(
        (read.title.as_str(), read.category.as_str(), read.requester_name.as_str()),
        ("打印机卡纸", "printer", "ann")
    );

    // The agent sees it in the queue, takes it and answers.
    let queue = list(&relay, &ivy).await;
    assert!(queue.agent && queue.tickets.iter().any(|x| x.id == t.id));
    tick().await;
    let mut i = relay.connect(&ivy).await;
    let mut doc_i = replica(&t, &ivy, 2);
    i.sync(t.document, &mut doc_i).await.expect("the agent reads it");
    helpdesk::assign(&mut doc_i, Some((ivy.id, "ivy".into())), 1);
    helpdesk::reply(&mut doc_i, "r1", ivy.id, "ivy", "请先重启打印机", 2).unwrap();
    i.sync(t.document, &mut doc_i).await.expect("assign and reply");
    let e = entry(&relay, &ann, &t.id).await;
    assert_eq!((e.status, e.assignee), (Status::InProgress, Some(ivy.id)));
    let responded = e.first_response_at.expect("first response recorded");
    assert!(responded > t.created_at);

    // An agent assigns only to agents: Eve is none.
    let mut wrong = doc_i.fork().with_actor(actor_for(ivy.id, [5; 8]));
    helpdesk::assign(&mut wrong, Some((eve.id, "eve".into())), 2);
    let mut i2 = relay.connect(&ivy).await;
    i2.sync(t.document, &mut wrong).await.expect_err("eve is not an agent").assert_says("helpdesk agents only");
    assert_eq!(entry(&relay, &ann, &t.id).await.assignee, Some(ivy.id));

    // The requester may not resolve her own ticket, nor change the agent's reply.
    a.sync_until_has(t.document, &mut doc_a, &doc_i.get_heads()).await.expect("ann hears the answer");
    let mut forged = doc_a.fork().with_actor(actor_for(ann.id, [3; 8]));
    helpdesk::set_status(&mut forged, Status::Resolved, 3);
    a.sync(t.document, &mut forged).await.expect_err("a requester cannot resolve").assert_says("resolved");
    let mut a = relay.connect(&ann).await;
    let mut forged = doc_a.fork().with_actor(actor_for(ann.id, [4; 8]));
    let key = helpdesk::read(&forged).unwrap().replies[0].key.clone();
    let replies = forged.get(automerge::ROOT, "replies").unwrap().unwrap().1;
    let reply = forged.get(&replies, key.as_str()).unwrap().unwrap().1;
    forged.put(&reply, "body", "打印机没问题").unwrap();
    forged.commit();
    a.sync(t.document, &mut forged).await.expect_err("nobody edits another's reply").assert_says("reply");
    let mut a = relay.connect(&ann).await;
    a.sync(t.document, &mut doc_a).await.expect("ann's own replica still syncs");
    helpdesk::reply(&mut doc_a, "r2", ann.id, "ann", "重启了还是卡", 4).unwrap();
    a.sync(t.document, &mut doc_a).await.expect("ann replies");

    // Resolved by the agent, then confirmed with a rating by Ann.
    tick().await;
    i.sync_until_has(t.document, &mut doc_i, &doc_a.get_heads()).await.expect("ivy hears ann");
    helpdesk::set_status(&mut doc_i, Status::Resolved, 5);
    i.sync(t.document, &mut doc_i).await.expect("resolve");
    let resolved = entry(&relay, &ivy, &t.id).await;
    assert_eq!(resolved.status, Status::Resolved);
    tick().await;
    a.sync_until_has(t.document, &mut doc_a, &doc_i.get_heads()).await.expect("ann hears it is resolved");
    helpdesk::confirm(&mut doc_a, 4, "谢谢", 6).unwrap();
    a.sync(t.document, &mut doc_a).await.expect("ann confirms and rates");
    let done = entry(&relay, &ann, &t.id).await;
    assert_eq!((done.status, done.rating), (Status::Closed, Some(4)));
    let (c, f, r, x) =
        (done.created_at, done.first_response_at.unwrap(), done.resolved_at.unwrap(), done.closed_at.unwrap());
    assert!(c < f && f < r && r < x, "times in order: created {c} < response {f} < resolved {r} < closed {x}");
    assert_eq!(f, responded, "the first response time stays");

    // Two more tickets: one resolved, one left open (3 opened, 2 solved).
    let t2 = open(&relay, &eve, "VPN 连不上", "network", "k2").await;
    let t3 = open(&relay, &ann, "新员工账号", "account", "k3").await;
    tick().await;
    let mut d2 = replica(&t2, &ivy, 5);
    i.sync(t2.document, &mut d2).await.expect("agent opens t2");
    helpdesk::reply(&mut d2, "r3", ivy.id, "ivy", "已重置", 7).unwrap();
    i.sync(t2.document, &mut d2).await.expect("answer t2");
    tick().await;
    helpdesk::set_status(&mut d2, Status::Resolved, 8);
    i.sync(t2.document, &mut d2).await.expect("resolve t2");

    let all = list(&relay, &admin).await;
    assert!(all.agent && all.admin);
    let rows: Vec<&TicketSummary> = all.tickets.iter().filter(|x| [&t.id, &t2.id, &t3.id].contains(&&x.id)).collect();
    assert_eq!(rows.len(), 3);
    let r = relay.get(&format!("/api/helpdesk/stats?from=0&to={}", i64::MAX), Some(&admin.token)).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let fig: Figures = r.json();
    assert_eq!((fig.all.opened, fig.all.solved), (3, 2));
    assert!((fig.all.resolution_rate.unwrap() - 2.0 / 3.0).abs() < 1e-9);
    let first: Vec<i64> = rows.iter().filter_map(|x| x.first_response_at.map(|f| f - x.created_at)).collect();
    assert_eq!(first.len(), 2, "t3 has had no answer");
    assert_eq!(fig.all.median_first_response_ms, median(first));
    let res: Vec<i64> = rows.iter().filter_map(|x| x.resolved_at.map(|f| f - x.created_at)).collect();
    assert_eq!(res.len(), 2);
    assert_eq!(fig.all.median_resolution_ms, median(res));
    assert_eq!((fig.all.rated, fig.all.average_rating), (1, Some(4.0)));
    let per = |c: &str| fig.per_category.iter().find(|(k, _)| k == c).unwrap().1.clone();
    assert_eq!((per("printer").opened, per("printer").solved), (1, 1));
    assert_eq!((per("account").opened, per("account").resolution_rate), (1, Some(0.0)));
    assert_eq!(per("other").opened, 0);
    // A period that holds none of them.
    let r = relay.get("/api/helpdesk/stats?from=0&to=1000", Some(&admin.token)).await;
    assert_eq!(r.json::<Figures>().all.opened, 0);
    // Not for employees or agents.
    let r = relay.get("/api/helpdesk/stats?from=0&to=1000", Some(&ivy.token)).await;
    assert_eq!(r.status, 403, "{}", r.text());

    // Eve sees her own ticket only.
    let mine = list(&relay, &eve).await;
    assert!(!mine.agent);
    assert_eq!(mine.tickets.iter().map(|x| x.id.as_str()).collect::<Vec<_>>(), [t2.id.as_str()]);
}

#[tokio::test]
async fn an_outsider_gets_nothing_of_a_ticket_and_its_attachment() {
    let relay = Relay::start().await;
    let admin = relay.admin().await;
    let ann = relay.employee("ann").await;
    let eve = relay.employee("eve").await;
    let t = open(&relay, &ann, "显示器不亮", "computer", "k1").await;

    // Ann attaches a screenshot, uploaded into the ticket.
    let bytes = b"\x89PNG screenshot of the broken screen".to_vec();
    let sha = hex::encode(Sha256::digest(&bytes));
    let body = serde_json::json!({ "ticket": t.id, "name": "屏幕.png", "size": bytes.len(), "mime": "image/png", "sha256": sha });
    let r = relay.post("/api/uploads", Some(&eve.token), body.clone()).await;
    assert_eq!(r.status, 404, "an outsider cannot upload into the ticket: {}", r.text());
    let r = relay.post("/api/uploads", Some(&ann.token), body).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let st: UploadState = r.json();
    let path = format!("/api/uploads/{}?offset=0", st.id);
    let r =
        http_bytes(relay.addr, "PUT", &path, Some(&ann.token), &[("Content-Type", "application/octet-stream")], &bytes)
            .await;
    assert_eq!(r.status, 200);
    let r = relay.post(&format!("/api/uploads/{}/complete", st.id), Some(&ann.token), serde_json::json!({})).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let file: FileInfo = r.json();
    let file_path = format!("/api/files/{}", file.id);
    let get = async |u: &User| http_bytes(relay.addr, "GET", &file_path, Some(&u.token), &[], &[]).await;
    assert_eq!(get(&ann).await.status, 200);
    assert_eq!(get(&admin).await.status, 200, "a super admin is an agent");
    assert_eq!(get(&eve).await.status, 404, "an outsider cannot download the attachment");

    // Nor list, nor read the entry, nor sync the document.
    assert!(list(&relay, &eve).await.tickets.is_empty());
    let r = relay.get(&format!("/api/helpdesk/tickets/{}", t.id), Some(&eve.token)).await;
    assert_eq!(r.status, 404, "{}", r.text());
    let mut e = relay.connect(&eve).await;
    let mut doc_e = replica(&t, &eve, 9);
    unavailable(&mut e, t.document, &mut doc_e).await;
    assert!(helpdesk::read(&doc_e).unwrap().title.is_empty(), "nothing of the ticket reached her");
    // Writing blind is refused the same way: nothing is stored.
    helpdesk::reply(&mut doc_e, "x", eve.id, "eve", "看看", 1).unwrap();
    let mut e = relay.connect(&eve).await;
    unavailable(&mut e, t.document, &mut doc_e).await;
    let mut a = relay.connect(&ann).await;
    let mut doc_a = replica(&t, &ann, 1);
    a.sync(t.document, &mut doc_a).await.expect("ann syncs");
    assert!(helpdesk::read(&doc_a).unwrap().replies.is_empty());
    assert!(!relay.refused_audit("helpdesk.read").await.is_empty());

    // Once named an agent, she sees it; removed again, she loses it.
    let put = async |users: serde_json::Value| {
        http(relay.addr, "PUT", "/api/helpdesk/agents", Some(&admin.token), Some(serde_json::json!({ "users": users })))
            .await
    };
    assert_eq!(put(serde_json::json!([eve.id])).await.status, 200);
    assert_eq!(get(&eve).await.status, 200);
    assert!(list(&relay, &eve).await.tickets.iter().any(|x| x.id == t.id));
    assert_eq!(put(serde_json::json!([])).await.status, 200);
    assert_eq!(get(&eve).await.status, 404);
}

/// A department admin sees the figures of tickets opened by people of their department only; an
/// employee sees none.
#[tokio::test]
async fn a_department_admin_sees_their_departments_figures() {
    let org = org_support::Org::start().await;
    let relay = &org.relay;
    let (s1, s2, e2) = (org.login("S1").await, org.login("S2").await, org.login("E2").await);
    open(relay, &s2, "显示器不亮", "computer", "s2-1").await;
    open(relay, &e2, "VPN 连不上", "network", "e2-1").await;
    open(relay, &e2, "账号锁定", "account", "e2-2").await;
    let opened = |user: &User| {
        let token = user.token.clone();
        async move {
            let r = relay.get("/api/helpdesk/stats?from=0&to=99999999999999", Some(&token)).await;
            (r.status, (r.status == 200).then(|| r.json::<Figures>().all.opened))
        }
    };
    assert_eq!(opened(&org.admin).await, (200, Some(3)), "a super admin counts every ticket");
    assert_eq!(opened(&s1).await, (200, Some(1)), "Sales' admin counts Sales' ticket only");
    assert_eq!(opened(&e2).await.0, 403, "an employee sees no figures");
    let l = list(relay, &s1).await;
    assert_eq!((l.figures, l.admin), (Some(FiguresScope::Department), false));
    assert_eq!(list(relay, &org.admin).await.figures, Some(FiguresScope::All));
    assert_eq!(list(relay, &e2).await.figures, None);
}
