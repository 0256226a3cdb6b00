//! The workloads, run identically against either server, and what they share.
//!
//! - [`relay_rate`]: (a) relayed changes/s and latency between a writer and a reader.
//! - [`sockets`]: (b) thousands of sockets, a fraction of them writing, fan-out 20.
//! - [`catch_up`]: (c) a client that missed thousands of messages, and (d) storage per message.
//!
//! A [`Fleet`] is the set of client connections of one workload run: it spawns them, sends them
//! commands, and receives their events on one channel.

pub mod catch_up;
pub mod relay_rate;
pub mod sockets;

use crate::Error;
use crate::client::{self, Cmd, ConnId, Event, Replica, SentLog};
use crate::target::Target;
use automerge::ChangeHash;
use qiao_model::ids::{ChannelId, DocumentId, UserId};
use qiao_model::schema::chat::{self, ChatMessage};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::collections::{HashMap, HashSet};
use std::time::Duration;
use tokio::sync::mpsc;

/// The client connections of one workload run.
pub struct Fleet {
    cmds: Vec<mpsc::UnboundedSender<Cmd>>,
    users: Vec<UserId>,
    pub events: mpsc::UnboundedReceiver<Event>,
    events_tx: mpsc::UnboundedSender<Event>,
    pub sent: SentLog,
}

impl Fleet {
    pub fn new() -> Self {
        let (events_tx, events) = mpsc::unbounded_channel();
        Fleet { cmds: Vec::new(), users: Vec::new(), events, events_tx, sent: SentLog::default() }
    }

    /// Open connection number `len()` as client `identity` of `target`, holding `replicas`.
    pub fn connect(&mut self, target: &mut Target, identity: usize, replicas: Vec<Replica>) -> ConnId {
        let id = target.identity(identity);
        let conn = self.cmds.len();
        let spec = client::ConnSpec {
            url: target.sync_url(),
            token: id.token,
            peer_id: id.peer_id,
            actor: id.actor,
            replicas,
        };
        self.cmds.push(client::spawn(conn, spec, self.events_tx.clone(), self.sent.clone()));
        self.users.push(id.user);
        conn
    }

    pub fn user(&self, conn: ConnId) -> UserId {
        self.users[conn]
    }

    pub fn write(&self, conn: ConnId, doc: DocumentId, msg: ChatMessage) {
        let _ = self.cmds[conn].send(Cmd::Write(doc, Box::new(msg)));
    }

    pub fn close(&self, conn: ConnId) {
        let _ = self.cmds[conn].send(Cmd::Close);
    }

    /// Close every connection and wait (at most `within`) until every connection task has ended.
    pub async fn close_all(&mut self, within: Duration) {
        for c in &self.cmds {
            let _ = c.send(Cmd::Close);
        }
        let end = tokio::time::Instant::now() + within;
        // A task drops its command receiver when it ends, however it ends.
        while self.cmds.iter().any(|c| !c.is_closed()) && tokio::time::Instant::now() < end {
            while self.events.try_recv().is_ok() {}
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Wait until every (connection, document) of `want` has reported [`Event::Synced`]; their
    /// heads. A failed connection or the deadline is an error.
    pub async fn synced(
        &mut self,
        mut want: HashSet<(ConnId, DocumentId)>,
        within: Duration,
    ) -> Result<HashMap<DocumentId, Vec<ChangeHash>>, Error> {
        let end = tokio::time::Instant::now() + within;
        let mut heads = HashMap::new();
        while !want.is_empty() {
            match tokio::time::timeout_at(end, self.events.recv()).await {
                Ok(Some(Event::Synced { conn, doc, heads: h })) => {
                    if want.remove(&(conn, doc)) {
                        heads.insert(doc, h);
                    }
                }
                Ok(Some(Event::Failed { conn, error })) => return Err(Error::msg(format!("client {conn}: {error}"))),
                Ok(Some(_)) => {}
                Ok(None) => return Err(Error::msg("all clients ended")),
                Err(_) => {
                    return Err(Error::msg(format!(
                        "{} document syncs still unfinished after {} s",
                        want.len(),
                        within.as_secs()
                    )));
                }
            }
        }
        Ok(heads)
    }
}

/// A fresh replica of segment `segment` of `channel`: its deterministic genesis, as any client
/// can create it offline.
pub fn replica(channel: &ChannelId, segment: u32) -> Replica {
    Replica { id: chat::segment_id(channel, segment), doc: chat::genesis(channel, segment) }
}

/// Chat messages to write: small ones for the latency workloads, a realistic mix for storage.
pub struct Chatter {
    rng: StdRng,
    count: u64,
}

const HANZI: &str = "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制机当使点从业本去把性好应开它合还因由其些然前外天政四日那社义事平形相全表间样与关各重新线内数正心反你明看原又么利比或但质气第向道命此变条只没结解问意建月公无系军很情者最立代想已通并提直题党程展五果料象员革位入常文总次品式活设及管特件长求老头基资边流路级少图山统接知较将组见计别她手角期根论运农指几九区强放决西被干做必战先回则任取据处队南给色光门即保治北造百规热领七海口东导器压志世金增争济阶油思术极交受联什认六共权收证改清己美再采转更单风切打白教速花带安场身车例真务具万每目至达走积示议声报斗完类八离华名确才科张信马节话米整空元况今集温传土许步群广石记需段研界拉林律叫且究观越织装影算低持音众书布复容儿须际商非验连断深难近矿千周委素技备半办青省列习响约支般史感劳便团往酸历市克何除消构府称太准精值号率族维划选标写存候毛亲快效斯院查江型眼王按格养易置派层片始却专状育厂京识适属圆包火住调满县局照参红细引听该铁价严";
const WORDS: &[&str] = &[
    "ok", "thanks", "the", "meeting", "is", "moved", "to", "3pm", "please", "review", "the", "draft", "before",
    "Friday", "I", "will", "send", "the", "report", "tomorrow", "can", "you", "check", "the", "numbers", "in", "sheet",
    "2", "deploy", "done", "looks", "good", "to", "me", "who", "owns", "this", "ticket", "let's", "discuss", "at",
    "standup", "customer", "called", "again", "about", "the", "invoice",
];

impl Chatter {
    pub fn new(seed: u64) -> Self {
        Chatter { rng: StdRng::seed_from_u64(seed), count: 0 }
    }

    fn message(&mut self, author: UserId, text: String) -> ChatMessage {
        self.count += 1;
        let id: String = (0..8).map(|_| format!("{:02x}", self.rng.r#gen::<u8>())).collect();
        let ts = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0);
        ChatMessage::new(id, author, format!("Bench 用户 {}", author.0), ts, text)
    }

    /// A small message (~20 characters): the unit of the latency and fan-out workloads.
    pub fn small(&mut self, author: UserId) -> ChatMessage {
        let text = format!("ping {} from {}", self.count, author.0);
        self.message(author, text)
    }

    /// A message drawn from a chat-like mix: 60% short (4–40 characters), 30% medium (40–150),
    /// 10% long (150–500); half Chinese, half English words.
    pub fn realistic(&mut self, author: UserId) -> ChatMessage {
        let roll = self.rng.gen_range(0..100);
        let len = if roll < 60 {
            self.rng.gen_range(4..40)
        } else if roll < 90 {
            self.rng.gen_range(40..150)
        } else {
            self.rng.gen_range(150..500)
        };
        let mut text = String::new();
        if self.rng.gen_bool(0.5) {
            let chars: Vec<char> = HANZI.chars().collect();
            for i in 0..len {
                text.push(chars[self.rng.gen_range(0..chars.len())]);
                if i % 12 == 11 {
                    text.push('，');
                }
            }
        } else {
            while text.chars().count() < len {
                if !text.is_empty() {
                    text.push(' ');
                }
                text.push_str(WORDS[self.rng.gen_range(0..WORDS.len())]);
            }
        }
        self.message(author, text)
    }
}

/// CPU seconds this process (the load generator) has used.
pub fn own_cpu_seconds() -> f64 {
    crate::target::cpu_seconds_of("/proc/self/stat").unwrap_or(0.0)
}
