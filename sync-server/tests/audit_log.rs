//! The audit log (操作日志审计): hash-chained rows that detect a modified, deleted or cut-off
//! row; written in the same transaction as the action; filtered views and a CSV export that
//! Excel opens with its Chinese intact.

mod common;
mod org_support;

use common::*;
use org_support::*;
use qiao_model::api::{AuditPage, AuditVerify};

async fn verify(relay: &Relay, admin: &User, query: &str) -> AuditVerify {
    let r = get(relay, &format!("/api/admin/audit/verify{query}"), &admin.token).await;
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()
}

async fn exec(relay: &Relay, sql: &str) {
    sqlx::query(sql).execute(relay.state.store.pool()).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
}

/// Some history: logins, a refused admin call, a failed login, a settings change.
async fn history(relay: &Relay) -> User {
    let admin = relay.admin().await;
    let eve = relay.employee("eve").await;
    assert_eq!(get(relay, "/api/admin/audit", &eve.token).await.status, 403);
    let r = relay.post("/api/auth/login", None, serde_json::json!({ "username": "eve", "password": "wrong" })).await;
    assert_eq!(r.status, 401);
    let r = put_json(relay, "/api/admin/modules", &admin.token, serde_json::json!({ "meetings": false })).await;
    assert_eq!(r.status, 200, "{}", r.text());
    admin
}

#[tokio::test]
async fn the_chain_verifies_and_detects_a_modified_row() {
    let relay = Relay::start().await;
    let admin = history(&relay).await;
    let rows = audit_rows(&relay).await;
    assert!(rows.len() >= 6, "{rows:?}");
    let v = verify(&relay, &admin, "").await;
    assert!(v.ok, "{v:?}");
    assert_eq!(v.rows as usize, rows.len());
    assert_eq!(v.head_id, Some(rows.last().unwrap().id), "the verify's own row comes after");
    let stored_head: String = sqlx::query_scalar("SELECT hash FROM audit_log WHERE id = ?")
        .bind(v.head_id)
        .fetch_one(relay.state.store.pool())
        .await
        .unwrap();
    assert_eq!(v.head_hash, stored_head);

    // Someone with the database edits who did what.
    let victim = rows[2].id;
    exec(&relay, &format!("UPDATE audit_log SET user_id = 999 WHERE id = {victim}")).await;
    let v = verify(&relay, &admin, "").await;
    assert!(!v.ok);
    assert_eq!(v.first_bad, Some(victim));
    assert!(v.problem.unwrap().contains("modified"));
    // The verify itself is on record, and says so.
    let last = audit_rows(&relay).await.pop().unwrap();
    assert_eq!(last.action, "audit.verify");
    assert!(last.detail.starts_with("BROKEN"), "{last:?}");
}

#[tokio::test]
async fn a_deleted_row_and_a_cut_tail_are_detected() {
    let relay = Relay::start().await;
    let admin = history(&relay).await;
    let anchor = verify(&relay, &admin, "").await;
    assert!(anchor.ok);
    let head = anchor.head_id.unwrap();
    let anchored = format!("?anchor_id={head}&anchor_hash={}", anchor.head_hash);
    assert!(verify(&relay, &admin, &anchored).await.ok, "the anchor is in the chain");

    // Cut the tail (the anchored row and what came after it): the chain alone still checks out,
    // the anchor does not.
    exec(&relay, &format!("DELETE FROM audit_log WHERE id >= {head}")).await;
    assert!(verify(&relay, &admin, "").await.ok, "a chain alone cannot see a cut tail");
    let v = verify(&relay, &admin, &anchored).await;
    assert!(!v.ok);
    assert_eq!(v.first_bad, Some(head));
    // Gone, or (ids are reused) replaced by a later row.
    assert!(v.problem.unwrap().contains("anchored"));

    // Delete a row in the middle: the next one no longer follows.
    exec(&relay, "DELETE FROM audit_log WHERE id = 3").await;
    let v = verify(&relay, &admin, "").await;
    assert!(!v.ok);
    assert_eq!(v.first_bad, Some(4));
    assert!(v.problem.unwrap().contains("removed or changed"));
}

/// An action and its audit row commit together: when the row cannot be written, the action is
/// rolled back too.
#[tokio::test]
async fn an_action_does_not_happen_without_its_audit_row() {
    let org = Org::start().await;
    let relay = &org.relay;
    exec(
        relay,
        "CREATE TRIGGER no_audit BEFORE INSERT ON audit_log WHEN NEW.action IN ('settings.modules', 'user.deactivate')
         BEGIN SELECT RAISE(ABORT, 'audit log unavailable'); END",
    )
    .await;
    let s2 = org.login("S2").await;
    let modules = relay.state.store.modules().await.unwrap();

    let r = put_json(relay, "/api/admin/modules", &org.admin.token, serde_json::json!({ "chat": false })).await;
    assert_eq!(r.status, 500, "{}", r.text());
    assert!(!r.text().contains("audit log unavailable"), "internals stay in the server log");
    assert_eq!(relay.state.store.modules().await.unwrap(), modules, "the module was not turned off");

    let r =
        post_json(relay, &format!("/api/admin/users/{}/deactivate", s2.id.0), &org.admin.token, serde_json::json!({}))
            .await;
    assert_eq!(r.status, 500, "{}", r.text());
    assert_eq!(status(relay, s2.id).await, "active");
    assert_eq!(get(relay, "/api/me", &s2.token).await.status, 200, "the sessions were not revoked");

    exec(relay, "DROP TRIGGER no_audit").await;
    let v = verify(relay, &org.admin, "").await;
    assert!(v.ok, "{v:?}");
}

#[tokio::test]
async fn filters_and_paging() {
    let relay = Relay::start().await;
    let admin = history(&relay).await;
    let eve_id = relay.state.store.user_by_username("eve").await.unwrap().unwrap().me.id;

    let page = |q: String| {
        let (relay, token) = (&relay, admin.token.clone());
        async move {
            let r = get(relay, &format!("/api/admin/audit{q}"), &token).await;
            assert_eq!(r.status, 200, "{q}: {}", r.text());
            r.json::<AuditPage>()
        }
    };
    let refused = page("?outcome=refused".into()).await.entries;
    let actions: Vec<&str> = refused.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["auth.login", "admin.access"], "newest first");
    assert!(refused.iter().all(|e| e.outcome == qiao_model::audit::Outcome::Refused));

    let eves = page("?user=eve".into()).await.entries;
    assert!(!eves.is_empty() && eves.iter().all(|e| e.user == Some(eve_id)), "{eves:?}");
    assert_eq!(eves.iter().find(|e| e.action == "admin.access").unwrap().target, "GET /api/admin/audit");
    assert_eq!(page(format!("?user={}", eve_id.0)).await.entries, eves);
    assert!(page("?user=nobody".into()).await.entries.is_empty());

    let auth = page("?action=auth".into()).await.entries;
    assert!(auth.len() >= 3 && auth.iter().all(|e| e.action.starts_with("auth.")));
    let modules = page("?action=settings.modules".into()).await.entries;
    assert_eq!(modules.len(), 1);
    assert!(modules[0].before.as_deref().unwrap().contains("\"meetings\":true"));
    assert!(modules[0].after.as_deref().unwrap().contains("\"meetings\":false"));

    let all = page("".into()).await.entries;
    let (first, last) = (all.last().unwrap().at, all[0].at);
    assert_eq!(page(format!("?from={first}&to={}", last + 1)).await.entries.len(), all.len());
    assert!(page(format!("?from={}", last + 1)).await.entries.is_empty());
    assert!(page("?to=1970-01-01".into()).await.entries.is_empty());
    assert_eq!(page("?from=2000-01-01&to=9999-12-31".into()).await.entries.len(), all.len());

    // Paging: two at a time, newest first, until the end.
    let mut seen = Vec::new();
    let mut q = "?limit=2".to_string();
    loop {
        let p = page(q).await;
        seen.extend(p.entries.iter().map(|e| e.id));
        match p.next_before {
            Some(b) => q = format!("?limit=2&before={b}"),
            None => break,
        }
    }
    assert_eq!(seen, all.iter().map(|e| e.id).collect::<Vec<_>>());

    for bad in ["?outcome=maybe", "?action=nonsense", "?from=yesterday", "?limit=x"] {
        let r = get(&relay, &format!("/api/admin/audit{bad}"), &admin.token).await;
        assert_eq!(r.status, 400, "{bad}: {}", r.text());
    }
}

#[tokio::test]
async fn csv_export_opens_in_excel_with_chinese_quotes_and_line_breaks() {
    let relay = Relay::start().await;
    let admin = relay.admin().await;
    // A failed login records the username as typed: Chinese, a comma, quotes, a line break and a
    // formula, all in one field.
    let nasty = "=1+1,\"李雷\"\n第二行";
    let r = relay.post("/api/auth/login", None, serde_json::json!({ "username": nasty, "password": "x" })).await;
    assert_eq!(r.status, 401);

    let r = get(&relay, "/api/admin/audit.csv?action=auth.login&outcome=refused", &admin.token).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let text = String::from_utf8(r.body.clone()).expect("UTF-8");
    assert!(text.starts_with('\u{feff}'), "a byte order mark for Excel");
    let text = &text['\u{feff}'.len_utf8()..];
    let lines: Vec<&str> = text.split("\r\n").collect();
    assert_eq!(lines[0], "id,time (UTC),user_id,username,ip,action,outcome,target,detail,before,after,prev_hash,hash");
    assert_eq!(lines.len(), 3, "header, one row (a quoted line break inside it), and the final empty line: {lines:?}");
    assert!(lines[1].contains(",auth.login,refused,,\"'=1+1,\"\"李雷\"\"\n第二行\","), "{}", lines[1]);
    let time = lines[1].split(',').nth(1).unwrap();
    assert_eq!(time.len(), "2024-01-01 00:00:00".len(), "{time}");

    // The export is on record; an employee cannot export.
    let last = audit_rows(&relay).await.pop().unwrap();
    assert_eq!((last.action.as_str(), last.user), ("audit.export", Some(admin.id.0)));
    let eve = relay.employee("eve").await;
    assert_eq!(get(&relay, "/api/admin/audit.csv", &eve.token).await.status, 403);
}

/// Rows written without a hash (a database from before migration 0002, or an older relay) are
/// sealed into the chain: by the next row written, or when the relay starts.
#[tokio::test]
async fn rows_from_before_the_chain_are_sealed_at_start() {
    let relay = Relay::start().await;
    let admin = relay.admin().await;
    exec(
        &relay,
        "INSERT INTO audit_log (at, user_id, ip, action, outcome, detail) VALUES
           (1, 1, '10.0.0.1', 'auth.login', 'ok', ''), (2, NULL, NULL, 'channel.create', 'refused', 'x')",
    )
    .await;
    // The next row written seals them before following them.
    let r = put_json(&relay, "/api/admin/modules", &admin.token, serde_json::json!({ "kb": false })).await;
    assert_eq!(r.status, 200);
    assert!(verify(&relay, &admin, "").await.ok);
    exec(&relay, "INSERT INTO audit_log (at, action, outcome) VALUES (3, 'auth.logout', 'ok')").await;
    let relay = relay.restart().await;
    let admin = relay.admin().await;
    let v = verify(&relay, &admin, "").await;
    assert!(v.ok, "{v:?}");
}
