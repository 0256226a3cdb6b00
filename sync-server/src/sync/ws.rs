//! One websocket connection: upgrade, handshake, frame loop.
//!
//! The session is checked before the upgrade (no valid session: 401, no socket) and the
//! `Origin` by the router's middleware; a person holding `--max-connections-per-user` sockets
//! already is refused with 429 (see [`super::connections`]). After the upgrade the client must send `join` first;
//! then every frame is decoded ([`qiao_model::protocol`]) and routed to the
//! [`Registry`](super::registry::Registry), which checks it against the document's access list.
//! A frame that is too large, not CBOR, or not applicable gets an `error` message and closes this
//! connection only. Outgoing frames go through a bounded queue: a client that does not read is
//! disconnected rather than allowed to grow the relay's memory.

use super::connections::Reservation;
use super::registry::{ConnCtx, Refusal};
use crate::AppState;
use crate::auth::AuthUser;
use crate::error::AppError;
use axum::extract::State;
use axum::extract::ws::{CloseFrame, Message as WsMessage, WebSocket, WebSocketUpgrade};
use axum::response::{IntoResponse, Response};
use futures_util::{FutureExt, SinkExt, StreamExt};
use qiao_model::ids::{DocumentId, PeerId};
use qiao_model::protocol::{Message, PROTOCOL_V1, PeerMetadata};
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Notify, mpsc};

/// Frames queued for one client before it counts as a slow reader and is dropped.
const OUTBOUND_QUEUE: usize = 1024;
/// Time a client has to send `join` after connecting.
const JOIN_TIMEOUT: Duration = Duration::from_secs(10);
/// Documents one connection may sync at once.
const MAX_DOCS_PER_CONNECTION: usize = 10_000;
/// Largest ephemeral payload relayed (presence and typing are tiny).
const MAX_EPHEMERAL_BYTES: usize = 16 * 1024;
/// A frame costs one unit of its connection's budget (see [`Budget`]), plus one per this many
/// bytes it carries. The default budget (`Config::sync_frame_burst`, 1,000 units) covers the app's
/// start (a `request` and a few sync rounds per open document) and a largest frame; spent, it
/// refills at `Config::sync_frames_per_sec` (200: that many small frames or about 3 MB a second).
const BYTES_PER_UNIT: usize = 16 * 1024;

pub enum Outbound {
    Frame(Vec<u8>),
    /// Send an `error` message with this text, then close.
    Close(String),
}

/// The sending side of a connection, shared with the registry.
#[derive(Clone)]
pub struct ConnHandle {
    tx: mpsc::Sender<Outbound>,
    kill: Arc<Notify>,
}

impl ConnHandle {
    pub fn new() -> (Self, mpsc::Receiver<Outbound>) {
        let (tx, rx) = mpsc::channel(OUTBOUND_QUEUE);
        (Self { tx, kill: Arc::new(Notify::new()) }, rx)
    }

    /// Queue a frame; a full queue means the client is not reading: cut it off.
    pub fn send(&self, o: Outbound) {
        if self.tx.try_send(o).is_err() {
            self.kill.notify_one();
        }
    }

    /// Close now, with a reason the client can read.
    /// The reader stops too: a client that ignores the close frame (websocket libraries still
    /// deliver data after sending one) must not keep writing on a revoked session.
    pub fn close(&self, reason: String) {
        let _ = self.tx.try_send(Outbound::Close(reason));
        self.kill.notify_one();
    }
}

pub async fn upgrade(
    State(state): State<AppState>,
    who: AuthUser,
    ext: axum::http::Extensions,
    ws: WebSocketUpgrade,
) -> Response {
    let ip = crate::client_ip(&ext);
    let user = who.user.me.id;
    let cap = state.config.max_connections_per_user;
    let slot = match state.connections.reserve(user, cap) {
        Ok(slot) => slot,
        Err(held) => {
            tracing::info!(%user, held, "sync connection refused: per-person cap reached");
            if state.connections.audit_refusal_due(user) {
                let detail = format!("{held} connections open (limit {cap})");
                if let Err(e) = state.store.audit(Some(user), Some(&ip), "sync.connection_limit", true, &detail).await {
                    tracing::error!(error = %e, "could not audit a refused sync connection");
                }
            }
            return AppError::TooManyConnections(format!(
                "{held} sync connections are open for this account already (the limit is {cap}); close a tab or sign out a device"
            ))
            .into_response();
        }
    };
    let max = state.config.max_frame_bytes;
    // Small socket buffers: tungstenite's default 128 KiB read buffer stays resident per socket
    // (the bench measured 139 KiB per idle connection), which 10,000 sockets cannot afford.
    // Frames larger than the buffer still arrive whole; they are read in more steps.
    ws.max_message_size(max)
        .max_frame_size(max)
        .read_buffer_size(8 * 1024)
        .write_buffer_size(8 * 1024)
        .on_upgrade(move |socket| run(state, who, ip, slot, socket))
}

async fn run(state: AppState, who: AuthUser, ip: String, slot: Reservation, socket: WebSocket) {
    let (mut sink, mut stream) = socket.split();
    let (handle, mut rx) = ConnHandle::new();
    let conn_id = slot.register(who.session_id, handle.clone());
    // The session was checked before the upgrade. A deactivation or logout that committed since
    // then has already run its `close_user`/`close_session`, which could not see this socket yet:
    // look again now that it is registered (whichever comes later closes it).
    let live = match state.store.session_live(who.session_id).await {
        Ok(live) => live,
        Err(e) => {
            tracing::error!(error = %e, "could not re-check a new sync connection's session");
            false
        }
    };

    let writer = tokio::spawn(async move {
        while let Some(o) = rx.recv().await {
            match o {
                Outbound::Frame(b) => {
                    if sink.send(WsMessage::Binary(b.into())).await.is_err() {
                        break;
                    }
                }
                Outbound::Close(reason) => {
                    let _ =
                        sink.send(WsMessage::Binary(Message::Error { message: reason.clone() }.encode().into())).await;
                    let reason: String = reason.chars().take(100).collect();
                    let _ = sink.send(WsMessage::Close(Some(CloseFrame { code: 1008, reason: reason.into() }))).await;
                    break;
                }
            }
        }
        let _ = sink.close().await;
    });

    let mut docs: HashSet<DocumentId> = HashSet::new();
    let result = if live {
        serve(&state, &who, &ip, conn_id, &handle, &mut stream, &mut docs).await
    } else {
        Err("session ended".to_string())
    };
    if let Err(reason) = result {
        tracing::info!(user = %who.user.me.id, %reason, "closing sync connection");
        handle.close(reason);
    } else {
        handle.close("bye".into());
    }
    state.registry.disconnect(conn_id, docs).await;
    state.connections.unregister(conn_id);
    // Give the writer a moment to flush the error frame; it ends when the queue closes. A client
    // that does not read keeps it blocked on a full socket: abort it then, which drops the socket
    // and the frames still queued (otherwise both live as long as the client keeps the TCP
    // connection open).
    drop(handle);
    let mut writer = writer;
    if tokio::time::timeout(Duration::from_secs(2), &mut writer).await.is_err() {
        writer.abort();
    }
}

async fn serve(
    state: &AppState,
    who: &AuthUser,
    ip: &str,
    conn_id: u64,
    handle: &ConnHandle,
    stream: &mut futures_util::stream::SplitStream<WebSocket>,
    docs: &mut HashSet<DocumentId>,
) -> Result<(), String> {
    // Handshake: the first frame must be `join` with protocol "1".
    let first = match tokio::time::timeout(JOIN_TIMEOUT, next_frame(stream)).await {
        Err(_) => return Err("no join message within 10 s".into()),
        Ok(f) => f?,
    };
    let Some(first) = first else { return Ok(()) };
    let peer_id = match Message::decode(&first).map_err(|e| e.to_string())? {
        Message::Join { sender_id, supported_protocol_versions, .. } => {
            if !supported_protocol_versions.iter().any(|v| v == PROTOCOL_V1) {
                return Err("unsupported protocol version; this relay speaks \"1\"".into());
            }
            if sender_id.as_str().is_empty() || sender_id.as_str().len() > 128 {
                return Err("senderId must be 1 to 128 characters".into());
            }
            sender_id
        }
        other => return Err(format!("expected join, got {}", kind_of(&other))),
    };
    handle.send(Outbound::Frame(
        Message::Peer {
            sender_id: state.registry.server_peer().clone(),
            target_id: peer_id.clone(),
            selected_protocol_version: PROTOCOL_V1.into(),
            peer_metadata: Some(PeerMetadata { storage_id: None, is_ephemeral: false }),
        }
        .encode(),
    ));

    let ctx = ConnCtx {
        id: conn_id,
        user: who.user.me.id,
        role: who.user.me.role,
        peer_id: PeerId(peer_id.0),
        handle: handle.clone(),
        ip: ip.into(),
    };
    let mut unanswered = None;
    let result = frames(state, &ctx, handle, stream, docs, &mut unanswered).await;
    if let Some(id) = unanswered {
        state.registry.answer(id).await;
    }
    result
}

/// The frame loop of a joined connection. `unanswered` is the document whose last sync frame was
/// applied without an answer, if any (see [`super::registry::Registry::receive_sync`]).
async fn frames(
    state: &AppState,
    ctx: &ConnCtx,
    handle: &ConnHandle,
    stream: &mut futures_util::stream::SplitStream<WebSocket>,
    docs: &mut HashSet<DocumentId>,
    unanswered: &mut Option<DocumentId>,
) -> Result<(), String> {
    let mut budget = Budget::new(state.config.sync_frame_burst, state.config.sync_frames_per_sec);
    // The next frame, when it was read already (to see whether it continues a batch).
    let mut ahead: Option<Result<Option<Vec<u8>>, String>> = None;
    loop {
        let frame = match ahead.take() {
            Some(_) if handle.kill.notified().now_or_never().is_some() => {
                return Err("connection closed by the relay".into());
            }
            Some(f) => f?,
            None => tokio::select! {
                // Checked first: once the relay closed the connection, no further frame is handled.
                biased;
                _ = handle.kill.notified() => return Err("connection closed by the relay".into()),
                f = next_frame(stream) => f?,
            },
        };
        let Some(frame) = frame else { return Ok(()) };
        // Over budget: stop reading for a while. The client's further frames wait in its socket
        // (TCP pushes back on it), not in the relay's memory.
        if let Some(wait) = budget.charge(frame.len()) {
            tokio::select! {
                biased;
                _ = handle.kill.notified() => return Err("connection closed by the relay".into()),
                _ = tokio::time::sleep(wait) => {}
            }
        }
        let msg = Message::decode(&frame).map_err(|e| e.to_string())?;
        match msg {
            Message::Request { document_id, ref data, .. } | Message::Sync { document_id, ref data, .. } => {
                if !docs.contains(&document_id) && docs.len() >= MAX_DOCS_PER_CONNECTION {
                    return Err(format!("more than {MAX_DOCS_PER_CONNECTION} documents on one connection"));
                }
                docs.insert(document_id);
                let request = matches!(msg, Message::Request { .. });
                // A further frame about the same document already here: answer that one instead.
                if ahead.is_none() {
                    ahead = next_frame(stream).now_or_never();
                }
                let answer = !matches!(&ahead, Some(Ok(Some(next))) if continues(next, document_id));
                let handled = state.registry.receive_sync(ctx, document_id, data, request, answer).await;
                if !answer {
                    *unanswered = Some(document_id);
                } else if handled.is_ok() {
                    *unanswered = None;
                }
                match handled {
                    Ok(()) => {}
                    Err(Refusal::Store(e)) => {
                        tracing::error!(error = %e, "store failure while syncing");
                        return Err("the relay could not store this change; retry later".into());
                    }
                    Err(e) => return Err(e.to_string()),
                }
            }
            Message::Ephemeral { document_id, ref data, .. } => {
                if data.len() > MAX_EPHEMERAL_BYTES {
                    return Err("ephemeral message too large".into());
                }
                if let Err(e) = state.registry.handle_ephemeral(ctx, document_id, msg).await {
                    return Err(e.to_string());
                }
            }
            Message::Leave { .. } => return Ok(()),
            Message::Join { .. } => return Err("join sent twice".into()),
            // Peers tell us they lack a document, report errors, or gossip heads: nothing to do.
            Message::DocUnavailable { .. } | Message::Error { .. } | Message::Other { .. } | Message::Peer { .. } => {}
        }
    }
}

/// A token bucket per connection: what keeps one flooding client from taking the relay's time
/// from everyone else. Every frame costs the relay a few SQLite queries and a lock on its
/// document, and some cost work proportional to the document (a sync answer tests every change
/// against the peer's bloom filter): without a bound, one client sending as fast as its socket
/// allows keeps a busy document's lock and the relay's cores to itself. A client over budget is
/// throttled, not disconnected: a legitimate burst (catching up after a week offline) only slows.
struct Budget {
    units: f64,
    burst: f64,
    per_sec: f64,
    at: tokio::time::Instant,
}

impl Budget {
    fn new(burst: u32, per_sec: u32) -> Self {
        let (burst, per_sec) = (f64::from(burst.max(1)), f64::from(per_sec.max(1)));
        Self { units: burst, burst, per_sec, at: tokio::time::Instant::now() }
    }

    /// Charge a frame of `bytes`; how long to wait before handling it, if the budget is spent.
    fn charge(&mut self, bytes: usize) -> Option<Duration> {
        let now = tokio::time::Instant::now();
        self.units = (self.units + now.duration_since(self.at).as_secs_f64() * self.per_sec).min(self.burst);
        self.at = now;
        self.units -= 1.0 + (bytes / BYTES_PER_UNIT) as f64;
        (self.units < 0.0).then(|| Duration::from_secs_f64(-self.units / self.per_sec))
    }
}

/// Whether `frame` is a sync (or request) frame about `doc`.
fn continues(frame: &[u8], doc: DocumentId) -> bool {
    matches!(
        Message::decode(frame),
        Ok(Message::Sync { document_id, .. } | Message::Request { document_id, .. }) if document_id == doc
    )
}

/// The next binary frame; `Ok(None)` when the client closed.
async fn next_frame(stream: &mut futures_util::stream::SplitStream<WebSocket>) -> Result<Option<Vec<u8>>, String> {
    loop {
        match stream.next().await {
            None => return Ok(None),
            Some(Err(e)) => {
                let text = e.to_string();
                return Err(if text.to_lowercase().contains("too long") || text.to_lowercase().contains("size") {
                    format!("frame too large: {text}")
                } else {
                    format!("websocket error: {text}")
                });
            }
            Some(Ok(WsMessage::Binary(b))) => return Ok(Some(b.to_vec())),
            Some(Ok(WsMessage::Text(_))) => {
                return Err("text frames are not part of the protocol; send CBOR binary frames".into());
            }
            Some(Ok(WsMessage::Close(_))) => return Ok(None),
            Some(Ok(_)) => continue, // ping/pong are answered by the library
        }
    }
}

fn kind_of(m: &Message) -> &'static str {
    match m {
        Message::Join { .. } => "join",
        Message::Peer { .. } => "peer",
        Message::Leave { .. } => "leave",
        Message::Request { .. } => "request",
        Message::Sync { .. } => "sync",
        Message::DocUnavailable { .. } => "doc-unavailable",
        Message::Ephemeral { .. } => "ephemeral",
        Message::Error { .. } => "error",
        Message::Other { .. } => "an unknown message",
    }
}
