//! Web push at the relay, against a push service on loopback that records what it receives
//! (standing in for the browser vendor's service, which these machines cannot reach; the
//! browser half is tests/e2e/specs/push.spec.mjs).
//!
//! - Subscribing: only trusted push services, only real device keys, only when logged in.
//! - A direct message to a person whose app is closed arrives encrypted for their device alone
//!   (decrypted here with the device key), signed with the relay's VAPID key.
//! - Nobody hears of a message while their app is open, in a conversation they muted, or after
//!   they logged out; a mention reaches the person mentioned.
//! - A task reminder is pushed to its assignee once.
//! - A file waiting for approval reaches its approvers, the review reaches the uploader, a new
//!   helpdesk ticket reaches the agents.
//!
//! "Nothing arrived" is never asserted by waiting: the dispatcher handles events in order, so a
//! later message that must arrive proves the earlier one sent nothing.

mod common;

use automerge::AutoCommit;
use axum::body::Bytes;
use axum::http::HeaderMap;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use common::*;
use qiao_model::actor::actor_for;
use qiao_model::api::{ChannelSummary, ProjectSummary};
use qiao_model::schema::chat::{self, ChatMessage};
use qiao_model::schema::{tasks, user_state};
use ring::{aead, agreement, hkdf};
use std::time::Duration;
use tokio::sync::mpsc;

/// One request the push service received.
#[derive(Debug)]
struct Pushed {
    path: String,
    authorization: String,
    encoding: String,
    body: Vec<u8>,
}

/// A push service on 127.0.0.1: `/ok/...` answers 201, `/gone/...` 410.
async fn push_service() -> (String, mpsc::UnboundedReceiver<Pushed>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let app = axum::Router::new().fallback(move |uri: axum::http::Uri, headers: HeaderMap, body: Bytes| {
        let tx = tx.clone();
        async move {
            let h = |n: &str| headers.get(n).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
            let path = uri.path().to_string();
            let gone = path.starts_with("/gone/");
            let _ = tx.send(Pushed {
                path,
                authorization: h("authorization"),
                encoding: h("content-encoding"),
                body: body.to_vec(),
            });
            if gone { axum::http::StatusCode::GONE } else { axum::http::StatusCode::CREATED }
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let origin = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (origin, rx)
}

async fn next_push(rx: &mut mpsc::UnboundedReceiver<Pushed>, wait: Duration) -> Pushed {
    tokio::time::timeout(wait, rx.recv()).await.expect("a push arrives in time").expect("push service running")
}

/// A browser's push keys: its P-256 key pair (used once, to decrypt) and its auth secret.
struct Device {
    key: agreement::EphemeralPrivateKey,
    public: Vec<u8>,
    auth: [u8; 16],
}

fn device(seed: u8) -> Device {
    let key =
        agreement::EphemeralPrivateKey::generate(&agreement::ECDH_P256, &ring::rand::SystemRandom::new()).unwrap();
    let public = key.compute_public_key().unwrap().as_ref().to_vec();
    Device { key, public, auth: [seed; 16] }
}

struct Len(usize);
impl hkdf::KeyType for Len {
    fn len(&self) -> usize {
        self.0
    }
}

fn hkdf_sha256(salt: &[u8], ikm: &[u8], info: &[u8], len: usize) -> Vec<u8> {
    let info = [info];
    let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, salt).extract(ikm);
    let okm = prk.expand(&info, Len(len)).unwrap();
    let mut out = vec![0; len];
    okm.fill(&mut out).unwrap();
    out
}

/// RFC 8291 decryption, as the browser does it.
fn decrypt(dev: Device, body: &[u8]) -> serde_json::Value {
    let (salt, rest) = body.split_at(16);
    let idlen = rest[4] as usize;
    let (as_public, record) = (&rest[5..5 + idlen], &rest[5 + idlen..]);
    let peer = agreement::UnparsedPublicKey::new(&agreement::ECDH_P256, as_public);
    let ecdh = agreement::agree_ephemeral(dev.key, &peer, |s| s.to_vec()).unwrap();
    let mut info = b"WebPush: info\0".to_vec();
    info.extend_from_slice(&dev.public);
    info.extend_from_slice(as_public);
    let ikm = hkdf_sha256(&dev.auth, &ecdh, &info, 32);
    let cek = hkdf_sha256(salt, &ikm, b"Content-Encoding: aes128gcm\0", 16);
    let nonce = hkdf_sha256(salt, &ikm, b"Content-Encoding: nonce\0", 12);
    let key = aead::LessSafeKey::new(aead::UnboundKey::new(&aead::AES_128_GCM, &cek).unwrap());
    let mut buf = record.to_vec();
    let plain = key
        .open_in_place(aead::Nonce::try_assume_unique_for_key(&nonce).unwrap(), aead::Aad::empty(), &mut buf)
        .unwrap();
    assert_eq!(plain.last(), Some(&2));
    serde_json::from_slice(&plain[..plain.len() - 1]).expect("the payload is JSON")
}

fn subscription(endpoint: &str, dev: &Device) -> serde_json::Value {
    serde_json::json!({ "endpoint": endpoint, "keys": { "p256dh": B64.encode(&dev.public), "auth": B64.encode(dev.auth) } })
}

async fn subscribe(relay: &Relay, user: &User, endpoint: &str, dev: &Device) {
    let r = relay.post("/api/push/subscriptions", Some(&user.token), subscription(endpoint, dev)).await;
    assert_eq!(r.status, 204, "subscribe: {}", r.text());
}

async fn dm(relay: &Relay, from: &User, to: &User) -> ChannelSummary {
    let r = relay.post("/api/dms", Some(&from.token), serde_json::json!({ "user": to.id })).await;
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()
}

fn message(by: &User, id: &str, text: &str, mentions: Vec<qiao_model::ids::UserId>) -> ChatMessage {
    let mut m = ChatMessage::new(id.into(), by.id, by.username.clone(), 1_700_000_000_000, text.into());
    m.mentions = mentions;
    m
}

async fn send(relay: &Relay, by: &User, channel: &ChannelSummary, doc: &mut AutoCommit, m: ChatMessage) {
    chat::append(doc, &m).unwrap();
    let mut c = relay.connect(by).await;
    c.sync(channel.head_document, doc).await.expect("the message is accepted");
}

#[tokio::test]
async fn subscriptions_are_checked_before_they_are_stored() {
    let (origin, _rx) = push_service().await;
    let relay = Relay::start_with(|c| c.push_hosts = vec![origin.clone()]).await;
    let ann = relay.employee("ann").await;
    let dev = device(1);

    let key = relay.get("/api/push/key", Some(&ann.token)).await;
    assert_eq!(key.status, 200);
    let k: qiao_model::api::PushKey = key.json();
    assert_eq!(B64.decode(&k.public_key).unwrap().len(), 65, "an uncompressed P-256 point");
    assert_eq!(relay.get("/api/push/key", None).await.status, 401);

    for (endpoint, why) in [
        ("https://push.evil.example/x", "not a push service"),
        (&format!("{}/x", relay.origin()) as &str, "not a push service"),
        ("http://127.0.0.1:1/x", "not a push service"),
        ("file:///etc/passwd", "not a push service"),
        ("no url", "not a URL"),
    ] {
        let r = relay.post("/api/push/subscriptions", Some(&ann.token), subscription(endpoint, &dev)).await;
        assert_eq!(r.status, 400, "{endpoint}: {}", r.text());
        assert!(r.text().contains(why), "{endpoint}: {}", r.text());
    }
    let mut bad = subscription(&format!("{origin}/ok/1"), &dev);
    bad["keys"]["p256dh"] = B64.encode([4u8; 65]).into();
    let r = relay.post("/api/push/subscriptions", Some(&ann.token), bad).await;
    assert_eq!(r.status, 400, "a key that is not a curve point: {}", r.text());
    let mut bad = subscription(&format!("{origin}/ok/1"), &dev);
    bad["keys"]["auth"] = "!!".into();
    assert_eq!(relay.post("/api/push/subscriptions", Some(&ann.token), bad).await.status, 400);
    assert_eq!(
        relay.post("/api/push/subscriptions", None, subscription(&format!("{origin}/ok/1"), &dev)).await.status,
        401
    );
    subscribe(&relay, &ann, &format!("{origin}/ok/1"), &dev).await;
}

#[tokio::test]
async fn chat_pushes_reach_closed_apps_only_of_people_who_should_hear() {
    let (origin, mut rx) = push_service().await;
    let relay = Relay::start_with(|c| c.push_hosts = vec![origin.clone()]).await;
    let ann = relay.employee("ann").await;
    let ben = relay.employee("ben").await;
    let cy = relay.employee("cy").await;
    let ben_dev = device(2);
    subscribe(&relay, &ben, &format!("{origin}/ok/ben"), &ben_dev).await;
    subscribe(&relay, &cy, &format!("{origin}/ok/cy"), &device(3)).await;
    let key: qiao_model::api::PushKey = relay.get("/api/push/key", Some(&ben.token)).await.json();

    // Ann writes to Ben, whose app is closed: Ben's device gets it, encrypted and signed.
    let to_ben = dm(&relay, &ann, &ben).await;
    let mut doc = chat_doc(&to_ben, &ann);
    send(&relay, &ann, &to_ben, &mut doc, message(&ann, "m1", "明天 **9 点**开会，带上周报", vec![])).await;
    let p = next_push(&mut rx, STEP).await;
    assert_eq!(p.path, "/ok/ben");
    assert_eq!(p.encoding, "aes128gcm");
    assert!(!String::from_utf8_lossy(&p.body).contains("周报") && !p.body.windows(3).any(|w| w == "周".as_bytes()));
    let (t, k) = p.authorization.strip_prefix("vapid t=").unwrap().split_once(", k=").unwrap();
    assert_eq!(k, key.public_key);
    let (input, sig) = t.rsplit_once('.').unwrap();
    ring::signature::UnparsedPublicKey::new(&ring::signature::ECDSA_P256_SHA256_FIXED, B64.decode(k).unwrap())
        .verify(input.as_bytes(), &B64.decode(sig).unwrap())
        .expect("signed with the relay's VAPID key");
    let claims: serde_json::Value =
        serde_json::from_slice(&B64.decode(input.split('.').nth(1).unwrap()).unwrap()).unwrap();
    assert_eq!(claims["aud"], origin.as_str());
    let payload = decrypt(ben_dev, &p.body);
    assert_eq!(payload["kind"], "dm");
    assert_eq!(payload["title"], "ann");
    assert_eq!(payload["body"], "明天 9 点开会，带上周报");
    assert_eq!(payload["url"], format!("/?c={}", to_ben.id));

    // A message in a group of the three that mentions nobody: no push. One that mentions Cy
    // reaches Cy only (and is the next push: the plain one sent nothing).
    let r = relay
        .post(
            "/api/channels",
            Some(&ann.token),
            serde_json::json!({ "name": "项目组", "kind": "group", "members": [ben.id, cy.id] }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let general: ChannelSummary = r.json();
    let mut g = chat_doc(&general, &ann);
    send(&relay, &ann, &general, &mut g, message(&ann, "g1", "大家好", vec![])).await;
    send(&relay, &ann, &general, &mut g, message(&ann, "g2", "@cy 请看", vec![cy.id])).await;
    assert_eq!(next_push(&mut rx, STEP).await.path, "/ok/cy");

    // Ben has the app open: nothing for him; Cy's mention after it proves it.
    let mut ben_live = relay.connect(&ben).await;
    let mut bdoc = chat_doc(&to_ben, &ben);
    ben_live.sync(to_ben.head_document, &mut bdoc).await.expect("ben online");
    send(&relay, &ann, &to_ben, &mut doc, message(&ann, "m2", "你在吗", vec![])).await;
    send(&relay, &ann, &general, &mut g, message(&ann, "g3", "@cy 再看", vec![cy.id])).await;
    assert_eq!(next_push(&mut rx, STEP).await.path, "/ok/cy");

    // Ben mutes the conversation with Ann (in his own state document) and closes the app.
    let mut state = user_state::genesis(ben.id);
    state.set_actor(actor_for(ben.id, [9; 8]));
    user_state::set_muted(&mut state, &to_ben.id, true, 1);
    ben_live.sync(user_state::doc_id(ben.id), &mut state).await.expect("ben mutes");
    drop(ben_live);
    relay.wait_connections(0).await;
    send(&relay, &ann, &to_ben, &mut doc, message(&ann, "m3", "静音了吗", vec![])).await;
    send(&relay, &ann, &general, &mut g, message(&ann, "g4", "@cy 第三次", vec![cy.id])).await;
    assert_eq!(next_push(&mut rx, STEP).await.path, "/ok/cy");

    // Cy logs out: the subscription of that session receives nothing any more. Ann writes
    // to Cy directly, then mentions Ben in the channel; Ben's push is the next to arrive.
    let r = relay.post("/api/auth/logout", Some(&cy.token), serde_json::json!({})).await;
    assert!(r.status < 300, "logout: {}", r.text());
    let to_cy = dm(&relay, &ann, &cy).await;
    let mut c = chat_doc(&to_cy, &ann);
    send(&relay, &ann, &to_cy, &mut c, message(&ann, "d1", "你好", vec![])).await;
    send(&relay, &ann, &general, &mut g, message(&ann, "g5", "@ben 看这里", vec![ben.id])).await;
    assert_eq!(next_push(&mut rx, STEP).await.path, "/ok/ben");

    // A subscription the push service says is gone is forgotten.
    subscribe(&relay, &ben, &format!("{origin}/gone/ben-old-phone"), &device(4)).await;
    send(&relay, &ann, &general, &mut g, message(&ann, "g6", "@ben 还有", vec![ben.id])).await;
    let mut paths = vec![next_push(&mut rx, STEP).await.path, next_push(&mut rx, STEP).await.path];
    paths.sort();
    assert_eq!(paths, ["/gone/ben-old-phone", "/ok/ben"]);
    let deadline = tokio::time::Instant::now() + STEP;
    while relay.state.store.push_subscriptions(Some(&[ben.id]), None).await.unwrap().len() != 1 {
        assert!(tokio::time::Instant::now() < deadline, "the gone subscription is still stored");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_task_reminder_is_pushed_to_its_assignee_once() {
    let (origin, mut rx) = push_service().await;
    let relay = Relay::start_with(|c| c.push_hosts = vec![origin.clone()]).await;
    let ann = relay.employee("ann").await;
    let ben = relay.employee("ben").await;
    let ben_dev = device(5);
    subscribe(&relay, &ben, &format!("{origin}/ok/ben"), &ben_dev).await;
    let r =
        relay.post("/api/projects", Some(&ann.token), serde_json::json!({ "name": "发布", "members": [ben.id] })).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let p: ProjectSummary = r.json();

    let mut board = tasks::genesis(&p.id);
    board.set_actor(actor_for(ann.id, [3; 8]));
    let now = qiao_server::store::now_ms();
    for (id, title, at) in [("t1", "交周报", now - 1_000), ("t2", "订会议室", now + 3_600_000)] {
        let t = tasks::Task {
            id: id.into(),
            title: title.into(),
            column: "todo".into(),
            order: 1.0,
            created_by: ann.id,
            created_at: now,
            remind_at: Some(at),
            assignees: vec![ben.id],
            ..Default::default()
        };
        tasks::create(&mut board, &t, now).unwrap();
    }
    let mut a = relay.connect(&ann).await;
    a.sync(p.document, &mut board).await.expect("ann writes the board");

    // The board is read after a short debounce and due reminders go out on a ticker.
    let pushed = next_push(&mut rx, Duration::from_secs(30)).await;
    assert_eq!(pushed.path, "/ok/ben");
    let payload = decrypt(ben_dev, &pushed.body);
    assert_eq!(payload["kind"], "reminder");
    assert_eq!(payload["title"], "交周报");
    assert_eq!(payload["url"], format!("/?p={}&t=t1", p.id));

    // Once: a later edit of the board does not send it again; a new due reminder is next.
    let t3 = tasks::Task {
        id: "t3".into(),
        title: "回复客户".into(),
        column: "todo".into(),
        order: 2.0,
        created_by: ann.id,
        created_at: now,
        remind_at: Some(qiao_server::store::now_ms()),
        assignees: vec![ben.id],
        ..Default::default()
    };
    tasks::create(&mut board, &t3, now).unwrap();
    a.sync(p.document, &mut board).await.expect("ann adds a task");
    let next = next_push(&mut rx, Duration::from_secs(30)).await;
    assert_eq!(next.path, "/ok/ben");
    let deadline = tokio::time::Instant::now() + STEP;
    loop {
        let unsent = relay.state.store.due_reminders(i64::MAX / 2, i64::MAX / 2).await.unwrap();
        if unsent.iter().map(|d| d.reminder.task_id.as_str()).collect::<Vec<_>>() == ["t2"] {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "only t2 should be unsent: {unsent:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Upload `bytes` into library folder `folder` and add them there; the add's reply.
async fn library_add(relay: &Relay, user: &User, folder: &str, name: &str, bytes: &[u8]) -> Reply {
    use sha2::Digest;
    let body = serde_json::json!({ "folder": folder, "name": name, "size": bytes.len(), "mime": "application/pdf",
                                   "sha256": hex::encode(sha2::Sha256::digest(bytes)) });
    let st: qiao_model::api::UploadState = relay.post("/api/uploads", Some(&user.token), body).await.json();
    let file = match st.file {
        Some(f) => f,
        None => {
            let put = http_bytes(
                relay.addr,
                "PUT",
                &format!("/api/uploads/{}?offset=0", st.id),
                Some(&user.token),
                &[("content-type", "application/octet-stream")],
                bytes,
            )
            .await;
            assert_eq!(put.status, 200);
            relay
                .post(&format!("/api/uploads/{}/complete", st.id), Some(&user.token), serde_json::json!({}))
                .await
                .json::<qiao_model::api::FileInfo>()
        }
    };
    relay
        .post(
            &format!("/api/library/folders/{folder}/files"),
            Some(&user.token),
            serde_json::json!({ "file": file.id }),
        )
        .await
}

/// Requests answered over REST tell the people concerned whose app is closed: a file waiting in
/// a folder with approval reaches its approvers (here the super admin: a company folder), the
/// decision reaches the uploader, and a new helpdesk ticket reaches the agents.
#[tokio::test]
async fn approvals_reviews_and_tickets_are_pushed_to_whom_they_concern() {
    let (origin, mut rx) = push_service().await;
    let relay = Relay::start_with(|c| c.push_hosts = vec![origin.clone()]).await;
    let admin = relay.admin().await;
    let ann = relay.employee("ann").await;
    let (admin_dev, ann_dev) = (device(7), device(8));
    subscribe(&relay, &admin, &format!("{origin}/ok/admin"), &admin_dev).await;
    subscribe(&relay, &ann, &format!("{origin}/ok/ann"), &ann_dev).await;

    let body = serde_json::json!({ "name": "制度", "place": { "kind": "company" }, "needs_approval": true });
    let folder: qiao_model::library::Folder = relay.post("/api/library/folders", Some(&admin.token), body).await.json();
    let r = library_add(&relay, &ann, &folder.id, "考勤制度.pdf", b"%PDF-1 attendance").await;
    assert_eq!(r.status, 200, "{}", r.text());
    let added: qiao_model::library::LibraryFile = r.json();

    let pushed = next_push(&mut rx, Duration::from_secs(20)).await;
    assert_eq!(pushed.path, "/ok/admin", "the approver, not the uploader");
    let p = decrypt(admin_dev, &pushed.body);
    assert_eq!(p["kind"], "approval");
    assert_eq!(p["title"], "考勤制度.pdf");
    assert_eq!(p["place"], "制度");
    assert_eq!(p["url"], format!("/?folder={}", folder.id));

    let r = relay
        .post(
            &format!("/api/library/files/{}/versions/1/review", added.id),
            Some(&admin.token),
            serde_json::json!({ "approve": false, "note": "请用新模板" }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let pushed = next_push(&mut rx, Duration::from_secs(20)).await;
    assert_eq!(pushed.path, "/ok/ann");
    let p = decrypt(ann_dev, &pushed.body);
    assert_eq!((p["kind"].as_str(), p["body"].as_str()), (Some("rejected"), Some("请用新模板")));

    // (A device key decrypts once: the admin's device subscribes again with a fresh one.)
    let admin_dev = device(9);
    subscribe(&relay, &admin, &format!("{origin}/ok/admin"), &admin_dev).await;
    let ticket =
        serde_json::json!({ "client_key": "k1", "category": "printer", "title": "打印机卡纸", "description": "" });
    let r = relay.post("/api/helpdesk/tickets", Some(&ann.token), ticket).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let pushed = next_push(&mut rx, Duration::from_secs(20)).await;
    assert_eq!(pushed.path, "/ok/admin", "super admins are agents");
    let p = decrypt(admin_dev, &pushed.body);
    assert_eq!((p["kind"].as_str(), p["title"].as_str()), (Some("ticket"), Some("打印机卡纸")));
}
