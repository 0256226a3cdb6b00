//! One benchmark client: a websocket speaking the automerge-repo protocol, with no hold-back.
//!
//! Each connection is a tokio task that owns its socket and one replica (an Automerge document
//! plus the sync state with the server) per document it syncs. It answers every sync message at
//! once and sends a local change the moment it is made, so what a run measures is the server,
//! not a client's batching (the stock JS client holds outgoing syncs back for 100 ms).
//!
//! The driver talks to a connection through [`Cmd`]s and hears from it through [`Event`]s. Every
//! change a client makes is recorded in the run's [`SentLog`] before it is sent, so whoever
//! applies it later can tell how old it is: all clients share one process and one clock.

use automerge::sync::{self, SyncDoc};
use automerge::{ActorId, AutoCommit, ChangeHash};
use futures_util::{SinkExt, StreamExt};
use qiao_model::ids::{DocumentId, PeerId, UserId};
use qiao_model::protocol::{Message, PROTOCOL_V1, PeerMetadata};
use qiao_model::schema::chat::{self, ChatMessage};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

/// Index of a connection within a workload.
pub type ConnId = usize;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(30);
/// Small read buffers: a run holds up to 10,000 sockets (tungstenite's default is 128 KiB each).
const READ_BUFFER: usize = 8 * 1024;

/// When each change of a run was made, by hash.
#[derive(Clone, Default)]
pub struct SentLog(Arc<Mutex<HashMap<ChangeHash, Instant>>>);

impl SentLog {
    fn record(&self, hash: ChangeHash, at: Instant) {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).insert(hash, at);
    }
    /// When `hash` was made, if a client of this run made it.
    pub fn made_at(&self, hash: &ChangeHash) -> Option<Instant> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).get(hash).copied()
    }
}

/// A document as a client holds it when it connects.
pub struct Replica {
    pub id: DocumentId,
    pub doc: AutoCommit,
}

/// Everything one connection needs.
pub struct ConnSpec {
    pub url: String,
    /// `Authorization: Bearer` on the upgrade (the relay); `None` for the peer.
    pub token: Option<String>,
    pub peer_id: String,
    pub actor: ActorId,
    pub replicas: Vec<Replica>,
}

pub enum Cmd {
    /// Append `msg` to the document as one change and send it at once.
    Write(DocumentId, Box<ChatMessage>),
    /// Add `user`'s reaction `emoji` to message `id` as one change and send it at once.
    React { doc: DocumentId, id: String, emoji: String, user: UserId },
    /// Close the socket and end the task.
    Close,
}

pub enum Event {
    /// The server's last message about `doc` named exactly our heads: it has all we have and we
    /// have all it has. Sent on every transition into that state.
    Synced { conn: ConnId, doc: DocumentId, heads: Vec<ChangeHash> },
    /// Changes made elsewhere were applied to `doc` at `at`.
    Applied { conn: ConnId, doc: DocumentId, changes: Vec<ChangeHash>, at: Instant },
    /// The connection ended: refused, closed by the server, or broken.
    Failed { conn: ConnId, error: String },
    /// The connection ended because the driver asked it to.
    Closed,
}

/// Start a connection task; the returned sender drives it.
pub fn spawn(
    conn: ConnId,
    spec: ConnSpec,
    events: mpsc::UnboundedSender<Event>,
    sent: SentLog,
) -> mpsc::UnboundedSender<Cmd> {
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        let ev = events.clone();
        match session(conn, spec, rx, &events, &sent).await {
            Ok(()) => ev.send(Event::Closed).ok(),
            Err(error) => ev.send(Event::Failed { conn, error }).ok(),
        };
    });
    tx
}

struct Rep {
    doc: AutoCommit,
    state: sync::State,
    synced: bool,
}

type Ws = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn send(ws: &mut Ws, m: Message) -> Result<(), String> {
    ws.send(WsMessage::Binary(m.encode().into())).await.map_err(|e| format!("send: {e}"))
}

async fn session(
    conn: ConnId,
    spec: ConnSpec,
    mut cmds: mpsc::UnboundedReceiver<Cmd>,
    events: &mpsc::UnboundedSender<Event>,
    sent: &SentLog,
) -> Result<(), String> {
    let mut req = spec.url.as_str().into_client_request().map_err(|e| format!("bad url: {e}"))?;
    if let Some(t) = &spec.token {
        let v = HeaderValue::from_str(&format!("Bearer {t}")).map_err(|e| format!("bad token: {e}"))?;
        req.headers_mut().insert("authorization", v);
    }
    let config = WebSocketConfig::default().read_buffer_size(READ_BUFFER);
    let (mut ws, _) =
        tokio::time::timeout(CONNECT_TIMEOUT, tokio_tungstenite::connect_async_with_config(req, Some(config), true))
            .await
            .map_err(|_| "connect timed out".to_string())?
            .map_err(|e| format!("connect: {e}"))?;

    let me = PeerId(spec.peer_id.clone());
    send(
        &mut ws,
        Message::Join {
            sender_id: me.clone(),
            supported_protocol_versions: vec![PROTOCOL_V1.into()],
            peer_metadata: Some(PeerMetadata { storage_id: None, is_ephemeral: true }),
        },
    )
    .await?;
    let server = tokio::time::timeout(HANDSHAKE_TIMEOUT, async {
        loop {
            match ws.next().await {
                None => return Err("closed during the handshake".to_string()),
                Some(Err(e)) => return Err(format!("handshake: {e}")),
                Some(Ok(WsMessage::Binary(b))) => match Message::decode(&b) {
                    Ok(Message::Peer { sender_id, .. }) => return Ok(sender_id),
                    Ok(Message::Error { message }) => return Err(format!("refused at join: {message}")),
                    _ => continue,
                },
                Some(Ok(WsMessage::Close(f))) => return Err(format!("closed during the handshake: {f:?}")),
                Some(Ok(_)) => continue,
            }
        }
    })
    .await
    .map_err(|_| "no `peer` answer to `join`".to_string())??;

    let mut reps: HashMap<DocumentId, Rep> = HashMap::with_capacity(spec.replicas.len());
    for r in spec.replicas {
        let mut doc = r.doc;
        doc.set_actor(spec.actor.clone());
        let mut rep = Rep { doc, state: sync::State::new(), synced: false };
        if let Some(m) = rep.doc.sync().generate_sync_message(&mut rep.state) {
            let m =
                Message::Sync { sender_id: me.clone(), target_id: server.clone(), document_id: r.id, data: m.encode() };
            send(&mut ws, m).await?;
        }
        reps.insert(r.id, rep);
    }

    loop {
        tokio::select! {
            frame = ws.next() => {
                let bytes = match frame {
                    None => return Err("the server closed the connection".into()),
                    Some(Err(e)) => return Err(format!("websocket: {e}")),
                    Some(Ok(WsMessage::Binary(b))) => b,
                    Some(Ok(WsMessage::Close(f))) => return Err(format!("closed by the server: {f:?}")),
                    Some(Ok(_)) => continue, // ping/pong (answered by tungstenite), text
                };
                match Message::decode(&bytes).map_err(|e| format!("undecodable frame: {e}"))? {
                    Message::Sync { document_id, data, .. } | Message::Request { document_id, data, .. } => {
                        let Some(rep) = reps.get_mut(&document_id) else { continue };
                        let msg = sync::Message::decode(&data).map_err(|e| format!("bad sync message: {e}"))?;
                        let before = rep.doc.get_heads();
                        rep.doc.sync().receive_sync_message(&mut rep.state, msg).map_err(|e| format!("apply: {e}"))?;
                        let at = Instant::now();
                        // Answer first, then report: the acknowledgment is on the wire before the
                        // driver can react (e.g. with the next write), as with any eager client.
                        if let Some(m) = rep.doc.sync().generate_sync_message(&mut rep.state) {
                            let m = Message::Sync {
                                sender_id: me.clone(),
                                target_id: server.clone(),
                                document_id,
                                data: m.encode(),
                            };
                            send(&mut ws, m).await?;
                        }
                        let mut heads = rep.doc.get_heads();
                        if heads != before {
                            let changes = rep.doc.get_changes(&before).iter().map(|c| c.hash()).collect();
                            let _ = events.send(Event::Applied { conn, doc: document_id, changes, at });
                        }
                        let mut theirs = rep.state.their_heads.clone().unwrap_or_default();
                        theirs.sort();
                        heads.sort();
                        let synced = theirs == heads;
                        if synced && !rep.synced {
                            let _ = events.send(Event::Synced { conn, doc: document_id, heads });
                        }
                        rep.synced = synced;
                    }
                    Message::DocUnavailable { document_id, .. } => {
                        return Err(format!("the server says document {document_id} is unavailable"));
                    }
                    Message::Error { message } => return Err(format!("error from the server: {message}")),
                    _ => {}
                }
            }
            cmd = cmds.recv() => match cmd {
                None | Some(Cmd::Close) => {
                    let _ = send(&mut ws, Message::Leave { sender_id: me.clone() }).await;
                    let _ = ws.close(None).await;
                    return Ok(());
                }
                Some(Cmd::Write(document_id, msg)) => {
                    let rep = reps.get_mut(&document_id).ok_or("write to a document this client does not hold")?;
                    chat::append(&mut rep.doc, &msg).map_err(|e| format!("append: {e}"))?;
                    let hash = rep.doc.get_last_local_change().map(|c| c.hash()).ok_or("append made no change")?;
                    sent.record(hash, Instant::now());
                    rep.synced = false;
                    if let Some(m) = rep.doc.sync().generate_sync_message(&mut rep.state) {
                        let m = Message::Sync { sender_id: me.clone(), target_id: server.clone(), document_id, data: m.encode() };
                        send(&mut ws, m).await?;
                    }
                }
                Some(Cmd::React { doc: document_id, id, emoji, user }) => {
                    let rep = reps.get_mut(&document_id).ok_or("react in a document this client does not hold")?;
                    let now = std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .map(|t| t.as_millis() as i64)
                        .unwrap_or(0);
                    chat::react(&mut rep.doc, &id, &emoji, user, true, now).map_err(|e| format!("react: {e}"))?;
                    let hash = rep.doc.get_last_local_change().map(|c| c.hash()).ok_or("react made no change")?;
                    sent.record(hash, Instant::now());
                    rep.synced = false;
                    if let Some(m) = rep.doc.sync().generate_sync_message(&mut rep.state) {
                        let m = Message::Sync { sender_id: me.clone(), target_id: server.clone(), document_id, data: m.encode() };
                        send(&mut ws, m).await?;
                    }
                }
            }
        }
    }
}
