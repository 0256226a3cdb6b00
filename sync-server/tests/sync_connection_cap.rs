//! One person holds at most `--max-connections-per-user` sync sockets (default 20), over all their
//! sessions: the next upgrade is refused with 429 before any socket exists, audited once a minute
//! at most, while their open sockets and everyone else go on; closing one frees its slot.
//! Concurrent upgrades cannot overshoot the cap (a slot is reserved before the upgrade).

mod common;

use common::*;
use tokio::task::JoinSet;

/// The N+1th socket is refused whichever session asks; the N open ones still sync, another person
/// is unaffected, and a closed socket's slot can be taken again.
#[tokio::test]
async fn the_socket_past_the_cap_is_refused_and_a_closed_one_frees_its_slot() {
    let relay = Relay::start().await;
    let cap = relay.state.config.max_connections_per_user;
    assert_eq!(cap, 20, "the default cap");
    let phone = relay.employee("alice").await;
    let laptop = relay.login("alice", PASSWORD).await;
    let bob = relay.employee("bob").await;
    let general = relay.general(&phone).await;

    // The cap counts the person, not the session: half the sockets on each device.
    let mut open = Vec::new();
    for i in 0..cap {
        open.push(relay.connect(if i % 2 == 0 { &phone } else { &laptop }).await);
    }
    assert_eq!(relay.state.connections.user_count(phone.id), cap);

    for device in [&phone, &laptop, &phone] {
        let (status, err) = relay.refused_upgrade(relay.ws_request(Some(&device.token), Some(&relay.origin()))).await;
        assert_eq!((status, err.code.as_str()), (429, "too_many_connections"));
        assert!(err.message.contains("the limit is 20"), "message: {}", err.message);
    }
    assert_eq!(relay.state.connections.user_count(phone.id), cap, "a refusal holds no slot");
    // Three refusals within the minute: one audit row.
    assert_eq!(relay.refused_audit("sync.connection_limit").await, ["20 connections open (limit 20)"]);

    // Alice's open sockets still work; bob connects and writes as usual.
    let mut doc = chat_doc(&general, &phone);
    say(&mut doc, &phone, "still syncing at the cap");
    open[cap - 1].sync(general.head_document, &mut doc).await.expect("an open socket syncs at the cap");
    assert_eq!(open[cap - 1].server_heads(general.head_document), doc.get_heads());
    relay.assert_still_serves(&bob, &general).await;

    // Closing one socket frees one slot, and only one.
    drop(open.pop());
    let deadline = tokio::time::Instant::now() + STEP;
    while relay.state.connections.user_count(phone.id) != cap - 1 {
        assert!(tokio::time::Instant::now() < deadline, "the closed socket's slot was not freed");
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    open.push(relay.connect(&laptop).await);
    let (status, _) = relay.refused_upgrade(relay.ws_request(Some(&phone.token), Some(&relay.origin()))).await;
    assert_eq!(status, 429, "full again");
}

/// With 15 of 20 slots taken, 10 simultaneous upgrades: exactly 5 get a socket.
#[tokio::test]
async fn simultaneous_upgrades_do_not_overshoot_the_cap() {
    let relay = Relay::start().await;
    let alice = relay.employee("alice").await;
    let mut open = Vec::new();
    for _ in 0..15 {
        open.push(relay.connect(&alice).await);
    }
    let mut set = JoinSet::new();
    for _ in 0..10 {
        let req = relay.ws_request(Some(&alice.token), Some(&relay.origin()));
        set.spawn(async move { tokio::time::timeout(STEP, tokio_tungstenite::connect_async(req)).await });
    }
    let (mut accepted, mut refused) = (Vec::new(), 0);
    while let Some(r) = set.join_next().await {
        match r.expect("task").expect("upgrade answered") {
            Ok((ws, _)) => accepted.push(ws),
            Err(tokio_tungstenite::tungstenite::Error::Http(res)) if res.status().as_u16() == 429 => refused += 1,
            Err(e) => panic!("unexpected upgrade failure: {e}"),
        }
    }
    assert_eq!((accepted.len(), refused), (5, 5));
    assert_eq!(relay.state.connections.user_count(alice.id), 20);
}

/// `--max-connections-per-user 0` lifts the cap (the bench, where one account stands for many
/// people, runs so).
#[tokio::test]
async fn a_cap_of_zero_means_no_cap() {
    let relay = Relay::start_with(|c| c.max_connections_per_user = 0).await;
    let alice = relay.employee("alice").await;
    let mut open = Vec::new();
    for _ in 0..25 {
        open.push(relay.connect(&alice).await);
    }
    assert_eq!(relay.state.connections.user_count(alice.id), 25);
    assert!(relay.refused_audit("sync.connection_limit").await.is_empty());
}
