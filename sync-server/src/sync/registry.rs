//! Open documents and the peers syncing them.
//!
//! Each open document is a [`Slot`] behind its own async mutex: the in-memory Automerge document
//! (a cache of what the store holds), and one automerge sync state per connected peer. Handling a
//! sync message for a slot is one critical section:
//!
//! 1. decode and apply it (contained: hostile bytes cannot take the relay down);
//! 2. check every new change: the sender may write this document, and each change's actor id
//!    belongs to the sender ([`qiao_model::actor`]). A violation throws the in-memory copy away
//!    and reloads it from the store, which never saw the refused changes;
//! 3. append the new changes to the store and wait for the commit;
//! 4. only then generate sync messages — to the sender (which tells it the relay has its
//!    changes) and to every other peer of the document (fan-out).
//!
//! Step 3 before step 4 is the durability promise: nothing tells a peer the relay has a change
//! until the change is on disk. A document no peer is syncing is dropped from memory.

use super::connections::ConnId;
use super::contain::{check_sync_message, contain};
use super::ws::{ConnHandle, Outbound};
use crate::error::AppError;
use crate::store::{Access, DocKind, Store};
use automerge::Automerge;
use automerge::sync::{self, SyncDoc};
use qiao_model::actor;
use qiao_model::ids::{DocumentId, PeerId, UserId};
use qiao_model::protocol::Message;
use qiao_model::schema::{announcements, chat, kb, tasks};
use sha2::Digest;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Why `change`, sent by `conn`, may not enter a document of `kind`; `None` when it may.
/// `owns` says whether the sender owns what the document belongs to (a project's owner moderates
/// its board's comments; an editor of a knowledge-base space writes its pages).
fn check_change(
    kind: &DocKind,
    change: &automerge::Change,
    decoded: &automerge::ExpandedChange,
    conn: &ConnCtx,
    owns: bool,
    actor: Option<&qiao_model::acl::Actor>,
    ticket: Option<&qiao_model::schema::helpdesk::Powers>,
) -> Option<String> {
    if !actor::may_author(conn.user, change.actor_id()) {
        return Some(format!("change under actor {} which is not yours", change.actor_id()));
    }
    // The relay holds every kind's genesis from the start: a genesis-actor change it does not
    // have already is not the genesis.
    if change.actor_id().to_bytes() == actor::GENESIS_ACTOR && kind.genesis().is_some() {
        return Some("a change under the genesis actor that is not the document's genesis".into());
    }
    if let Some(key) = qiao_model::schema::forbidden_key(decoded) {
        return Some(format!("the key {key:?} is not allowed in any document"));
    }
    match kind {
        DocKind::ChatSegment { .. } => {
            let actor = qiao_model::acl::Actor { role: conn.role, dept: None };
            let powers = chat::Powers {
                moderate: conn.role != qiao_model::acl::Role::Employee,
                mention_all: qiao_model::acl::mention_all(&actor).is_ok(),
            };
            chat::validate(decoded, conn.user, powers).err().map(|v| v.to_string())
        }
        // Read-only over sync for everyone; only `Registry::server_change` writes it.
        DocKind::Directory => Some("the directory is written by the relay only".into()),
        // Only its owner opens it (checked by access), under their own actors (checked above).
        DocKind::UserState { .. } => None,
        // Members only (checked by access); the board's own rules say the rest.
        DocKind::Announcements => {
            let Some(actor) = actor else { return Some("your account is not active".into()) };
            let powers = announcements::Powers {
                publish: qiao_model::acl::publish_announcement(actor, actor.dept.as_ref()).is_ok(),
                moderate: actor.role == qiao_model::acl::Role::SuperAdmin,
                only_dept: match actor.role {
                    qiao_model::acl::Role::SuperAdmin => None,
                    _ => Some(actor.dept.as_ref().map(|d| d.0.clone()).unwrap_or_default()),
                },
            };
            announcements::validate(decoded, conn.user, &powers).err().map(|v| v.to_string())
        }
        DocKind::Surveys => {
            let Some(actor) = actor else { return Some("your account is not active".into()) };
            let powers = qiao_model::schema::surveys::Powers {
                publish: actor.role != qiao_model::acl::Role::Employee,
                moderate: actor.role == qiao_model::acl::Role::SuperAdmin,
                only_dept: match actor.role {
                    qiao_model::acl::Role::SuperAdmin => None,
                    _ => Some(actor.dept.as_ref().map(|d| d.0.clone()).unwrap_or_default()),
                },
            };
            qiao_model::schema::surveys::validate(decoded, conn.user, &powers).err().map(|v| v.to_string())
        }
        DocKind::Suggestions => {
            let Some(actor) = actor else { return Some("your account is not active".into()) };
            let powers =
                qiao_model::schema::suggestions::Powers { moderate: actor.role != qiao_model::acl::Role::Employee };
            qiao_model::schema::suggestions::validate(decoded, conn.user, &powers).err().map(|v| v.to_string())
        }
        DocKind::Ticket { .. } => {
            let Some(powers) = ticket else { return Some("not a ticket you may write".into()) };
            qiao_model::schema::helpdesk::validate(decoded, conn.user, powers).err().map(|v| v.to_string())
        }
        DocKind::KbSpace { .. } => kb::validate(decoded, conn.user, owns, true).err().map(|v| v.to_string()),
        DocKind::KbPage { .. } => kb::validate(decoded, conn.user, owns, false).err().map(|v| v.to_string()),
        DocKind::ProjectBoard { .. } => {
            let powers = tasks::Powers { moderate: owns || conn.role != qiao_model::acl::Role::Employee };
            tasks::validate(decoded, conn.user, powers).err().map(|v| v.to_string())
        }
    }
}

/// Document `id` as stored: its kind's genesis first (stored chunks may hold it again: loading
/// it twice is harmless), then every chunk, decoded under `contain`.
fn from_chunks(id: DocumentId, kind: &DocKind, chunks: &[(i64, String, Vec<u8>)]) -> Result<Automerge, AppError> {
    let mut doc = match kind.genesis() {
        Some(mut g) => g.document().clone(),
        None => Automerge::new(),
    };
    for (_, _, bytes) in chunks {
        contain(|| doc.load_incremental(bytes))
            .map_err(|e| AppError::Internal(format!("stored document {id} does not load: {e}")))?;
    }
    Ok(doc)
}

/// Changes appended since the last snapshot before the store folds them into a new one.
const COMPACT_AFTER: usize = 500;

/// Who is on the other end of a connection.
#[derive(Clone)]
pub struct ConnCtx {
    pub id: ConnId,
    pub user: UserId,
    pub role: qiao_model::acl::Role,
    pub peer_id: PeerId,
    pub handle: ConnHandle,
    pub ip: String,
}

/// Why a frame ended its connection.
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    #[error("{0}")]
    Protocol(String),
    #[error("refused: {0}")]
    Forbidden(String),
    #[error(transparent)]
    Store(#[from] AppError),
}

struct PeerSync {
    peer_id: PeerId,
    user: UserId,
    state: sync::State,
    handle: ConnHandle,
    /// The last message sent to this peer carried changes, and it has not answered since (it
    /// will: applying changes moves its heads). Fan-out waits for that answer rather than queue
    /// one more message per new change: otherwise a peer that falls behind (a paused tab, a
    /// flooded channel) keeps a standing queue of stale sync messages, each of which it answers
    /// and each answer drawing another, so its latency never recovers while the document is busy.
    awaiting: bool,
}

struct Slot {
    kind: DocKind,
    /// `None` until loaded, and after a contained panic or a refused change (reload from store).
    doc: Option<Automerge>,
    chunks_since_snapshot: usize,
    /// The store holds nothing of this document yet: the first changes stored go with the
    /// genesis, so the stored copy alone is the whole document.
    needs_genesis: bool,
    peers: HashMap<ConnId, PeerSync>,
    /// Set when the slot was dropped from the registry; a handler holding it must fetch anew.
    evicted: bool,
    /// Changes were applied without a fan-out after them (a batch's earlier frames): the next
    /// answer must go to every peer, not only to the sender.
    unsent: bool,
}

pub struct Registry {
    store: Store,
    server_peer: PeerId,
    /// Where stored changes are reported for web push ([`crate::push`]); unset in tools that
    /// run a registry without a relay around it.
    events: std::sync::OnceLock<crate::push::EventSink>,
    slots: Mutex<HashMap<DocumentId, Arc<tokio::sync::Mutex<Slot>>>>,
}

impl Registry {
    pub fn new(store: Store, server_peer: PeerId) -> Self {
        Self { store, server_peer, events: std::sync::OnceLock::new(), slots: Mutex::new(HashMap::new()) }
    }

    /// Hand `ev` to the push dispatcher (when there is one: not in every test harness).
    pub fn notify(&self, ev: crate::push::Event) {
        if let Some(sink) = self.events.get()
            && sink.subscribers.load(std::sync::atomic::Ordering::Relaxed)
        {
            sink.send(ev);
        }
    }

    /// Report stored changes to `sink` from now on (once; later calls are ignored).
    pub fn set_events(&self, sink: crate::push::EventSink) {
        let _ = self.events.set(sink);
    }

    /// Run `f` on document `id` as the relay holds it: the copy in memory when it is open, else
    /// one built from the store for this call only (not kept: nobody is syncing it).
    pub async fn read_doc<R>(
        &self,
        id: DocumentId,
        kind: &DocKind,
        f: impl FnOnce(&Automerge) -> R,
    ) -> Result<R, AppError> {
        let slot = self.slots.lock().unwrap_or_else(|p| p.into_inner()).get(&id).cloned();
        if let Some(slot) = slot {
            let s = slot.lock().await;
            if !s.evicted
                && let Some(doc) = &s.doc
            {
                return Ok(f(doc));
            }
        }
        let doc = from_chunks(id, kind, &self.store.load_chunks(id).await?)?;
        Ok(f(&doc))
    }

    /// Tell web push what the changes just stored brought: new chat messages (looked for only
    /// while someone has a push subscription), or a changed board (its reminders).
    fn report(&self, id: DocumentId, kind: &DocKind, doc: &Automerge, before: &[automerge::ChangeHash]) {
        let Some(sink) = self.events.get() else { return };
        match kind {
            DocKind::ChatSegment { channel, .. } if sink.subscribers.load(std::sync::atomic::Ordering::Relaxed) => {
                let messages = chat::messages_added(doc, before);
                if !messages.is_empty() {
                    sink.send(crate::push::Event::Chat { channel: channel.clone(), messages });
                }
            }
            DocKind::ProjectBoard { project } => {
                sink.send(crate::push::Event::Board { doc: id, project: project.clone() })
            }
            _ => {}
        }
    }

    pub fn server_peer(&self) -> &PeerId {
        &self.server_peer
    }

    /// Documents currently held in memory.
    pub fn open_documents(&self) -> usize {
        self.slots.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    fn slot(&self, id: DocumentId, kind: &DocKind) -> Arc<tokio::sync::Mutex<Slot>> {
        self.slots
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(id)
            .or_insert_with(|| {
                Arc::new(tokio::sync::Mutex::new(Slot {
                    kind: kind.clone(),
                    doc: None,
                    chunks_since_snapshot: 0,
                    needs_genesis: false,
                    peers: HashMap::new(),
                    evicted: false,
                    unsent: false,
                }))
            })
            .clone()
    }

    fn send(&self, to: &ConnHandle, msg: Message) {
        to.send(Outbound::Frame(msg.encode()));
    }

    fn unavailable(&self, conn: &ConnCtx, doc: DocumentId) {
        self.send(
            &conn.handle,
            Message::DocUnavailable {
                sender_id: self.server_peer.clone(),
                target_id: conn.peer_id.clone(),
                document_id: doc,
            },
        );
    }

    /// Load a slot's document from the store if it is not in memory.
    async fn ensure_loaded(&self, id: DocumentId, slot: &mut Slot) -> Result<(), Refusal> {
        if slot.doc.is_some() {
            return Ok(());
        }
        let chunks = self.store.load_chunks(id).await?;
        let doc = from_chunks(id, &slot.kind, &chunks)?;
        let since_snapshot = chunks.iter().rev().take_while(|(_, kind, _)| kind != "snapshot").count();
        slot.doc = Some(doc);
        slot.chunks_since_snapshot = since_snapshot;
        slot.needs_genesis = chunks.is_empty() && slot.kind.genesis().is_some();
        // Every peer's view of the old copy is void: start their sync afresh.
        for p in slot.peers.values_mut() {
            p.state = sync::State::new();
        }
        Ok(())
    }

    /// A `request` or `sync` frame from `conn` about document `id`, answered at once.
    pub async fn handle_sync(&self, conn: &ConnCtx, id: DocumentId, data: &[u8], request: bool) -> Result<(), Refusal> {
        self.receive_sync(conn, id, data, request, true).await
    }

    /// Like [`Registry::handle_sync`]; with `answer` false the frame is applied and its changes
    /// stored, but no peer is sent anything yet: the connection already holds its peer's next
    /// frame about the same document and answers that one (or calls [`Registry::answer`]).
    ///
    /// A peer that fell behind (a busy document, a slow network) has several sync messages in
    /// flight. Answered one by one, each draws an answer that is stale on arrival, which the peer
    /// answers in turn: the messages circling between the two never decrease while the document
    /// keeps changing, and every change the relay fans out adds one. One answer to the batch
    /// brings them back to one.
    pub async fn receive_sync(
        &self,
        conn: &ConnCtx,
        id: DocumentId,
        data: &[u8],
        request: bool,
        answer: bool,
    ) -> Result<(), Refusal> {
        let (access, kind) = self.store.access(conn.user, id).await?;
        let Some(kind) = kind.filter(|_| access >= Access::Read) else {
            self.store.audit(Some(conn.user), Some(&conn.ip), "sync.read", true, &id.to_string()).await?;
            self.unavailable(conn, id);
            return Ok(());
        };
        let msg =
            contain(|| sync::Message::decode(data)).map_err(|e| Refusal::Protocol(format!("bad sync message: {e}")))?;
        check_sync_message(&msg).map_err(|e| Refusal::Protocol(format!("bad sync message: {e}")))?;

        let slot = loop {
            let slot = self.slot(id, &kind);
            let guard = slot.clone().lock_owned().await;
            if !guard.evicted {
                break guard;
            }
        };
        let mut slot = slot;
        let was_loaded = slot.doc.is_some();
        self.ensure_loaded(id, &mut slot).await?;

        let s = &mut *slot;
        let peer = s.peers.entry(conn.id).or_insert_with(|| PeerSync {
            peer_id: conn.peer_id.clone(),
            user: conn.user,
            state: sync::State::new(),
            handle: conn.handle.clone(),
            awaiting: false,
        });
        peer.awaiting = false;
        let doc = s.doc.as_mut().expect("loaded above");
        let before = doc.get_heads();
        if let Err(e) = contain(|| doc.receive_sync_message(&mut peer.state, msg)) {
            s.doc = None;
            s.peers.remove(&conn.id);
            self.ensure_loaded(id, s).await?;
            self.fan_out(id, s);
            return Err(Refusal::Protocol(format!("sync message does not apply: {e}")));
        }

        let new = doc.get_changes(&before);
        if !new.is_empty() {
            let owns = match &s.kind {
                DocKind::ProjectBoard { project } => {
                    self.store.project_role(project, conn.user).await?.as_deref() == Some("owner")
                }
                DocKind::KbSpace { space } | DocKind::KbPage { space, .. } => {
                    self.store.kb_editor(space, conn.user).await?
                }
                _ => false,
            };
            let actor = match &s.kind {
                DocKind::Announcements | DocKind::Surveys | DocKind::Suggestions => {
                    self.store.actor_of(conn.user).await?
                }
                _ => None,
            };
            // A ticket's rules depend on who the sender is to it and on its status before.
            let ticket = match &s.kind {
                DocKind::Ticket { requester, .. } => Some(qiao_model::schema::helpdesk::Powers {
                    requester: *requester == conn.user,
                    agent: self.store.helpdesk_agent(conn.user).await?,
                    prior: qiao_model::schema::helpdesk::status_at(s.doc.as_ref().expect("loaded"), &before),
                }),
                _ => None,
            };
            // Each change decoded once, for every rule that reads its operations.
            let decoded: Vec<automerge::ExpandedChange> =
                if access < Access::Write { Vec::new() } else { new.iter().map(|c| c.decode()).collect() };
            let mut violation = if access < Access::Write {
                Some("this document is read-only for you".to_string())
            } else {
                new.iter()
                    .zip(&decoded)
                    .find_map(|(c, d)| check_change(&s.kind, c, d, conn, owns, actor.as_ref(), ticket.as_ref()))
            };
            // A ticket is assigned to helpdesk agents only (who they are is the store's to say).
            if violation.is_none() && ticket.is_some() {
                for who in decoded.iter().flat_map(qiao_model::schema::helpdesk::assignees_named) {
                    if !self.store.helpdesk_agent(who).await? {
                        violation =
                            Some(format!("a ticket is assigned to helpdesk agents only (user {who} is not one)"));
                        break;
                    }
                }
            }
            if let Some(why) = violation {
                self.store.audit(Some(conn.user), Some(&conn.ip), "sync.write", true, &format!("{id}: {why}")).await?;
                s.doc = None;
                s.peers.remove(&conn.id);
                self.ensure_loaded(id, s).await?;
                self.fan_out(id, s);
                return Err(Refusal::Forbidden(why));
            }
            let mut bytes: Vec<Vec<u8>> = new.iter().map(|c| c.raw_bytes().to_vec()).collect();
            if s.needs_genesis
                && let Some(mut g) = s.kind.genesis()
                && let Some(c) = g.get_last_local_change()
            {
                bytes.insert(0, c.raw_bytes().to_vec());
            }
            let last_seq = match self.store.append_changes(id, &s.kind, &bytes).await {
                Ok(seq) => {
                    s.needs_genesis = false;
                    seq
                }
                Err(e) => {
                    // Not stored, so not acknowledged: forget the in-memory copy too.
                    s.doc = None;
                    return Err(e.into());
                }
            };
            s.chunks_since_snapshot += bytes.len();
            if s.chunks_since_snapshot >= COMPACT_AFTER {
                let snapshot = s.doc.as_mut().expect("present").save();
                self.store.compact(id, &snapshot, last_seq).await?;
                s.chunks_since_snapshot = 0;
            }
            self.report(id, &s.kind, s.doc.as_ref().expect("present"), &before);
            // A ticket's index row follows its document, times by the relay's clock.
            if let DocKind::Ticket { .. } = &s.kind
                && let Some(summary) = qiao_model::schema::helpdesk::summary(s.doc.as_ref().expect("present"))
            {
                self.store.sync_ticket(id, &summary, crate::store::now_ms()).await?;
            }
            // A page named in a space exists from now on: its document can be served.
            if let DocKind::KbSpace { space } = &s.kind {
                let pages = kb::page_ids(s.doc.as_ref().expect("present"));
                self.store.register_kb_pages(space, &pages).await?;
            }
        }

        let empty = s.doc.as_ref().is_none_or(|d| d.get_heads().is_empty());
        if request && empty {
            // automerge-repo semantics: a requester learns the document is not here (yet).
            self.unavailable(conn, id);
        }
        if !answer {
            s.unsent |= !new.is_empty();
        } else if new.is_empty() && was_loaded && !s.unsent {
            // The document did not change, so no other peer is due anything it was not sent
            // when it last changed (a peer skipped then as awaiting is answered on its own next
            // frame): only the sender may be due an answer. In a channel that N peers sync,
            // every change draws N acknowledgments; a fan-out to all on each would cost N² sync
            // messages generated under this lock per change.
            self.send_due(id, s, Some(conn.id));
        } else {
            self.fan_out(id, s);
        }
        Ok(())
    }

    /// Send every peer of document `id` whatever it is due: the end of a batch whose last frame
    /// was not about this document, or ended the connection.
    pub async fn answer(&self, id: DocumentId) {
        let slot = self.slots.lock().unwrap_or_else(|p| p.into_inner()).get(&id).cloned();
        let Some(slot) = slot else { return };
        let mut s = slot.lock().await;
        if !s.evicted {
            self.fan_out(id, &mut s);
        }
    }

    /// Send every peer of the slot whatever sync message it is due.
    fn fan_out(&self, id: DocumentId, s: &mut Slot) {
        s.unsent = false;
        self.send_due(id, s, None);
    }

    /// Send the peers of the slot (only peer `only`, if given) whatever sync message each is due.
    fn send_due(&self, id: DocumentId, s: &mut Slot, only: Option<ConnId>) {
        let Some(doc) = s.doc.as_mut() else { return };
        let mut broken = Vec::new();
        for (cid, p) in s.peers.iter_mut() {
            if p.awaiting || only.is_some_and(|o| o != *cid) {
                continue;
            }
            // Generating works from what the peer told us (its heads, needs, bloom filter): a
            // panic here would end the task of whichever peer's frame triggered the fan-out, and
            // again on every later frame. Contained, it ends only the peer whose state it is.
            match contain(|| Ok::<_, std::convert::Infallible>(doc.generate_sync_message(&mut p.state))) {
                Ok(Some(m)) => {
                    p.awaiting = !m.changes.is_empty();
                    self.send(
                        &p.handle,
                        Message::Sync {
                            sender_id: self.server_peer.clone(),
                            target_id: p.peer_id.clone(),
                            document_id: id,
                            data: m.encode(),
                        },
                    )
                }
                Ok(None) => {}
                Err(e) => {
                    p.handle.close(format!("sync state unusable: {e}"));
                    broken.push(*cid);
                }
            }
        }
        for cid in broken {
            s.peers.remove(&cid);
        }
    }

    /// An `ephemeral` frame (presence, typing): relayed to the document's other peers, not stored.
    pub async fn handle_ephemeral(&self, conn: &ConnCtx, id: DocumentId, msg: Message) -> Result<(), Refusal> {
        let (access, _) = self.store.access(conn.user, id).await?;
        if access < Access::Read {
            self.unavailable(conn, id);
            return Ok(());
        }
        let slot = self.slots.lock().unwrap_or_else(|p| p.into_inner()).get(&id).cloned();
        let Some(slot) = slot else { return Ok(()) };
        let s = slot.lock().await;
        if let Message::Ephemeral { sender_id, count, session_id, data, .. } = msg {
            for (cid, p) in &s.peers {
                if *cid != conn.id {
                    self.send(
                        &p.handle,
                        Message::Ephemeral {
                            sender_id: sender_id.clone(),
                            target_id: p.peer_id.clone(),
                            count,
                            session_id: session_id.clone(),
                            document_id: id,
                            data: data.clone(),
                        },
                    );
                }
            }
        }
        Ok(())
    }

    /// Apply a change the relay itself makes (e.g. the regenerated directory): `f` edits document
    /// `id` under the relay's actor (user id [`qiao_model::schema::directory::SERVER_USER`], which
    /// no account has, so no client can write under it). The new changes are stored, then fanned
    /// out to the document's peers, like a client's. Whether anything changed.
    pub async fn server_change(
        &self,
        id: DocumentId,
        f: impl FnOnce(&mut Automerge) -> Result<(), AppError>,
    ) -> Result<bool, AppError> {
        let kind = self.store.doc_kind(id).await?.ok_or_else(|| AppError::NotFound(format!("document {id}")))?;
        let mut slot = loop {
            let slot = self.slot(id, &kind);
            let guard = slot.clone().lock_owned().await;
            if !guard.evicted {
                break guard;
            }
        };
        let s = &mut *slot;
        let result = self.server_change_in(id, s, f).await;
        if s.peers.is_empty() {
            // Loaded only for this change: do not keep it in memory.
            s.evicted = true;
            self.slots.lock().unwrap_or_else(|p| p.into_inner()).remove(&id);
        }
        result
    }

    async fn server_change_in(
        &self,
        id: DocumentId,
        s: &mut Slot,
        f: impl FnOnce(&mut Automerge) -> Result<(), AppError>,
    ) -> Result<bool, AppError> {
        self.ensure_loaded(id, s).await.map_err(|e| match e {
            Refusal::Store(e) => e,
            other => AppError::Internal(other.to_string()),
        })?;
        let mut device = [0u8; 8];
        device.copy_from_slice(&sha2::Sha256::digest(self.server_peer.as_str().as_bytes())[..8]);
        let server = actor::actor_for(qiao_model::schema::directory::SERVER_USER, device);
        let doc = s.doc.as_mut().expect("loaded above");
        let before = doc.get_heads();
        doc.set_actor(server.clone());
        if let Err(e) = f(doc) {
            s.doc = None;
            return Err(e);
        }
        let new = doc.get_changes(&before);
        if new.is_empty() {
            return Ok(false);
        }
        if new.iter().any(|c| *c.actor_id() != server) {
            s.doc = None;
            return Err(AppError::Internal(format!("a server change to {id} came under another actor")));
        }
        let bytes: Vec<Vec<u8>> = new.iter().map(|c| c.raw_bytes().to_vec()).collect();
        let last_seq = match self.store.append_changes(id, &s.kind, &bytes).await {
            Ok(seq) => seq,
            Err(e) => {
                s.doc = None;
                return Err(e);
            }
        };
        s.chunks_since_snapshot += bytes.len();
        if s.chunks_since_snapshot >= COMPACT_AFTER {
            let snapshot = s.doc.as_mut().expect("present").save();
            self.store.compact(id, &snapshot, last_seq).await?;
            s.chunks_since_snapshot = 0;
        }
        self.fan_out(id, s);
        Ok(true)
    }

    /// Stop syncing `user` on every open document `which` selects (removed from a conversation):
    /// their peers are dropped and told `doc-unavailable`. Every later frame is checked anew.
    pub async fn revoke(&self, user: UserId, which: impl Fn(&DocKind) -> bool) {
        let slots: Vec<(DocumentId, Arc<tokio::sync::Mutex<Slot>>)> =
            self.slots.lock().unwrap_or_else(|p| p.into_inner()).iter().map(|(id, s)| (*id, s.clone())).collect();
        for (id, slot) in slots {
            let mut s = slot.lock().await;
            if !which(&s.kind) {
                continue;
            }
            s.peers.retain(|_, p| {
                if p.user != user {
                    return true;
                }
                self.send(
                    &p.handle,
                    Message::DocUnavailable {
                        sender_id: self.server_peer.clone(),
                        target_id: p.peer_id.clone(),
                        document_id: id,
                    },
                );
                false
            });
        }
    }

    /// A connection ended: remove its peers; drop documents nobody syncs any more.
    pub async fn disconnect(&self, conn: ConnId, docs: impl IntoIterator<Item = DocumentId>) {
        for id in docs {
            let slot = self.slots.lock().unwrap_or_else(|p| p.into_inner()).get(&id).cloned();
            let Some(slot) = slot else { continue };
            let mut s = slot.lock().await;
            s.peers.remove(&conn);
            if s.peers.is_empty() {
                s.evicted = true;
                self.slots.lock().unwrap_or_else(|p| p.into_inner()).remove(&id);
            }
        }
    }
}
