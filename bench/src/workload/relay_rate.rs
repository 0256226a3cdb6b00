//! (a) End-to-end relayed changes per second between two clients, and their latency.
//!
//! A writer and a reader both sync `docs` documents. For each document the writer keeps exactly
//! one change in flight: it makes a small change (one chat message), and makes the next as soon
//! as the reader has applied the previous one. With one document this is the server's
//! lock-step round trip; with 50 it is 50 such loops sharing the server and two sockets.
//! Latency is writer's change → reader has applied it. The first second is warm-up.

use super::{Chatter, Fleet, replica};
use crate::Error;
use crate::client::Event;
use crate::report::Latencies;
use crate::target::Target;
use qiao_model::ids::DocumentId;
use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

const WARM_UP: Duration = Duration::from_secs(1);
/// How long to wait for changes still in flight when the run ends.
const GRACE: Duration = Duration::from_secs(5);

pub struct Rate {
    pub per_sec: f64,
    pub latency: Latencies,
    /// The server's CPU use over the measured period, in cores.
    pub server_cores: f64,
}

pub async fn run(target: &mut Target, docs: usize, measure: Duration) -> Result<Rate, Error> {
    let channels = target.channels(docs, &format!("rate{docs}")).await?;
    let ids: Vec<DocumentId> = channels.iter().map(|c| replica(c, 0).id).collect();
    let mut fleet = Fleet::new();
    let writer = fleet.connect(target, 0, channels.iter().map(|c| replica(c, 0)).collect());
    let reader = fleet.connect(target, 1, channels.iter().map(|c| replica(c, 0)).collect());
    let want: HashSet<_> = ids.iter().flat_map(|d| [(writer, *d), (reader, *d)]).collect();
    fleet.synced(want, Duration::from_secs(60)).await?;

    let author = fleet.user(writer);
    let mut chatter = Chatter::new(docs as u64);
    let start = Instant::now();
    let from = start + WARM_UP;
    let end = from + measure;
    let mut in_flight: HashMap<DocumentId, bool> = HashMap::new();
    for d in &ids {
        fleet.write(writer, *d, chatter.small(author));
        in_flight.insert(*d, true);
    }
    let mut latency = Latencies::default();
    let mut done = 0usize;
    let mut cpu = (None, None);
    let hard_end = tokio::time::Instant::from_std(end + GRACE);
    loop {
        let now = Instant::now();
        if now >= from && cpu.0.is_none() {
            cpu.0 = target.cpu_seconds().map(|c| (c, now));
        }
        if now >= end && cpu.1.is_none() {
            cpu.1 = target.cpu_seconds().map(|c| (c, now));
        }
        if now >= end && !in_flight.values().any(|f| *f) {
            break;
        }
        let ev = match tokio::time::timeout_at(hard_end, fleet.events.recv()).await {
            Ok(Some(ev)) => ev,
            Ok(None) => return Err(Error::msg("clients ended")),
            Err(_) => break,
        };
        match ev {
            Event::Applied { conn, doc, changes, at } if conn == reader => {
                for h in &changes {
                    let Some(made) = fleet.sent.made_at(h) else { continue };
                    if at >= from && at < end {
                        latency.push(at - made);
                        done += 1;
                    }
                }
                in_flight.insert(doc, false);
                if Instant::now() < end {
                    fleet.write(writer, doc, chatter.small(author));
                    in_flight.insert(doc, true);
                }
            }
            Event::Failed { conn, error } => return Err(Error::msg(format!("client {conn}: {error}"))),
            _ => {}
        }
    }
    let server_cores = match cpu {
        (Some((c0, t0)), Some((c1, t1))) => (c1 - c0) / (t1 - t0).as_secs_f64(),
        _ => 0.0,
    };
    fleet.close_all(Duration::from_secs(5)).await;
    Ok(Rate { per_sec: done as f64 / measure.as_secs_f64(), latency, server_cores })
}
