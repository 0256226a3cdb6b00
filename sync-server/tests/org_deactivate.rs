//! Deactivation and session revocation: a deactivated person's live sockets close within 1 s,
//! their sessions, logins and new sockets are refused, and everyone's directory shows it. Users
//! can list their sessions and log out their other devices.

mod common;
mod org_support;

use automerge::AutoCommit;
use common::*;
use org_support::*;
use qiao_model::api::{Deactivated, LoggedOutOthers, SessionInfo, UserStatus};
use std::time::Duration;

#[tokio::test]
async fn deactivation_cuts_every_live_socket_within_a_second() {
    let org = Org::start().await;
    let relay = &org.relay;
    let sales_admin = org.login("S1").await;
    // S2 on two devices, both syncing.
    let (phone, laptop) = (org.login("S2").await, org.login("S2").await);
    let general = relay.general(&phone).await;
    let mut sockets = Vec::new();
    for device in [&phone, &laptop] {
        let mut c = relay.connect(device).await;
        let mut doc = chat_doc(&general, device);
        say(&mut doc, device, "在线");
        c.sync(general.head_document, &mut doc).await.expect("syncs");
        sockets.push(c);
    }
    assert_eq!(relay.state.connections.user_count(phone.id), 2);
    // A colleague watches the directory.
    let e2 = org.login("E2").await;
    let mut watcher = relay.connect(&e2).await;
    let mut dir_doc = AutoCommit::new();
    synced_directory(&mut watcher, &mut dir_doc, 7).await;

    let since = audit_len(relay).await;
    let r = post_json(
        relay,
        &format!("/api/admin/users/{}/deactivate", phone.id.0),
        &sales_admin.token,
        serde_json::json!({}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let d: Deactivated = r.json();
    assert_eq!((d.user, d.sessions_revoked), (phone.id, 2));
    for s in &mut sockets {
        tokio::time::timeout(Duration::from_secs(1), s.expect_refusal())
            .await
            .expect("closed within 1 s of the deactivation")
            .assert_says("account deactivated");
    }

    // Nothing more gets through: not the old sessions, not a new socket, not a new login.
    for t in [&phone.token, &laptop.token] {
        assert_eq!(relay.get("/api/me", Some(t)).await.status, 401);
        let (status, _) = relay.refused_upgrade(relay.ws_request(Some(t), Some(&relay.origin()))).await;
        assert_eq!(status, 401);
    }
    let r = relay
        .post("/api/auth/login", None, serde_json::json!({ "username": "S2", "password": org.passwords["S2"] }))
        .await;
    assert_eq!(r.status, 401);

    let rows = audit_since(relay, since).await;
    let row = rows.iter().find(|r| r.action == "user.deactivate").expect("audit row");
    assert_eq!(
        (row.outcome.as_str(), row.user, row.target.clone()),
        ("ok", Some(sales_admin.id.0), format!("user:{}", phone.id))
    );
    assert!(row.detail.contains("2 sessions revoked"), "{row:?}");

    // The colleague's synced directory shows it.
    let deadline = tokio::time::Instant::now() + STEP;
    loop {
        watcher.sync(qiao_model::schema::directory::document_id(), &mut dir_doc).await.expect("syncs");
        let (_, users) = qiao_model::schema::directory::read(&dir_doc);
        if users.iter().any(|u| u.id == phone.id && u.status == UserStatus::Deactivated) {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "the directory did not show the deactivation");
    }
    relay.wait_connections(1).await;
    assert_eq!(relay.state.connections.user_count(phone.id), 0);
}

#[tokio::test]
async fn deactivating_twice_or_nobody_changes_nothing() {
    let org = Org::start().await;
    let relay = &org.relay;
    let e2 = org.user_id("E2").await;
    let path = format!("/api/admin/users/{}/deactivate", e2.0);
    assert_eq!(post_json(relay, &path, &org.admin.token, serde_json::json!({})).await.status, 200);
    let since = audit_len(relay).await;
    let r = post_json(relay, &path, &org.admin.token, serde_json::json!({})).await;
    assert_eq!(r.status, 409, "{}", r.text());
    assert!(audit_since(relay, since).await.is_empty());

    let r = post_json(relay, "/api/admin/users/999999/deactivate", &org.admin.token, serde_json::json!({})).await;
    assert_eq!(r.status, 404, "{}", r.text());
    let rows = audit_since(relay, since).await;
    assert_eq!(rows.len(), 1);
    assert_eq!(
        (rows[0].action.as_str(), rows[0].outcome.as_str(), rows[0].target.as_str()),
        ("user.deactivate", "refused", "user:999999")
    );
}

#[tokio::test]
async fn list_sessions_and_log_out_other_devices() {
    let relay = Relay::start().await;
    let here = relay.employee("li.lei").await;
    let (other, third) = (relay.login("li.lei", PASSWORD).await, relay.login("li.lei", PASSWORD).await);
    let bob = relay.employee("bob").await;

    let r = get(&relay, "/api/sessions", &here.token).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let sessions: Vec<SessionInfo> = r.json();
    assert_eq!(sessions.len(), 3, "only li.lei's own sessions: {sessions:?}");
    assert_eq!(sessions.iter().filter(|s| s.current).count(), 1);
    assert!(sessions.iter().all(|s| s.ip.as_deref() == Some("127.0.0.1") && s.expires_at > s.created_at));
    assert!(!r.text().contains("token"), "no token or hash in the list");

    let mut other_socket = relay.connect(&other).await;
    let mut bob_socket = relay.connect(&bob).await;
    let r = post_json(&relay, "/api/sessions/logout-others", &here.token, serde_json::json!({})).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json::<LoggedOutOthers>().revoked, 2);
    tokio::time::timeout(Duration::from_secs(1), other_socket.expect_refusal())
        .await
        .expect("the other device's socket closed within 1 s")
        .assert_says("session ended");
    assert_eq!(relay.get("/api/me", Some(&other.token)).await.status, 401);
    assert_eq!(relay.get("/api/me", Some(&third.token)).await.status, 401);
    assert_eq!(relay.get("/api/me", Some(&here.token)).await.status, 200, "this device stays");
    let sessions: Vec<SessionInfo> = get(&relay, "/api/sessions", &here.token).await.json();
    assert_eq!(sessions.len(), 1);
    assert!(sessions[0].current);

    // Bob's socket is untouched.
    let general = relay.general(&bob).await;
    let mut doc = chat_doc(&general, &bob);
    bob_socket.sync(general.head_document, &mut doc).await.expect("bob still syncs");
    let row = audit_rows(&relay).await.into_iter().rev().find(|r| r.action == "session.logout_others").unwrap();
    assert_eq!(row.user, Some(here.id.0));
}

/// A socket whose upgrade is in flight while the account is deactivated: the relay authenticated
/// it before the deactivation committed but registers it after `close_user` ran, so nothing
/// would ever close it. Every round opens several sockets at once and deactivates the person in
/// the middle of their upgrades; afterwards no socket of theirs may be left open.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_socket_upgrading_during_a_deactivation_is_closed_too() {
    let relay = Relay::start().await;
    let admin = relay.admin().await;
    let mut survivors = 0;
    for round in 0..40 {
        let who = relay.employee(&format!("racer{round}")).await;
        // The deactivation starts first; sockets keep arriving, 150 µs apart, while it commits.
        let path = format!("/api/admin/users/{}/deactivate", who.id.0);
        let mut opening = tokio::task::JoinSet::new();
        let arrive = async {
            for _ in 0..16 {
                let req = relay.ws_request(Some(&who.token), Some(&relay.origin()));
                opening.spawn(async move { SyncClient::try_connect(req).await });
                tokio::time::sleep(Duration::from_micros(150 + 50 * (round % 8))).await;
            }
        };
        let (r, ()) = tokio::join!(post_json(&relay, &path, &admin.token, serde_json::json!({})), arrive);
        assert_eq!(r.status, 200, "{}", r.text());
        let mut opened = Vec::new();
        while let Some(c) = opening.join_next().await {
            if let Ok(c) = c.expect("task") {
                opened.push(c);
            }
        }
        println!("round {round}: {} of 16 upgraded", opened.len());
        for mut c in opened {
            match tokio::time::timeout(Duration::from_secs(2), c.next_event(Duration::from_secs(2))).await {
                Ok(Event::Closed(_)) | Ok(Event::Msg(qiao_model::protocol::Message::Error { .. })) => {}
                _ => survivors += 1,
            }
        }
        let deadline = tokio::time::Instant::now() + Duration::from_secs(2);
        while relay.state.connections.user_count(who.id) > 0 && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        survivors += relay.state.connections.user_count(who.id);
    }
    assert_eq!(survivors, 0, "sockets of deactivated people still open");
}
