//! Changing one's own password: the current one must be right, the new one at least 8 characters
//! and different; afterwards only the new one logs in, the other sessions end, and every attempt
//! is in the audit log.

mod common;

use common::*;

#[tokio::test]
async fn changing_ones_password() {
    let relay = Relay::start().await;
    let ann = relay.employee("ann").await;
    let laptop = relay.login("ann", PASSWORD).await;
    let change = |current: &str, new: &str| serde_json::json!({ "current": current, "new": new });

    for (current, new, why) in [
        ("wrong-password", "a-new-password", "not right"),
        (PASSWORD, "short", "at least 8"),
        (PASSWORD, PASSWORD, "differ"),
    ] {
        let r = relay.post("/api/me/password", Some(&ann.token), change(current, new)).await;
        assert_eq!(r.status, 400, "{}", r.text());
        assert!(r.text().contains(why), "{}", r.text());
    }
    assert_eq!(relay.refused_audit("auth.password_change").await.len(), 3);

    let r = relay.post("/api/me/password", Some(&ann.token), change(PASSWORD, "新的密码-2026")).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json::<serde_json::Value>()["revoked"], 1, "the laptop's session ended");
    assert_eq!(relay.get("/api/me", Some(&laptop.token)).await.status, 401);
    assert_eq!(relay.get("/api/me", Some(&ann.token)).await.status, 200, "this session stays");

    let old = relay.post("/api/auth/login", None, serde_json::json!({ "username": "ann", "password": PASSWORD })).await;
    assert_eq!(old.status, 401);
    relay.login("ann", "新的密码-2026").await;
}
