//! Frames that are not the protocol — garbage, text, a first message other than `join`, sync data
//! that is not an automerge sync message — get an `error` message and a close (1008) on that
//! connection only. Other clients keep syncing, and no amount of random input takes the relay down.

mod common;

use automerge::AutoCommit;
use common::*;
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;
use qiao_model::api::ChannelSummary;
use qiao_model::ids::PeerId;
use qiao_model::protocol::Message;
use qiao_model::schema::chat;
use tokio_tungstenite::tungstenite::Message as WsMessage;

/// A user already syncing the public channel when the bad frames arrive.
struct Bystander {
    user: User,
    client: SyncClient,
    doc: AutoCommit,
}

struct Scene {
    relay: Relay,
    mallory: User,
    general: ChannelSummary,
    bystander: Bystander,
}

impl Scene {
    async fn new() -> Scene {
        let relay = Relay::start().await;
        let mallory = relay.employee("mallory").await;
        let user = relay.employee("bob").await;
        let general = relay.general(&user).await;
        let mut client = relay.connect(&user).await;
        let mut doc = chat_doc(&general, &user);
        say(&mut doc, &user, "before");
        client.sync(general.head_document, &mut doc).await.expect("bystander syncs");
        Scene { relay, mallory, general, bystander: Bystander { user, client, doc } }
    }

    /// A websocket for mallory that has not sent anything yet.
    async fn raw(&self) -> SyncClient {
        SyncClient::open(self.relay.ws_request(Some(&self.mallory.token), Some(&self.relay.origin()))).await
    }

    /// The bystander's connection still works, a fresh client sees exactly the bystander's
    /// messages (nothing the bad frames carried), and the relay serves new clients.
    async fn assert_others_unaffected(mut self) {
        let id = self.general.head_document;
        let b = &mut self.bystander;
        say(&mut b.doc, &b.user, "after");
        b.client.sync(id, &mut b.doc).await.expect("the bystander's connection survived");
        assert_eq!(b.client.server_heads(id), b.doc.get_heads(), "the relay acknowledged the bystander");

        let mut fresh = self.relay.connect(&self.mallory).await;
        let mut doc = chat_doc(&self.general, &self.mallory);
        fresh.sync(id, &mut doc).await.expect("a fresh client syncs");
        assert_eq!(texts(&doc), texts(&b.doc));
        assert_eq!(doc.get_heads(), b.doc.get_heads());
        self.relay.assert_still_serves(&self.mallory, &self.general).await;
    }
}

#[tokio::test]
async fn garbage_bytes_get_an_error_and_a_close() {
    let scene = Scene::new().await;
    for garbage in [&b"\xff\x00\x13garbage"[..], b"", b"\xa1\x64type\x64sync", b"{\"type\":\"join\"}"] {
        // As the first frame, and after a proper join.
        let mut c = scene.raw().await;
        c.send_frame(WsMessage::binary(garbage.to_vec())).await.expect("send");
        c.expect_refusal().await.assert_says("");
        let mut c = scene.relay.connect(&scene.mallory).await;
        c.send_frame(WsMessage::binary(garbage.to_vec())).await.expect("send");
        let refusal = c.expect_refusal().await;
        refusal.assert_says("");
        let error = refusal.error.unwrap();
        assert!(
            error.contains("not a CBOR protocol message") || error.contains("lacks"),
            "{garbage:?} -> {error:?} names the problem"
        );
    }
    scene.assert_others_unaffected().await;
}

#[tokio::test]
async fn a_text_frame_gets_an_error_and_a_close() {
    let scene = Scene::new().await;
    let mut c = scene.raw().await;
    c.send_frame(WsMessage::text(r#"{"type":"join","senderId":"x","supportedProtocolVersions":["1"]}"#))
        .await
        .expect("send");
    c.expect_refusal().await.assert_says("text frames are not part of the protocol");
    let mut c = scene.relay.connect(&scene.mallory).await;
    c.send_frame(WsMessage::text("hello")).await.expect("send");
    c.expect_refusal().await.assert_says("text frames are not part of the protocol");
    scene.assert_others_unaffected().await;
}

#[tokio::test]
async fn anything_but_join_first_is_refused() {
    let mut scene = Scene::new().await;
    let id = scene.general.head_document;
    let data = first_sync_bytes(&mut scene.bystander.doc);
    let (me, relay) = (PeerId("mallory-tab".into()), PeerId("relay".into()));
    let firsts = [
        (
            Message::Sync { sender_id: me.clone(), target_id: relay.clone(), document_id: id, data: data.clone() },
            "expected join, got sync",
        ),
        (
            Message::Request { sender_id: me.clone(), target_id: relay.clone(), document_id: id, data },
            "expected join, got request",
        ),
        (Message::Leave { sender_id: me.clone() }, "expected join, got leave"),
        (Message::Other { kind: "remote-heads-changed".into() }, "expected join, got an unknown message"),
        (
            Message::Join { sender_id: me.clone(), supported_protocol_versions: vec!["2".into()], peer_metadata: None },
            "unsupported protocol version",
        ),
        (
            Message::Join {
                sender_id: PeerId(String::new()),
                supported_protocol_versions: vec!["1".into()],
                peer_metadata: None,
            },
            "senderId must be 1 to 128 characters",
        ),
    ];
    for (first, says) in firsts {
        let mut c = scene.raw().await;
        c.send(&first).await.expect("send");
        c.expect_refusal().await.assert_says(says);
    }
    // And `join` only once.
    let mut c = scene.relay.connect(&scene.mallory).await;
    let again = Message::Join {
        sender_id: c.peer_id.clone(),
        supported_protocol_versions: vec!["1".into()],
        peer_metadata: None,
    };
    c.send(&again).await.expect("send");
    c.expect_refusal().await.assert_says("join sent twice");
    scene.assert_others_unaffected().await;
}

#[tokio::test]
async fn sync_data_that_is_not_a_sync_message_is_refused() {
    let scene = Scene::new().await;
    let id = scene.general.head_document;

    // A genuine sync message carrying mallory's (legitimate) change, to cut and to corrupt.
    let mut doc = chat_doc(&scene.general, &scene.mallory);
    say(&mut doc, &scene.mallory, "this must never arrive");
    let valid = sync_bytes_with_changes(&mut doc);

    let mut not_sync: Vec<Vec<u8>> =
        vec![vec![], b"random bytes".to_vec(), vec![0x42], vec![0x42, 0xff, 0xff, 0xff, 0xff, 0x0f], vec![0x43; 40]];
    // Truncations that automerge itself cannot decode (a few cut points decode: the flags at the
    // end are optional).
    not_sync.extend(
        (1..valid.len())
            .filter(|k| k % 9 == 1 || *k + 4 > valid.len())
            .map(|k| valid[..k].to_vec())
            .filter(|cut| automerge::sync::Message::decode(cut).is_err()),
    );
    assert!(not_sync.len() > 40);
    for data in not_sync {
        let mut c = scene.relay.connect(&scene.mallory).await;
        c.send(&c.sync_frame(id, data, false)).await.expect("send");
        c.expect_refusal().await.assert_says("bad sync message");
    }

    // Well-formed framing around change bytes that do not check out. The relay's copy always has
    // history (it holds every document's genesis from the start, even a segment nobody has
    // written yet), so automerge skips them or refuses them, or the relay's bounds check refuses
    // them first; either way nothing of them is stored.
    let next = chat::segment_id(&scene.general.id, scene.general.head_segment + 1);
    let corrupt_at = |pos: usize| {
        let mut corrupt = valid.clone();
        corrupt[pos] ^= 0xff;
        assert!(automerge::sync::Message::decode(&corrupt).is_ok(), "corruption at {pos} keeps the framing");
        corrupt
    };
    let stored = || async {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM doc_chunks")
            .fetch_one(scene.relay.state.store.pool())
            .await
            .expect("count chunks");
        n
    };
    let before = stored().await;
    for (doc, pos) in
        [(next, valid.len() / 2), (next, valid.len() - 20), (next, valid.len() - 5), (id, valid.len() / 2)]
    {
        let mut c = scene.relay.connect(&scene.mallory).await;
        c.send(&c.sync_frame(doc, corrupt_at(pos), false)).await.expect("send");
        match c.next_event(STEP).await {
            Event::Msg(Message::Sync { document_id, .. }) => assert_eq!(document_id, doc, "the relay answered"),
            // Refused by automerge, or before it by the bounds check (a corrupted length reads
            // as a chunk cut short).
            Event::Msg(Message::Error { message }) => assert!(
                message.contains("does not apply") || message.contains("bad sync message: malformed automerge chunk"),
                "{message}"
            ),
            other => panic!("expected the relay's answer, got {other:?}"),
        }
    }
    assert_eq!(stored().await, before, "no chunk stored from corrupt change bytes");
    // Only the bystander's messages exist: checked by assert_others_unaffected.
    scene.assert_others_unaffected().await;
}

/// ~200 random frames in four shapes, each on its own connection; after every one the relay
/// still answers HTTP. Frames the protocol (or automerge) cannot decode must be refused with an
/// error and a close; the few that happen to decode just must not hurt.
#[tokio::test]
async fn random_frames_never_take_the_relay_down() {
    let scene = Scene::new().await;
    let id = scene.general.head_document;
    let mut runner = TestRunner::deterministic();
    let cases = (0u8..4, proptest::collection::vec(any::<u8>(), 0..512));
    let mut refused = 0;
    for _ in 0..200 {
        let (shape, bytes) = cases.new_tree(&mut runner).expect("case").current();
        let mut c = scene.raw().await;
        let expect_refusal = match shape {
            // As the first frame.
            0 => {
                c.send_frame(WsMessage::binary(bytes.clone())).await.expect("send");
                Message::decode(&bytes).is_err()
            }
            // After a proper join.
            1 => {
                c.join().await;
                c.send_frame(WsMessage::binary(bytes.clone())).await.expect("send");
                Message::decode(&bytes).is_err()
            }
            // As the data of a sync for a readable document; shape 3 starts like a sync message.
            _ => {
                c.join().await;
                let data = if shape == 3 { [&[0x42u8][..], &bytes].concat() } else { bytes };
                let undecodable = automerge::sync::Message::decode(&data).is_err();
                c.send(&c.sync_frame(id, data, false)).await.expect("send");
                undecodable
            }
        };
        if expect_refusal {
            c.expect_refusal().await.assert_says("");
            refused += 1;
        }
        drop(c);
        scene.relay.assert_healthy().await;
    }
    assert!(refused > 180, "almost all random frames are refused ({refused})");
    scene.assert_others_unaffected().await;
}
