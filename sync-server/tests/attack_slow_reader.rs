//! A client that stops reading: its socket's receive buffer fills, then the relay's send buffer,
//! then the connection's bounded outbound queue — and the relay cuts it off: the connection is
//! gone from the relay's books, the relay lets go of the socket itself (no task stays blocked
//! writing to it, holding its queue), the relay's memory stays bounded, and everyone else carries
//! on.

mod common;

use common::*;
use qiao_model::api::ChannelSummary;
use qiao_model::protocol::Message;
use std::time::Duration;
use tokio::net::TcpSocket;
use tokio::time::Instant;

/// The relay relays ephemeral payloads up to 16 KiB; this is one just under.
const PAYLOAD: usize = 16_000;
/// More than enough to fill any buffers: 1024 queued frames plus the kernel's.
const MAX_FRAMES: usize = 6_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_never_reads_is_cut_off_and_its_socket_released() {
    let relay = Relay::start().await;
    let admin = relay.admin().await;
    let alice = relay.employee("alice").await;
    let bob = relay.employee("bob").await;
    let mallory = relay.employee("mallory").await;
    let general = relay.general(&alice).await;
    let id = general.head_document;
    // Bob works in another channel meanwhile.
    let r =
        relay.post("/api/channels", Some(&admin.token), serde_json::json!({ "name": "other", "private": false })).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let other: ChannelSummary = r.json();

    let mut a = relay.connect(&alice).await;
    let mut doc_a = chat_doc(&general, &alice);
    say(&mut doc_a, &alice, "hello");
    a.sync(id, &mut doc_a).await.expect("alice syncs");

    // Mallory: a tiny receive buffer, joins, syncs once (so she is a peer of the document), then
    // never reads again.
    let socket = TcpSocket::new_v4().expect("socket");
    socket.set_recv_buffer_size(4096).expect("SO_RCVBUF");
    let stream = socket.connect(relay.addr).await.expect("connect");
    let mallory_port = stream.local_addr().expect("local addr").port();
    let mut m = SyncClient::connect_over(stream, relay.ws_request(Some(&mallory.token), Some(&relay.origin()))).await;
    let mut doc_m = chat_doc(&general, &mallory);
    m.sync(id, &mut doc_m).await.expect("mallory syncs once");
    assert_eq!(tcp_state(relay.addr.port(), mallory_port), Some(1), "the relay's side of mallory's socket is open");

    let mut b = relay.connect(&bob).await;
    let mut doc_b = chat_doc(&other, &bob);
    b.sync(other.head_document, &mut doc_b).await.expect("bob syncs");
    relay.wait_connections(3).await;

    // Alice broadcasts presence-sized... well, the largest ephemeral payloads the relay relays.
    let before = rss_bytes();
    let mut peak = before;
    let started = Instant::now();
    let mut sent = 0;
    while relay.state.connections.count() == 3 {
        assert!(sent < MAX_FRAMES, "mallory still connected after {sent} frames of {PAYLOAD} bytes");
        let frame = Message::Ephemeral {
            sender_id: a.peer_id.clone(),
            target_id: a.server_peer.clone(),
            count: sent as u64,
            session_id: "alice-session".into(),
            document_id: id,
            data: vec![(sent % 251) as u8; PAYLOAD],
        };
        a.send(&frame).await.expect("alice sends");
        sent += 1;
        if sent % 64 == 0 {
            peak = peak.max(rss_bytes());
            // Let the relay catch up so that the count reflects what it has handled.
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }
    let cut_after = started.elapsed();
    peak = peak.max(rss_bytes());

    // Mallory's connection is gone from the books; the relay also let go of the socket: its side
    // is no longer an established connection (a task still blocked writing to it would keep it so,
    // with mallory's whole queue, for as long as mallory keeps the connection open).
    relay.wait_connections(2).await;
    let deadline = Instant::now() + Duration::from_secs(5);
    while tcp_state(relay.addr.port(), mallory_port) == Some(1) {
        assert!(
            Instant::now() < deadline,
            "5 s after cutting mallory off, the relay still holds her socket open (a writer blocked on it)"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let after = rss_bytes();
    println!(
        "slow reader: cut off after {sent} frames of {PAYLOAD} bytes ({:.0} MB) in {:.2} s; RSS {} MB before, {} MB peak, {} MB after",
        (sent * PAYLOAD) as f64 / 1e6,
        cut_after.as_secs_f64(),
        before >> 20,
        peak >> 20,
        after >> 20
    );
    // The queue is bounded by frames (1024) and frames by size: ~16 MB, plus buffers.
    assert!(peak - before < 64 << 20, "the relay grew by {} MB for one slow reader", (peak - before) >> 20);

    // Everyone else carries on: alice and bob write and are acknowledged.
    say(&mut doc_a, &alice, "after the slow reader");
    a.sync(id, &mut doc_a).await.expect("alice's connection survived");
    assert_eq!(a.server_heads(id), doc_a.get_heads(), "the relay acknowledged alice");
    say(&mut doc_b, &bob, "bob too");
    b.sync(other.head_document, &mut doc_b).await.expect("bob's connection survived");
    assert_eq!(b.server_heads(other.head_document), doc_b.get_heads());
    // Mallory, reading at last, finds her connection ended.
    let deadline = Instant::now() + STEP;
    loop {
        match m.next_event(STEP).await {
            Event::Closed(_) => break,
            Event::Quiet => panic!("mallory's connection did not end"),
            _ => assert!(Instant::now() < deadline, "mallory's connection did not end within {STEP:?}"),
        }
    }
    relay.assert_still_serves(&mallory, &general).await;
}
