//! Module toggles (功能模块启用) and the client settings: a super admin turns modules off and the
//! relay refuses them — chat's REST write path with 403, its documents over sync with
//! `doc-unavailable` — and sets the offline-cache expiry the app reads.

mod common;
mod org_support;

use common::*;
use org_support::*;
use qiao_model::acl::Module;
use qiao_model::api::{ApiError, ClientSettings, ModuleStates};
use qiao_model::protocol::Message;

async fn modules(relay: &Relay, user: &User) -> ModuleStates {
    let r = get(relay, "/api/modules", &user.token).await;
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()
}

#[tokio::test]
async fn modules_are_listed_toggled_and_audited() {
    let relay = Relay::start().await;
    let admin = relay.admin().await;
    let eve = relay.employee("eve").await;
    let all = modules(&relay, &eve).await;
    assert_eq!(all.len(), 8);
    assert!(all.values().all(|on| *on), "every module starts on");

    let since = audit_len(&relay).await;
    let r =
        put_json(&relay, "/api/admin/modules", &admin.token, serde_json::json!({ "kb": false, "suggestions": false }))
            .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let now: ModuleStates = r.json();
    assert_eq!((now[&Module::Kb], now[&Module::Suggestions], now[&Module::Chat]), (false, false, true));
    assert_eq!(modules(&relay, &eve).await, now, "everyone sees the change");
    let rows = audit_since(&relay, since).await;
    assert_eq!(rows.len(), 1);
    assert_eq!((rows[0].action.as_str(), rows[0].detail.as_str()), ("settings.modules", "kb=off suggestions=off"));
    assert!(rows[0].before.as_deref().unwrap().contains("\"kb\":true"));
    assert!(rows[0].after.as_deref().unwrap().contains("\"kb\":false"));

    // An unknown module refuses the whole request.
    let r = put_json(&relay, "/api/admin/modules", &admin.token, serde_json::json!({ "tasks": false, "games": true }))
        .await;
    assert_eq!(r.status, 400, "{}", r.text());
    assert!(r.json::<ApiError>().message.contains("games"));
    assert_eq!(modules(&relay, &eve).await, now);
}

#[tokio::test]
async fn chat_off_is_refused_over_rest_and_sync_until_it_is_back_on() {
    let relay = Relay::start().await;
    let admin = relay.admin().await;
    let eve = relay.employee("eve").await;
    let general = relay.general(&eve).await;
    let id = general.head_document;
    let mut c = relay.connect(&eve).await;
    let mut doc = chat_doc(&general, &eve);
    say(&mut doc, &eve, "before");
    c.sync(id, &mut doc).await.expect("chat works");

    let r = put_json(&relay, "/api/admin/modules", &admin.token, serde_json::json!({ "chat": false })).await;
    assert_eq!(r.status, 200, "{}", r.text());

    // REST: creating a channel is refused, recorded, and creates nothing.
    let since = audit_len(&relay).await;
    let r = relay.post("/api/channels", Some(&admin.token), serde_json::json!({ "name": "新频道" })).await;
    assert_eq!(r.status, 403, "{}", r.text());
    assert_eq!(r.json::<ApiError>().message, "the chat module is turned off");
    let rows = audit_since(&relay, since).await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(
        (rows[0].action.as_str(), rows[0].outcome.as_str(), rows[0].target.as_str()),
        ("module.disabled", "refused", "module:chat")
    );
    let channels: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM channels").fetch_one(relay.state.store.pool()).await.unwrap();
    assert_eq!(channels, 1);

    // Sync: the chat segment is unavailable, on the open socket and on a new one; no data leaks.
    for client in [&mut c, &mut relay.connect(&admin).await] {
        client.send(&client.sync_frame(id, first_sync_bytes(&mut doc), true)).await.expect("send");
        loop {
            match client.next_event(STEP).await {
                Event::Msg(Message::DocUnavailable { document_id, .. }) if document_id == id => break,
                Event::Msg(Message::Sync { document_id, .. }) => {
                    assert_ne!(document_id, id, "sync data while chat is off")
                }
                Event::Msg(_) => {}
                other => panic!("expected doc-unavailable, got {other:?}"),
            }
        }
    }
    assert!(!relay.refused_audit("sync.read").await.is_empty());

    // Back on: everything works again.
    let r = put_json(&relay, "/api/admin/modules", &admin.token, serde_json::json!({ "chat": true })).await;
    assert_eq!(r.status, 200);
    let mut c2 = relay.connect(&eve).await;
    let mut doc2 = chat_doc(&general, &eve);
    c2.sync(id, &mut doc2).await.expect("chat works again");
    assert_eq!(texts(&doc2), ["before"]);
    let r = relay.post("/api/channels", Some(&admin.token), serde_json::json!({ "name": "新频道" })).await;
    assert_eq!(r.status, 200, "{}", r.text());
}

#[tokio::test]
async fn offline_cache_expiry_is_set_by_a_super_admin_and_read_by_the_app() {
    let relay = Relay::start().await;
    let admin = relay.admin().await;
    let eve = relay.employee("eve").await;
    let read = |user: User| {
        let relay = &relay;
        async move {
            let r = get(relay, "/api/settings/client", &user.token).await;
            assert_eq!(r.status, 200, "{}", r.text());
            r.json::<ClientSettings>()
        }
    };
    assert_eq!(read(eve.clone()).await.offline_cache_expiry_days, None, "never, until set");

    let r = put_json(
        &relay,
        "/api/admin/settings/client",
        &admin.token,
        serde_json::json!({ "offline_cache_expiry_days": 30 }),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(read(eve.clone()).await.offline_cache_expiry_days, Some(30));
    let row = audit_rows(&relay).await.pop().unwrap();
    assert_eq!(row.action, "settings.client");
    assert_eq!(row.before.as_deref(), Some(r#"{"offline_cache_expiry_days":null}"#));
    assert_eq!(row.after.as_deref(), Some(r#"{"offline_cache_expiry_days":30}"#));

    for bad in [
        serde_json::json!({ "offline_cache_expiry_days": 0 }),
        serde_json::json!({ "offline_cache_expiry_days": 5000 }),
    ] {
        let r = put_json(&relay, "/api/admin/settings/client", &admin.token, bad).await;
        assert_eq!(r.status, 400, "{}", r.text());
    }
    assert_eq!(read(eve.clone()).await.offline_cache_expiry_days, Some(30));
    let r = put_json(
        &relay,
        "/api/admin/settings/client",
        &admin.token,
        serde_json::json!({ "offline_cache_expiry_days": null }),
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(read(eve).await.offline_cache_expiry_days, None);
}
