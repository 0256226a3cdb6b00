//! Figures, goals and the table the bench prints.
//!
//! Every row holds the same metric for both servers, their ratio (qiao ÷ peer) and the goals the
//! issue sets. A row whose goal is not met is marked SHORT and carries a note saying why, which
//! is printed under the table.

use std::fmt::Write as _;
use std::time::Duration;

/// Latency samples, plus deliveries that never came (they count as slower than any sample).
#[derive(Default, Clone)]
pub struct Latencies {
    samples: Vec<Duration>,
    pub missing: usize,
}

impl Latencies {
    pub fn push(&mut self, d: Duration) {
        self.samples.push(d);
    }
    pub fn delivered(&self) -> usize {
        self.samples.len()
    }
    /// The `q` quantile by nearest rank; `None` when it falls among the missing deliveries or
    /// there is nothing at all.
    pub fn quantile(&mut self, q: f64) -> Option<Duration> {
        let n = self.samples.len() + self.missing;
        if n == 0 {
            return None;
        }
        self.samples.sort_unstable();
        let rank = ((q * n as f64).ceil() as usize).clamp(1, n);
        self.samples.get(rank - 1).copied()
    }
}

/// One figure.
#[derive(Clone, Debug)]
pub enum Value {
    PerSec(f64),
    /// A latency; `None` = not delivered within the run's drain time.
    Latency(Option<Duration>),
    Secs(f64),
    Bytes(f64),
    Cores(f64),
    Text(String),
    /// The workload did not produce this figure (it failed; the notes say why).
    Missing,
}

impl Value {
    fn number(&self) -> Option<f64> {
        match self {
            Value::PerSec(x) | Value::Secs(x) | Value::Bytes(x) | Value::Cores(x) => Some(*x),
            Value::Latency(Some(d)) => Some(d.as_secs_f64()),
            Value::Latency(None) => Some(f64::INFINITY),
            Value::Text(_) | Value::Missing => None,
        }
    }

    fn show(&self) -> String {
        match self {
            Value::PerSec(x) => format!("{} /s", sig(*x)),
            Value::Latency(Some(d)) => ms(*d),
            Value::Latency(None) => "not delivered".into(),
            Value::Secs(x) => format!("{} s", sig(*x)),
            Value::Bytes(x) if *x >= 1024.0 * 1024.0 => format!("{} MiB", sig(x / 1024.0 / 1024.0)),
            Value::Bytes(x) if *x >= 10.0 * 1024.0 => format!("{} KiB", sig(x / 1024.0)),
            Value::Bytes(x) => format!("{} B", sig(*x)),
            Value::Cores(x) => format!("{x:.2} cores"),
            Value::Text(t) => t.clone(),
            Value::Missing => "—".into(),
        }
    }
}

pub fn ms(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1000.0;
    if ms < 10.0 { format!("{ms:.2} ms") } else { format!("{} ms", sig(ms)) }
}

/// Three significant digits, without scientific notation.
pub fn sig(x: f64) -> String {
    if !x.is_finite() {
        return "∞".into();
    }
    let a = x.abs();
    if a >= 100.0 {
        format!("{:.0}", x)
    } else if a >= 10.0 {
        format!("{x:.1}")
    } else if a >= 1.0 {
        format!("{x:.2}")
    } else {
        format!("{x:.3}")
    }
}

/// A goal for a row.
#[derive(Clone, Debug)]
pub enum Goal {
    /// qiao ÷ peer at least this (higher is better).
    RatioAtLeast(f64),
    /// qiao ÷ peer at most this (lower is better).
    RatioAtMost(f64),
    /// qiao's latency at most this.
    LatencyAtMost(Duration),
    /// qiao's figure (bytes) at most this.
    BytesAtMost(f64),
}

impl Goal {
    fn show(&self) -> String {
        match self {
            Goal::RatioAtLeast(x) => format!("≥ {}× peer", x.round()),
            Goal::RatioAtMost(x) => format!("≤ 1/{} of peer", (1.0 / x).round()),
            Goal::LatencyAtMost(d) => format!("≤ {}", ms(*d)),
            Goal::BytesAtMost(b) => format!("≤ {}", Value::Bytes(*b).show().replace("1024 MiB", "1 GiB")),
        }
    }

    /// `None` when a figure is missing.
    fn met(&self, qiao: &Value, peer: &Value) -> Option<bool> {
        let q = qiao.number()?;
        match self {
            Goal::RatioAtLeast(x) => Some(q / peer.number()? >= *x),
            Goal::RatioAtMost(x) => {
                let p = peer.number()?;
                // Anything delivered beats a peer that delivered nothing.
                if p.is_infinite() {
                    return Some(q.is_finite());
                }
                Some(q / p <= *x)
            }
            Goal::LatencyAtMost(d) => Some(q <= d.as_secs_f64()),
            Goal::BytesAtMost(b) => Some(q <= *b),
        }
    }
}

pub struct Row {
    pub workload: String,
    pub metric: String,
    pub qiao: Value,
    pub peer: Value,
    pub goals: Vec<Goal>,
    /// Why qiao falls short of this row's goal, printed when it does.
    pub why_short: Option<String>,
}

impl Row {
    pub fn new(workload: &str, metric: &str, qiao: Value, peer: Value) -> Self {
        Row { workload: workload.into(), metric: metric.into(), qiao, peer, goals: vec![], why_short: None }
    }
    pub fn goal(mut self, g: Goal) -> Self {
        self.goals.push(g);
        self
    }
    pub fn why(mut self, w: impl Into<String>) -> Self {
        self.why_short = Some(w.into());
        self
    }

    fn ratio(&self) -> String {
        match (self.qiao.number(), self.peer.number()) {
            (Some(q), Some(p)) if p.is_infinite() && q.is_finite() => "peer lost it".into(),
            (Some(q), Some(p)) if p > 0.0 && q.is_finite() && p.is_finite() => format!("{}×", sig(q / p)),
            _ => "—".into(),
        }
    }

    /// "met", "SHORT" or "" (no goal); `None` inside when a figure is missing.
    fn verdict(&self) -> (String, bool) {
        if self.goals.is_empty() {
            return (String::new(), false);
        }
        let results: Vec<Option<bool>> = self.goals.iter().map(|g| g.met(&self.qiao, &self.peer)).collect();
        if results.iter().any(Option::is_none) {
            return ("n/a".into(), true);
        }
        if results.iter().all(|r| *r == Some(true)) { ("met".into(), false) } else { ("**SHORT**".into(), true) }
    }
}

/// The whole table as Markdown, then the notes on every row that falls short.
pub fn render(rows: &[Row]) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "| workload | metric | qiao relay | automerge-repo peer | qiao ÷ peer | goal | |");
    let _ = writeln!(out, "|---|---|---:|---:|---:|---|---|");
    let mut notes = Vec::new();
    // Rows of workloads that were not run (or failed on both servers: see the failures).
    for r in rows.iter().filter(|r| !matches!((&r.qiao, &r.peer), (Value::Missing, Value::Missing))) {
        let goal = r.goals.iter().map(Goal::show).collect::<Vec<_>>().join(", ");
        let (verdict, short) = r.verdict();
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} |",
            r.workload,
            r.metric,
            r.qiao.show(),
            r.peer.show(),
            r.ratio(),
            goal,
            verdict
        );
        if short {
            let why = if verdict == "n/a" {
                "a figure is missing: the workload failed on one server (see the failures below the table)"
            } else {
                r.why_short.as_deref().unwrap_or("")
            };
            notes.push(format!("- {} / {}: {why}", r.workload, r.metric));
        }
    }
    if !notes.is_empty() {
        let _ = writeln!(out, "\nWhere qiao falls short:");
        for n in notes {
            let _ = writeln!(out, "{n}");
        }
    }
    out
}
