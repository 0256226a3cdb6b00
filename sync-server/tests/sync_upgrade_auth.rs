//! The websocket upgrade checks the session and the `Origin` before any socket exists: no session
//! or a bad one is 401, a foreign origin is 403 (even with a valid session), and the relay keeps
//! serving everyone else.

mod common;

use common::*;
use qiao_server::auth;
use qiao_server::store::now_ms;

#[tokio::test]
async fn upgrade_without_a_session_is_401() {
    let relay = Relay::start().await;
    let alice = relay.employee("alice").await;

    for origin in [Some(relay.origin()), None] {
        let (status, err) = relay.refused_upgrade(relay.ws_request(None, origin.as_deref())).await;
        assert_eq!((status, err.code.as_str(), err.message.as_str()), (401, "unauthenticated", "not logged in"));
    }
    assert_eq!(relay.state.connections.count(), 0);

    let general = relay.general(&alice).await;
    relay.assert_still_serves(&alice, &general).await;
}

#[tokio::test]
async fn upgrade_from_a_foreign_origin_is_403_even_with_a_valid_session() {
    let relay = Relay::start().await;
    let alice = relay.employee("alice").await;

    for origin in ["http://evil.example", "null", "https://127.0.0.1:1"] {
        let (status, err) = relay.refused_upgrade(relay.ws_request(Some(&alice.token), Some(origin))).await;
        assert_eq!(status, 403, "origin {origin}");
        assert_eq!(err.code, "forbidden");
        assert_eq!(err.message, format!("origin {origin} is not allowed"));
    }
    assert_eq!(
        relay.refused_audit("request.foreign_origin").await,
        ["http://evil.example", "null", "https://127.0.0.1:1"]
    );

    // The same session from the relay's own origin, or from a script (no Origin), is fine.
    SyncClient::open(relay.ws_request(Some(&alice.token), None)).await.join().await;
    let general = relay.general(&alice).await;
    relay.assert_still_serves(&alice, &general).await;
}

#[tokio::test]
async fn upgrade_with_a_garbage_or_expired_token_is_401() {
    let relay = Relay::start().await;
    let alice = relay.employee("alice").await;

    // A session that expired a moment ago, with a token of the right shape.
    let (expired, hash) = auth::new_token();
    relay.state.store.create_session(alice.id, &hash, now_ms() - 1, None, None).await.expect("session row");
    let (unknown, _) = auth::new_token();

    for token in ["garbage", "", &"z".repeat(64), &unknown, &expired] {
        let (status, err) = relay.refused_upgrade(relay.ws_request(Some(token), Some(&relay.origin()))).await;
        assert_eq!((status, err.code.as_str()), (401, "unauthenticated"), "bearer {token:?}");
    }
    let (status, _) = relay.refused_upgrade(relay.ws_request_with_cookie(&expired)).await;
    assert_eq!(status, 401, "expired session in the cookie");

    // The valid session works in the cookie as in the header.
    SyncClient::open(relay.ws_request_with_cookie(&alice.token)).await.join().await;
    let general = relay.general(&alice).await;
    relay.assert_still_serves(&alice, &general).await;
}
