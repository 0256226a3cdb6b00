//! The document repository of one tab.
//!
//! - **Local first.** [`Repo::open`] loads a document from IndexedDB before any network; a
//!   document that does not exist locally starts from its deterministic genesis
//!   ([`qiao_model::schema`]), so it can be written offline at once. Stored chunks are loaded
//!   whole where they can be (`qiao_model::schema::stored`); compaction writes snapshots that
//!   hold the genesis so that they can.
//! - **Nothing typed is lost.** [`Repo::change`] applies a change and writes it to IndexedDB as a
//!   new chunk, then tells the relay. The outbox is the document itself: whatever the relay has
//!   not acknowledged is found again by the sync protocol on the next connection, after a reload
//!   or a browser restart too.
//! - **Several tabs.** Each tab appends its own chunks and announces them on a BroadcastChannel;
//!   the others load them. Compaction (many chunks → one snapshot) runs under a Web Lock and
//!   deletes only the chunks it read.
//! - **Sync.** One websocket per tab. On connect every open document starts a fresh sync
//!   exchange (`request`), then `sync` messages flow both ways until both sides are quiet.
//!   The relay's acknowledged heads are kept per document to count what is still pending.
//!
//! Borrow discipline: the inner `RefCell` is never held across an `.await` or while setting a
//! signal (a signal may run effects that call back into the repo).

use super::socket::Socket;
use crate::storage::{self, idb};
use automerge::sync::{self, SyncDoc};
use automerge::{ActorId, AutoCommit, ChangeHash};
use leptos::prelude::*;
use qiao_model::api::Me;
use qiao_model::ids::{DocumentId, PeerId};
use qiao_model::protocol::{Message, PROTOCOL_V1, PeerMetadata};
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;

/// Chunks of one document in IndexedDB before they are folded into a snapshot.
const COMPACT_AT: usize = 64;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConnStatus {
    Connecting,
    Online,
    Offline,
}

impl ConnStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ConnStatus::Connecting => "connecting",
            ConnStatus::Online => "online",
            ConnStatus::Offline => "offline",
        }
    }
}

struct Entry {
    doc: AutoCommit,
    /// The document's genesis, saved: compaction folds the stored chunks onto it.
    genesis: Vec<u8>,
    sync: sync::State,
    requested: bool,
    /// Bumped on every change, local or remote: views read documents inside a tracked closure.
    version: RwSignal<u64>,
    /// Changes of ours the relay has not acknowledged.
    pending: RwSignal<usize>,
    /// The relay's heads as last acknowledged (persisted, to count pending after a reload).
    acked: Vec<ChangeHash>,
    chunk_writes: usize,
}

struct Inner {
    actor: ActorId,
    user: qiao_model::ids::UserId,
    peer_id: PeerId,
    docs: HashMap<DocumentId, Entry>,
    socket: Option<Socket>,
    joined: bool,
    server_peer: Option<PeerId>,
    attempt: u32,
    stopped: bool,
    reconnect_timer: Option<i32>,
    /// Ephemeral messages sent by this tab (automerge-repo numbers them per session).
    ephemeral_count: u64,
    session_id: String,
    /// Called with every ephemeral message, in order (a signal would keep only the latest of a
    /// burst).
    ephemeral_listeners: Vec<Rc<dyn Fn(DocumentId, &[u8])>>,
    /// IndexedDB writes started and not yet committed (see [`Repo::saving`]).
    writes_in_flight: usize,
}

/// The repository handle; cheap to clone, lives for the page.
#[derive(Clone)]
pub struct Repo {
    inner: Rc<RefCell<Inner>>,
    pub status: RwSignal<ConnStatus>,
    /// Bumped when the relay ends the session (logged out elsewhere, revoked).
    pub session_ended: RwSignal<bool>,
    /// The relay said it will not (or cannot yet) serve this document.
    pub unavailable: RwSignal<Option<DocumentId>>,
    /// Bumped whenever a document opens (see [`Repo::read`]).
    opened: RwSignal<u64>,
    /// Changes are on their way to IndexedDB (the app shows it; closing the page now would lose
    /// them).
    pub saving: RwSignal<bool>,
    /// The latest ephemeral message from another peer: (document, payload).
    pub ephemeral: RwSignal<Option<(DocumentId, Vec<u8>)>>,
}

fn acked_key(id: &DocumentId) -> String {
    format!("qiao.acked.{id}")
}

/// The device part of this tab's actor id: 4 bytes naming the browser (kept in localStorage)
/// and 4 random bytes naming this page load. Two tabs must never share an actor: each numbers
/// its changes from 1, and Automerge refuses a second change with the same actor and number.
fn device_bytes() -> [u8; 8] {
    let hex = storage::get("qiao.device").filter(|h| h.len() == 8).unwrap_or_else(|| {
        let h = storage::random_hex::<4>();
        storage::set("qiao.device", &h);
        h
    });
    let mut out = [0u8; 8];
    for (i, b) in out.iter_mut().take(4).enumerate() {
        *b = u8::from_str_radix(&hex[i * 2..i * 2 + 2], 16).unwrap_or(0);
    }
    out[4..].copy_from_slice(&storage::random_bytes::<4>());
    out
}

impl Repo {
    /// Start the repository for `me`: connect, and follow other tabs and the network state.
    pub fn start(me: &Me) -> Repo {
        let actor = qiao_model::actor::actor_for(me.id, device_bytes());
        let repo = Repo {
            inner: Rc::new(RefCell::new(Inner {
                actor,
                user: me.id,
                peer_id: PeerId(format!("qiao-tab-{}", storage::random_hex::<8>())),
                docs: HashMap::new(),
                socket: None,
                joined: false,
                server_peer: None,
                attempt: 0,
                stopped: false,
                reconnect_timer: None,
                ephemeral_count: 0,
                ephemeral_listeners: Vec::new(),
                writes_in_flight: 0,
                session_id: storage::random_hex::<8>(),
            })),
            status: RwSignal::new(ConnStatus::Connecting),
            session_ended: RwSignal::new(false),
            ephemeral: RwSignal::new(None),
            unavailable: RwSignal::new(None),
            opened: RwSignal::new(0),
            saving: RwSignal::new(false),
        };
        let r = repo.clone();
        idb::on_foreign_chunk(move |doc, key| {
            let r = r.clone();
            leptos::task::spawn_local(async move { r.apply_foreign_chunk(doc, key).await });
        });
        repo.watch_network();
        repo.connect();
        repo
    }

    fn watch_network(&self) {
        let Some(w) = web_sys::window() else { return };
        let r = self.clone();
        let online = Closure::<dyn FnMut()>::new(move || {
            r.inner.borrow_mut().attempt = 0;
            r.connect();
        });
        let r = self.clone();
        let offline = Closure::<dyn FnMut()>::new(move || r.drop_socket());
        let _ = w.add_event_listener_with_callback("online", online.as_ref().unchecked_ref());
        let _ = w.add_event_listener_with_callback("offline", offline.as_ref().unchecked_ref());
        online.forget();
        offline.forget();
    }

    // --- documents -----------------------------------------------------------------------------

    /// Open a document: from IndexedDB if it is there, else from `genesis`. Returns its version
    /// signal. Opening twice is cheap.
    pub async fn open(&self, id: DocumentId, genesis: impl FnOnce() -> AutoCommit) -> RwSignal<u64> {
        if let Some(e) = self.inner.borrow().docs.get(&id) {
            return e.version;
        }
        let key = id.to_string();
        let chunks = idb::load_chunks(&key).await.unwrap_or_else(|e| {
            leptos::logging::warn!("loading {key} from IndexedDB failed: {e}");
            Vec::new()
        });
        // Another open() of the same document may have finished while we awaited.
        if let Some(e) = self.inner.borrow().docs.get(&id) {
            return e.version;
        }
        let mut genesis = genesis();
        let genesis_bytes = genesis.save();
        let stored: Vec<&[u8]> = chunks.iter().map(|(_, b)| b.as_slice()).collect();
        let mut doc = qiao_model::schema::stored::open(genesis, &stored);
        let actor = self.inner.borrow().actor.clone();
        doc.set_actor(actor);
        // What genesis and the stored chunks hold is already on disk.
        let _ = doc.save_incremental();
        let acked: Vec<ChangeHash> = storage::get_json::<Vec<String>>(&acked_key(&id))
            .unwrap_or_default()
            .iter()
            .filter_map(|h| h.parse().ok())
            .collect();
        let version = RwSignal::new(0);
        let pending = RwSignal::new(0);
        self.inner.borrow_mut().docs.insert(
            id,
            Entry {
                doc,
                genesis: genesis_bytes,
                sync: sync::State::new(),
                requested: false,
                version,
                pending,
                acked,
                chunk_writes: 0,
            },
        );
        self.recount_pending(id);
        self.opened.update(|n| *n += 1);
        if chunks.len() >= COMPACT_AT {
            self.compact(id);
        }
        self.sync_doc(id);
        version
    }

    /// Read a document inside a tracked closure: re-runs when it changes.
    /// A document that is not open yet answers `None` and re-runs the closure once any document
    /// opens, so views written before their data arrives still fill in.
    pub fn read<R>(&self, id: DocumentId, f: impl FnOnce(&AutoCommit) -> R) -> Option<R> {
        let Some(version) = self.inner.borrow().docs.get(&id).map(|e| e.version) else {
            self.opened.track();
            return None;
        };
        version.track();
        let inner = self.inner.borrow();
        inner.docs.get(&id).map(|e| f(&e.doc))
    }

    /// A document's version (tracked: re-runs the caller when it changes); `None` before it is
    /// open. For caches of what is read from a document.
    pub fn version(&self, id: DocumentId) -> Option<u64> {
        let Some(version) = self.inner.borrow().docs.get(&id).map(|e| e.version) else {
            self.opened.track();
            return None;
        };
        Some(version.get())
    }

    /// A document's version without subscribing to it (event handlers).
    pub fn version_untracked(&self, id: DocumentId) -> Option<u64> {
        self.inner.borrow().docs.get(&id).map(|e| e.version.get_untracked())
    }

    /// Read a document without subscribing to it (event handlers, async tasks).
    pub fn read_untracked<R>(&self, id: DocumentId, f: impl FnOnce(&AutoCommit) -> R) -> Option<R> {
        let inner = self.inner.borrow();
        inner.docs.get(&id).map(|e| f(&e.doc))
    }

    /// Every open document with its version (untracked), for indexes kept beside the documents.
    pub fn open_docs(&self) -> Vec<(DocumentId, u64)> {
        self.inner.borrow().docs.iter().map(|(id, e)| (*id, e.version.get_untracked())).collect()
    }

    pub fn pending(&self, id: DocumentId) -> Option<RwSignal<usize>> {
        self.inner.borrow().docs.get(&id).map(|e| e.pending)
    }

    /// Change a document: apply `f`, persist the new change, then send it.
    pub fn change<T, E>(
        &self,
        id: DocumentId,
        f: impl FnOnce(&mut AutoCommit) -> Result<T, E>,
    ) -> Option<Result<T, E>> {
        let (result, bytes, version) = {
            let mut inner = self.inner.borrow_mut();
            let e = inner.docs.get_mut(&id)?;
            let result = f(&mut e.doc);
            let bytes = e.doc.save_incremental();
            (result, bytes, e.version)
        };
        if !bytes.is_empty() {
            self.persist(id, bytes);
        }
        version.update(|v| *v += 1);
        self.recount_pending(id);
        self.sync_doc(id);
        Some(result)
    }

    fn persist(&self, id: DocumentId, bytes: Vec<u8>) {
        let doc = id.to_string();
        let key = idb::new_chunk_key(&doc);
        let compact = {
            let mut inner = self.inner.borrow_mut();
            inner.docs.get_mut(&id).map(|e| {
                e.chunk_writes += 1;
                e.chunk_writes % COMPACT_AT == 0
            })
        };
        let r = self.clone();
        self.inner.borrow_mut().writes_in_flight += 1;
        if !self.saving.get_untracked() {
            self.saving.set(true);
        }
        leptos::task::spawn_local(async move {
            match idb::put_chunk(&doc, &key, &bytes).await {
                Ok(()) => idb::announce_chunk(&doc, &key),
                Err(e) => leptos::logging::error!("could not save {doc} to IndexedDB: {e}"),
            }
            let done = {
                let mut inner = r.inner.borrow_mut();
                inner.writes_in_flight -= 1;
                inner.writes_in_flight == 0
            };
            if done {
                r.saving.set(false);
            }
            if compact == Some(true) {
                r.compact(id);
            }
        });
    }

    /// Fold a document's chunks into one snapshot, if no other tab is doing it.
    fn compact(&self, id: DocumentId) {
        let r = self.clone();
        leptos::task::spawn_local(async move {
            let doc = id.to_string();
            let name = format!("qiao-compact-{doc}");
            let d2 = doc.clone();
            let Some(genesis) = r.inner.borrow().docs.get(&id).map(|e| e.genesis.clone()) else { return };
            let _ = idb::with_lock_if_available(&name, async move {
                let Ok(chunks) = idb::load_chunks(&d2).await else { return };
                if chunks.len() < 2 {
                    return;
                }
                // A snapshot that holds the genesis opens with one `AutoCommit::load`.
                let Ok(genesis) = AutoCommit::load(&genesis) else { return };
                let stored: Vec<&[u8]> = chunks.iter().map(|(_, b)| b.as_slice()).collect();
                let snapshot = qiao_model::schema::stored::snapshot(genesis, &stored);
                let keys: Vec<String> = chunks.into_iter().map(|(k, _)| k).collect();
                let new_key = idb::new_chunk_key(&d2);
                if let Err(e) = idb::replace_chunks(&d2, &new_key, &snapshot, &keys).await {
                    leptos::logging::warn!("compaction of {d2} failed: {e}");
                }
            })
            .await;
            drop(r);
        });
    }

    async fn apply_foreign_chunk(&self, doc: String, key: String) {
        let Ok(id) = doc.parse::<DocumentId>() else { return };
        if !self.inner.borrow().docs.contains_key(&id) {
            return;
        }
        let Ok(Some(bytes)) = idb::get_chunk(&key).await else { return };
        let version = {
            let mut inner = self.inner.borrow_mut();
            let Some(e) = inner.docs.get_mut(&id) else { return };
            let before = e.doc.get_heads();
            let _ = e.doc.load_incremental(&bytes);
            // Already on disk (the other tab wrote it): skip it in our next incremental save.
            let _ = e.doc.save_incremental();
            if e.doc.get_heads() == before {
                return;
            }
            e.version
        };
        version.update(|v| *v += 1);
        self.recount_pending(id);
        self.sync_doc(id);
    }

    fn recount_pending(&self, id: DocumentId) {
        let (n, signal) = {
            let mut inner = self.inner.borrow_mut();
            let user = inner.user;
            let Some(e) = inner.docs.get_mut(&id) else { return };
            let known: Vec<ChangeHash> =
                e.acked.iter().copied().filter(|h| e.doc.get_change_by_hash(h).is_some()).collect();
            // Ours from any tab of this browser (each tab has its own actor).
            let mine = |c: &automerge::Change| qiao_model::actor::user_of(c.actor_id()) == Some(user);
            let n = e.doc.get_changes(&known).iter().filter(|c| mine(c)).count();
            (n, e.pending)
        };
        if signal.get_untracked() != n {
            signal.set(n);
        }
    }

    // --- network -------------------------------------------------------------------------------

    fn connect(&self) {
        {
            let inner = self.inner.borrow();
            if inner.stopped || inner.socket.is_some() {
                return;
            }
        }
        if let Some(t) = self.inner.borrow_mut().reconnect_timer.take() {
            if let Some(w) = web_sys::window() {
                w.clear_timeout_with_handle(t);
            }
        }
        if !storage::is_online() {
            self.status.set(ConnStatus::Offline);
            return;
        }
        self.status.set(ConnStatus::Connecting);
        let (r1, r2, r3) = (self.clone(), self.clone(), self.clone());
        let socket = Socket::open(move || r1.on_open(), move |frame| r2.on_frame(frame), move || r3.on_close());
        match socket {
            Ok(s) => self.inner.borrow_mut().socket = Some(s),
            Err(_) => self.schedule_reconnect(),
        }
    }

    fn on_open(&self) {
        let join = {
            let inner = self.inner.borrow();
            Message::Join {
                sender_id: inner.peer_id.clone(),
                supported_protocol_versions: vec![PROTOCOL_V1.into()],
                peer_metadata: Some(PeerMetadata { storage_id: None, is_ephemeral: true }),
            }
        };
        self.send(&join);
    }

    fn on_close(&self) {
        {
            let mut inner = self.inner.borrow_mut();
            inner.socket = None;
            inner.joined = false;
        }
        self.status.set(ConnStatus::Offline);
        self.schedule_reconnect();
    }

    fn drop_socket(&self) {
        let s = {
            let mut inner = self.inner.borrow_mut();
            inner.joined = false;
            inner.socket.take()
        };
        drop(s);
        self.status.set(ConnStatus::Offline);
    }

    /// Reconnect after 0.5 s, 1 s, 2 s … up to 30 s, with jitter so that a relay restart is not
    /// met by every client at the same instant. Going online reconnects at once.
    fn schedule_reconnect(&self) {
        let delay = {
            let mut inner = self.inner.borrow_mut();
            if inner.stopped || inner.reconnect_timer.is_some() {
                return;
            }
            inner.attempt = (inner.attempt + 1).min(10);
            let base = (500.0 * 2f64.powi(inner.attempt as i32 - 1)).min(30_000.0);
            (base * (0.5 + js_sys::Math::random() * 0.5)) as i32
        };
        let r = self.clone();
        let cb = Closure::once_into_js(move || {
            r.inner.borrow_mut().reconnect_timer = None;
            r.connect();
        });
        if let Some(w) = web_sys::window()
            && let Ok(t) = w.set_timeout_with_callback_and_timeout_and_arguments_0(cb.unchecked_ref(), delay)
        {
            self.inner.borrow_mut().reconnect_timer = Some(t);
        }
    }

    fn send(&self, m: &Message) -> bool {
        let inner = self.inner.borrow();
        inner.socket.as_ref().is_some_and(|s| s.send(&m.encode()))
    }

    fn on_frame(&self, frame: Vec<u8>) {
        let msg = match Message::decode(&frame) {
            Ok(m) => m,
            Err(e) => {
                leptos::logging::warn!("relay sent an undecodable frame: {e}");
                return;
            }
        };
        match msg {
            Message::Peer { sender_id, .. } => {
                let ids: Vec<DocumentId> = {
                    let mut inner = self.inner.borrow_mut();
                    inner.joined = true;
                    inner.server_peer = Some(sender_id);
                    inner.attempt = 0;
                    for e in inner.docs.values_mut() {
                        e.sync = sync::State::new();
                        e.requested = false;
                    }
                    inner.docs.keys().copied().collect()
                };
                self.status.set(ConnStatus::Online);
                for id in ids {
                    self.sync_doc(id);
                }
            }
            Message::Sync { document_id, data, .. } => self.on_sync(document_id, &data),
            Message::Ephemeral { document_id, data, .. } => {
                let listeners = self.inner.borrow().ephemeral_listeners.clone();
                for l in listeners {
                    l(document_id, &data);
                }
                self.ephemeral.set(Some((document_id, data)));
            }
            Message::DocUnavailable { document_id, .. } => self.unavailable.set(Some(document_id)),
            Message::Error { message } => {
                leptos::logging::warn!("relay error: {message}");
                if message.contains("session") {
                    self.session_ended.set(true);
                }
            }
            // doc-unavailable: the relay has nothing yet; our own changes still go up via sync.
            _ => {}
        }
    }

    fn on_sync(&self, id: DocumentId, data: &[u8]) {
        let Ok(msg) = sync::Message::decode(data) else { return };
        let (bytes, version, changed) = {
            let mut inner = self.inner.borrow_mut();
            let Some(e) = inner.docs.get_mut(&id) else { return };
            let before = e.doc.get_heads();
            if let Err(err) = e.doc.sync().receive_sync_message(&mut e.sync, msg) {
                leptos::logging::warn!("sync message for {id} did not apply: {err}");
                return;
            }
            if let Some(h) = e.sync.their_heads.clone() {
                e.acked = h;
                let hex: Vec<String> = e.acked.iter().map(|h| h.to_string()).collect();
                storage::set_json(&acked_key(&id), &hex);
            }
            let changed = e.doc.get_heads() != before;
            let bytes = if changed { e.doc.save_incremental() } else { Vec::new() };
            (bytes, e.version, changed)
        };
        if !bytes.is_empty() {
            self.persist(id, bytes);
        }
        if changed {
            version.update(|v| *v += 1);
        }
        self.recount_pending(id);
        self.sync_doc(id);
    }

    /// Hear every ephemeral message from other peers.
    pub fn on_ephemeral(&self, f: impl Fn(DocumentId, &[u8]) + 'static) {
        self.inner.borrow_mut().ephemeral_listeners.push(Rc::new(f));
    }

    /// Send a signal to the other peers of a document (typing, presence); dropped when offline.
    pub fn send_ephemeral(&self, id: DocumentId, data: Vec<u8>) {
        let msg = {
            let mut inner = self.inner.borrow_mut();
            if !inner.joined {
                return;
            }
            inner.ephemeral_count += 1;
            Message::Ephemeral {
                sender_id: inner.peer_id.clone(),
                target_id: inner.server_peer.clone().unwrap_or(PeerId(String::new())),
                count: inner.ephemeral_count,
                session_id: inner.session_id.clone(),
                document_id: id,
                data,
            }
        };
        self.send(&msg);
    }

    /// Send the relay whatever sync message `id` is due, if connected.
    fn sync_doc(&self, id: DocumentId) {
        let msg = {
            let mut inner = self.inner.borrow_mut();
            if !inner.joined {
                return;
            }
            let (me, server) = (inner.peer_id.clone(), inner.server_peer.clone().unwrap_or(PeerId(String::new())));
            let Some(e) = inner.docs.get_mut(&id) else { return };
            let Some(m) = e.doc.sync().generate_sync_message(&mut e.sync) else { return };
            let data = m.encode();
            if e.requested {
                Message::Sync { sender_id: me, target_id: server, document_id: id, data }
            } else {
                e.requested = true;
                Message::Request { sender_id: me, target_id: server, document_id: id, data }
            }
        };
        self.send(&msg);
    }

    /// Start syncing `id` afresh (a new sync state and a new `request`): for a document the relay
    /// did not have when it was first asked for, such as a knowledge-base page made offline whose
    /// space only now names it.
    pub fn resync(&self, id: DocumentId) {
        {
            let mut inner = self.inner.borrow_mut();
            let Some(e) = inner.docs.get_mut(&id) else { return };
            e.sync = sync::State::new();
            e.requested = false;
        }
        self.sync_doc(id);
    }

    /// Forget a document this user may no longer hold: from memory and from IndexedDB.
    pub async fn forget(&self, id: DocumentId) {
        self.inner.borrow_mut().docs.remove(&id);
        storage::remove(&acked_key(&id));
        let _ = idb::delete_doc(&id.to_string()).await;
    }

    /// Log out: stop syncing and forget every local copy.
    pub async fn shut_down_and_wipe(&self) {
        {
            let mut inner = self.inner.borrow_mut();
            inner.stopped = true;
            inner.socket = None;
            inner.docs.clear();
        }
        Self::wipe_local().await;
    }

    /// Delete every document and setting this browser holds for Qiao (the language stays).
    pub async fn wipe_local() {
        let locale = storage::get("qiao.locale");
        let _ = idb::clear_all().await;
        crate::features::chat::uploads::clear_outbox().await;
        storage::clear_qiao_keys();
        if let Some(l) = locale {
            storage::set("qiao.locale", &l);
        }
    }
}
