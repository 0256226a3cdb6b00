//! `qiao-bench chat-open seed`: put a long channel and a fresh one on a running relay, written
//! the way the app writes them.
//!
//! The people must exist already (`qiao-server user add`); the first creates the channels (it
//! must be allowed to create public channels: an admin). Every person writes through a websocket
//! of their own, with their token and their own actor id (the relay refuses anything else), one
//! change per message or reaction, into the segment documents of `qiao_model::schema::chat`:
//! 200 messages to a segment, then the next one, which the relay registers ahead of the writers.
//!
//! Writing is a conversation, not a bulk load: a person writes only after their replica has
//! received, through the relay, every change written before (the relay's fan-out to them), so
//! the segment's message list is in writing order and every change depends on the one before,
//! as in a channel where people read before they answer. One segment's four connections are
//! open while it is written, then closed (a segment's ~230 changes stay inside the relay's
//! per-connection frame burst).

use super::content::{self, Item, Person};
use crate::client::{self, Cmd, ConnSpec, Event, Replica, SentLog};
use crate::{Error, http};
use qiao_model::actor::actor_for;
use qiao_model::ids::{ChannelId, DocumentId, UserId};
use qiao_model::schema::chat::{self, SEGMENT_CAPACITY};
use std::path::PathBuf;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// How long one change may take to reach the next writer before the seed gives up.
const STEP_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The relay's port on 127.0.0.1.
    #[arg(long)]
    port: u16,
    /// `username:password` of each writer, comma-separated; the first creates the channels.
    #[arg(long, value_delimiter = ',', required = true)]
    people: Vec<String>,
    /// Messages in the long channel.
    #[arg(long, default_value_t = 10_000)]
    messages: usize,
    /// Messages in the fresh channel.
    #[arg(long, default_value_t = 50)]
    fresh: usize,
    /// The long channel's name.
    #[arg(long, default_value = "产品研发 · Product")]
    long_name: String,
    /// The fresh channel's name.
    #[arg(long, default_value = "新项目 · New project")]
    fresh_name: String,
    /// How many of the newest messages the browser waits for (their ids are printed).
    #[arg(long, default_value_t = 50)]
    latest: usize,
    /// Directory for `<channel>-messages.json` (every message of each channel, for the peer).
    #[arg(long)]
    out: PathBuf,
    /// Seed of the content generator.
    #[arg(long, default_value_t = 2026)]
    seed: u64,
}

struct Writer {
    person: Person,
    token: String,
}

async fn login(port: u16, cred: &str) -> Result<Writer, Error> {
    let (username, password) =
        cred.split_once(':').ok_or_else(|| Error::msg(format!("`{cred}`: expected username:password")))?;
    let body = serde_json::json!({ "username": username, "password": password });
    let r = http::json(port, "POST", "/api/auth/login", None, Some(&body)).await?;
    let token = r["token"].as_str().ok_or_else(|| Error::msg("login answer lacks a token"))?.to_string();
    let id = r["user"]["id"].as_i64().ok_or_else(|| Error::msg("login answer lacks user.id"))?;
    let name = r["user"]["display_name"].as_str().unwrap_or(username).to_string();
    Ok(Writer { person: Person { id: UserId(id), name }, token })
}

/// The device bytes of writer `i`'s bench replica.
fn device(i: usize) -> [u8; 8] {
    [0xb0, 0xc4, 0xa7, 0, 0, 0, 0, i as u8]
}

pub async fn run(a: Args) -> Result<serde_json::Value, Error> {
    let t0 = Instant::now();
    if a.people.len() < 2 {
        return Err(Error::msg("at least two writers"));
    }
    let mut writers = Vec::new();
    for cred in &a.people {
        writers.push(login(a.port, cred).await?);
    }
    let now_ms =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0);
    std::fs::create_dir_all(&a.out)?;
    let mut out = serde_json::Map::new();
    for (key, name, n, seed) in
        [("long", &a.long_name, a.messages, a.seed), ("fresh", &a.fresh_name, a.fresh, a.seed.wrapping_add(1))]
    {
        let body = serde_json::json!({ "name": name, "private": false });
        let c = http::json(a.port, "POST", "/api/channels", Some(&writers[0].token), Some(&body)).await?;
        let channel =
            ChannelId(c["id"].as_str().ok_or_else(|| Error::msg(format!("channel answer lacks an id: {c}")))?.into());
        let people: Vec<Person> =
            writers.iter().map(|w| Person { id: w.person.id, name: w.person.name.clone() }).collect();
        let (segments, counts) = content::build(&people, n, SEGMENT_CAPACITY, seed, now_ms);
        let t = Instant::now();
        let mut all = Vec::with_capacity(n);
        for (s, items) in segments.iter().enumerate() {
            write_segment(a.port, &writers, &channel, s as u32, items).await?;
            if (s + 1) % 10 == 0 {
                eprintln!("chat-open seed: {key}: {} segments written, {:.1} s", s + 1, t.elapsed().as_secs_f64());
            }
            for it in items {
                match it {
                    Item::Message { msg, .. } => all.push(serde_json::json!({
                        "id": msg.id, "author": msg.author.0, "author_name": msg.author_name, "ts": msg.ts,
                        "text": msg.text, "reply_to": msg.reply_to, "reactions": {},
                    })),
                    Item::Reaction { id, emoji, .. } => {
                        if let Some(m) = all.iter_mut().rev().find(|m| m["id"] == id.as_str()) {
                            let r = &mut m["reactions"][*emoji];
                            *r = serde_json::json!(r.as_u64().unwrap_or(0) + 1);
                        }
                    }
                }
            }
        }
        let secs = t.elapsed().as_secs_f64();
        // The relay's view of the channel after the writes: its head segment is what the app
        // opens first.
        let list = http::json(a.port, "GET", "/api/channels", Some(&writers[0].token), None).await?;
        let head = list
            .as_array()
            .and_then(|l| l.iter().find(|x| x["id"] == channel.as_str()))
            .and_then(|x| x["head_segment"].as_u64())
            .ok_or_else(|| Error::msg("the channel is missing from /api/channels"))?;
        let latest: Vec<&str> = all.iter().rev().take(a.latest).rev().filter_map(|m| m["id"].as_str()).collect();
        let file = a.out.join(format!("{key}-messages.json"));
        std::fs::write(&file, serde_json::to_vec(&all).map_err(|e| Error::msg(e.to_string()))?)?;
        eprintln!(
            "chat-open seed: {key}: {n} messages, {} reactions, {} segments in {secs:.1} s",
            counts.reactions,
            segments.len()
        );
        out.insert(
            key.into(),
            serde_json::json!({
                "id": channel.as_str(),
                "name": name,
                "messages": counts.messages,
                "replies": counts.replies,
                "mentions": counts.mentions,
                "reactions": counts.reactions,
                "text_bytes": counts.text_bytes,
                "segments": segments.len(),
                "head_segment": head,
                "latest": latest,
                "messages_file": file.display().to_string(),
                "write_secs": secs,
            }),
        );
    }
    out.insert("writers".into(), serde_json::json!(writers.len()));
    out.insert("total_secs".into(), serde_json::json!(t0.elapsed().as_secs_f64()));
    Ok(serde_json::Value::Object(out))
}

/// Write one segment's items, each by its author's connection once that connection has every
/// earlier change of the segment.
async fn write_segment(
    port: u16,
    writers: &[Writer],
    channel: &ChannelId,
    segment: u32,
    items: &[Item],
) -> Result<(), Error> {
    let doc: DocumentId = chat::segment_id(channel, segment);
    let (tx, mut rx) = mpsc::unbounded_channel();
    let conns: Vec<_> = writers
        .iter()
        .enumerate()
        .map(|(i, w)| {
            let spec = ConnSpec {
                url: format!("ws://127.0.0.1:{port}/sync"),
                token: Some(w.token.clone()),
                peer_id: format!("bench-chat-open-{i}-{segment}"),
                actor: actor_for(w.person.id, device(i)),
                replicas: vec![Replica { id: doc, doc: chat::genesis(channel, segment) }],
            };
            client::spawn(i, spec, tx.clone(), SentLog::default())
        })
        .collect();
    // Changes each connection's replica holds (the genesis aside).
    let mut seen = vec![0usize; writers.len()];
    let mut synced = vec![false; writers.len()];
    wait(segment, &mut rx, &mut seen, &mut synced, &|_, s| s.iter().all(|x| *x), "the first sync").await?;
    for (k, it) in items.iter().enumerate() {
        let by = match it {
            Item::Message { by, .. } | Item::Reaction { by, .. } => *by,
        };
        wait(segment, &mut rx, &mut seen, &mut synced, &|s, _| s[by] >= k, "the previous change").await?;
        let cmd = match it {
            Item::Message { msg, .. } => Cmd::Write(doc, Box::new(msg.clone())),
            Item::Reaction { id, emoji, .. } => {
                Cmd::React { doc, id: id.clone(), emoji: (*emoji).to_string(), user: writers[by].person.id }
            }
        };
        conns[by].send(cmd).map_err(|_| Error::msg("a sync client ended"))?;
        seen[by] += 1;
    }
    // Everyone has everything: the relay has stored it all.
    let n = items.len();
    wait(segment, &mut rx, &mut seen, &mut synced, &|s, _| s.iter().all(|x| *x >= n), "the last change").await?;
    for c in &conns {
        let _ = c.send(Cmd::Close);
    }
    let mut closed = 0;
    let _ = tokio::time::timeout(Duration::from_secs(5), async {
        while closed < conns.len() {
            match rx.recv().await {
                Some(Event::Closed | Event::Failed { .. }) => closed += 1,
                Some(_) => {}
                None => break,
            }
        }
    })
    .await;
    Ok(())
}

/// Take in the connections' events until `done(seen, synced)` holds: `seen[c]` counts the
/// changes connection `c` holds beyond the genesis, `synced[c]` whether it has been in sync with
/// the relay.
async fn wait(
    segment: u32,
    rx: &mut mpsc::UnboundedReceiver<Event>,
    seen: &mut [usize],
    synced: &mut [bool],
    done: &dyn Fn(&[usize], &[bool]) -> bool,
    what: &str,
) -> Result<(), Error> {
    let end = tokio::time::Instant::now() + STEP_TIMEOUT;
    while !done(seen, synced) {
        match tokio::time::timeout_at(end, rx.recv()).await {
            Ok(Some(Event::Applied { conn, changes, .. })) => seen[conn] += changes.len(),
            Ok(Some(Event::Synced { conn, .. })) => synced[conn] = true,
            Ok(Some(Event::Failed { conn, error })) => {
                return Err(Error::msg(format!("segment {segment}, writer {conn}: {error}")));
            }
            Ok(Some(Event::Closed)) => {}
            Ok(None) => return Err(Error::msg("the sync clients ended")),
            Err(_) => return Err(Error::msg(format!("segment {segment}: {what} not within {STEP_TIMEOUT:?}"))),
        }
    }
    Ok(())
}
