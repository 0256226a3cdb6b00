//! Crash durability, Jepsen-style: acknowledged means durable, whenever the relay dies.
//!
//! The relay runs as a real `qiao-server` process and is killed with SIGKILL at random moments,
//! then started again on the same data directory and port. Three writers (the test's Rust sync
//! clients, one user each) keep writing chat messages with unique ids, one at a time, and record
//! each write's outcome:
//!
//! - **ok**: a sync reply from the relay had the change among (or behind) its heads — the relay
//!   promises it is on disk;
//! - **fail**: the frame carrying it could not be written at all (the relay was already gone);
//! - **unknown**: it was sent, and the connection died before any acknowledgement.
//!
//! Writers behave like the app: their document is their outbox, kept across relay restarts and
//! sent again on reconnection. So that a resend cannot hide a lost write, after every restart and
//! before any writer may reconnect, an auditor reads the relay's copy with a fresh replica and
//! checks that every write acknowledged so far is there exactly once. At the end, writers and a
//! fresh reader sync and must have equal heads, and every write — ok, fail or unknown — must be
//! present exactly once (nothing written is lost, nothing doubled).
//!
//! 50 kill/restart cycles; `QIAO_LONG=1`: 200. `QIAO_SEED=<n>` replays a run's kill timing.

mod common;

use automerge::{AutoCommit, ChangeHash};
use common::*;
use qiao_model::actor::actor_for;
use qiao_model::api::{ChannelSummary, LoginResponse};
use qiao_model::ids::{DocumentId, UserId};
use qiao_model::protocol::Message;
use qiao_model::schema::chat::{self, ChatMessage};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::collections::{BTreeMap, HashSet};
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::watch;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::handshake::client::Request;
use tokio_tungstenite::tungstenite::http::header::{AUTHORIZATION, ORIGIN};

const WRITERS: [&str; 3] = ["alice", "bob", "carol"];
const READER: &str = "dave";
/// The relay lives this long at most (uniformly random) before it is killed.
const MAX_LIFE_MS: u64 = 500;

fn cycles() -> usize {
    if std::env::var("QIAO_LONG").is_ok_and(|v| v == "1") { 200 } else { 50 }
}

// --- the relay as a process -------------------------------------------------------------------

/// A `qiao-server serve` child process.
struct RelayProcess {
    child: Child,
    addr: SocketAddr,
}

impl RelayProcess {
    /// Start the relay on `addr` (port 0 on the first start) and wait until it listens.
    fn start(dir: &Path, addr: &str) -> RelayProcess {
        let log = std::fs::OpenOptions::new().create(true).append(true).open(dir.join("relay.log")).expect("log file");
        let mut child = Command::new(env!("CARGO_BIN_EXE_qiao-server"))
            .args(["serve", "--addr", addr, "--admin-password", ADMIN_PASSWORD, "--data-dir"])
            .arg(dir.join("data"))
            .env("RUST_LOG", "qiao_server=warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .expect("spawn qiao-server");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        // Read until the address line, then keep draining so the pipe never fills.
        std::thread::spawn(move || {
            let mut tx = Some(tx);
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Some(rest) = line.strip_prefix("Qiao is running at http://")
                    && let Some(tx) = tx.take()
                {
                    let _ = tx.send(rest.trim_end_matches('/').to_string());
                }
            }
        });
        let addr = rx.recv_timeout(STEP).unwrap_or_else(|_| {
            panic!("the relay did not start within {STEP:?}; see {}", dir.join("relay.log").display())
        });
        RelayProcess { child, addr: addr.parse().expect("address line") }
    }

    /// SIGKILL: no shutdown, nothing flushed on the way out.
    fn kill(mut self) {
        self.kill_now();
    }

    fn kill_now(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for RelayProcess {
    fn drop(&mut self) {
        self.kill_now();
    }
}

fn cli(dir: &Path, args: &[&str]) {
    let out = Command::new(env!("CARGO_BIN_EXE_qiao-server"))
        .args(args)
        .arg("--data-dir")
        .arg(dir.join("data"))
        .output()
        .expect("run qiao-server");
    assert!(out.status.success(), "qiao-server {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

#[derive(Clone)]
struct Account {
    name: String,
    id: UserId,
    token: String,
}

async fn login(addr: SocketAddr, name: &str) -> Account {
    let r = http(
        addr,
        "POST",
        "/api/auth/login",
        None,
        Some(serde_json::json!({ "username": name, "password": PASSWORD })),
    )
    .await;
    assert_eq!(r.status, 200, "login {name}: {}", r.text());
    let body: LoginResponse = r.json();
    Account { name: name.into(), id: body.user.id, token: body.token }
}

fn ws_request(addr: SocketAddr, token: &str) -> Request {
    let mut req = format!("ws://{addr}/sync").into_client_request().expect("ws url");
    req.headers_mut().insert(AUTHORIZATION, format!("Bearer {token}").parse().expect("header"));
    req.headers_mut().insert(ORIGIN, format!("http://{addr}").parse().expect("header"));
    req
}

fn replica(channel: &ChannelSummary, user: UserId, device: u64) -> AutoCommit {
    let mut doc = chat::genesis(&channel.id, channel.head_segment);
    doc.set_actor(actor_for(user, device.to_be_bytes()));
    doc
}

// --- writers ----------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Outcome {
    Ok,
    Fail,
    Unknown,
}

/// What the writers see of the relay: generation `n`, at `addr` while it is up.
#[derive(Clone, Debug, Default)]
struct Gate {
    n: usize,
    addr: Option<SocketAddr>,
    stop: bool,
}

/// Every write: message id → (outcome, generation of the relay it was written to).
type History = Arc<Mutex<BTreeMap<String, (Outcome, usize)>>>;

/// Send `doc`'s new change `h` and read until the relay acknowledges it or the connection dies.
async fn write_one(c: &mut SyncClient, id: DocumentId, doc: &mut AutoCommit, h: ChangeHash) -> Outcome {
    let mut sent = false;
    loop {
        if let Some(frame) = c.next_sync_frame(id, doc) {
            if c.send(&frame).await.is_err() {
                return if sent { Outcome::Unknown } else { Outcome::Fail };
            }
            sent = true;
        }
        if acknowledges(doc, &c.server_heads(id), h) {
            return Outcome::Ok;
        }
        match c.next_event(STEP).await {
            Event::Msg(Message::Sync { document_id, data, .. }) if document_id == id => c.receive(id, doc, &data),
            Event::Msg(Message::Error { message }) => panic!("the relay refused a legitimate write: {message}"),
            Event::Msg(_) => {}
            Event::Closed(_) => return if sent { Outcome::Unknown } else { Outcome::Fail },
            Event::Quiet => panic!("a live relay did not answer within {STEP:?}"),
            other => panic!("unexpected {other:?}"),
        }
    }
}

/// One writer: for every relay generation, connect, send the outbox, then write messages one by
/// one until the connection dies; report the generation done in `done`.
async fn writer(
    me: Account,
    device: u64,
    channel: ChannelSummary,
    mut gate: watch::Receiver<Gate>,
    history: History,
    done: watch::Sender<usize>,
) -> AutoCommit {
    let id = channel.head_document;
    let mut doc = replica(&channel, me.id, device);
    let mut n = 0u64;
    let mut served = 0;
    loop {
        let g = loop {
            let g = gate.borrow_and_update().clone();
            if g.stop {
                return doc;
            }
            if g.n > served {
                break g;
            }
            gate.changed().await.expect("the test holds the gate");
        };
        served = g.n;
        if let Some(addr) = g.addr
            && let Ok(mut c) = SyncClient::try_connect(ws_request(addr, &me.token)).await
            && c.sync(id, &mut doc).await.is_ok()
        {
            loop {
                n += 1;
                let mid = format!("{}-{n}", me.name);
                let msg = ChatMessage::new(
                    mid.clone(),
                    me.id,
                    me.name.clone(),
                    1_700_000_000_000 + n as i64,
                    format!("m{n}"),
                );
                chat::append(&mut doc, &msg).expect("append");
                let h = doc.get_last_local_change().expect("the change").hash();
                let outcome = write_one(&mut c, id, &mut doc, h).await;
                history.lock().unwrap().insert(mid, (outcome, served));
                if outcome != Outcome::Ok {
                    break;
                }
            }
        }
        done.send_replace(served);
    }
}

// --- the auditor ------------------------------------------------------------------------------

/// Read the relay's copy with a fresh replica; every acknowledged write is there exactly once.
/// Returns the message ids present.
async fn audit(
    addr: SocketAddr,
    reader: &Account,
    channel: &ChannelSummary,
    history: &History,
    cycle: usize,
) -> HashSet<String> {
    static DEVICE: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1000);
    let id = channel.head_document;
    let mut c = SyncClient::try_connect(ws_request(addr, &reader.token)).await.expect("the auditor connects");
    let mut doc = replica(channel, reader.id, DEVICE.fetch_add(1, std::sync::atomic::Ordering::Relaxed));
    // Until the relay has said what it holds and we hold it: right after a start, loading the
    // document can take longer than the quiet period after which `sync` would call it a day.
    let deadline = Instant::now() + STEP;
    loop {
        c.sync(id, &mut doc).await.expect("the auditor syncs");
        let heads = c.server_heads(id);
        if c.synced.contains(&id) && heads.iter().all(|h| doc.get_change_by_hash(h).is_some()) {
            break;
        }
        assert!(Instant::now() < deadline, "after restart {cycle}: the auditor got no answer within {STEP:?}");
    }
    let mut count: BTreeMap<String, usize> = BTreeMap::new();
    for m in chat::messages(&doc) {
        *count.entry(m.id).or_default() += 1;
    }
    let doubled: Vec<_> = count.iter().filter(|(_, n)| **n > 1).collect();
    assert!(doubled.is_empty(), "after restart {cycle}: messages present more than once: {doubled:?}");
    let lost: Vec<_> = history
        .lock()
        .unwrap()
        .iter()
        .filter(|(mid, (o, _))| *o == Outcome::Ok && !count.contains_key(*mid))
        .map(|(mid, (_, g))| format!("{mid} (acknowledged by relay {g})"))
        .collect();
    assert!(lost.is_empty(), "after restart {cycle}: acknowledged writes lost: {lost:?}");
    count.into_keys().collect()
}

// --- the test ---------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_writes_survive_sigkill_at_random_moments() {
    let started = Instant::now();
    let seed: u64 = std::env::var("QIAO_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(rand::random);
    println!("seed {seed} (QIAO_SEED={seed} replays the kill timing)");
    let mut rng = StdRng::seed_from_u64(seed);
    let tmp = tempfile::Builder::new().prefix("qiao-crash-").tempdir().expect("temp dir");
    let dir: PathBuf = tmp.path().into();

    // First start creates the admin and the public channel; accounts are added with the CLI.
    let relay = tokio::task::spawn_blocking({
        let dir = dir.clone();
        move || RelayProcess::start(&dir, "127.0.0.1:0")
    })
    .await
    .expect("start");
    let addr = relay.addr;
    for name in WRITERS.iter().chain([&READER]) {
        cli(&dir, &["user", "add", "--username", name, "--password", PASSWORD]);
    }
    let mut writers = Vec::new();
    for name in WRITERS {
        writers.push(login(addr, name).await);
    }
    let reader = login(addr, READER).await;
    let r = http(addr, "GET", "/api/channels", Some(&reader.token), None).await;
    let channels: Vec<ChannelSummary> = r.json();
    let general = channels.into_iter().find(|c| !c.private).expect("a public channel");
    relay.kill();

    let history: History = Arc::default();
    let (gate, gate_rx) = watch::channel(Gate::default());
    let mut tasks = Vec::new();
    let mut dones = Vec::new();
    for (i, me) in writers.iter().enumerate() {
        let (done_tx, done_rx) = watch::channel(0);
        dones.push(done_rx);
        tasks.push(tokio::spawn(writer(
            me.clone(),
            i as u64 + 1,
            general.clone(),
            gate_rx.clone(),
            history.clone(),
            done_tx,
        )));
    }

    let spawn_relay = |dir: PathBuf| tokio::task::spawn_blocking(move || RelayProcess::start(&dir, &addr.to_string()));
    let cycles = cycles();
    let mut stored_unknown = 0;
    let (mut boot, mut audits) = (Duration::ZERO, Duration::ZERO);
    for cycle in 1..=cycles {
        let t = Instant::now();
        let relay = spawn_relay(dir.clone()).await.expect("start");
        boot += t.elapsed();
        let t = Instant::now();
        let present = audit(relay.addr, &reader, &general, &history, cycle).await;
        audits += t.elapsed();
        // Writes whose fate was unknown when the previous relay died: were they stored?
        stored_unknown += history
            .lock()
            .unwrap()
            .iter()
            .filter(|(mid, (o, g))| *o == Outcome::Unknown && *g == cycle - 1 && present.contains(*mid))
            .count();
        gate.send_replace(Gate { n: cycle, addr: Some(relay.addr), stop: false });
        tokio::time::sleep(Duration::from_millis(rng.gen_range(0..MAX_LIFE_MS))).await;
        relay.kill();
        gate.send_modify(|g| g.addr = None);
        for d in &mut dones {
            tokio::time::timeout(STEP, d.wait_for(|n| *n >= cycle))
                .await
                .expect("every writer notices the dead relay")
                .expect("writer alive");
        }
    }

    // The last start: audit first, then the writers send their outboxes and everyone catches up.
    let relay = spawn_relay(dir.clone()).await.expect("start");
    audit(relay.addr, &reader, &general, &history, cycles + 1).await;
    gate.send_replace(Gate { n: cycles + 1, addr: None, stop: true });
    let mut docs = Vec::new();
    for t in tasks {
        docs.push(t.await.expect("writer task"));
    }
    let id = general.head_document;
    let mut clients = Vec::new();
    for (me, doc) in writers.iter().zip(docs.iter_mut()) {
        let mut c = SyncClient::try_connect(ws_request(relay.addr, &me.token)).await.expect("connect");
        c.sync(id, doc).await.expect("final sync: push");
        clients.push(c);
    }
    let mut all_heads: Vec<ChangeHash> = docs.iter_mut().flat_map(|d| d.get_heads()).collect();
    all_heads.sort();
    all_heads.dedup();
    for (c, doc) in clients.iter_mut().zip(docs.iter_mut()) {
        c.sync_until_has(id, doc, &all_heads).await.expect("final sync: pull");
    }
    let mut fresh = SyncClient::try_connect(ws_request(relay.addr, &reader.token)).await.expect("connect");
    let mut fresh_doc = replica(&general, reader.id, 1);
    fresh.sync_until_has(id, &mut fresh_doc, &all_heads).await.expect("fresh reader");

    let heads = fresh_doc.get_heads();
    for (me, doc) in writers.iter().zip(docs.iter_mut()) {
        assert_eq!(doc.get_heads(), heads, "{} converged with a fresh reader", me.name);
    }
    let mut count: BTreeMap<String, usize> = BTreeMap::new();
    for m in chat::messages(&fresh_doc) {
        *count.entry(m.id).or_default() += 1;
    }
    let history = history.lock().unwrap().clone();
    let missing: Vec<_> = history.keys().filter(|m| count.get(*m) != Some(&1)).collect();
    assert!(missing.is_empty(), "writes not present exactly once at the end: {missing:?}");
    assert_eq!(count.len(), history.len(), "no message that nobody wrote");

    let tally = |o: Outcome| history.values().filter(|(x, _)| *x == o).count();
    let (ok, fail, unknown) = (tally(Outcome::Ok), tally(Outcome::Fail), tally(Outcome::Unknown));
    println!(
        "crash durability: {cycles} SIGKILL/restart cycles in {:.1} s; writes ok {ok}, fail {fail}, unknown {unknown} \
         ({stored_unknown} of the unknown found stored by the next relay); {} messages at the end, all present once, \
         {} replicas with equal heads; relay start {:.0} ms and audit {:.0} ms on average",
        started.elapsed().as_secs_f64(),
        count.len(),
        WRITERS.len() + 1,
        boot.as_secs_f64() * 1000.0 / cycles as f64,
        audits.as_secs_f64() * 1000.0 / cycles as f64,
    );
    assert!(ok > cycles, "the writers got work done between kills ({ok} acknowledged writes)");
}
