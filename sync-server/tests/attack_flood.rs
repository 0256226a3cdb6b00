//! A flooding client — frames as fast as its socket takes them, on the very document another
//! user is working in — is rate limited, and does not starve that user: the victim's round trip
//! (write a message, until the relay's reply acknowledges it) stays within the goal while the
//! flood runs.
//!
//! The flood mixes three kinds of frames: sync messages that carry a new chat message (each one
//! applied, checked and committed to disk, then fanned out to the victim); sync messages with a
//! bloom filter and no changes (cheap to send, the relay tests every hash of the document against
//! the filter to answer); and ephemeral frames (relayed to the victim). The flooder reads what it
//! is sent, so this is a flood and not a slow reader (`attack_slow_reader.rs`).
//!
//! Two things in the relay keep the victim's latency bounded: every connection has a frame budget
//! (`Config::sync_frame_burst`, refilled at `sync_frames_per_sec`), past which the relay reads it
//! only as fast as the budget refills; and a peer's sync frames already waiting are applied
//! together and answered once (`Registry::receive_sync`), so the victim's own exchange with the
//! relay cannot snowball into a standing queue of stale answers while the document changes under
//! it. The first test measures the victim at the default budget; the second checks the budget
//! itself, with a small one, frame by frame from a receiver's side.

mod common;

use automerge::sync::SyncDoc;
use automerge::{AutoCommit, ChangeHash};
use common::*;
use futures_util::{SinkExt, StreamExt};
use qiao_model::ids::{DocumentId, PeerId};
use qiao_model::protocol::{Message, PROTOCOL_V1};
use qiao_model::schema::chat;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message as WsMessage;

const ROUND_TRIPS: usize = 100;
/// Issue 7's goal is p99 ≤ 100 ms (measured by the bench, release build). Here relay and clients
/// are a debug build in one process, on 2 cores shared with whatever else runs: 250 ms, well
/// above what is measured (5-30 ms) and far below a starved victim (seconds); figures printed.
const P99_BOUND: Duration = Duration::from_millis(250);
/// The flood stops by itself after this many frames, whatever happens.
const MAX_FLOOD_FRAMES: usize = 200_000;

/// The victim's round trips: write, then read until the relay acknowledges. Sorted latencies.
async fn round_trips(c: &mut SyncClient, id: DocumentId, doc: &mut AutoCommit, user: &User, n: usize) -> Vec<Duration> {
    let mut lat = Vec::with_capacity(n);
    for i in 0..n {
        say(doc, user, &format!("round trip {i}"));
        let h = doc.get_last_local_change().expect("change").hash();
        let t = Instant::now();
        loop {
            if let Some(frame) = c.next_sync_frame(id, doc) {
                c.send(&frame).await.expect("victim sends");
            }
            if acknowledges(doc, &c.server_heads(id), h) {
                break;
            }
            match c.next_event(STEP).await {
                Event::Msg(Message::Sync { document_id, data, .. }) if document_id == id => c.receive(id, doc, &data),
                Event::Msg(Message::Error { message }) => panic!("the victim was refused: {message}"),
                Event::Msg(_) => {} // the flood's ephemeral frames
                other => panic!("the victim's connection: {other:?} (round trip {i})"),
            }
        }
        lat.push(t.elapsed());
    }
    lat.sort();
    lat
}

fn pct(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flooding_client_does_not_starve_the_others() {
    let relay = Relay::start().await;
    let bob = relay.employee("bob").await;
    let mallory = relay.employee("mallory").await;
    let general = relay.general(&bob).await;
    let id = general.head_document;

    let mut b = relay.connect(&bob).await;
    let mut doc_b = chat_doc(&general, &bob);
    b.sync(id, &mut doc_b).await.expect("bob syncs");
    let quiet = round_trips(&mut b, id, &mut doc_b, &bob, 20).await;

    // The flood's material: chat messages by mallory, one change each, in order.
    let mut doc_m = chat_doc(&general, &mallory);
    let changes: Vec<Vec<u8>> = (0..2_000)
        .map(|i| {
            say(&mut doc_m, &mallory, &format!("spam {i} 垃圾"));
            doc_m.get_last_local_change().expect("change").raw_bytes().to_vec()
        })
        .collect();
    let genesis: Vec<ChangeHash> = chat_doc(&general, &mallory).get_heads();
    let probe = doc_m.sync().generate_sync_message(&mut automerge::sync::State::new()).expect("first message").encode();

    let (ws, _) = tokio_tungstenite::connect_async(relay.ws_request(Some(&mallory.token), Some(&relay.origin())))
        .await
        .expect("mallory connects");
    let (mut tx, mut rx) = ws.split();
    let me = PeerId("mallory-flood".into());
    let join = Message::Join {
        sender_id: me.clone(),
        supported_protocol_versions: vec![PROTOCOL_V1.into()],
        peer_metadata: None,
    };
    tx.send(WsMessage::binary(join.encode())).await.expect("join");
    let received = Arc::new(AtomicUsize::new(0));
    let reader = tokio::spawn({
        let received = received.clone();
        async move {
            while let Some(Ok(_)) = rx.next().await {
                received.fetch_add(1, Ordering::Relaxed);
            }
        }
    });
    let stop = Arc::new(AtomicBool::new(false));
    let sent = Arc::new(AtomicUsize::new(0));
    let flooder = tokio::spawn({
        let (stop, sent) = (stop.clone(), sent.clone());
        let relay_peer = PeerId(String::new());
        async move {
            let frame = |data: Vec<u8>| {
                Message::Sync { sender_id: me.clone(), target_id: relay_peer.clone(), document_id: id, data }.encode()
            };
            let mut next_change = 0;
            for k in 0..MAX_FLOOD_FRAMES {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                let bytes = match k % 3 {
                    0 if next_change < changes.len() => {
                        next_change += 1;
                        frame(raw_sync_message(&genesis, &[], &[], &[changes[next_change - 1].clone()]))
                    }
                    1 => Message::Ephemeral {
                        sender_id: me.clone(),
                        target_id: relay_peer.clone(),
                        count: k as u64,
                        session_id: "flood".into(),
                        document_id: id,
                        data: vec![0x5a; 512],
                    }
                    .encode(),
                    _ => frame(probe.clone()),
                };
                if tx.send(WsMessage::binary(bytes)).await.is_err() {
                    break;
                }
                sent.fetch_add(1, Ordering::Relaxed);
            }
        }
    });

    // Let the flood get going, then measure the victim while it runs.
    while sent.load(Ordering::Relaxed) < 500 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let flood_start = (Instant::now(), sent.load(Ordering::Relaxed));
    let lat = round_trips(&mut b, id, &mut doc_b, &bob, ROUND_TRIPS).await;
    let flood_frames = sent.load(Ordering::Relaxed) - flood_start.1;
    let flood_secs = flood_start.0.elapsed().as_secs_f64();
    let spam_stored = chat::messages(&doc_b).iter().filter(|m| m.author == mallory.id).count();
    assert!(!flooder.is_finished(), "the flood lasted the whole measurement");
    assert_eq!(relay.state.connections.count(), 2, "the flooder is throttled, not disconnected");
    stop.store(true, Ordering::Relaxed);
    flooder.await.expect("flooder");
    reader.abort();

    println!(
        "flood: {flood_frames} frames offered in {flood_secs:.2} s ({:.0}/s; {spam_stored} spam messages stored by the \
         victim's last acknowledgement) while the victim made {ROUND_TRIPS} round trips: p50 {:.1} ms, p99 {:.1} ms, \
         max {:.1} ms (without the flood: p50 {:.1} ms, p99 {:.1} ms); the flooder received {} frames",
        flood_frames as f64 / flood_secs,
        ms(pct(&lat, 0.5)),
        ms(pct(&lat, 0.99)),
        ms(*lat.last().expect("some")),
        ms(pct(&quiet, 0.5)),
        ms(pct(&quiet, 0.99)),
        received.load(Ordering::Relaxed)
    );
    // On a machine busy with other work the victim's round trips are slow with or without a
    // flood: the bound scales with the quiet p99 measured in this same run (a starved victim
    // waits seconds, far beyond either).
    let bound = P99_BOUND.max(pct(&quiet, 0.99) * 8);
    assert!(
        pct(&lat, 0.99) < bound,
        "the victim's p99 round trip {:?} under a flood (bound {bound:?})",
        pct(&lat, 0.99)
    );
    assert!(flood_frames > 1_000, "it was a flood ({flood_frames} frames)");

    // A fresh client still writes and is acknowledged (the flooder's frames already in its socket
    // may still be arriving, so other messages can come with the acknowledgement).
    let mut fresh = relay.connect(&bob).await;
    let mut doc = chat_doc(&general, &bob);
    fresh.sync(id, &mut doc).await.expect("a fresh client syncs");
    round_trips(&mut fresh, id, &mut doc, &bob, 1).await;
    relay.assert_healthy().await;
}

/// The budget, seen from a receiver: a client sending ephemeral frames as fast as it can gets no
/// more of them relayed than `burst + rate × elapsed` at any moment — and is still served at that
/// rate (throttled, not cut off).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flooding_connection_gets_no_more_than_its_budget() {
    const BURST: u32 = 100;
    const RATE: u32 = 200;
    const FLOOD: Duration = Duration::from_millis(1_500);
    let relay = Relay::start_with(|c| {
        c.sync_frame_burst = BURST;
        c.sync_frames_per_sec = RATE;
    })
    .await;
    let alice = relay.employee("alice").await;
    let mallory = relay.employee("mallory").await;
    let general = relay.general(&alice).await;
    let id = general.head_document;
    let mut a = relay.connect(&alice).await;
    let mut doc_a = chat_doc(&general, &alice);
    a.sync(id, &mut doc_a).await.expect("alice syncs: she is a peer of the document");

    let mut m = relay.connect(&mallory).await;
    let started = Instant::now();
    let listen_until = started + FLOOD + Duration::from_millis(500);
    // Alice notes when each of mallory's frames reaches her. (The relay goes on reading what
    // mallory's socket still holds after the flood, at the budget's rate: she stops listening.)
    let listener = tokio::spawn(async move {
        let mut at = Vec::new();
        while Instant::now() < listen_until {
            match a.next_event(listen_until.saturating_duration_since(Instant::now())).await {
                Event::Msg(Message::Ephemeral { session_id, .. }) if session_id == "flood" => {
                    at.push(started.elapsed().as_secs_f64())
                }
                Event::Msg(_) | Event::Quiet => {}
                other => panic!("alice's connection: {other:?}"),
            }
        }
        at
    });
    // Sends block once the socket's buffers are full (the relay stopped reading): the flood ends
    // at its deadline whatever a send is doing then.
    let mut offered = 0u64;
    let _ = tokio::time::timeout(FLOOD, async {
        loop {
            let frame = Message::Ephemeral {
                sender_id: m.peer_id.clone(),
                target_id: m.server_peer.clone(),
                count: offered,
                session_id: "flood".into(),
                document_id: id,
                data: vec![0x5a; 64],
            };
            m.send(&frame).await.expect("the relay keeps the flooder's connection");
            offered += 1;
        }
    })
    .await;
    let flood_secs = started.elapsed().as_secs_f64();
    assert_eq!(relay.state.connections.count(), 2, "the flooder is throttled, not disconnected");
    let at = listener.await.expect("listener");
    drop(m);

    // Mallory's join cost one unit.
    let allowed = |t: f64| f64::from(BURST) - 1.0 + f64::from(RATE) * t;
    let by_end = at.iter().filter(|t| **t <= flood_secs).count();
    println!(
        "budget: {offered} ephemeral frames offered in {flood_secs:.2} s, {by_end} relayed meanwhile (the budget allows \
         {:.0}), {} in all",
        allowed(flood_secs),
        at.len()
    );
    assert!(offered as f64 > 2.0 * allowed(flood_secs), "it was a flood: {offered} frames offered");
    for (i, t) in at.iter().enumerate() {
        // The n-th frame relayed was charged before it: n units by then, one more for slack.
        assert!(
            (i + 1) as f64 <= allowed(*t) + 1.0,
            "{} frames relayed after {t:.3} s, the budget allows {:.0}",
            i + 1,
            allowed(*t)
        );
    }
    assert!(
        by_end as f64 >= 0.5 * allowed(flood_secs),
        "the flooder is still served at the budget's rate ({by_end} relayed, {:.0} allowed)",
        allowed(flood_secs)
    );
}
