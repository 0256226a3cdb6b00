//! Allocation bombs: tiny frames whose length fields claim gigabytes — a CBOR byte string,
//! text string, array or map; an automerge sync message whose counts lie; a bloom filter whose
//! parameters turn the relay's own reply into the bomb; automerge chunks whose columns or
//! compression expand a thousandfold or more. Each is refused on its own connection
//! (an `error` and a close), the relay's memory stays where it was, and the other clients of the
//! document keep syncing.
//!
//! (Oversized frames are `sync_oversized_frame.rs`; random bytes are `sync_malformed_frames.rs`.)

mod common;

use automerge::AutoCommit;
use common::*;
use qiao_model::api::ChannelSummary;
use std::time::Instant;
use tokio_tungstenite::tungstenite::Message as WsMessage;

/// How much the relay (this process) may grow over a whole test. Honouring any single claim
/// above would take at least 1 GiB.
const MAX_GROWTH: u64 = 50 * 1024 * 1024;

/// The tests of this file measure this process's memory: one at a time.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

struct Scene {
    relay: Relay,
    mallory: User,
    bob: User,
    general: ChannelSummary,
    bob_client: SyncClient,
    bob_doc: AutoCommit,
}

impl Scene {
    /// A relay whose public channel has some history (so that the relay has hashes to test
    /// against a bloom filter), and bob syncing it.
    async fn new() -> Scene {
        let relay = Relay::start().await;
        let mallory = relay.employee("mallory").await;
        let bob = relay.employee("bob").await;
        let general = relay.general(&bob).await;
        let mut bob_client = relay.connect(&bob).await;
        let mut bob_doc = chat_doc(&general, &bob);
        for i in 0..20 {
            say(&mut bob_doc, &bob, &format!("history {i}"));
        }
        bob_client.sync(general.head_document, &mut bob_doc).await.expect("bob syncs");
        Scene { relay, mallory, bob, general, bob_client, bob_doc }
    }

    /// Bob still writes and is acknowledged; a fresh client sees exactly bob's messages.
    async fn assert_others_unaffected(&mut self, after: &str) {
        let id = self.general.head_document;
        say(&mut self.bob_doc, &self.bob, after);
        self.bob_client.sync(id, &mut self.bob_doc).await.unwrap_or_else(|r| panic!("bob's connection died: {r:?}"));
        assert_eq!(self.bob_client.server_heads(id), self.bob_doc.get_heads(), "the relay acknowledged bob ({after})");
        let mut fresh = self.relay.connect(&self.mallory).await;
        let mut doc = chat_doc(&self.general, &self.mallory);
        fresh.sync(id, &mut doc).await.expect("a fresh client syncs");
        assert_eq!(texts(&doc), texts(&self.bob_doc));
    }
}

/// CBOR head of major type `major` with an 8-byte argument.
fn cbor_head64(major: u8, n: u64) -> Vec<u8> {
    let mut v = vec![(major << 5) | 27];
    v.extend_from_slice(&n.to_be_bytes());
    v
}

fn cbor_text(s: &str) -> Vec<u8> {
    assert!(s.len() < 256);
    let mut v = if s.len() < 24 { vec![0x60 | s.len() as u8] } else { vec![0x78, s.len() as u8] };
    v.extend_from_slice(s.as_bytes());
    v
}

/// A frame `{ "type": "sync", <key>: <bomb> }` (the bomb's payload never follows its head).
fn frame_with(key: &str, bomb: Vec<u8>) -> Vec<u8> {
    [vec![0xa2], cbor_text("type"), cbor_text("sync"), cbor_text(key), bomb].concat()
}

#[tokio::test]
async fn cbor_lengths_that_lie_are_refused_without_allocating() {
    let _serial = SERIAL.lock().await;
    let mut scene = Scene::new().await;
    const GIB: u64 = 1 << 30;
    let bombs: Vec<(&str, Vec<u8>)> = vec![
        ("byte string of 2^63 bytes", frame_with("data", cbor_head64(2, i64::MAX as u64))),
        ("byte string of 4 GiB", frame_with("data", cbor_head64(2, 4 * GIB))),
        ("byte string of 1 GiB", frame_with("data", cbor_head64(2, GIB))),
        ("byte string of 100 MB", frame_with("data", cbor_head64(2, 100_000_000))),
        ("text string of 1 GiB", frame_with("senderId", cbor_head64(3, GIB))),
        ("array of 2^32 strings", frame_with("supportedProtocolVersions", cbor_head64(4, 1 << 32))),
        ("array of 2^63 items under an unknown key", frame_with("x", cbor_head64(4, i64::MAX as u64))),
        ("map of 2^63 entries", cbor_head64(5, i64::MAX as u64)),
        ("map of 2^32 entries under a known key", frame_with("peerMetadata", cbor_head64(5, 1 << 32))),
        ("bignum tag around a 1 GiB byte string", frame_with("count", [vec![0xc2], cbor_head64(2, GIB)].concat())),
    ];
    let before = rss_bytes();
    for (what, frame) in &bombs {
        assert!(frame.len() < 64, "{what} is a tiny frame");
        let started = Instant::now();
        let mut c = scene.relay.connect(&scene.mallory).await;
        c.send_frame(WsMessage::binary(frame.clone())).await.expect("send");
        let refusal = c.expect_refusal().await;
        refusal.assert_says("");
        let error = refusal.error.unwrap_or_default();
        assert!(error.contains("not a CBOR protocol message"), "{what}: {error}");
        assert!(started.elapsed().as_secs() < 2, "{what} took {:?}", started.elapsed());
        // Also as the very first frame, before `join`.
        let mut c = SyncClient::open(scene.relay.ws_request(Some(&scene.mallory.token), None)).await;
        c.send_frame(WsMessage::binary(frame.clone())).await.expect("send");
        c.expect_refusal().await.assert_says("not a CBOR protocol message");
    }
    let grown = rss_bytes().saturating_sub(before);
    println!("cbor bombs: {} frames refused, RSS {} -> {} MB", bombs.len() * 2, before >> 20, (before + grown) >> 20);
    assert!(grown < MAX_GROWTH, "the relay grew by {} MB", grown >> 20);
    scene.assert_others_unaffected("after the cbor bombs").await;
    scene.relay.assert_still_serves(&scene.mallory, &scene.general).await;
}

/// Sync messages (inside well-formed `sync` frames) whose counts claim more than the frame holds.
#[tokio::test]
async fn sync_message_counts_that_lie_are_refused() {
    let _serial = SERIAL.lock().await;
    let mut scene = Scene::new().await;
    let id = scene.general.head_document;
    let leb_max = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]; // 2^63 - 1
    let leb_2_32 = [0x80, 0x80, 0x80, 0x80, 0x10];
    let bombs: Vec<(&str, Vec<u8>)> = vec![
        ("2^63 heads", [&[0x42][..], &leb_max].concat()),
        ("2^32 heads", [&[0x42][..], &leb_2_32].concat()),
        ("2^63 needs", [&[0x42, 0x00][..], &leb_max].concat()),
        ("2^63 haves", [&[0x42, 0x00, 0x00][..], &leb_max].concat()),
        ("a have whose lastSync claims 2^63 hashes", [&[0x42, 0x00, 0x00, 0x01][..], &leb_max].concat()),
        ("a bloom of 2^63 bytes", [&[0x42, 0x00, 0x00, 0x01, 0x00][..], &leb_max].concat()),
        (
            // 2^32-1 entries of 2^32-1 bits each: 2^61 bytes of filter that are not there.
            "a bloom claiming 2^61 bytes of bits",
            [
                &[0x42, 0x00, 0x00, 0x01, 0x00, 0x0a][..],
                &[0xff, 0xff, 0xff, 0xff, 0x0f],
                &[0xff, 0xff, 0xff, 0xff, 0x0f],
            ]
            .concat(),
        ),
        ("2^63 changes", [&[0x42, 0x00, 0x00, 0x00][..], &leb_max].concat()),
        ("a change of 2^63 bytes", [&[0x42, 0x00, 0x00, 0x00, 0x01][..], &leb_max].concat()),
        ("flags of 2^63 bytes", [&[0x42, 0x00, 0x00, 0x00, 0x00][..], &leb_max].concat()),
    ];
    let before = rss_bytes();
    for (what, data) in &bombs {
        assert!(automerge::sync::Message::decode(data).is_err(), "{what} does not decode");
        let mut c = scene.relay.connect(&scene.mallory).await;
        c.send(&c.sync_frame(id, data.clone(), false)).await.expect("send");
        let refusal = c.expect_refusal().await;
        refusal.assert_says("bad sync message");
    }
    let grown = rss_bytes().saturating_sub(before);
    println!("sync count bombs: {} refused, RSS grew {} MB", bombs.len(), grown >> 20);
    assert!(grown < MAX_GROWTH, "the relay grew by {} MB", grown >> 20);
    scene.assert_others_unaffected("after the sync count bombs").await;
}

/// A bloom filter is data the relay computes with when it answers: its parameters come from the
/// client. Automerge takes them as they are — zero bits per entry divides by zero when the relay
/// tests a hash against the filter; `num_probes` sizes a vector (2^32-1 probes: 16 GiB, and as
/// many loop turns, for every change of the document). The relay must refuse such a filter
/// before it becomes part of a peer's sync state.
#[tokio::test]
async fn hostile_bloom_filters_are_refused_before_the_relay_computes_with_them() {
    let _serial = SERIAL.lock().await;
    let mut scene = Scene::new().await;
    let id = scene.general.head_document;
    let have = |bloom: Vec<u8>| raw_sync_message(&[], &[], &[RawHave { last_sync: vec![], bloom }], &[]);
    let cases: Vec<(&str, Vec<u8>)> = vec![
        // 1 entry, 0 bits per entry (so no bits), 7 probes: `hash % 0`.
        ("zero bits per entry", have(vec![0x01, 0x00, 0x07])),
        // 1 entry, 10 bits, 2^24 probes: a 64 MiB vector and 16M turns per hash. (2^32-1 would be
        // 16 GiB per hash; this test must stay affordable if the relay ever stops refusing it.)
        ("2^24 probes", have(vec![0x01, 0x0a, 0x80, 0x80, 0x80, 0x08, 0x00, 0x00])),
        // Many filters: each of the document's hashes is tested against each of them.
        (
            "4096 filters",
            raw_sync_message(
                &[],
                &[],
                &(0..4096)
                    .map(|_| RawHave { last_sync: vec![], bloom: vec![0x01, 0x0a, 0x07, 0x00, 0x00] })
                    .collect::<Vec<_>>(),
                &[],
            ),
        ),
    ];
    let before = rss_bytes();
    for (what, data) in &cases {
        assert!(automerge::sync::Message::decode(data).is_ok(), "{what}: automerge itself accepts it");
        let started = Instant::now();
        let mut c = scene.relay.connect(&scene.mallory).await;
        c.send(&c.sync_frame(id, data.clone(), false)).await.expect("send");
        let refusal = c.expect_refusal().await;
        let error = refusal.error.clone().unwrap_or_default();
        assert!(error.contains("bad sync message") && error.contains("bloom"), "{what}: {refusal:?}");
        refusal.assert_says("bad sync message");
        assert!(started.elapsed().as_secs() < 2, "{what} took {:?}", started.elapsed());
        // The relay dropped the connection's peer state: bob's next write does not trip over it.
        scene.assert_others_unaffected(what).await;
    }
    let grown = rss_bytes().saturating_sub(before);
    println!("bloom bombs: {} refused, RSS grew {} MB", cases.len(), grown >> 20);
    assert!(grown < MAX_GROWTH, "the relay grew by {} MB", grown >> 20);
    scene.relay.assert_still_serves(&scene.mallory, &scene.general).await;
}

/// Automerge chunks that expand inside a well-formed sync message: automerge believes a column's
/// run lengths and inflates compressed chunks without bound, and a process that cannot allocate
/// aborts (no `catch_unwind` helps). Before the relay bounded them, the first case ended this
/// test process (the relay runs in it) with "memory allocation of 4294967296 bytes failed".
#[tokio::test]
async fn automerge_chunks_that_expand_are_refused_before_automerge_decodes_them() {
    use std::io::Write;
    let _serial = SERIAL.lock().await;
    let mut scene = Scene::new().await;
    let id = scene.general.head_document;
    // Found by fuzzing: a 150-byte bundle chunk whose delta column claims 2^39 rows.
    let bundle = include_bytes!("../../fuzz/known/bundle-4gib-rows.bin").to_vec();
    // A compressed change whose body inflates to 100 MiB of zeros.
    let mut z = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
    z.write_all(&vec![0u8; 100 << 20]).expect("deflate");
    let body = z.finish().expect("deflate");
    let mut compressed = vec![0x85, 0x6f, 0x4a, 0x83, 0, 0, 0, 0, 2];
    let mut len = body.len() as u64;
    while len >= 0x80 {
        compressed.push((len as u8) | 0x80);
        len >>= 7;
    }
    compressed.push(len as u8);
    compressed.extend(&body);
    let cases = [("the fuzzed bundle", bundle), ("a deflate bomb", compressed)];
    let before = rss_bytes();
    for (what, chunk) in cases {
        let data = raw_sync_message(&[], &[], &[], &[chunk]);
        let started = Instant::now();
        let mut c = scene.relay.connect(&scene.mallory).await;
        c.send(&c.sync_frame(id, data, false)).await.expect("send");
        let refusal = c.expect_refusal().await;
        let error = refusal.error.clone().unwrap_or_default();
        assert!(error.contains("expanding to more than"), "{what}: {refusal:?}");
        refusal.assert_says("bad sync message");
        assert!(started.elapsed().as_secs() < 2, "{what} took {:?}", started.elapsed());
        scene.assert_others_unaffected(what).await;
    }
    let grown = rss_bytes().saturating_sub(before);
    println!("expanding chunks: refused, RSS grew {} MB", grown >> 20);
    assert!(grown < MAX_GROWTH, "the relay grew by {} MB", grown >> 20);
    scene.relay.assert_still_serves(&scene.mallory, &scene.general).await;
}
