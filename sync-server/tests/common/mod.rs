//! The relay's in-process test harness, shared by the files in `tests/` (one file per behaviour).
//!
//! - [`Relay`] runs `app(state)` on a port-0 listener, on a fresh temporary data directory, inside
//!   a tokio runtime of its own. Killing it ([`Relay::kill`], [`Relay::restart`]) shuts that
//!   runtime down, which ends every task of the relay at once — the listener, the HTTP connections
//!   and the upgraded websockets (axum spawns those outside the serve task) — the way a crashed
//!   process would, while the data directory survives for the next start.
//! - [`http`] is a minimal HTTP/1.1 client over a raw `TcpStream`, so that every request really
//!   goes through the listener.
//! - [`SyncClient`] speaks the automerge-repo protocol with tokio-tungstenite and syncs an
//!   `AutoCommit` document with `automerge::sync` until quiescent: until the relay reports the
//!   same heads as ours (converged), or until neither side has had anything to say for [`QUIET`].
//!
//! Timeouts here are upper bounds that turn a hang into a failure ([`STEP`]); no test waits a
//! fixed time and then asserts on what happened meanwhile.
#![allow(dead_code)]

use automerge::sync::{self, SyncDoc};
use automerge::{AutoCommit, ChangeHash};
use axum::serve::ListenerExt;
use futures_util::{SinkExt, StreamExt};
use qiao_model::actor::actor_for;
use qiao_model::api::{ApiError, ChannelSummary, LoginResponse};
use qiao_model::ids::{DocumentId, PeerId, UserId};
use qiao_model::protocol::{Message, PROTOCOL_V1};
use qiao_model::schema::chat::{self, ChatMessage};
use qiao_server::config::Config;
use qiao_server::{AppState, app, auth, bootstrap};
use serde::de::DeserializeOwned;
use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::handshake::client::Request;
use tokio_tungstenite::tungstenite::http::header::{AUTHORIZATION, COOKIE, ORIGIN};
use tokio_tungstenite::tungstenite::{self, Message as WsMessage};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub const ADMIN_PASSWORD: &str = "admin-password-for-tests";
pub const PASSWORD: &str = "employee-password-for-tests";
/// Upper bound for any one thing a test waits for (a reply, a close, a sync to converge).
pub const STEP: Duration = Duration::from_secs(10);
/// How long both sides must be silent before a sync that has not converged counts as quiescent.
pub const QUIET: Duration = Duration::from_millis(300);
/// The close code the relay uses when it ends a connection for cause (policy violation).
pub const POLICY_VIOLATION: u16 = 1008;

// --- the relay --------------------------------------------------------------------------------

/// One relay on its own runtime and data directory.
pub struct Relay {
    pub addr: SocketAddr,
    pub state: AppState,
    runtime: Option<tokio::runtime::Runtime>,
    dir: Arc<tempfile::TempDir>,
    config: Config,
}

/// A logged-in user.
#[derive(Clone, Debug)]
pub struct User {
    pub id: UserId,
    pub username: String,
    pub token: String,
}

impl Relay {
    /// A fresh relay after its first start: user `admin` and one public channel exist.
    pub async fn start() -> Relay {
        Self::start_with(|_| {}).await
    }

    /// Like [`Relay::start`], with the test's changes to the configuration.
    pub async fn start_with(tweak: impl FnOnce(&mut Config)) -> Relay {
        let dir = tempfile::Builder::new().prefix("qiao-relay-test-").tempdir().expect("create a temp data dir");
        let mut config = Config::for_data_dir(dir.path().to_path_buf());
        tweak(&mut config);
        Self::boot(Arc::new(dir), config).await
    }

    async fn boot(dir: Arc<tempfile::TempDir>, config: Config) -> Relay {
        // Contained automerge panics (hostile input) would otherwise spam stderr.
        static QUIET_HOOK: std::sync::Once = std::sync::Once::new();
        QUIET_HOOK.call_once(qiao_server::sync::contain::install_quiet_hook);

        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("relay")
            .enable_all()
            .build()
            .expect("relay runtime");
        let cfg = config.clone();
        let (addr, state) = runtime
            .spawn(async move {
                let state = AppState::new(cfg).await.expect("relay state");
                bootstrap::first_start(&state.store, Some(ADMIN_PASSWORD.into())).await.expect("first start");
                let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind port 0");
                let addr = listener.local_addr().expect("local addr");
                // As main.rs serves: TCP_NODELAY on every accepted socket.
                let listener = listener.tap_io(|tcp| {
                    let _ = tcp.set_nodelay(true);
                });
                let service = app(state.clone()).into_make_service_with_connect_info::<SocketAddr>();
                tokio::spawn(async move { axum::serve(listener, service).await.expect("serve") });
                (addr, state)
            })
            .await
            .expect("relay starts");
        Relay { addr, state, runtime: Some(runtime), dir, config }
    }

    /// Stop the relay abruptly: every task it runs ends now, mid-flight, like a killed process.
    pub fn kill(self) {
        drop(self);
    }

    /// Kill the relay and start a new one — new `AppState`, nothing kept in memory — on the same
    /// data directory.
    pub async fn restart(self) -> Relay {
        let (dir, config) = (self.dir.clone(), self.config.clone());
        self.kill();
        Self::boot(dir, config).await
    }

    pub fn origin(&self) -> String {
        format!("http://{}", self.addr)
    }

    // --- HTTP --------------------------------------------------------------------------------

    pub async fn get(&self, path: &str, token: Option<&str>) -> Reply {
        http(self.addr, "GET", path, token, None).await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: serde_json::Value) -> Reply {
        http(self.addr, "POST", path, token, Some(body)).await
    }

    /// The relay still answers HTTP through its listener.
    pub async fn assert_healthy(&self) {
        let r = self.get("/api/health", None).await;
        assert_eq!((r.status, r.text().as_str()), (200, "ok"), "health check");
    }

    pub async fn login(&self, username: &str, password: &str) -> User {
        let r =
            self.post("/api/auth/login", None, serde_json::json!({ "username": username, "password": password })).await;
        assert_eq!(r.status, 200, "login as {username}: {}", r.text());
        let body: LoginResponse = r.json();
        User { id: body.user.id, username: username.into(), token: body.token }
    }

    pub async fn admin(&self) -> User {
        self.login("admin", ADMIN_PASSWORD).await
    }

    /// Create an employee (password [`PASSWORD`]) and log them in.
    pub async fn employee(&self, username: &str) -> User {
        // argon2 is slow on purpose: hash the shared test password once per test binary.
        static HASH: OnceLock<String> = OnceLock::new();
        let hash = HASH.get_or_init(|| auth::hash_password(PASSWORD).expect("hash"));
        self.state
            .store
            .create_user(username, username, hash, qiao_model::acl::Role::Employee)
            .await
            .expect("create user");
        self.login(username, PASSWORD).await
    }

    pub async fn channels(&self, user: &User) -> Vec<ChannelSummary> {
        let r = self.get("/api/channels", Some(&user.token)).await;
        assert_eq!(r.status, 200, "GET /api/channels: {}", r.text());
        r.json()
    }

    /// The public channel the first start created.
    pub async fn general(&self, user: &User) -> ChannelSummary {
        self.channels(user).await.into_iter().find(|c| !c.private).expect("first start creates a public channel")
    }

    // --- websocket ---------------------------------------------------------------------------

    /// An upgrade request for `/sync`; `origin: None` sends no `Origin` (as scripts do).
    pub fn ws_request(&self, token: Option<&str>, origin: Option<&str>) -> Request {
        let mut req = format!("ws://{}/sync", self.addr).into_client_request().expect("ws url");
        if let Some(t) = token {
            req.headers_mut().insert(AUTHORIZATION, format!("Bearer {t}").parse().expect("header"));
        }
        if let Some(o) = origin {
            req.headers_mut().insert(ORIGIN, o.parse().expect("header"));
        }
        req
    }

    /// Same as [`Relay::ws_request`] with the session in the cookie instead of a header.
    pub fn ws_request_with_cookie(&self, token: &str) -> Request {
        let mut req = self.ws_request(None, Some(&self.origin()));
        req.headers_mut().insert(COOKIE, format!("{}={token}", auth::SESSION_COOKIE).parse().expect("header"));
        req
    }

    /// A joined sync connection for `user`, sent from the relay's own origin like the app is.
    pub async fn connect(&self, user: &User) -> SyncClient {
        let mut c = SyncClient::open(self.ws_request(Some(&user.token), Some(&self.origin()))).await;
        c.join().await;
        c
    }

    /// An upgrade the relay must refuse: its HTTP status and error body.
    pub async fn refused_upgrade(&self, req: Request) -> (u16, ApiError) {
        match tokio::time::timeout(STEP, tokio_tungstenite::connect_async(req)).await.expect("upgrade answered") {
            Ok(_) => panic!("the relay accepted an upgrade it should refuse"),
            Err(tungstenite::Error::Http(res)) => {
                let body = res.body().clone().unwrap_or_default();
                let err = serde_json::from_slice(&body).unwrap_or_else(|e| {
                    panic!("error body {:?} is not an ApiError: {e}", String::from_utf8_lossy(&body))
                });
                (res.status().as_u16(), err)
            }
            Err(e) => panic!("expected an HTTP refusal, got {e}"),
        }
    }

    /// A new client of `user` can still join, write a message to `channel` and have it
    /// acknowledged: the relay survived whatever the test did before.
    pub async fn assert_still_serves(&self, user: &User, channel: &ChannelSummary) {
        self.assert_healthy().await;
        let id = channel.head_document;
        let mut c = self.connect(user).await;
        let mut doc = chat_doc(channel, user);
        c.sync(id, &mut doc).await.expect("a fresh client syncs");
        let before = texts(&doc).len();
        say(&mut doc, user, "still here");
        c.sync(id, &mut doc).await.expect("a fresh client writes");
        assert_eq!(c.server_heads(id), doc.get_heads(), "the relay acknowledges the fresh client's message");
        assert_eq!(texts(&doc).len(), before + 1);
    }

    /// Rows of the audit log with `outcome = 'refused'` for `action`, as their `detail`.
    pub async fn refused_audit(&self, action: &str) -> Vec<String> {
        sqlx::query_scalar("SELECT detail FROM audit_log WHERE action = ? AND outcome = 'refused' ORDER BY id")
            .bind(action)
            .fetch_all(self.state.store.pool())
            .await
            .expect("query audit_log")
    }

    /// Wait (up to [`STEP`]) until the relay holds exactly `n` live sync connections.
    pub async fn wait_connections(&self, n: usize) {
        let deadline = Instant::now() + STEP;
        while self.state.connections.count() != n {
            assert!(
                Instant::now() < deadline,
                "the relay holds {} connections, expected {n}",
                self.state.connections.count()
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

// --- HTTP over a raw socket -------------------------------------------------------------------

#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    pub fn json<T: DeserializeOwned>(&self) -> T {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| panic!("body {:?} does not parse: {e}", self.text()))
    }
}

/// One HTTP/1.1 request on its own connection (`Connection: close`).
pub async fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<serde_json::Value>,
) -> Reply {
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    let mut req =
        format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n", body.len());
    if let Some(t) = token {
        req.push_str(&format!("Authorization: Bearer {t}\r\n"));
    }
    if !body.is_empty() {
        req.push_str("Content-Type: application/json\r\n");
    }
    req.push_str("\r\n");
    req.push_str(&body);

    let raw = tokio::time::timeout(STEP, async {
        let mut s = TcpStream::connect(addr).await.expect("connect to the relay");
        s.write_all(req.as_bytes()).await.expect("send request");
        let mut raw = Vec::new();
        s.read_to_end(&mut raw).await.expect("read response");
        raw
    })
    .await
    .unwrap_or_else(|_| panic!("{method} {path}: no response within {STEP:?}"));

    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").expect("response has a header");
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut body = raw[split + 4..].to_vec();
    let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).expect("status line");
    if head.to_ascii_lowercase().contains("transfer-encoding: chunked") {
        body = dechunk(&body);
    }
    Reply { status, body }
}

/// A reply with its headers, for tests that look at them (downloads).
#[derive(Debug)]
pub struct RawReply {
    pub status: u16,
    /// Header names lowercased, in the order sent.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl RawReply {
    /// The first header called `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    pub fn json<T: DeserializeOwned>(&self) -> T {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| panic!("body {:?} does not parse: {e}", self.text()))
    }
}

/// One HTTP/1.1 request with raw bytes as its body and any extra headers, on its own connection;
/// the body is written as given, not copied into the request.
pub async fn http_bytes(
    addr: SocketAddr,
    method: &str,
    path: &str,
    token: Option<&str>,
    headers: &[(&str, &str)],
    body: &[u8],
) -> RawReply {
    let mut head =
        format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n", body.len());
    if let Some(t) = token {
        head.push_str(&format!("Authorization: Bearer {t}\r\n"));
    }
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    let raw = tokio::time::timeout(STEP, async {
        let mut s = TcpStream::connect(addr).await.expect("connect to the relay");
        s.write_all(head.as_bytes()).await.expect("send head");
        // The relay may answer (and close) before reading a body it refuses.
        let _ = s.write_all(body).await;
        let mut raw = Vec::new();
        // Closing with our bytes unread resets the connection; what arrived before still counts.
        let _ = s.read_to_end(&mut raw).await;
        raw
    })
    .await
    .unwrap_or_else(|_| panic!("{method} {path}: no response within {STEP:?}"));
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").expect("response has a header");
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).expect("status line");
    let headers: Vec<(String, String)> = head
        .lines()
        .skip(1)
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let mut body = raw[split + 4..].to_vec();
    if headers.iter().any(|(n, v)| n == "transfer-encoding" && v.eq_ignore_ascii_case("chunked")) {
        body = dechunk(&body);
    }
    RawReply { status, headers, body }
}

fn dechunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let Some(eol) = b.windows(2).position(|w| w == b"\r\n") else { return out };
        let size = usize::from_str_radix(String::from_utf8_lossy(&b[..eol]).trim(), 16).unwrap_or(0);
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&b[eol + 2..eol + 2 + size]);
        b = &b[eol + 2 + size + 2..];
    }
}

// --- chat documents ---------------------------------------------------------------------------

/// A chat segment replica for `user`: the shared genesis, then the user's own actor (a new
/// device each time, as a new browser tab would be).
pub fn chat_doc(channel: &ChannelSummary, user: &User) -> AutoCommit {
    chat_doc_as(channel, user.id)
}

/// Like [`chat_doc`] but writing under `author`'s actor — which may not be the connected user.
pub fn chat_doc_as(channel: &ChannelSummary, author: UserId) -> AutoCommit {
    static DEVICE: AtomicU64 = AtomicU64::new(1);
    let mut doc = chat::genesis(&channel.id, channel.head_segment);
    doc.set_actor(actor_for(author, DEVICE.fetch_add(1, Ordering::Relaxed).to_be_bytes()));
    doc
}

/// Append a message by `user` with a unique id.
pub fn say(doc: &mut AutoCommit, user: &User, text: &str) {
    say_as(doc, user.id, &user.username, text);
}

pub fn say_as(doc: &mut AutoCommit, author: UserId, name: &str, text: &str) {
    static N: AtomicU64 = AtomicU64::new(1);
    let n = N.fetch_add(1, Ordering::Relaxed);
    let msg = ChatMessage::new(format!("{name}-{n}"), author, name.into(), 1_700_000_000_000 + n as i64, text.into());
    chat::append(doc, &msg).expect("append a chat message");
}

/// The texts of a segment's messages, in order.
pub fn texts(doc: &AutoCommit) -> Vec<String> {
    chat::messages(doc).into_iter().map(|m| m.text).collect()
}

/// A real sync message from `doc` that carries its changes (what a client sends after the
/// relay said what it has): the material for truncation and corruption tests.
pub fn sync_bytes_with_changes(doc: &mut AutoCommit) -> Vec<u8> {
    let mut peer = AutoCommit::new();
    let (mut ours, mut theirs) = (sync::State::new(), sync::State::new());
    let hello = doc.sync().generate_sync_message(&mut ours).expect("first message");
    peer.sync().receive_sync_message(&mut theirs, hello).expect("peer reads it");
    let answer = peer.sync().generate_sync_message(&mut theirs).expect("peer answers");
    doc.sync().receive_sync_message(&mut ours, answer).expect("doc reads the answer");
    let m = doc.sync().generate_sync_message(&mut ours).expect("message with changes");
    assert!(!m.changes.is_empty(), "the message carries changes");
    m.encode()
}

/// The first sync message a fresh replica of `doc` sends (heads and a bloom filter, no changes).
pub fn first_sync_bytes(doc: &mut AutoCommit) -> Vec<u8> {
    doc.sync().generate_sync_message(&mut sync::State::new()).expect("first message").encode()
}

// --- the sync client --------------------------------------------------------------------------

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// What the client saw next on its socket.
#[derive(Debug)]
pub enum Event {
    Msg(Message),
    /// A binary frame that is not a protocol message (the relay must never send one).
    Undecodable(Vec<u8>),
    Text(String),
    /// A close frame (code, reason), or `None` when the socket ended without one.
    Closed(Option<(u16, String)>),
    /// Nothing arrived within the wait.
    Quiet,
}

/// How the relay ended a connection: the `error` message it sent, and its close frame.
#[derive(Debug)]
pub struct Refusal {
    pub error: Option<String>,
    pub close: Option<(u16, String)>,
}

impl Refusal {
    /// The relay said why (an `error` message containing `needle`) and closed with 1008.
    pub fn assert_says(&self, needle: &str) {
        let error = self.error.as_deref().unwrap_or_else(|| panic!("no error message before the close: {self:?}"));
        assert!(error.contains(needle), "error {error:?} should say {needle:?}");
        let (code, reason) = self.close.as_ref().unwrap_or_else(|| panic!("no close frame after the error: {self:?}"));
        assert_eq!(*code, POLICY_VIOLATION, "close code");
        assert!(error.starts_with(reason.as_str()), "close reason {reason:?} repeats the error {error:?}");
    }
}

pub struct SyncClient {
    ws: Ws,
    pub peer_id: PeerId,
    pub server_peer: PeerId,
    states: HashMap<DocumentId, sync::State>,
    /// Sync data the relay pushed for documents other than the one being synced.
    pending: HashMap<DocumentId, Vec<Vec<u8>>>,
    /// Every document the relay sent any sync data about.
    pub synced: HashSet<DocumentId>,
    /// Every `doc-unavailable` received, in order.
    pub unavailable: Vec<DocumentId>,
}

impl SyncClient {
    /// Upgrade to a websocket; the caller sends the first frame (normally [`SyncClient::join`]).
    pub async fn open(req: Request) -> SyncClient {
        let (ws, res) = tokio::time::timeout(STEP, tokio_tungstenite::connect_async(req))
            .await
            .expect("upgrade answered")
            .unwrap_or_else(|e| panic!("upgrade refused: {e}"));
        assert_eq!(res.status().as_u16(), 101);
        static PEER: AtomicU64 = AtomicU64::new(1);
        let peer_id = PeerId(format!("test-peer-{}", PEER.fetch_add(1, Ordering::Relaxed)));
        SyncClient {
            ws,
            peer_id,
            server_peer: PeerId(String::new()),
            states: HashMap::new(),
            pending: HashMap::new(),
            synced: HashSet::new(),
            unavailable: Vec::new(),
        }
    }

    /// Send `join`; the relay must answer `peer` with protocol "1".
    pub async fn join(&mut self) {
        self.send(&Message::Join {
            sender_id: self.peer_id.clone(),
            supported_protocol_versions: vec![PROTOCOL_V1.into()],
            peer_metadata: None,
        })
        .await
        .expect("send join");
        match self.next_event(STEP).await {
            Event::Msg(Message::Peer { sender_id, target_id, selected_protocol_version, .. }) => {
                assert_eq!(target_id, self.peer_id);
                assert_eq!(selected_protocol_version, PROTOCOL_V1);
                self.server_peer = sender_id;
            }
            other => panic!("expected peer after join, got {other:?}"),
        }
    }

    pub async fn send(&mut self, m: &Message) -> Result<(), tungstenite::Error> {
        self.send_frame(WsMessage::binary(m.encode())).await
    }

    pub async fn send_frame(&mut self, f: WsMessage) -> Result<(), tungstenite::Error> {
        tokio::time::timeout(STEP, self.ws.send(f)).await.expect("send finishes")
    }

    /// A `sync` (or `request`) frame about `id` carrying `data`.
    pub fn sync_frame(&self, id: DocumentId, data: Vec<u8>, request: bool) -> Message {
        let (sender_id, target_id) = (self.peer_id.clone(), self.server_peer.clone());
        if request {
            Message::Request { sender_id, target_id, document_id: id, data }
        } else {
            Message::Sync { sender_id, target_id, document_id: id, data }
        }
    }

    /// The next thing on the socket, waiting at most `wait`. Pings and pongs are skipped.
    pub async fn next_event(&mut self, wait: Duration) -> Event {
        let deadline = Instant::now() + wait;
        loop {
            let frame = match tokio::time::timeout_at(deadline, self.ws.next()).await {
                Err(_) => return Event::Quiet,
                Ok(f) => f,
            };
            return match frame {
                None | Some(Err(_)) => Event::Closed(None),
                Some(Ok(WsMessage::Binary(b))) => match Message::decode(&b) {
                    Ok(m) => {
                        if let Message::Sync { document_id, .. } = &m {
                            self.synced.insert(*document_id);
                        }
                        if let Message::DocUnavailable { document_id, .. } = &m {
                            self.unavailable.push(*document_id);
                        }
                        Event::Msg(m)
                    }
                    Err(_) => Event::Undecodable(b.to_vec()),
                },
                Some(Ok(WsMessage::Text(t))) => Event::Text(t.to_string()),
                Some(Ok(WsMessage::Close(f))) => Event::Closed(f.map(|f| (u16::from(f.code), f.reason.to_string()))),
                Some(Ok(_)) => continue,
            };
        }
    }

    /// Read until the relay ends the connection, keeping the first `error` message. Panics if it
    /// does not end within [`STEP`].
    pub async fn expect_refusal(&mut self) -> Refusal {
        self.refusal_after(None).await
    }

    async fn refusal_after(&mut self, mut error: Option<String>) -> Refusal {
        let deadline = Instant::now() + STEP;
        loop {
            match self.next_event(deadline.saturating_duration_since(Instant::now())).await {
                Event::Msg(Message::Error { message }) => {
                    error.get_or_insert(message);
                }
                // Replies already in flight before the refusal.
                Event::Msg(_) => {}
                Event::Closed(close) => return Refusal { error, close },
                Event::Quiet => {
                    panic!("the relay did not end the connection within {STEP:?} (error so far: {error:?})")
                }
                other => panic!("the relay sent a frame that is not a protocol message: {other:?}"),
            }
        }
    }

    /// What the relay last said its heads for `id` are (empty before it said anything).
    pub fn server_heads(&self, id: DocumentId) -> Vec<ChangeHash> {
        self.states.get(&id).and_then(|s| s.their_heads.clone()).unwrap_or_default()
    }

    fn apply(&mut self, id: DocumentId, doc: &mut AutoCommit, data: &[u8]) {
        let m = sync::Message::decode(data).expect("the relay sends valid sync messages");
        let state = self.states.entry(id).or_default();
        doc.sync().receive_sync_message(state, m).expect("the relay's sync message applies");
    }

    /// Sync `doc` (document `id`) with the relay until it has converged — the relay, in a reply
    /// received during this call, reports our heads: it stored and acknowledged everything we
    /// have, and we have everything it had then — or until quiescent (nothing to send, nothing
    /// heard for [`QUIET`]). `Err` when the relay refuses and closes the connection.
    ///
    /// Changes another client makes may still be on their way; to wait for those, use
    /// [`SyncClient::sync_until_has`].
    pub async fn sync(&mut self, id: DocumentId, doc: &mut AutoCommit) -> Result<(), Refusal> {
        let mut heard = false;
        for data in self.pending.remove(&id).unwrap_or_default() {
            self.apply(id, doc, &data);
            heard = true;
        }
        let deadline = Instant::now() + STEP;
        loop {
            let state = self.states.entry(id).or_default();
            let sent = match doc.sync().generate_sync_message(state) {
                Some(m) => {
                    let frame = self.sync_frame(id, m.encode(), false);
                    if self.send(&frame).await.is_err() {
                        return Err(self.refusal_after(None).await);
                    }
                    true
                }
                None => false,
            };
            if heard && self.states[&id].their_heads.as_ref() == Some(&doc.get_heads()) {
                return Ok(());
            }
            assert!(Instant::now() < deadline, "sync of {id} did not settle within {STEP:?}");
            match self.next_event(QUIET).await {
                Event::Quiet if !sent => return Ok(()),
                Event::Quiet => {}
                Event::Msg(Message::Sync { document_id, data, .. }) if document_id == id => {
                    self.apply(id, doc, &data);
                    heard = true;
                }
                Event::Msg(Message::Sync { document_id, data, .. }) => {
                    self.pending.entry(document_id).or_default().push(data)
                }
                Event::Msg(Message::Error { message }) => return Err(self.refusal_after(Some(message)).await),
                Event::Msg(_) => {}
                Event::Closed(close) => return Err(Refusal { error: None, close }),
                other => panic!("the relay sent a frame that is not a protocol message: {other:?}"),
            }
        }
    }

    /// The sync frame this client would send next for `doc`, without waiting for an answer (with
    /// an established sync state it carries our new changes).
    pub fn next_sync_frame(&mut self, id: DocumentId, doc: &mut AutoCommit) -> Option<Message> {
        let state = self.states.entry(id).or_default();
        let m = doc.sync().generate_sync_message(state)?;
        Some(self.sync_frame(id, m.encode(), false))
    }

    /// Sync until `doc` holds every change in `heads` (another client's, relayed to us), for at
    /// most [`STEP`].
    pub async fn sync_until_has(
        &mut self,
        id: DocumentId,
        doc: &mut AutoCommit,
        heads: &[ChangeHash],
    ) -> Result<(), Refusal> {
        let deadline = Instant::now() + STEP;
        loop {
            self.sync(id, doc).await?;
            if heads.iter().all(|h| doc.get_change_by_hash(h).is_some()) {
                return Ok(());
            }
            assert!(Instant::now() < deadline, "{id}: changes {heads:?} did not arrive within {STEP:?}");
        }
    }
}

// --- for the fault and attack suites (fault_*.rs, attack_*.rs) --------------------------------

impl SyncClient {
    /// Open and join like [`Relay::connect`], but an `Err` instead of a panic when the relay is
    /// not there or dies during the handshake (crash tests connect to relays that come and go).
    pub async fn try_connect(req: Request) -> Result<SyncClient, String> {
        let (ws, _) = tokio::time::timeout(STEP, tokio_tungstenite::connect_async(req))
            .await
            .map_err(|_| "upgrade not answered".to_string())?
            .map_err(|e| format!("upgrade failed: {e}"))?;
        static PEER: AtomicU64 = AtomicU64::new(1);
        let peer_id = PeerId(format!("test-peer-r{}", PEER.fetch_add(1, Ordering::Relaxed)));
        let mut c = SyncClient {
            ws,
            peer_id,
            server_peer: PeerId(String::new()),
            states: HashMap::new(),
            pending: HashMap::new(),
            synced: HashSet::new(),
            unavailable: Vec::new(),
        };
        let join = Message::Join {
            sender_id: c.peer_id.clone(),
            supported_protocol_versions: vec![PROTOCOL_V1.into()],
            peer_metadata: None,
        };
        c.send(&join).await.map_err(|e| format!("send join: {e}"))?;
        match c.next_event(STEP).await {
            Event::Msg(Message::Peer { sender_id, .. }) => {
                c.server_peer = sender_id;
                Ok(c)
            }
            other => Err(format!("expected peer after join, got {other:?}")),
        }
    }

    /// Apply the `data` of a `sync` frame about `id` that the caller read itself (with
    /// [`SyncClient::next_event`]) to `doc`, as [`SyncClient::sync`] would.
    pub fn receive(&mut self, id: DocumentId, doc: &mut AutoCommit, data: &[u8]) {
        self.apply(id, doc, data);
    }
}

/// Resident set size of this process — the test and the in-process relay — in bytes.
pub fn rss_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("read /proc/self/status");
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS in /proc/self/status");
    kb * 1024
}

/// One `have` entry of a hand-built sync message: the `lastSync` heads and the raw bloom bytes
/// (`num_entries`, `bits_per_entry`, `num_probes` as LEB128, then the bits).
pub struct RawHave {
    pub last_sync: Vec<ChangeHash>,
    pub bloom: Vec<u8>,
}

/// An automerge sync message (format V1) built byte by byte, so tests can say things a real
/// automerge never would: crafted bloom filters, counts that lie, arbitrary change chunks.
pub fn raw_sync_message(heads: &[ChangeHash], need: &[ChangeHash], have: &[RawHave], changes: &[Vec<u8>]) -> Vec<u8> {
    fn leb(out: &mut Vec<u8>, mut v: u64) {
        loop {
            let byte = (v & 0x7f) as u8;
            v >>= 7;
            if v == 0 {
                out.push(byte);
                return;
            }
            out.push(byte | 0x80);
        }
    }
    fn hashes(out: &mut Vec<u8>, hs: &[ChangeHash]) {
        leb(out, hs.len() as u64);
        for h in hs {
            out.extend_from_slice(&h.0);
        }
    }
    let mut out = vec![0x42];
    hashes(&mut out, heads);
    hashes(&mut out, need);
    leb(&mut out, have.len() as u64);
    for h in have {
        hashes(&mut out, &h.last_sync);
        leb(&mut out, h.bloom.len() as u64);
        out.extend_from_slice(&h.bloom);
    }
    leb(&mut out, changes.len() as u64);
    for c in changes {
        leb(&mut out, c.len() as u64);
        out.extend_from_slice(c);
    }
    out
}

impl SyncClient {
    /// Like [`Relay::connect`] over a TCP stream the test set up itself (e.g. with a tiny
    /// receive buffer, to play a client that does not read).
    pub async fn connect_over(stream: TcpStream, req: Request) -> SyncClient {
        let (ws, res) = tokio::time::timeout(STEP, tokio_tungstenite::client_async(req, MaybeTlsStream::Plain(stream)))
            .await
            .expect("upgrade answered")
            .unwrap_or_else(|e| panic!("upgrade refused: {e}"));
        assert_eq!(res.status().as_u16(), 101);
        static PEER: AtomicU64 = AtomicU64::new(1);
        let mut c = SyncClient {
            ws,
            peer_id: PeerId(format!("test-peer-s{}", PEER.fetch_add(1, Ordering::Relaxed))),
            server_peer: PeerId(String::new()),
            states: HashMap::new(),
            pending: HashMap::new(),
            synced: HashSet::new(),
            unavailable: Vec::new(),
        };
        c.join().await;
        c
    }
}

/// Whether a peer reporting `heads` has change `h`: `h` is one of them, or behind one of them
/// (`doc` must know the heads to tell; unknown heads count as not yet).
pub fn acknowledges(doc: &mut AutoCommit, heads: &[ChangeHash], h: ChangeHash) -> bool {
    if heads.contains(&h) {
        return true;
    }
    heads.iter().all(|x| doc.get_change_by_hash(x).is_some()) && !doc.get_changes(heads).iter().any(|c| c.hash() == h)
}

/// The kernel's state of the IPv4 loopback TCP socket `local_port` → `remote_port`
/// (`/proc/net/tcp`'s `st`: 1 established, 4 FIN_WAIT1, 6 TIME_WAIT, 7 closed...), if it exists.
pub fn tcp_state(local_port: u16, remote_port: u16) -> Option<u8> {
    let table = std::fs::read_to_string("/proc/net/tcp").expect("read /proc/net/tcp");
    table.lines().skip(1).find_map(|line| {
        let f: Vec<&str> = line.split_whitespace().collect();
        let port = |s: &str| s.rsplit(':').next().and_then(|p| u16::from_str_radix(p, 16).ok());
        (port(f[1])? == local_port && port(f[2])? == remote_port).then(|| u8::from_str_radix(f[3], 16).ok()).flatten()
    })
}
