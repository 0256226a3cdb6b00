//! The two servers under test, started and stopped by the bench on 127.0.0.1.
//!
//! - [`Kind::Qiao`]: `qiao-server serve` on a fresh data directory. Users are added with
//!   `qiao-server user add` after the first start; every client presents a user's session token
//!   on the websocket upgrade and writes under an actor bound to that user (user id + 8 device
//!   bytes), which the relay checks. Documents are segments of channels the admin creates over
//!   the API, because the relay serves registered documents only.
//! - [`Kind::Peer`]: `node bench/peer/server.mjs`, a stock automerge-repo sync server with
//!   NodeFS storage. It takes any document id and checks nothing, so clients connect without a
//!   token and "channels" are just random ids.
//!
//! A [`Target`] also reads the server's RSS and CPU time from `/proc` and measures its storage.
//! Servers are killed when their `Target` is dropped, so every run ends with no server left.

use crate::{Error, http};
use qiao_model::actor::actor_for;
use qiao_model::ids::{ChannelId, UserId};
use rand::RngCore;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::process::{Child, Command};

const ADMIN_PASSWORD: &str = "bench-admin-password";
const USER_PASSWORD: &str = "bench-user-password";
const START_TIMEOUT: Duration = Duration::from_secs(30);
const STOP_TIMEOUT: Duration = Duration::from_secs(20);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Qiao,
    Peer,
}

impl Kind {
    pub fn label(self) -> &'static str {
        match self {
            Kind::Qiao => "qiao",
            Kind::Peer => "peer",
        }
    }
}

/// Where the programs are.
#[derive(Clone, Debug)]
pub struct Tools {
    pub relay_bin: PathBuf,
    pub node: PathBuf,
    pub peer_script: PathBuf,
    /// The relay's per-connection frame budget (`--sync-frames-per-sec`, also used as the
    /// burst); `None` keeps the relay's defaults.
    pub relay_frames_per_sec: Option<u32>,
}

/// A user the relay knows, logged in.
#[derive(Clone)]
struct Account {
    id: UserId,
    token: String,
}

/// What [`Target::member_channel`] made.
pub struct Seeded {
    pub channel: ChannelId,
    /// Seconds spent seeding, not counting `busy_after_logins`.
    pub secs: f64,
    /// Seconds the relay stayed busy after the last login (see [`Target::member_channel`]).
    pub busy_after_logins: f64,
}

/// Who a client is: the token it presents (relay only) and the user its actor is bound to.
pub struct Identity {
    pub token: Option<String>,
    pub user: UserId,
    pub actor: automerge::ActorId,
    pub peer_id: String,
}

pub struct Target {
    pub kind: Kind,
    tools: Tools,
    pub data_dir: PathBuf,
    log_path: PathBuf,
    child: Option<Child>,
    pub port: u16,
    pub pid: u32,
    admin_token: Option<String>,
    accounts: Vec<Account>,
    /// Distinguishes this run's peer ids and device bytes from any earlier run's.
    salt: u32,
    next_peer: usize,
}

impl Target {
    /// Start a server of `kind` on a fresh `data_dir`; for the relay, add and log in `users` users.
    pub async fn start(kind: Kind, tools: &Tools, dir: &Path, users: usize) -> Result<Self, Error> {
        std::fs::create_dir_all(dir)?;
        let data_dir = dir.join(format!("{}-data", kind.label()));
        let log_path = dir.join(format!("{}.log", kind.label()));
        let mut t = Target {
            kind,
            tools: tools.clone(),
            data_dir,
            log_path,
            child: None,
            port: 0,
            pid: 0,
            admin_token: None,
            accounts: Vec::new(),
            salt: rand::thread_rng().next_u32(),
            next_peer: 0,
        };
        t.launch().await?;
        if kind == Kind::Qiao {
            t.provision(users).await?;
        }
        Ok(t)
    }

    /// Start the server (again) on its data directory, on a new port.
    pub async fn launch(&mut self) -> Result<(), Error> {
        let port = free_port()?;
        let log = std::fs::OpenOptions::new().create(true).append(true).open(&self.log_path)?;
        let mut cmd = match self.kind {
            Kind::Qiao => {
                let mut c = Command::new(&self.tools.relay_bin);
                c.arg("serve")
                    .arg("--addr")
                    .arg(format!("127.0.0.1:{port}"))
                    .arg("--data-dir")
                    .arg(&self.data_dir)
                    .arg("--admin-password")
                    .arg(ADMIN_PASSWORD)
                    // Workload (b) opens 500 sockets per bench account (10,000 over 20): one
                    // account stands for many people here, so the per-person cap is lifted.
                    .arg("--max-connections-per-user")
                    .arg("0");
                if let Some(n) = self.tools.relay_frames_per_sec {
                    c.arg("--sync-frames-per-sec").arg(n.to_string()).arg("--sync-frame-burst").arg(n.to_string());
                }
                c
            }
            Kind::Peer => {
                let mut c = Command::new(&self.tools.node);
                c.arg(&self.tools.peer_script)
                    .arg("--port")
                    .arg(port.to_string())
                    .arg("--data-dir")
                    .arg(&self.data_dir);
                c
            }
        };
        for (k, _) in std::env::vars() {
            if k.starts_with("QIAO_") {
                cmd.env_remove(k);
            }
        }
        cmd.stdin(Stdio::null()).stdout(log.try_clone()?).stderr(log).kill_on_drop(true);
        let child =
            cmd.spawn().map_err(|e| Error::msg(format!("cannot start the {} server: {e}", self.kind.label())))?;
        self.pid = child.id().ok_or_else(|| Error::msg("server exited at once"))?;
        self.child = Some(child);
        self.port = port;
        let path = if self.kind == Kind::Qiao { "/api/health" } else { "/" };
        let end = Instant::now() + START_TIMEOUT;
        loop {
            if let Ok((200, _)) = http::request(port, "GET", path, None, None).await {
                return Ok(());
            }
            if let Some(child) = self.child.as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                return Err(Error::msg(format!(
                    "the {} server exited ({status}); {}",
                    self.kind.label(),
                    self.log_tail()
                )));
            }
            if Instant::now() > end {
                return Err(Error::msg(format!("the {} server did not answer within 30 s", self.kind.label())));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn provision(&mut self, users: usize) -> Result<(), Error> {
        for i in 0..users {
            let out = Command::new(&self.tools.relay_bin)
                .args(["user", "add", "--data-dir"])
                .arg(&self.data_dir)
                .args(["--username", &format!("bench{i:03}"), "--name", &format!("Bench 用户 {i}")])
                .args(["--password", USER_PASSWORD, "--role", "employee"])
                .stdin(Stdio::null())
                .output()
                .await?;
            if !out.status.success() {
                return Err(Error::msg(format!("user add bench{i:03}: {}", String::from_utf8_lossy(&out.stderr))));
            }
        }
        self.admin_token = Some(self.login("admin", ADMIN_PASSWORD).await?.token);
        for i in 0..users {
            let a = self.login(&format!("bench{i:03}"), USER_PASSWORD).await?;
            self.accounts.push(a);
        }
        Ok(())
    }

    async fn login(&self, username: &str, password: &str) -> Result<Account, Error> {
        login(self.port, username, password).await
    }

    /// One channel with `members` people in it, of whom `online` are logged in: their sessions
    /// become the identities of the following connections ([`Target::identity`]).
    ///
    /// On the relay: the people are added with `qiao-server user add-many` (one transaction, one
    /// shared password hashed once: an HR import hashes a password per person, about 50 ms each
    /// here, so 10,000 would take minutes), their ids come from `GET /api/directory`, and the
    /// channel is a private one the admin creates with all of them as members in one request
    /// (`POST /api/channels` with `members`). The `online` people are added and logged in
    /// first, and the relay is left to finish what the logins set off before the others are
    /// added: every login republishes the directory document in the background, at a cost that
    /// grows with the directory (about 0.5 s each at 10,000 people), so 1,000 logins into a
    /// directory of 10,000 keep the relay busy for many minutes. On the peer, which has no
    /// accounts or membership, the channel is a random id.
    pub async fn member_channel(&mut self, members: usize, online: usize) -> Result<Seeded, Error> {
        let t0 = Instant::now();
        if self.kind == Kind::Peer {
            let channel = self.channels(1, "members").await?.remove(0);
            return Ok(Seeded { channel, secs: 0.0, busy_after_logins: 0.0 });
        }
        let online = online.min(members);
        let admin = self.admin_token.clone().ok_or_else(|| Error::msg("not provisioned"))?;
        self.add_many("m", online).await?;
        // Logins verify an argon2 hash each: a few at a time keeps both cores busy.
        let port = self.port;
        let mut set = tokio::task::JoinSet::new();
        let mut todo = (0..online).map(|i| format!("m{i:05}")).enumerate();
        let mut accounts = vec![None; online];
        loop {
            while set.len() < 4 {
                let Some((i, u)) = todo.next() else { break };
                set.spawn(async move { (i, login(port, &u, USER_PASSWORD).await) });
            }
            let Some(r) = set.join_next().await else { break };
            let (i, a) = r.map_err(|e| Error::msg(format!("login task: {e}")))?;
            accounts[i] = Some(a?);
        }
        self.accounts = accounts.into_iter().flatten().collect();
        crate::log(format!(
            "[qiao] {} added and logged in at {:.1} s",
            self.accounts.len(),
            t0.elapsed().as_secs_f64()
        ));
        let busy_after_logins = self.quiet(Duration::from_secs(900)).await;
        crate::log(format!("[qiao] relay idle {busy_after_logins:.1} s after the last login"));
        self.add_many("n", members - online).await?;
        let dir =
            http::json_within(Duration::from_secs(120), self.port, "GET", "/api/directory", Some(&admin), None).await?;
        let ids: Vec<i64> = dir["users"]
            .as_array()
            .ok_or_else(|| Error::msg("directory answer lacks users"))?
            .iter()
            .filter(|u| {
                u["username"].as_str().is_some_and(|n| (n.starts_with('m') || n.starts_with('n')) && n.len() == 6)
            })
            .filter_map(|u| u["id"].as_i64())
            .collect();
        if ids.len() != members {
            return Err(Error::msg(format!("the directory lists {} of the {members} people added", ids.len())));
        }
        let body = serde_json::json!({ "name": "all-hands", "private": true, "members": ids });
        let ch =
            http::json_within(Duration::from_secs(300), self.port, "POST", "/api/channels", Some(&admin), Some(&body))
                .await?;
        let channel = ChannelId(ch["id"].as_str().ok_or_else(|| Error::msg("channel answer lacks an id"))?.to_string());
        crate::log(format!("[qiao] channel of {} members made at {:.1} s", ch["members"], t0.elapsed().as_secs_f64()));
        Ok(Seeded { channel, secs: t0.elapsed().as_secs_f64() - busy_after_logins, busy_after_logins })
    }

    /// `qiao-server user add-many`: `count` employees `<prefix>00000`… with the bench's password.
    async fn add_many(&self, prefix: &str, count: usize) -> Result<(), Error> {
        if count == 0 {
            return Ok(());
        }
        let out = Command::new(&self.tools.relay_bin)
            .args(["user", "add-many", "--data-dir"])
            .arg(&self.data_dir)
            .args(["--prefix", prefix, "--count", &count.to_string(), "--password", USER_PASSWORD])
            .stdin(Stdio::null())
            .output()
            .await?;
        if !out.status.success() {
            return Err(Error::msg(format!("user add-many: {}", String::from_utf8_lossy(&out.stderr))));
        }
        Ok(())
    }

    /// Wait until the server has used under 5% of a core for a whole second (at most `within`):
    /// the work set off by the seeding (on the relay, every login republishes the directory
    /// document in the background) must not land in the measured period. How long it took.
    pub async fn quiet(&self, within: Duration) -> f64 {
        let t0 = Instant::now();
        let mut last = self.cpu_seconds();
        while t0.elapsed() < within {
            tokio::time::sleep(Duration::from_secs(1)).await;
            let now = self.cpu_seconds();
            if let (Some(a), Some(b)) = (last, now)
                && b - a < 0.05
            {
                break;
            }
            last = now;
        }
        t0.elapsed().as_secs_f64()
    }

    /// `n` channels to put documents in: created over the API on the relay (which registers their
    /// first segments), random ids on the peer.
    pub async fn channels(&self, n: usize, label: &str) -> Result<Vec<ChannelId>, Error> {
        let mut out = Vec::with_capacity(n);
        for i in 0..n {
            match self.kind {
                Kind::Qiao => {
                    let body = serde_json::json!({ "name": format!("{label}-{i}"), "private": false });
                    let r = http::json(self.port, "POST", "/api/channels", self.admin_token.as_deref(), Some(&body))
                        .await?;
                    let id = r["id"].as_str().ok_or_else(|| Error::msg("channel answer lacks an id"))?;
                    out.push(ChannelId(id.to_string()));
                }
                Kind::Peer => {
                    let mut b = [0u8; 12];
                    rand::thread_rng().fill_bytes(&mut b);
                    out.push(ChannelId(format!("c{}", hex(&b))));
                }
            }
        }
        Ok(out)
    }

    /// The identity of client number `i` (a fresh peer id on every call).
    pub fn identity(&mut self, i: usize) -> Identity {
        let (token, user) = match self.accounts.get(i % self.accounts.len().max(1)) {
            Some(a) if self.kind == Kind::Qiao => (Some(a.token.clone()), a.id),
            _ => (None, UserId(1000 + (i % 20) as i64)),
        };
        let mut device = [0u8; 8];
        device[..4].copy_from_slice(&self.salt.to_be_bytes());
        device[4..].copy_from_slice(&(i as u32).to_be_bytes());
        self.next_peer += 1;
        Identity {
            token,
            user,
            actor: actor_for(user, device),
            peer_id: format!("bench-{}-{:08x}-{}", self.kind.label(), self.salt, self.next_peer),
        }
    }

    pub fn sync_url(&self) -> String {
        format!("ws://127.0.0.1:{}/sync", self.port)
    }

    /// Stop gracefully: SIGINT, then SIGKILL after 20 s.
    pub async fn stop(&mut self) -> Result<(), Error> {
        let Some(mut child) = self.child.take() else { return Ok(()) };
        let _ = Command::new("kill").arg("-INT").arg(self.pid.to_string()).status().await;
        match tokio::time::timeout(STOP_TIMEOUT, child.wait()).await {
            Ok(_) => Ok(()),
            Err(_) => {
                let _ = child.kill().await;
                Err(Error::msg(format!("the {} server ignored SIGINT for 20 s; killed", self.kind.label())))
            }
        }
    }

    /// Resident memory of the server process, in bytes.
    pub fn rss(&self) -> Option<u64> {
        rss_of(self.pid)
    }

    /// CPU time the server process has used (user + system), in seconds.
    pub fn cpu_seconds(&self) -> Option<f64> {
        cpu_seconds_of(&format!("/proc/{}/stat", self.pid))
    }

    /// Bytes the server keeps on disk: (file sizes, allocated blocks). For the relay, the WAL is
    /// checkpointed into the database first (with the `sqlite3` tool when there is one).
    pub async fn storage(&self) -> Result<(u64, u64), Error> {
        if self.kind == Kind::Qiao && self.child.is_none() {
            let db = self.data_dir.join("qiao.db");
            let _ = Command::new("sqlite3")
                .arg(&db)
                .arg("PRAGMA wal_checkpoint(TRUNCATE);")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .await;
        }
        dir_size(&self.data_dir)
    }

    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log_path).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        let tail = lines[lines.len().saturating_sub(15)..].join("\n    ");
        format!("last lines of {}:\n    {tail}", self.log_path.display())
    }
}

async fn login(port: u16, username: &str, password: &str) -> Result<Account, Error> {
    let body = serde_json::json!({ "username": username, "password": password });
    let r = http::json(port, "POST", "/api/auth/login", None, Some(&body)).await?;
    let token = r["token"].as_str().ok_or_else(|| Error::msg("login answer lacks a token"))?.to_string();
    let id = r["user"]["id"].as_i64().ok_or_else(|| Error::msg("login answer lacks user.id"))?;
    Ok(Account { id: UserId(id), token })
}

/// Resident memory of process `pid` (VmRSS), in bytes.
pub fn rss_of(pid: u32) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = s.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse::<u64>().ok().map(|kb| kb * 1024)
}

/// How many threads of process `pid` are blocked in `clock_nanosleep` right now (from each
/// thread's `/proc/<pid>/task/<tid>/syscall`); x86-64 only.
pub fn threads_in_nanosleep(pid: u32) -> Option<usize> {
    if !cfg!(target_arch = "x86_64") {
        return None;
    }
    const CLOCK_NANOSLEEP: &str = "230";
    let mut n = 0;
    for t in std::fs::read_dir(format!("/proc/{pid}/task")).ok()? {
        let Ok(t) = t else { continue };
        let Ok(s) = std::fs::read_to_string(t.path().join("syscall")) else { continue };
        if s.split_whitespace().next() == Some(CLOCK_NANOSLEEP) {
            n += 1;
        }
    }
    Some(n)
}

/// CPU seconds (utime + stime) from a `/proc/<pid>/stat` file.
pub fn cpu_seconds_of(path: &str) -> Option<f64> {
    let s = std::fs::read_to_string(path).ok()?;
    // Fields after the parenthesised command name: state is field 3, utime 14, stime 15.
    let rest = &s[s.rfind(')')? + 1..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?;
    Some(ticks as f64 / clock_ticks() as f64)
}

fn clock_ticks() -> u64 {
    static TICKS: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *TICKS.get_or_init(|| {
        std::process::Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
            .unwrap_or(100)
    })
}

fn dir_size(dir: &Path) -> Result<(u64, u64), Error> {
    use std::os::unix::fs::MetadataExt;
    let mut total = (0, 0);
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else { continue };
        for e in entries {
            let e = e?;
            let m = e.metadata()?;
            if m.is_dir() {
                stack.push(e.path());
            } else {
                total.0 += m.len();
                total.1 += m.blocks() * 512;
            }
        }
    }
    Ok(total)
}

fn free_port() -> Result<u16, Error> {
    let l = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(l.local_addr()?.port())
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}
