//! Search benchmark: 100,000 mixed Chinese/English messages, p50/p95 query time.
//! `cargo run --release -p qiao-model --example bench_search [messages]`
//!
//! The peer measured in the same run is a plain scan (`str::contains` over every message, the
//! "no index" baseline); the ratio shows what the index buys.

use qiao_model::ids::{ChannelId, UserId};
use qiao_model::search::{Entry, Index, Query};
use std::time::Instant;

const ZH: &[&str] = &[
    "明天",
    "下午",
    "三点",
    "开会",
    "项目",
    "进度",
    "销售",
    "报告",
    "客户",
    "回访",
    "设计稿",
    "已完成",
    "后端",
    "接口",
    "联调",
    "周报",
    "上线",
    "测试",
    "服务器",
    "预算",
    "审批",
    "合同",
    "华东区",
    "培训",
    "请假",
    "报销",
    "会议室",
    "需求",
];
const EN: &[&str] = &[
    "meeting",
    "report",
    "quarterly",
    "review",
    "deploy",
    "release",
    "customer",
    "budget",
    "design",
    "backend",
    "frontend",
    "sprint",
    "ticket",
    "invoice",
    "contract",
    "training",
    "server",
    "deadline",
    "update",
    "roadmap",
];

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[(self.next() % xs.len() as u64) as usize]
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn main() {
    let n: usize = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(100_000);
    let mut rng = Rng(0x9E3779B97F4A7C15);
    let mut entries = Vec::with_capacity(n);
    for i in 0..n {
        let words = 4 + (rng.next() % 12) as usize;
        let text: String = (0..words)
            .map(
                |_| if rng.next().is_multiple_of(3) { format!(" {} ", rng.pick(EN)) } else { rng.pick(ZH).to_string() },
            )
            .collect();
        entries.push(Entry {
            id: format!("m{i}"),
            channel: ChannelId(format!("c{}", rng.next() % 40)),
            author: UserId((rng.next() % 200) as i64),
            author_name: format!("user{}", rng.next() % 200),
            ts: i as i64 * 1000,
            text,
        });
    }
    let t = Instant::now();
    let mut index = Index::new();
    for e in entries.iter().cloned() {
        index.upsert(e);
    }
    let build = t.elapsed();

    let queries: Vec<String> = (0..500)
        .map(|i| match i % 4 {
            0 => rng.pick(ZH).to_string(),
            1 => format!("{}{}", rng.pick(ZH), rng.pick(ZH)),
            2 => rng.pick(EN)[..4].to_string(),
            _ => format!("{} {}", rng.pick(ZH), rng.pick(EN)),
        })
        .collect();
    let mut indexed = Vec::new();
    let mut scanned = Vec::new();
    let mut hits = 0usize;
    for q in &queries {
        let t = Instant::now();
        hits += index.search(&Query { text: q.clone(), limit: 50, ..Default::default() }).len();
        indexed.push(t.elapsed().as_secs_f64() * 1000.0);
        let t = Instant::now();
        let parts: Vec<&str> = q.split_whitespace().collect();
        // The peer ranks too: every match, newest first, top 50.
        let mut found: Vec<&Entry> =
            entries.iter().filter(|e| parts.iter().all(|p| e.text.to_lowercase().contains(p))).collect();
        found.sort_by_key(|m| std::cmp::Reverse(m.ts));
        found.truncate(50);
        std::hint::black_box(found);
        scanned.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    indexed.sort_by(f64::total_cmp);
    scanned.sort_by(f64::total_cmp);
    println!(
        "search over {n} messages ({} queries, {hits} hits; index built in {:.0} ms)",
        queries.len(),
        build.as_secs_f64() * 1000.0
    );
    println!("{:<22} {:>10} {:>10}", "", "p50 ms", "p95 ms");
    println!("{:<22} {:>10.3} {:>10.3}", "index (qiao)", percentile(&indexed, 0.5), percentile(&indexed, 0.95));
    println!("{:<22} {:>10.3} {:>10.3}", "full scan (peer)", percentile(&scanned, 0.5), percentile(&scanned, 0.95));
    println!(
        "ratio (scan / index)   {:>10.1} {:>10.1}",
        percentile(&scanned, 0.5) / percentile(&indexed, 0.5),
        percentile(&scanned, 0.95) / percentile(&indexed, 0.95)
    );
    let goal = percentile(&indexed, 0.95) <= 50.0;
    println!("goal: p95 ≤ 50 ms for instant search: {}", if goal { "met" } else { "NOT met" });
}
