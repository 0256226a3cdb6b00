//! Configuration: command-line flags, each with an environment variable.

use clap::Args;
use std::path::PathBuf;

#[derive(Args, Clone, Debug)]
pub struct Config {
    /// Where the database and files live.
    #[arg(long, env = "QIAO_DATA_DIR", default_value = "data")]
    pub data_dir: PathBuf,
    /// The built app (trunk's dist/) to serve; none: API only.
    #[arg(long, env = "QIAO_DIST_DIR")]
    pub dist_dir: Option<PathBuf>,
    /// Origins allowed to open the websocket and send writes (comma-separated). Empty: only the
    /// origin matching the request's Host.
    #[arg(long, env = "QIAO_ALLOWED_ORIGINS", value_delimiter = ',')]
    pub allowed_origins: Vec<String>,
    /// Largest websocket frame accepted, in bytes.
    #[arg(long, env = "QIAO_MAX_FRAME_BYTES", default_value_t = 8 * 1024 * 1024)]
    pub max_frame_bytes: usize,
    /// Sync frames one connection may send in a burst (a frame counts once more per 16 KiB it
    /// carries). Past it the relay reads the connection only as fast as the budget refills.
    #[arg(long, env = "QIAO_SYNC_FRAME_BURST", default_value_t = 1_000)]
    pub sync_frame_burst: u32,
    /// How fast a connection's frame budget refills, in frames per second.
    #[arg(long, env = "QIAO_SYNC_FRAMES_PER_SEC", default_value_t = 200)]
    pub sync_frames_per_sec: u32,
    /// Sync connections (websockets) one person may hold at once, over all their tabs and
    /// devices; one more is refused with 429. 0: no limit.
    #[arg(long, env = "QIAO_MAX_CONNECTIONS_PER_USER", default_value_t = 20)]
    pub max_connections_per_user: usize,
    /// Mark the session cookie `Secure` (set when served over HTTPS).
    #[arg(long, env = "QIAO_SECURE_COOKIES", default_value_t = false)]
    pub secure_cookies: bool,
    /// The URL people open Qiao at (`https://qiao.example.com`), from which single sign-on
    /// builds its redirect URI. Unset: the first of `--allowed-origins`; neither: single
    /// sign-on cannot be turned on.
    #[arg(long, env = "QIAO_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Push services the relay may post notifications to (comma-separated): host names,
    /// `*.suffix` for a domain's hosts (https only), or an exact `http://host:port` origin for a
    /// push service on this machine. Empty: the services browsers use (see `push`).
    #[arg(long, env = "QIAO_PUSH_HOSTS", value_delimiter = ',')]
    pub push_hosts: Vec<String>,
    /// Who runs this server, told to push services (`mailto:it@example.com` or an https URL).
    /// Unset: `--public-url` when it is https.
    #[arg(long, env = "QIAO_PUSH_SUBJECT")]
    pub push_subject: Option<String>,
    /// Unfinished uploads that received nothing for this many hours are deleted (part file and
    /// all); a client coming back later sends the file again.
    #[arg(long, env = "QIAO_ABANDONED_UPLOAD_HOURS", default_value_t = 168)]
    pub abandoned_upload_hours: u64,
}

impl Config {
    /// Defaults for tests: a data directory and nothing else.
    pub fn for_data_dir(data_dir: PathBuf) -> Self {
        Self {
            data_dir,
            dist_dir: None,
            allowed_origins: vec![],
            max_frame_bytes: 8 * 1024 * 1024,
            sync_frame_burst: 1_000,
            sync_frames_per_sec: 200,
            max_connections_per_user: 20,
            secure_cookies: false,
            public_url: None,
            push_hosts: vec![],
            push_subject: None,
            abandoned_upload_hours: 168,
        }
    }

    /// The relay's own origin as people reach it, without a trailing slash: `--public-url`, else
    /// the first allowed origin. Never taken from a request's `Host`, which the client chooses.
    pub fn public_origin(&self) -> Option<String> {
        self.public_url
            .as_deref()
            .or(self.allowed_origins.first().map(String::as_str))
            .map(|u| u.trim().trim_end_matches('/').to_string())
            .filter(|u| !u.is_empty())
    }
}
