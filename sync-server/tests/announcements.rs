//! Announcements at the relay: publishers publish (a department admin to their department only),
//! everyone reads and acknowledges in their own name, and nothing else gets in.

mod common;
mod org_support;

use automerge::AutoCommit;
use common::*;
use org_support::*;
use qiao_model::actor::actor_for;
use qiao_model::ids::UserId;
use qiao_model::schema::announcements::{self as ann, Announcement};

fn board(user: UserId) -> AutoCommit {
    let mut d = ann::genesis();
    d.set_actor(actor_for(user, [9; 8]));
    d
}

fn item(id: &str, author: &User, dept: &str) -> Announcement {
    Announcement {
        id: id.into(),
        title: "系统升级通知".into(),
        body: "周六 22:00 起停机两小时。".into(),
        category: "IT".into(),
        must_read: true,
        dept: dept.into(),
        author: author.id,
        author_name: author.username.clone(),
        ts: 1_000,
        ..Default::default()
    }
}

#[tokio::test]
async fn publishers_publish_everyone_acknowledges_for_themselves() {
    let org = Org::start().await;
    let relay = &org.relay;
    let id = ann::document_id();
    let admin = &org.admin;
    let s1 = org.login("S1").await; // Sales department admin
    let s2 = org.login("S2").await; // Sales employee
    let sales = org.dept("Sales").await;

    let mut a = relay.connect(admin).await;
    let mut doc = board(admin.id);
    ann::publish(&mut doc, &item("a1", admin, ""), 1_000).unwrap();
    a.sync(id, &mut doc).await.expect("a super admin publishes to everyone");

    // The department admin: to Sales yes, to everyone no.
    let mut c = relay.connect(&s1).await;
    let mut d1 = board(s1.id);
    c.sync(id, &mut d1).await.expect("reads");
    ann::publish(&mut d1, &item("s1", &s1, sales.as_str()), 2_000).unwrap();
    c.sync(id, &mut d1).await.expect("a department admin publishes to their department");
    ann::publish(&mut d1, &item("s2", &s1, ""), 3_000).unwrap();
    c.sync(id, &mut d1).await.expect_err("not to everyone").assert_says("own department");

    // The employee: reads both, acknowledges in their own name only, cannot publish.
    let mut e = relay.connect(&s2).await;
    let mut d2 = board(s2.id);
    e.sync(id, &mut d2).await.expect("reads");
    assert_eq!(ann::list(&d2).len(), 2);
    assert_eq!(ann::unacknowledged(&d2, s2.id, Some(sales.as_str())).len(), 2);
    ann::acknowledge(&mut d2, "a1", s2.id, 4_000).unwrap();
    e.sync(id, &mut d2).await.expect("one's own acknowledgement");
    ann::acknowledge(&mut d2, "a1", s1.id, 5_000).unwrap();
    e.sync(id, &mut d2).await.expect_err("not someone else's").assert_says("person it names");
    let mut e = relay.connect(&s2).await;
    let mut d3 = board(s2.id);
    e.sync(id, &mut d3).await.expect("reads");
    ann::publish(&mut d3, &item("x", &s2, ""), 6_000).unwrap();
    e.sync(id, &mut d3).await.expect_err("an employee may not publish").assert_says("may not publish");

    let mut fresh = board(admin.id);
    let mut a = relay.connect(admin).await;
    a.sync(id, &mut fresh).await.expect("reads");
    let (read, not) = ann::read_list(&fresh, "a1", &[s1.id, s2.id]);
    assert_eq!(read.iter().map(|r| r.0).collect::<Vec<_>>(), [s2.id]);
    assert_eq!(not, [s1.id]);
    assert_eq!(ann::list(&fresh).len(), 2, "the refused ones never arrived");
}
