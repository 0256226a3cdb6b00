//! (b) Many sockets: N connected, a fraction active, fan-out 20 per document.
//!
//! `sockets` connections each sync one document; there are `sockets / 20` documents, so every
//! document has 20 subscribers. The first `active` connections (two per document at full scale)
//! each write one small change every `period`, spread evenly over the period, for `run`. Every
//! change must reach the document's other 19 subscribers; the latency of each delivery is
//! measured, and deliveries that have not come `drain` after the last write count as lost (they
//! rank above every measured latency). Connections are opened at most `concurrency` at a time,
//! each counting as connected once its document is in sync.
//!
//! The server's RSS is sampled every 100 ms from the first connection to the end; CPU is the
//! server's user + system time over the writing period, in cores.

use super::{Chatter, Fleet, own_cpu_seconds, replica};
use crate::Error;
use crate::client::Event;
use crate::report::Latencies;
use crate::target::Target;
use qiao_model::ids::{ChannelId, DocumentId};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

#[derive(Clone, Debug)]
pub struct Scale {
    pub sockets: usize,
    pub fan_out: usize,
    pub active: usize,
    pub period: Duration,
    pub run: Duration,
    pub connect_deadline: Duration,
    pub drain: Duration,
    pub concurrency: usize,
}

pub struct Sockets {
    pub wanted: usize,
    pub connected: usize,
    pub connect_secs: f64,
    pub writes: usize,
    pub latency: Latencies,
    pub dropped: usize,
    pub rss_before: u64,
    pub rss_connected: u64,
    pub rss_peak: u64,
    /// Server threads asleep in `clock_nanosleep` during the writing period, on average (the
    /// relay's tokio and SQLite threads never sleep that way except in SQLite's busy handler,
    /// which waits for another connection's write lock); `None` where it cannot be sampled.
    pub busy_sleepers: Option<f64>,
    pub server_cores: f64,
    pub loadgen_cores: f64,
    pub first_error: Option<String>,
}

pub async fn run(target: &mut Target, scale: &Scale) -> Result<Sockets, Error> {
    let docs_n = (scale.sockets / scale.fan_out).max(1);
    let channels = target.channels(docs_n, "sockets").await?;
    run_on(target, scale, &channels).await
}

/// The workload on channels made beforehand: connection `i` syncs the first segment of
/// `channels[i % channels.len()]` (the chat fan-out workload passes one channel of many members).
pub async fn run_on(target: &mut Target, scale: &Scale, channels: &[ChannelId]) -> Result<Sockets, Error> {
    let docs_n = channels.len().max(1);
    let docs: Vec<DocumentId> = channels.iter().map(|c| replica(c, 0).id).collect();

    // RSS sampler, from before the first connection to the end of the run.
    let rss_before = target.rss().unwrap_or(0);
    let peak = Arc::new(AtomicU64::new(rss_before));
    let stop = Arc::new(AtomicBool::new(false));
    // Sleeper samples are kept only while `writing` is set.
    let writing = Arc::new(AtomicBool::new(false));
    let sampler = {
        let (peak, stop, writing, pid) = (peak.clone(), stop.clone(), writing.clone(), target.pid);
        tokio::spawn(async move {
            let (mut sleepers, mut samples) = (0usize, 0usize);
            while !stop.load(Ordering::Relaxed) {
                if let Some(r) = crate::target::rss_of(pid) {
                    peak.fetch_max(r, Ordering::Relaxed);
                }
                if writing.load(Ordering::Relaxed)
                    && let Some(n) = crate::target::threads_in_nanosleep(pid)
                {
                    sleepers += n;
                    samples += 1;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            (samples > 0).then(|| sleepers as f64 / samples as f64)
        })
    };

    // Connect, at most `concurrency` still setting up at a time.
    let mut fleet = Fleet::new();
    let n = scale.sockets;
    let mut ready = vec![false; n];
    let mut ended = vec![false; n];
    let (mut next, mut setting_up, mut connected, mut failed) = (0usize, 0usize, 0usize, 0usize);
    let mut first_error = None;
    let t_connect = Instant::now();
    let deadline = tokio::time::Instant::now() + scale.connect_deadline;
    while connected + failed < n {
        while next < n && setting_up < scale.concurrency {
            let c = &channels[next % docs_n];
            fleet.connect(target, next, vec![replica(c, 0)]);
            next += 1;
            setting_up += 1;
        }
        match tokio::time::timeout_at(deadline, fleet.events.recv()).await {
            Ok(Some(Event::Synced { conn, .. })) if !ready[conn] && !ended[conn] => {
                ready[conn] = true;
                setting_up -= 1;
                connected += 1;
            }
            Ok(Some(Event::Failed { conn, error })) if !ended[conn] => {
                ended[conn] = true;
                if ready[conn] {
                    connected -= 1;
                    ready[conn] = false;
                } else {
                    setting_up -= 1;
                }
                failed += 1;
                first_error.get_or_insert(error);
            }
            Ok(Some(_)) => {}
            Ok(None) => break,
            Err(_) => break,
        }
    }
    let connect_secs = t_connect.elapsed().as_secs_f64();
    let rss_connected = target.rss().unwrap_or(0);

    // Subscribers per document, fixed at the start of the writing period.
    let mut subscribers = vec![0usize; docs_n];
    for (i, r) in ready.iter().enumerate() {
        if *r {
            subscribers[i % docs_n] += 1;
        }
    }
    let writers: Vec<usize> = (0..scale.active.min(n)).filter(|i| ready[*i]).collect();
    let at_start = ready.clone();

    writing.store(true, Ordering::Relaxed);
    let cpu0 = target.cpu_seconds();
    let own0 = own_cpu_seconds();
    let t0 = Instant::now();
    let end = t0 + scale.run;
    let mut chatter = Chatter::new(7);
    let mut latency = Latencies::default();
    let (mut writes, mut expected, mut dropped) = (0usize, 0usize, 0usize);
    let mut cpu_end = None;
    let step = scale.period.as_secs_f64() / writers.len().max(1) as f64;
    let hard_end = tokio::time::Instant::from_std(end + scale.drain);
    loop {
        let now = Instant::now();
        if now >= end && cpu_end.is_none() {
            cpu_end = Some((target.cpu_seconds(), own_cpu_seconds(), t0.elapsed().as_secs_f64()));
        }
        if now >= end && latency.delivered() >= expected {
            break;
        }
        // Writes due by now: the w-th at t0 + w·step, by writer w mod |writers|.
        if !writers.is_empty() && now < end {
            let due = ((now - t0).as_secs_f64() / step) as usize + 1;
            while writes < due {
                let w = writers[writes % writers.len()];
                let doc = docs[w % docs_n];
                fleet.write(w, doc, chatter.small(fleet.user(w)));
                expected += subscribers[w % docs_n].saturating_sub(1);
                writes += 1;
            }
        }
        let next_write = if now < end { t0 + Duration::from_secs_f64(writes as f64 * step) } else { end + scale.drain };
        let wake = tokio::time::Instant::from_std(next_write.min(end + scale.drain).max(now));
        let wake = if now < end { wake.min(tokio::time::Instant::from_std(end)) } else { wake.min(hard_end) };
        tokio::select! {
            ev = fleet.events.recv() => match ev {
                Some(Event::Applied { conn, changes, at, .. }) if at_start[conn] => {
                    for h in &changes {
                        if let Some(made) = fleet.sent.made_at(h) {
                            latency.push(at - made);
                        }
                    }
                }
                Some(Event::Failed { error, conn }) => {
                    if !ended[conn] {
                        ended[conn] = true;
                        dropped += 1;
                        first_error.get_or_insert(error);
                    }
                }
                Some(_) => {}
                None => break,
            },
            _ = tokio::time::sleep_until(wake) => {
                if Instant::now() >= end + scale.drain {
                    break;
                }
            }
        }
    }
    latency.missing = expected.saturating_sub(latency.delivered());
    let (cpu1, own1, wall) = cpu_end.unwrap_or((target.cpu_seconds(), own_cpu_seconds(), t0.elapsed().as_secs_f64()));
    let server_cores = match (cpu0, cpu1) {
        (Some(a), Some(b)) => (b - a) / wall,
        _ => 0.0,
    };
    writing.store(false, Ordering::Relaxed);
    stop.store(true, Ordering::Relaxed);
    let busy_sleepers = sampler.await.ok().flatten();
    fleet.close_all(Duration::from_secs(30)).await;
    Ok(Sockets {
        wanted: n,
        connected,
        connect_secs,
        writes,
        latency,
        dropped,
        rss_before,
        rss_connected,
        rss_peak: peak.load(Ordering::Relaxed),
        busy_sleepers,
        server_cores,
        loadgen_cores: (own1 - own0) / wall,
        first_error,
    })
}
