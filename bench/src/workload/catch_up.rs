//! (c) Catch-up: a client that missed `messages` messages across `channels` channels, and
//! (d) the server's storage per average chat message.
//!
//! Each channel's messages go into chat segments of at most 200 (as the app writes them), so
//! 250 per channel fill segment 0 and half of segment 1. A writer sends them round by round, one
//! message per channel per round and one change per message, each round waiting until the server
//! has acknowledged it; then it leaves. A second client, which last saw every segment empty,
//! connects and syncs all of them; the catch-up time runs from its connect to the moment every
//! segment has the writer's heads.
//!
//! Storage: the server is stopped (SIGINT) before the writer starts and after the catch-up; the
//! growth of its data directory over the `messages` is divided by their number. The relay's WAL
//! is checkpointed into the database before measuring.

use super::{Chatter, Fleet, replica};
use crate::Error;
use crate::target::Target;
use qiao_model::ids::DocumentId;
use qiao_model::schema::chat::SEGMENT_CAPACITY;
use std::collections::HashSet;
use std::time::{Duration, Instant};

pub struct CatchUp {
    pub messages: usize,
    pub seed_secs: f64,
    pub catch_up_secs: f64,
    pub bytes_per_message: f64,
    pub allocated_per_message: f64,
    pub text_bytes_per_message: f64,
}

pub async fn run(target: &mut Target, channels_n: usize, messages: usize) -> Result<CatchUp, Error> {
    let per_channel = messages / channels_n;
    let messages = per_channel * channels_n;
    let segments = per_channel.div_ceil(SEGMENT_CAPACITY) as u32;
    let channels = target.channels(channels_n, "catchup").await?;
    let all = || -> Vec<_> { channels.iter().flat_map(|c| (0..segments).map(move |s| replica(c, s))).collect() };
    let ids: Vec<DocumentId> = all().iter().map(|r| r.id).collect();

    target.stop().await?;
    let (bytes0, alloc0) = target.storage().await?;
    target.launch().await?;

    // The writer: round r writes message r of every channel.
    let mut fleet = Fleet::new();
    let writer = fleet.connect(target, 0, all());
    fleet.synced(ids.iter().map(|d| (writer, *d)).collect(), Duration::from_secs(60)).await?;
    let author = fleet.user(writer);
    let mut chatter = Chatter::new(42);
    let mut text_bytes = 0usize;
    let mut heads = std::collections::HashMap::new();
    let t_seed = Instant::now();
    for r in 0..per_channel {
        let seg = (r / SEGMENT_CAPACITY) as u32;
        let mut round = HashSet::new();
        for c in &channels {
            let doc = replica(c, seg).id;
            let msg = chatter.realistic(author);
            text_bytes += msg.text.len();
            fleet.write(writer, doc, msg);
            round.insert((writer, doc));
        }
        heads.extend(fleet.synced(round, Duration::from_secs(60)).await?);
    }
    let seed_secs = t_seed.elapsed().as_secs_f64();
    fleet.close(writer);
    tokio::time::sleep(Duration::from_millis(500)).await;

    // The client that missed it all.
    let t = Instant::now();
    let reader = fleet.connect(target, 1, all());
    let got = fleet.synced(ids.iter().map(|d| (reader, *d)).collect(), Duration::from_secs(120)).await?;
    let catch_up_secs = t.elapsed().as_secs_f64();
    for (doc, h) in &heads {
        let mut want = h.clone();
        want.sort();
        let mut have = got.get(doc).cloned().unwrap_or_default();
        have.sort();
        if want != have {
            return Err(Error::msg(format!("catch-up ended with other heads than the writer's on {doc}")));
        }
    }
    fleet.close_all(Duration::from_secs(5)).await;

    target.stop().await?;
    let (bytes1, alloc1) = target.storage().await?;
    Ok(CatchUp {
        messages,
        seed_secs,
        catch_up_secs,
        bytes_per_message: bytes1.saturating_sub(bytes0) as f64 / messages as f64,
        allocated_per_message: alloc1.saturating_sub(alloc0) as f64 / messages as f64,
        text_bytes_per_message: text_bytes as f64 / messages as f64,
    })
}
