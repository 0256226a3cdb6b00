//! `qiao-bench chat-fan-out`: the relay's fan-out to a big channel (issue 4: "relay fan-out to a
//! 10,000-member channel with 1,000 members online: p99 delivery latency"). `scripts/bench-chat.sh`
//! builds and runs it.
//!
//! On the relay, [`Target::member_channel`] makes a private channel of `--members` people
//! through the administrator's own paths (one HR import, one channel creation with every member)
//! and logs `--online` of them in; each online member then opens its own websocket with its own
//! session and syncs the channel's current segment document, as the app does for an open
//! channel. `--senders` of them each post a small message every `--period-secs` (spread evenly)
//! for `--run-secs`; every message must reach the other online members, and the latency of each
//! delivery (post to applied, one clock) is measured — the machinery of workload (b)
//! ([`crate::workload::sockets::run_on`]) with one document of many subscribers instead of many
//! documents of 20. The 9,000 offline members cost the relay nothing here: it sends a change only
//! to the peers syncing the document (sync/registry.rs `fan_out`), and access is checked per frame
//! of the connected ones.
//!
//! The peer, measured in the same run with the same clients and workload: the stock
//! automerge-repo sync server with `--online` sockets on one document. It has no accounts and no
//! membership: any socket may sync any document, so it checks nothing the relay checks.
//!
//! Before connecting, the bench waits until the server is idle (the relay republishes the
//! directory document in the background after each login), so that the seeding's work is not
//! measured. Loopback only; bounded in sockets and time; servers are killed when it ends.

use crate::Error;
use crate::report::{self, Goal, Row, Value};
use crate::target::{Kind, Target, Tools};
use crate::workload::sockets::{self, Scale, Sockets};
use std::path::Path;
use std::time::Duration;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Members of the channel (accounts made by one HR import).
    #[arg(long, default_value_t = 10_000)]
    members: usize,
    /// Members online: each its own session and websocket, syncing the channel.
    #[arg(long, default_value_t = 1_000)]
    online: usize,
    /// Online members who post.
    #[arg(long, default_value_t = 20)]
    senders: usize,
    /// Each sender posts one message every this many seconds.
    #[arg(long, default_value_t = 10)]
    period_secs: u64,
    /// How long they post.
    #[arg(long, default_value_t = 30)]
    run_secs: u64,
    /// Deliveries not made this long after the last post count as lost.
    #[arg(long, default_value_t = 10)]
    drain_secs: u64,
    /// The relay's per-connection frame budget (frames/s and burst); 0 keeps its defaults (200/s,
    /// burst 1,000), which a member's traffic here stays well under.
    #[arg(long, default_value_t = 0)]
    frame_budget: u32,
}

pub struct Run {
    pub seed_secs: f64,
    pub busy_after_logins: f64,
    pub quiet_secs: f64,
    pub sockets: Sockets,
}

pub async fn run(tools: &Tools, servers: &[String], a: &Args, work: &Path) -> Result<String, Error> {
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let tools = Tools { relay_frames_per_sec: (a.frame_budget > 0).then_some(a.frame_budget), ..tools.clone() };
    let scale = Scale {
        sockets: a.online,
        fan_out: a.online,
        active: a.senders.min(a.online),
        period: Duration::from_secs(a.period_secs),
        run: Duration::from_secs(a.run_secs),
        connect_deadline: Duration::from_secs(300),
        drain: Duration::from_secs(a.drain_secs),
        concurrency: 100,
    };
    let mut results: [Option<Run>; 2] = [None, None];
    let mut failures = Vec::new();
    for (i, kind) in [Kind::Qiao, Kind::Peer].into_iter().enumerate() {
        let k = kind.label();
        if !servers.iter().any(|s| s == k) {
            continue;
        }
        crate::log(format!("[{k}] chat fan-out: {} members, {} online, {} senders", a.members, a.online, a.senders));
        let mut t = match Target::start(kind, &tools, &work.join(k), 0).await {
            Ok(t) => t,
            Err(e) => {
                failures.push(format!("{k}: could not start: {e}"));
                continue;
            }
        };
        let r = async {
            let seeded = t.member_channel(a.members, a.online).await?;
            let quiet_secs = t.quiet(Duration::from_secs(300)).await;
            crate::log(format!("[{k}] seeded in {:.1} s, idle after {quiet_secs:.1} s more; connecting", seeded.secs));
            let s = sockets::run_on(&mut t, &scale, std::slice::from_ref(&seeded.channel)).await?;
            crate::log(format!(
                "[{k}] connected {}/{} in {:.1} s; {} posts; delivered {}/{}; p99 {:?}",
                s.connected,
                s.wanted,
                s.connect_secs,
                s.writes,
                s.latency.delivered(),
                s.latency.delivered() + s.latency.missing,
                s.latency.clone().quantile(0.99)
            ));
            Ok::<_, Error>(Run {
                seed_secs: seeded.secs,
                busy_after_logins: seeded.busy_after_logins,
                quiet_secs,
                sockets: s,
            })
        }
        .await;
        match r {
            Ok(r) => results[i] = Some(r),
            Err(e) => failures.push(format!("{k}: {e}; {}", t.log_tail())),
        }
        let _ = t.stop().await;
    }
    let mut out = String::new();
    out.push_str(&format!(
        "# Chat fan-out — {}, {} cores, load average at start {}\n\n",
        crate::utc_now(),
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0),
        load.split_whitespace().take(3).collect::<Vec<_>>().join(" ")
    ));
    out.push_str(&format!(
        "Chat fan-out: one channel of {} members, {} online (each its own session and socket, syncing the channel's current segment), {} of them posting one small message every {} s for {} s (≈ {:.1} messages/s, each due to {} others); deliveries not made {} s after the last post count as lost. The peer has no membership: {} sockets on one document, nothing checked.\n\n",
        a.members,
        a.online,
        scale.active,
        a.period_secs,
        a.run_secs,
        scale.active as f64 / a.period_secs.max(1) as f64,
        a.online.saturating_sub(1),
        a.drain_secs,
        a.online
    ));
    out.push_str(&report::render(&rows(&mut results, a)));
    if !failures.is_empty() {
        out.push_str("\nFailures:\n");
        for f in &failures {
            out.push_str(&format!("- {f}\n"));
        }
        return Err(Error::msg(out));
    }
    Ok(out)
}

fn rows(res: &mut [Option<Run>; 2], a: &Args) -> Vec<Row> {
    let w = format!("{} members, {} online", a.members, a.online);
    let [q, p] = res;
    let f = |r: &Option<Run>, g: &dyn Fn(&Run) -> Value| r.as_ref().map(g).unwrap_or(Value::Missing);
    let quant = |r: &mut Option<Run>, x: f64| {
        r.as_mut().map(|r| Value::Latency(r.sockets.latency.quantile(x))).unwrap_or(Value::Missing)
    };
    let connected = |r: &Run| {
        let s = &r.sockets;
        let dropped = if s.dropped > 0 { format!(", {} dropped later", s.dropped) } else { String::new() };
        Value::Text(format!("{}/{} in {:.1} s{dropped}", s.connected, s.wanted, s.connect_secs))
    };
    let delivered = |r: &Run| {
        let s = &r.sockets;
        let all = s.latency.delivered() + s.latency.missing;
        let pct = 100.0 * s.latency.delivered() as f64 / all.max(1) as f64;
        Value::Text(format!("{}/{} ({pct:.1}%) of {} posts", s.latency.delivered(), all, s.writes))
    };
    // Peak over the run less RSS before connecting, per socket: the relay's RSS before is
    // inflated by the logins (see the README), so memory freed then is reused by the sockets.
    let per_socket = |s: &Sockets| s.rss_peak.saturating_sub(s.rss_before) as f64 / s.connected.max(1) as f64;
    // The peer has no accounts, channels or logins: nothing to seed.
    let none = |r: &Option<Run>| r.as_ref().map(|_| Value::Text("— (no accounts)".into())).unwrap_or(Value::Missing);
    let p99_why = q.as_ref().map(|r| why_p99(&r.sockets, a)).unwrap_or_default();
    vec![
        Row::new(&w, "seeding: accounts, channel, logins", f(q, &|r| Value::Secs(r.seed_secs)), none(p)),
        Row::new(
            &w,
            &format!("relay busy after {} logins (directory of {} people)", a.online, a.online),
            f(q, &|r| Value::Secs(r.busy_after_logins)),
            none(p),
        ),
        Row::new(&w, "relay busy after the channel was made", f(q, &|r| Value::Secs(r.quiet_secs)), none(p)),
        Row::new(&w, "connected and in sync", f(q, &connected), f(p, &connected)),
        Row::new(&w, "delivery p50", quant(q, 0.5), quant(p, 0.5)),
        Row::new(&w, "delivery p99", quant(q, 0.99), quant(p, 0.99))
            .goal(Goal::LatencyAtMost(Duration::from_millis(100)))
            .why(p99_why),
        Row::new(&w, "delivery p99.9", quant(q, 0.999), quant(p, 0.999)),
        Row::new(
            &w,
            &format!("delivered within {} s of the last post", a.drain_secs),
            f(q, &delivered),
            f(p, &delivered),
        ),
        Row::new(
            &w,
            "server RSS before connecting",
            f(q, &|r| Value::Bytes(r.sockets.rss_before as f64)),
            f(p, &|r| Value::Bytes(r.sockets.rss_before as f64)),
        ),
        Row::new(
            &w,
            "server RSS growth per socket (peak − before)",
            f(q, &|r| Value::Bytes(per_socket(&r.sockets))),
            f(p, &|r| Value::Bytes(per_socket(&r.sockets))),
        ),
        Row::new(
            &w,
            "server RSS peak",
            f(q, &|r| Value::Bytes(r.sockets.rss_peak as f64)),
            f(p, &|r| Value::Bytes(r.sockets.rss_peak as f64)),
        ),
        Row::new(
            &w,
            "server CPU while posting",
            f(q, &|r| Value::Cores(r.sockets.server_cores)),
            f(p, &|r| Value::Cores(r.sockets.server_cores)),
        ),
        Row::new(
            &w,
            "server threads asleep in SQLite's busy handler (mean)",
            f(q, &|r| r.sockets.busy_sleepers.map(|n| Value::Text(report::sig(n))).unwrap_or(Value::Missing)),
            none(p),
        ),
        Row::new(
            &w,
            "load generator CPU",
            f(q, &|r| Value::Cores(r.sockets.loadgen_cores)),
            f(p, &|r| Value::Cores(r.sockets.loadgen_cores)),
        ),
    ]
}

/// Why the relay misses the p99 goal, from its code and this run's figures. A CPU profile of the
/// relay on this workload (perf, 2026-12-01), before acknowledgments were answered only to their
/// sender, had 85% of its samples on the tokio workers, led by automerge's
/// `generate_sync_message` under `Registry::fan_out` — N² calls per post — and 14% on the SQLite
/// threads; see the README.
fn why_p99(s: &Sockets, a: &Args) -> String {
    format!(
        "every post is a change to one document that {} peers sync. The relay commits it, then \
         generates a sync message for each of them, one after another under the document's lock \
         (registry.rs fan_out); each of the {} others acknowledges, and each acknowledgment costs \
         two access queries to SQLite (Store::access) and the same lock before its sender alone \
         is answered. The load generator's {} client replicas apply every post on the same 2 \
         cores ({} cores here; the relay used {}). To close it: cache access per (connection, \
         document) so that acknowledgments never touch SQLite, and encode one sync message for \
         all peers at the same heads instead of one per peer.",
        s.connected,
        s.connected.saturating_sub(1),
        a.online,
        report::sig(s.loadgen_cores),
        report::sig(s.server_cores),
    )
}
