//! `qiao-bench chat-search`: local search over 100,000 messages (issue 4: "search over 100,000
//! local messages (mixed Chinese/English): p50/p95 query time"). `scripts/bench-chat.sh` builds
//! and runs it.
//!
//! Natively in release, in this process, on the model's own code, as the app does it:
//!
//! 1. [`content::history`] makes a year of a company's chat (seeded, deterministic); every
//!    message is appended to its channel's segment document with `chat::append`, one change each
//!    under its author's actor, and each segment is saved and loaded again, as a device holds it.
//! 2. The index is built the way the app's search panel builds it
//!    (`app/src/features/chat/search_panel.rs`, `SearchIndex::refresh`): `chat::channel_of` and
//!    `chat::messages` of every segment, then `search::Index::upsert` of every message not
//!    deleted. Timed: reading the documents, and indexing.
//! 3. A fixed set of queries (Chinese words and phrases, a single character, English words, a
//!    prefix while typing, several words, mixed, planted rare words, a person and a date filter)
//!    runs `--reps` times each after a warm-up, with the app's limit of 50 results.
//!
//! The peer, measured in the same run on the same messages: a linear scan that keeps every
//! message's text and author name lowercased (built once, timed) and, per query, keeps the
//! messages that contain every whitespace-separated part of the lowercased query as a substring,
//! applies the same filters, and takes the 50 newest.
//!
//! Checks, printed with the figures (and failing the run when they fail): the planted words are
//! found in exactly the messages they were planted in, by both; every hit of the index respects
//! the filters; and how many hits lack a query part as a substring (the index matches Chinese by
//! character pairs, which need not be adjacent; the scan matches inside words).

mod content;

use crate::Error;
use automerge::AutoCommit;
use qiao_model::actor::actor_for;
use qiao_model::ids::{ChannelId, UserId};
use qiao_model::schema::chat::{self, ChatMessage};
use qiao_model::search::{Entry, Index, Query};
use std::collections::HashSet;
use std::fmt::Write as _;
use std::time::{Duration, Instant};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Messages in the history.
    #[arg(long, default_value_t = 100_000)]
    messages: usize,
    /// Channels they are spread over (unevenly, as in a company).
    #[arg(long, default_value_t = 50)]
    channels: usize,
    /// People who write them.
    #[arg(long, default_value_t = 200)]
    people: usize,
    /// Timed repetitions of each query (after one warm-up).
    #[arg(long, default_value_t = 30)]
    reps: usize,
    /// Seed of the content.
    #[arg(long, default_value_t = 2026)]
    seed: u64,
}

const DAY_MS: i64 = 24 * 3600 * 1000;
/// The search panel asks for 50 results.
const LIMIT: usize = 50;

struct Q {
    what: String,
    query: Query,
    /// Exactly these messages contain it (planted).
    expect: Option<Vec<String>>,
}

fn rss() -> Option<u64> {
    crate::target::rss_of(std::process::id())
}

fn ms(d: Duration) -> String {
    let m = d.as_secs_f64() * 1000.0;
    if m >= 100.0 {
        format!("{m:.0} ms")
    } else if m >= 10.0 {
        format!("{m:.1} ms")
    } else if m >= 0.1 {
        format!("{m:.2} ms")
    } else {
        format!("{:.1} µs", m * 1000.0)
    }
}

fn ratio(q: Duration, p: Duration) -> String {
    let r = q.as_secs_f64() / p.as_secs_f64().max(1e-9);
    if r >= 10.0 {
        format!("{r:.0}×")
    } else if r >= 0.1 {
        format!("{r:.2}×")
    } else {
        format!("1/{:.0}", 1.0 / r)
    }
}

fn quantile(t: &mut [Duration], q: f64) -> Duration {
    t.sort_unstable();
    t[((q * t.len() as f64).ceil() as usize).clamp(1, t.len()) - 1]
}

/// The peer: every message's searchable text lowercased, and what the filters need.
struct Scan {
    rows: Vec<(String, UserId, i64, String)>,
}

impl Scan {
    fn build(entries: &[&Entry]) -> Scan {
        Scan {
            rows: entries
                .iter()
                .map(|e| (format!("{}\n{}", e.text, e.author_name).to_lowercase(), e.author, e.ts, e.id.clone()))
                .collect(),
        }
    }

    /// Ids of the matches, newest first, at most `limit` (0: all).
    fn search(&self, q: &Query, limit: usize) -> (usize, Vec<&str>) {
        let lower = q.text.to_lowercase();
        let parts: Vec<&str> = lower.split_whitespace().collect();
        if parts.is_empty() {
            return (0, Vec::new());
        }
        let mut hits: Vec<(i64, &str)> = self
            .rows
            .iter()
            .filter(|(text, author, ts, _)| {
                q.author.is_none_or(|a| a == *author)
                    && q.from.is_none_or(|f| *ts >= f)
                    && q.to.is_none_or(|t| *ts <= t)
                    && parts.iter().all(|p| text.contains(p))
            })
            .map(|(_, _, ts, id)| (*ts, id.as_str()))
            .collect();
        let total = hits.len();
        if limit > 0 && hits.len() > limit {
            hits.select_nth_unstable_by(limit - 1, |a, b| b.0.cmp(&a.0));
            hits.truncate(limit);
        }
        hits.sort_unstable_by_key(|h| std::cmp::Reverse(h.0));
        (total, hits.into_iter().map(|(_, id)| id).collect())
    }
}

pub fn run(a: Args) -> Result<String, Error> {
    let t_all = Instant::now();
    let mut out = String::new();
    let mut notes: Vec<String> = Vec::new();
    let mut failures: Vec<String> = Vec::new();

    // 1. The history, in segment documents as a device holds them.
    crate::log(format!("chat-search: writing {} messages into segment documents", a.messages));
    let h = content::history(a.seed, a.messages, a.channels, a.people);
    let t = Instant::now();
    let mut saved: Vec<Vec<u8>> = Vec::new();
    let mut text_bytes = 0usize;
    for c in &h.channels {
        for (n, seg) in c.segments.iter().enumerate() {
            let mut doc = chat::genesis(&c.channel, n as u32);
            for m in seg {
                text_bytes += m.text.len();
                doc.set_actor(actor_for(m.author, [7; 8]));
                chat::append(&mut doc, m).map_err(|e| Error::msg(format!("append: {e}")))?;
            }
            saved.push(doc.save());
        }
    }
    let write_secs = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let docs: Vec<AutoCommit> = saved
        .iter()
        .map(|b| AutoCommit::load(b).map_err(|e| Error::msg(format!("load: {e}"))))
        .collect::<Result<_, _>>()?;
    let load_secs = t.elapsed().as_secs_f64();
    let stored: usize = saved.iter().map(Vec::len).sum();
    drop(saved);
    crate::log(format!(
        "chat-search: {} segments written in {write_secs:.1} s ({} MiB saved), loaded in {load_secs:.2} s",
        docs.len(),
        stored / 1024 / 1024
    ));

    // 2. The index, as SearchIndex::refresh builds it.
    let rss0 = rss();
    let t = Instant::now();
    let read: Vec<(ChannelId, Vec<ChatMessage>)> =
        docs.iter().filter_map(|d| Some((chat::channel_of(d)?, chat::messages(d)))).collect();
    let read_time = t.elapsed();
    let t = Instant::now();
    let mut index = Index::new();
    for (channel, msgs) in read {
        for m in msgs.into_iter().filter(|m| !m.deleted) {
            index.upsert(Entry {
                id: m.id,
                channel: channel.clone(),
                author: m.author,
                author_name: m.author_name,
                ts: m.ts,
                text: m.text,
            });
        }
    }
    let index_time = t.elapsed();
    let rss1 = rss();
    if index.len() != a.messages {
        failures.push(format!("the index holds {} messages, not {}", index.len(), a.messages));
    }
    crate::log(format!("chat-search: read in {}, indexed in {}", ms(read_time), ms(index_time)));

    // Every message once more, for the peer (its own copy, as a scan keeps its own).
    let all: Vec<Entry> = docs
        .iter()
        .filter_map(|d| Some((chat::channel_of(d)?, chat::messages(d))))
        .flat_map(|(c, ms)| {
            ms.into_iter().map(move |m| Entry {
                id: m.id,
                channel: c.clone(),
                author: m.author,
                author_name: m.author_name,
                ts: m.ts,
                text: m.text,
            })
        })
        .collect();
    let refs: Vec<&Entry> = all.iter().collect();
    let rss2 = rss();
    let t = Instant::now();
    let scan = Scan::build(&refs);
    let scan_time = t.elapsed();
    let rss3 = rss();

    // 3. The queries.
    let newest = h.newest_ts;
    let person = &h.people[3];
    let q = |what: &str, text: &str| Q {
        what: what.into(),
        query: Query { text: text.into(), limit: LIMIT, ..Default::default() },
        expect: None,
    };
    let mut queries = vec![
        q("Chinese word", "周会"),
        q("Chinese word", "报销"),
        q("Chinese phrase (4 characters)", "销售报告"),
        q("Chinese phrase (5 characters)", "服务器故障"),
        q("one Chinese character", "客"),
        q("English word", "deploy"),
        q("English word, capitalised", "Invoice"),
        q("prefix while typing", "rev"),
        q("first keystroke (prefix)", "m"),
        q("two English words", "meeting tomorrow"),
        q("mixed", "staging 环境"),
        Q { expect: Some(h.planted_zh.clone()), ..q("planted Chinese word", content::PLANTED_ZH) },
        Q { expect: Some(h.planted_en.clone()), ..q("planted English word", content::PLANTED_EN) },
    ];
    let mut by_person = q(&format!("English word by {}", person.name), "report");
    by_person.query.author = Some(person.id);
    queries.push(by_person);
    let mut recent = q("Chinese word, last 30 days", "合同");
    recent.query.from = Some(newest - 30 * DAY_MS);
    queries.push(recent);
    let mut both = q(&format!("Chinese word by {}, last 90 days", person.name), "上线");
    both.query.author = Some(person.id);
    both.query.from = Some(newest - 90 * DAY_MS);
    queries.push(both);

    let (mut all_q, mut all_p) = (Vec::new(), Vec::new());
    let mut table = String::from(
        "| query | | hits (index / scan) | index p50 | scan p50 | index ÷ scan | hits lacking a part |\n|---|---|---:|---:|---:|---:|---:|\n",
    );
    for qq in &queries {
        // Full result sets, for the counts and the checks.
        let mut full = qq.query.clone();
        full.limit = usize::MAX;
        let hits = index.search(&full);
        let (scan_total, _) = scan.search(&qq.query, 0);
        let parts: Vec<String> = qq.query.text.to_lowercase().split_whitespace().map(String::from).collect();
        let mut lacking = 0;
        for hit in &hits {
            let e = hit.entry;
            let hay = format!("{}\n{}", e.text, e.author_name).to_lowercase();
            if !parts.iter().all(|p| hay.contains(p.as_str())) {
                lacking += 1;
            }
            let keep = qq.query.author.is_none_or(|x| x == e.author)
                && qq.query.from.is_none_or(|f| e.ts >= f)
                && qq.query.to.is_none_or(|t| e.ts <= t);
            if !keep {
                failures.push(format!("{:?}: hit {} ignores a filter", qq.query.text, e.id));
            }
        }
        if let Some(want) = &qq.expect {
            let want: HashSet<&str> = want.iter().map(String::as_str).collect();
            let got: HashSet<&str> = hits.iter().map(|h| h.entry.id.as_str()).collect();
            if got != want {
                failures.push(format!(
                    "{:?}: the index found {} messages, {} of the {} planted",
                    qq.query.text,
                    got.len(),
                    got.intersection(&want).count(),
                    want.len()
                ));
            }
            let (_, scan_ids) = scan.search(&full, 0);
            let got: HashSet<&str> = scan_ids.into_iter().collect();
            if got != want {
                failures.push(format!(
                    "{:?}: the scan found {} messages, not the {} planted",
                    qq.query.text,
                    got.len(),
                    want.len()
                ));
            }
        }
        let filtered = qq.query.author.is_some() || qq.query.from.is_some();
        if hits.is_empty() && !filtered {
            failures.push(format!("{:?} found nothing", qq.query.text));
        }
        // The timed calls: what the panel runs per keystroke, limit 50.
        let mut tq = Vec::with_capacity(a.reps);
        let mut tp = Vec::with_capacity(a.reps);
        let _ = index.search(&qq.query);
        let _ = scan.search(&qq.query, LIMIT);
        for _ in 0..a.reps.max(1) {
            let t = Instant::now();
            let r = index.search(&qq.query);
            tq.push(t.elapsed());
            std::hint::black_box(r);
            let t = Instant::now();
            let r = scan.search(&qq.query, LIMIT);
            tp.push(t.elapsed());
            std::hint::black_box(r);
        }
        let (q50, p50) = (quantile(&mut tq, 0.5), quantile(&mut tp, 0.5));
        let filters = [qq.query.author.map(|_| "person"), qq.query.from.map(|_| "date")]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" + ");
        let shown = if filters.is_empty() {
            format!("`{}`", qq.query.text)
        } else {
            format!("`{}` + {filters}", qq.query.text)
        };
        let _ = writeln!(
            table,
            "| {shown} | {} | {} / {scan_total} | {} | {} | {} | {lacking} |",
            qq.what,
            hits.len(),
            ms(q50),
            ms(p50),
            ratio(q50, p50)
        );
        all_q.extend(tq);
        all_p.extend(tp);
    }

    let (q50, q95, qmax) = (quantile(&mut all_q, 0.5), quantile(&mut all_q, 0.95), quantile(&mut all_q, 1.0));
    let (p50, p95, pmax) = (quantile(&mut all_p, 0.5), quantile(&mut all_p, 0.95), quantile(&mut all_p, 1.0));
    let mib = |a: Option<u64>, b: Option<u64>| match (a, b) {
        (Some(a), Some(b)) => format!("{:.0} MiB", b.saturating_sub(a) as f64 / 1024.0 / 1024.0),
        _ => "?".into(),
    };
    let _ = writeln!(
        out,
        "{} messages ({:.0} characters of text on average, {} MiB of UTF-8) by {} people in {} channels, {} segment documents ({} MiB saved); seed {}.\n",
        a.messages,
        all.iter().map(|e| e.text.chars().count()).sum::<usize>() as f64 / all.len().max(1) as f64,
        text_bytes / 1024 / 1024,
        a.people,
        a.channels,
        docs.len(),
        stored / 1024 / 1024,
        a.seed
    );
    let _ = writeln!(out, "| | Qiao (search::Index) | peer (lowercased linear scan) | Qiao ÷ peer |");
    let _ = writeln!(out, "|---|---:|---:|---:|");
    let _ = writeln!(
        out,
        "| query time p50 / p95 / max ({} queries × {} runs) | {} / {} / {} | {} / {} / {} | {} (p50), {} (p95) |",
        queries.len(),
        a.reps.max(1),
        ms(q50),
        ms(q95),
        ms(qmax),
        ms(p50),
        ms(p95),
        ms(pmax),
        ratio(q50, p50),
        ratio(q95, p95)
    );
    let _ = writeln!(out, "| build: read the segments (chat::messages) | {} | (same documents) | |", ms(read_time));
    let _ = writeln!(
        out,
        "| build: index / lowercase every message | {} | {} | {} |",
        ms(index_time),
        ms(scan_time),
        ratio(index_time, scan_time)
    );
    let _ = writeln!(
        out,
        "| memory: RSS growth over the build | {} (read + index) | {} (lowercased copies) | |",
        mib(rss0, rss1),
        mib(rss2, rss3)
    );
    let _ = writeln!(out, "\nPer query (hits: all matches; the timed calls ask for the app's 50):\n\n{table}");
    notes.push(format!(
        "setup, not timed above: appending the messages to their segments took {write_secs:.1} s, loading the saved segments {load_secs:.2} s"
    ));
    notes.push(
        "the index matches Chinese by character pairs (and single characters), all of which must occur but need not be adjacent, and English by whole words (the last one as a prefix); the scan matches substrings, so `deploy` also finds `deployed` there and `report` finds `reports`: hit counts differ by design, and 'hits lacking a part' counts index hits where a query part does not occur as written".into(),
    );
    let _ = writeln!(out, "Notes:");
    for n in &notes {
        let _ = writeln!(out, "- {n}");
    }
    if failures.is_empty() {
        let _ = writeln!(
            out,
            "- checks passed: planted words found in exactly their {} + {} messages by both; every hit respects its filters",
            h.planted_zh.len(),
            h.planted_en.len()
        );
    }
    crate::log(format!("chat-search: done in {:.1} s", t_all.elapsed().as_secs_f64()));
    if !failures.is_empty() {
        let _ = writeln!(out, "\nFAILED checks:");
        for f in &failures {
            let _ = writeln!(out, "- {f}");
        }
        return Err(Error::msg(out));
    }
    Ok(out)
}
