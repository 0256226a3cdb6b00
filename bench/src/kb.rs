//! `qiao-bench kb`: the knowledge base's model-level benchmark (issue 5: "typing latency in a
//! 50-page document; load time of a page with 10,000 edits of history; merge time of two
//! replicas that diverged by 1,000 edits each"). `scripts/bench-kb.sh` builds and runs it.
//!
//! Everything runs natively in release, in this process, on the model's own functions
//! (`qiao_model::schema::kb`), beside a peer doing the same job without a CRDT, measured in the
//! same run:
//!
//! | figure | Qiao | peer |
//! |---|---|---|
//! | (1) one keystroke in a 50-page page | what the app's model does per `input` event: `write_edit` from the blocks the editor showed to its blocks with one character more, `save_incremental` (the chunk it stores); beside it `write_blocks` (the whole page read and compared) and `blocks` (a render after a colleague's change) | the character inserted into the page held as plain blocks (`String::insert`) and the whole page rendered to HTML again |
//! | (2) open a page with 10,000 edits | `AutoCommit::load` + `kb::blocks`; as the app opens it (`schema::stored::open`) | `serde_json::from_slice` of the same final page |
//! | (3) merge two replicas 1,000 edits apart | `merge` (each way) + `kb::blocks` of the result | a three-way line merge (diff3) of the page as Markdown text |
//!
//! The edits come from [`content::Typist`] and are applied as the app applies them: one
//! `write_edit` call per `input` event, from the page the editor showed to the page as the
//! editor reads it back. The 10,000-edit page takes its first `--via-write-edit` edits (all, by
//! default; timed) that way and any rest as operations at the caret ([`apply`]), one commit per
//! edit as well; the replicas of (3) use operations at the caret. Medians and p95s (nearest rank)
//! over repetitions, after one untimed warm-up. The output is one Markdown table and notes.

mod content;
mod diff3;

use crate::Error;
use automerge::transaction::Transactable;
use automerge::{AutoCommit, ObjType, ROOT, ReadDoc};
use content::Typist;
use qiao_model::actor::actor_for;
use qiao_model::ids::UserId;
use qiao_model::schema::kb::{self, Block, BlockKind, Run};
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;
use std::time::{Duration, Instant};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Keystrokes timed in the 50-page page.
    #[arg(long, default_value_t = 60)]
    keystrokes: usize,
    /// Characters of the long page (50 A4 pages of mixed Chinese and English: about 100,000).
    #[arg(long, default_value_t = 100_000)]
    page_chars: usize,
    /// Edits in the history of the page that is opened.
    #[arg(long, default_value_t = 10_000)]
    history: usize,
    /// Edits on each side of the merge.
    #[arg(long, default_value_t = 1_000)]
    diverge: usize,
    /// Of the history's edits, how many (the first) go through `write_edit` as in the app, timed;
    /// the rest are made as operations at the caret.
    #[arg(long, default_value_t = 10_000)]
    via_write_edit: usize,
    /// Keystrokes through `write_blocks` and `write_edit` timed on the finished page of (2).
    #[arg(long, default_value_t = 5)]
    history_keystrokes: usize,
    /// Repetitions of the load and merge figures.
    #[arg(long, default_value_t = 20)]
    reps: usize,
    /// Seed of the content.
    #[arg(long, default_value_t = 2026)]
    seed: u64,
}

/// p50 and p95 of some timings.
#[derive(Clone, Copy)]
struct Stats {
    p50: Duration,
    p95: Duration,
}

fn stats(mut t: Vec<Duration>) -> Stats {
    t.sort();
    let q = |p: f64| t[((p * t.len() as f64).ceil() as usize).clamp(1, t.len()) - 1];
    Stats { p50: q(0.5), p95: q(0.95) }
}

/// `reps` timings of `f`, after one untimed warm-up; `f` times what it wants timed.
fn time(reps: usize, mut f: impl FnMut() -> Duration) -> Stats {
    let _ = f();
    stats((0..reps.max(1)).map(|_| f()).collect())
}

fn timed<T>(f: impl FnOnce() -> T) -> (Duration, T) {
    let s = Instant::now();
    let out = f();
    (s.elapsed(), out)
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

fn kib(n: usize) -> String {
    format!("{:.0} KiB", n as f64 / 1024.0)
}

/// A row of the table: what, Qiao's p50 / p95, the peer's, the ratio of the p50s.
struct Table(String);

impl Table {
    fn new() -> Table {
        Table("| | Qiao p50 / p95 | peer p50 / p95 | Qiao ÷ peer (p50) |\n|---|---:|---:|---:|\n".into())
    }
    fn row(&mut self, what: &str, q: Stats, p: Option<Stats>) {
        let (peer, ratio) = match p {
            Some(p) => (
                format!("{} / {}", ms(p.p50), ms(p.p95)),
                match q.p50.as_secs_f64() / p.p50.as_secs_f64().max(1e-9) {
                    r if r >= 10.0 => format!("{r:.0}×"),
                    r => format!("{r:.2}×"),
                },
            ),
            None => ("".into(), "".into()),
        };
        let _ = writeln!(self.0, "| {what} | {} / {} | {peer} | {ratio} |", ms(q.p50), ms(q.p95));
    }
    fn text(&mut self, what: &str, q: &str, p: &str) {
        let _ = writeln!(self.0, "| {what} | {q} | {p} | |");
    }
}

fn now0() -> i64 {
    1_790_000_000_000
}

fn page(user: i64) -> AutoCommit {
    let mut d = kb::page_genesis("company", "bench-page");
    d.set_actor(actor_for(UserId(user), [user as u8; 8]));
    d
}

// --- the peers ----------------------------------------------------------------------------------

/// The page as plain data, stored as JSON (the load peer).
#[derive(Serialize, Deserialize)]
struct PlainRun {
    text: String,
    bold: bool,
    italic: bool,
    code: bool,
    link: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct PlainBlock {
    kind: String,
    level: u8,
    runs: Vec<PlainRun>,
}

fn to_plain(blocks: &[Block]) -> Vec<PlainBlock> {
    blocks
        .iter()
        .map(|b| PlainBlock {
            kind: format!("{:?}", b.kind),
            level: if let BlockKind::Heading(l) = b.kind { l } else { 0 },
            runs: b
                .runs
                .iter()
                .map(|r| PlainRun {
                    text: r.text.clone(),
                    bold: r.bold,
                    italic: r.italic,
                    code: r.code,
                    link: r.link.clone(),
                })
                .collect(),
        })
        .collect()
}

fn from_plain(p: Vec<PlainBlock>) -> Vec<Block> {
    p.into_iter()
        .map(|b| Block {
            kind: match b.kind.as_str() {
                "Bullet" => BlockKind::Bullet,
                "Numbered" => BlockKind::Numbered,
                "Code" => BlockKind::Code,
                "Quote" => BlockKind::Quote,
                k if k.starts_with("Heading") => BlockKind::Heading(b.level),
                _ => BlockKind::Paragraph,
            },
            runs: b
                .runs
                .into_iter()
                .map(|r| Run { text: r.text, bold: r.bold, italic: r.italic, code: r.code, link: r.link })
                .collect(),
        })
        .collect()
}

fn escape(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
}

/// The whole page as HTML, as a naive editor re-renders it after every keystroke (the typing peer).
fn html(blocks: &[Block]) -> String {
    let mut out = String::with_capacity(
        blocks.iter().map(|b| b.runs.iter().map(|r| r.text.len() + 16).sum::<usize>() + 16).sum(),
    );
    for b in blocks {
        let tag = match b.kind {
            BlockKind::Heading(1) => "h1",
            BlockKind::Heading(2) => "h2",
            BlockKind::Heading(_) => "h3",
            BlockKind::Bullet | BlockKind::Numbered => "li",
            BlockKind::Code => "pre",
            BlockKind::Quote => "blockquote",
            BlockKind::Paragraph => "p",
            BlockKind::Cell(_) => "td",
            BlockKind::Image { .. } | BlockKind::File { .. } => "figure",
        };
        let _ = write!(out, "<{tag}>");
        for r in &b.runs {
            if r.bold {
                out.push_str("<strong>");
            }
            if let Some(l) = &r.link {
                out.push_str("<a href=\"");
                escape(&mut out, l);
                out.push_str("\">");
            }
            escape(&mut out, &r.text);
            if r.link.is_some() {
                out.push_str("</a>");
            }
            if r.bold {
                out.push_str("</strong>");
            }
        }
        let _ = write!(out, "</{tag}>");
    }
    out
}

/// Insert `c` at character `at` of block `b` (into the run that holds that character).
fn insert_plain(blocks: &mut [Block], b: usize, at: usize, c: char) {
    let mut left = at;
    let runs = &mut blocks[b].runs;
    if runs.is_empty() {
        runs.push(Run::default());
    }
    let last = runs.len() - 1;
    for (k, r) in runs.iter_mut().enumerate() {
        let n = r.text.chars().count();
        if left <= n || k == last {
            let byte = r.text.char_indices().nth(left).map(|(i, _)| i).unwrap_or(r.text.len());
            r.text.insert(byte, c);
            return;
        }
        left -= n;
    }
}

/// Where character `at` of block `b` sits in the page's Automerge text: every block before it is
/// its marker and its characters; then this block's marker.
fn text_index(blocks: &[Block], b: usize, at: usize) -> usize {
    blocks[..b].iter().map(|x| x.text().chars().count() + 1).sum::<usize>() + 1 + at
}

/// Apply one edit to the page as Automerge operations at the caret, one commit, as an editor
/// bound to the CRDT (ProseMirror + automerge-prosemirror and the like) sends it; `starts` are the
/// block markers' places before the edit.
fn apply(doc: &mut AutoCommit, body: &automerge::ObjId, starts: &[usize], op: &content::Op, now_ms: i64) {
    use automerge::marks::{ExpandMark, Mark};
    use content::Op;
    match op {
        Op::Insert { block, at, text } => doc.splice_text(body, starts[*block] + 1 + at, 0, text).expect("insert"),
        Op::Backspace { block, at } if *at > 0 => doc.splice_text(body, starts[*block] + at, 1, "").expect("delete"),
        Op::Backspace { block, .. } => doc.join_block(body, starts[*block]).expect("join"),
        Op::Split { block, at, kind } => {
            let b = doc.split_block(body, starts[*block] + 1 + at).expect("split");
            let (ty, attrs) = match kind {
                BlockKind::Heading(l) => ("heading", automerge::hydrate_map! { "level" => i64::from(*l) }),
                BlockKind::Bullet => ("unordered-list-item", automerge::hydrate_map! {}),
                BlockKind::Numbered => ("ordered-list-item", automerge::hydrate_map! {}),
                BlockKind::Code => ("code-block", automerge::hydrate_map! {}),
                BlockKind::Quote => ("blockquote", automerge::hydrate_map! {}),
                // The typist makes none of these.
                BlockKind::Paragraph | BlockKind::Cell(_) | BlockKind::Image { .. } | BlockKind::File { .. } => {
                    ("paragraph", automerge::hydrate_map! {})
                }
            };
            let v = automerge::hydrate_map! { "type" => ty, "parents" => automerge::hydrate_list![], "attrs" => attrs };
            doc.update_object(&b, &v.into()).expect("block");
        }
        Op::Mark { block, from, to, link, on } => {
            let (s, e) = (starts[*block] + 1 + from, starts[*block] + 1 + to);
            let (name, expand) = if link.is_some() { ("link", ExpandMark::None) } else { ("bold", ExpandMark::After) };
            if *on {
                let m = match link {
                    Some(l) => Mark::new(name.into(), l.as_str(), s, e),
                    None => Mark::new(name.into(), true, s, e),
                };
                doc.mark(body, m, expand).expect("mark");
            } else {
                doc.unmark(body, name, s, e, expand).expect("unmark");
            }
        }
    }
    doc.commit_with(automerge::transaction::CommitOptions::default().with_time(now_ms / 1000));
}

fn body_of(doc: &AutoCommit) -> Result<automerge::ObjId, Error> {
    match doc.get(ROOT, "body") {
        Ok(Some((automerge::Value::Object(ObjType::Text), id))) => Ok(id),
        _ => Err(Error::msg("the page has no body")),
    }
}

/// `n` edits by `typist` on `doc`, either each through `write_edit` (as the app does) or as
/// operations at the caret ([`apply`]). Returns the time of each edit. With `KB_TRACE=1` in the
/// environment, every `write_edit` edit that takes over 20 ms or writes more than four
/// operations is logged (`KB_TRACE=ops`: with its operations).
fn make_edits(
    doc: &mut AutoCommit,
    typist: &mut Typist,
    n: usize,
    now: &mut i64,
    via_write_edit: bool,
) -> Vec<Duration> {
    let body = body_of(doc).expect("body");
    let mut out = Vec::with_capacity(n);
    let mut shown = typist.blocks();
    for k in 0..n {
        let starts = typist.starts();
        let op = typist.edit();
        // About a keystroke every 300 ms, and an hour between sittings.
        *now += if k % 500 == 499 { 3_600_000 } else { 300 };
        let after = if via_write_edit { typist.blocks() } else { Vec::new() };
        let s = Instant::now();
        if via_write_edit {
            kb::write_edit(doc, &shown, &after, *now).expect("write");
        } else {
            apply(doc, &body, &starts, &op, *now);
        }
        let e = s.elapsed();
        shown = after;
        if via_write_edit && std::env::var("KB_TRACE").is_ok() {
            let ops = doc.get_last_local_change().map(|c| c.len()).unwrap_or(0);
            if ops > 4 || e > Duration::from_millis(20) {
                let kind = match &op {
                    content::Op::Insert { .. } => "insert",
                    content::Op::Backspace { .. } => "backspace",
                    content::Op::Split { .. } => "split",
                    content::Op::Mark { link: Some(_), .. } => "link",
                    content::Op::Mark { .. } => "bold",
                };
                eprintln!("edit {k}: {kind}, {ops} ops, {e:?}");
                if std::env::var("KB_TRACE").as_deref() == Ok("ops") {
                    let c = doc.get_last_local_change().expect("change").decode();
                    for o in c.operations {
                        eprintln!("    {:?} {:?} insert={}", o.action, o.key, o.insert);
                    }
                }
            }
        }
        out.push(e);
    }
    out
}

// --- the run ------------------------------------------------------------------------------------

pub fn run(a: Args) -> Result<String, Error> {
    let t_all = Instant::now();
    let mut out = Table::new();
    let mut notes = String::new();

    // (1) Typing in a 50-page page.
    crate::log(format!("kb: building a page of about {} characters", a.page_chars));
    let long = content::long_page(a.seed, a.page_chars);
    let mut doc = page(1);
    // Written section by section (as pasted or imported), then saved and loaded as a device
    // holds it.
    let (build, ()) = timed(|| {
        let mut upto = 0;
        while upto < long.len() {
            upto = (upto + long.len() / 10 + 1).min(long.len());
            kb::write_blocks(&mut doc, &long[..upto], now0()).expect("write");
        }
    });
    let mut doc = AutoCommit::load(&doc.save()).map_err(|e| Error::msg(format!("load: {e}")))?;
    doc.set_actor(actor_for(UserId(1), [1; 8]));
    let chars: usize = long.iter().map(|b| b.text().chars().count()).sum();
    crate::log(format!("kb: {} blocks, {chars} characters, written in {:.1} s", long.len(), build.as_secs_f64()));
    let mut typist = Typist::new(a.seed + 1, &long);
    // The typist keeps one link per stretch of linked text where the page may hold two side by
    // side: start from the page as the typist (the editor) sees it.
    kb::write_blocks(&mut doc, &typist.blocks(), now0()).expect("write");
    let mut plain = long.clone();
    let mut splice_doc = doc.clone();
    let body = match splice_doc.get(ROOT, "body") {
        Ok(Some((automerge::Value::Object(ObjType::Text), id))) => id,
        _ => return Err(Error::msg("the page has no body")),
    };
    let (mut t_write, mut t_save, mut t_read, mut t_app, mut t_peer, mut t_splice, mut t_edit) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    // The same keystrokes through `write_blocks` on a copy: the whole page read and compared.
    let mut whole_doc = doc.clone();
    let _ = doc.save_incremental();
    for k in 0..a.keystrokes + 1 {
        if k % 10 == 0 {
            typist.jump();
        }
        let before = typist.blocks();
        let (b, at) = typist_caret(&typist);
        typist.type_one();
        let blocks = typist.blocks();
        let c = blocks[b].text().chars().nth(at).unwrap_or('x');
        let now = now0() + 3_600_000 + k as i64 * 200;
        let (ed, ()) = timed(|| kb::write_edit(&mut doc, &before, &blocks, now).expect("write"));
        let (s, bytes) = timed(|| doc.save_incremental());
        let (w, ()) = timed(|| kb::write_blocks(&mut whole_doc, &blocks, now).expect("write"));
        let (r, read) = timed(|| kb::blocks(&doc));
        if read != blocks || kb::blocks(&whole_doc) != blocks {
            return Err(Error::msg("the page read back differs from what was written"));
        }
        let (p, _) = timed(|| {
            insert_plain(&mut plain, b, at, c);
            html(&plain)
        });
        let i = text_index(&before, b, at);
        let (sp, ()) = timed(|| {
            splice_doc.splice_text(&body, i, 0, &c.to_string()).expect("splice");
            splice_doc.commit();
        });
        if k == 0 {
            // warm-up
            continue;
        }
        debug_assert!(!bytes.is_empty());
        t_write.push(w);
        t_edit.push(ed);
        t_save.push(s);
        t_read.push(r);
        t_app.push(ed + s);
        t_peer.push(p);
        t_splice.push(sp);
    }
    if kb::plain_text(&plain) != kb::plain_text(&typist.blocks()) {
        return Err(Error::msg("the typing peer's page differs from the typist's"));
    }
    let peer = stats(t_peer);
    out.text(
        &format!(
            "**(1) one keystroke in a 50-page page** ({} blocks, {chars} characters; {} keystrokes)",
            long.len(),
            a.keystrokes
        ),
        "",
        "",
    );
    out.row("the app's model work: `write_edit` + `save_incremental`", stats(t_app), Some(peer));
    out.row("— `write_edit` (the changed paragraph compared and written, commit)", stats(t_edit), Some(peer));
    out.row("— `save_incremental`", stats(t_save), None);
    out.row("`write_blocks` (the whole page read with `blocks` and compared, commit)", stats(t_write), Some(peer));
    out.row("`blocks` (the page read to render a colleague's change)", stats(t_read), Some(peer));
    out.row("Automerge `splice_text` of the one character + commit (caret known)", stats(t_splice), Some(peer));

    // (2) A page with 10,000 edits of history, made as the app makes them (`write_edit` per
    // edit); `--via-write-edit` below `--history` makes the rest as operations at the caret,
    // which leave the same history shape (one small change per edit).
    crate::log(format!("kb: making a page with {} edits ({} through write_edit)", a.history, a.via_write_edit));
    let mut doc = page(1);
    let mut typist = Typist::new(a.seed + 2, &kb::blocks(&doc));
    let mut now = now0();
    let first = a.via_write_edit.min(a.history);
    let (build, wb) = timed(|| {
        let wb = make_edits(&mut doc, &mut typist, first, &mut now, true);
        make_edits(&mut doc, &mut typist, a.history - first, &mut now, false);
        wb
    });
    let final_blocks = kb::blocks(&doc);
    if kb::plain_text(&final_blocks) != kb::plain_text(&typist.blocks()) {
        return Err(Error::msg("the 10,000-edit page differs from what was typed"));
    }
    let final_chars: usize = final_blocks.iter().map(|b| b.text().chars().count()).sum();
    let bytes = doc.save();
    let changes = doc.get_changes(&[]).len();
    crate::log(format!(
        "kb: {changes} changes ({:?}), {} blocks, {final_chars} characters, {} saved, made in {:.1} s",
        typist.counts,
        final_blocks.len(),
        kib(bytes.len()),
        build.as_secs_f64()
    ));
    // What `write_edit` cost in the page's first edits and in its last edits made that way, and
    // one keystroke through it and through `write_blocks` on the finished page.
    let early = stats(wb[..wb.len().min(50)].to_vec());
    let late = stats(wb[wb.len().saturating_sub(50)..].to_vec());
    let (mut t_hist, mut t_hist_edit) = (Vec::new(), Vec::new());
    {
        let (mut d, mut e) = (doc.fork(), doc.fork());
        let mut t = Typist::new(a.seed + 3, &final_blocks);
        t.jump();
        let mut shown = t.blocks();
        for _ in 0..a.history_keystrokes + 1 {
            t.type_one();
            let bl = t.blocks();
            t_hist.push(timed(|| kb::write_blocks(&mut d, &bl, now).expect("write")).0);
            t_hist_edit.push(timed(|| kb::write_edit(&mut e, &shown, &bl, now).expect("write")).0);
            shown = bl;
        }
        t_hist.remove(0);
        t_hist_edit.remove(0);
    }
    let json = serde_json::to_vec(&to_plain(&final_blocks)).map_err(|e| Error::msg(e.to_string()))?;
    let mut fresh = page(1);
    kb::write_blocks(&mut fresh, &final_blocks, now).expect("write");
    let fresh_bytes = fresh.save();
    let load = time(a.reps, || {
        timed(|| {
            let d = AutoCommit::load(&bytes).expect("load");
            kb::blocks(&d)
        })
        .0
    });
    let load_app = time(a.reps, || {
        timed(|| {
            let d = qiao_model::schema::stored::open(kb::page_genesis("company", "bench-page"), &[&bytes]);
            kb::blocks(&d)
        })
        .0
    });
    let load_app_before = time(a.reps, || {
        timed(|| {
            let mut d = kb::page_genesis("company", "bench-page");
            d.load_incremental(&bytes).expect("load");
            kb::blocks(&d)
        })
        .0
    });
    let load_only = time(a.reps, || timed(|| AutoCommit::load(&bytes).expect("load")).0);
    let load_fresh = time(a.reps, || {
        timed(|| {
            let d = AutoCommit::load(&fresh_bytes).expect("load");
            kb::blocks(&d)
        })
        .0
    });
    let peer = time(a.reps, || timed(|| from_plain(serde_json::from_slice::<Vec<PlainBlock>>(&json).expect("json"))).0);
    let versions = time(a.reps.min(10), || timed(|| kb::versions(&mut doc, 300)).0);
    let vs = kb::versions(&mut doc, 300);
    let mid = vs[vs.len() / 2].heads.clone();
    let at = time(a.reps.min(10), || timed(|| kb::blocks_at(&mut doc, &mid)).0);
    out.text(
        &format!(
            "**(2) open a page with {} edits** ({changes} changes: {} typed, {} deleted, {} new blocks, {} formatted; {} blocks, {final_chars} characters)",
            a.history, typist.counts.typed, typist.counts.deleted, typist.counts.paragraphs, typist.counts.formatted, final_blocks.len()
        ),
        "",
        "",
    );
    out.row("`AutoCommit::load` + `blocks`", load, Some(peer));
    out.row("— as the app opens it: `stored::open` (one `load`) + `blocks`", load_app, Some(peer));
    out.row(
        "— as the app opened it before: `page_genesis` + `load_incremental` + `blocks`",
        load_app_before,
        Some(peer),
    );
    out.row("— `AutoCommit::load` alone", load_only, Some(peer));
    out.row("the same final page without its history: `load` + `blocks`", load_fresh, Some(peer));
    out.text("size: saved document / JSON of the page", &kib(bytes.len()), &kib(json.len()));
    out.text("size without history", &kib(fresh_bytes.len()), "");
    out.row("history panel: `versions` (folded by 5 minutes)", versions, None);
    out.row(&format!("`write_edit` per edit, edits 1–{}", wb.len().min(50)), early, None);
    out.row(&format!("`write_edit` per edit, edits {}–{}", wb.len().saturating_sub(50) + 1, wb.len()), late, None);
    out.row(
        &format!("`write_edit` of one keystroke on the finished page ({changes} changes)"),
        stats(t_hist_edit),
        None,
    );
    out.row(&format!("`write_blocks` of one keystroke on the finished page ({changes} changes)"), stats(t_hist), None);
    out.row("an old version: `blocks_at` (halfway)", at, None);

    // (3) Two replicas 1,000 edits apart.
    crate::log(format!("kb: two replicas making {} edits each", a.diverge));
    let base = final_blocks.clone();
    let mut sides = Vec::new();
    for (k, user) in [(0u64, 2i64), (1, 3)] {
        let mut d = doc.fork();
        d.set_actor(actor_for(UserId(user), [user as u8; 8]));
        let mut t = Typist::new(a.seed + 10 + k, &base);
        let mut now = now + 86_400_000;
        make_edits(&mut d, &mut t, a.diverge, &mut now, false);
        let bl = kb::blocks(&d);
        sides.push((d, bl));
    }
    let [(da, ba), (db, bb)] = <[_; 2]>::try_from(sides).map_err(|_| Error::msg("two sides"))?;
    let merge_way = |x: &AutoCommit, y: &AutoCommit| {
        let (mut t_merge, mut t_read) = (Vec::new(), Vec::new());
        let mut last = Vec::new();
        for _ in 0..a.reps.max(1) + 1 {
            let (mut x, mut y) = (x.clone(), y.clone());
            let (m, _) = timed(|| x.merge(&mut y).expect("merge"));
            let (r, read) = timed(|| kb::blocks(&x));
            t_merge.push(m);
            t_read.push(r);
            last = read;
        }
        // The first run was the warm-up.
        t_merge.remove(0);
        t_read.remove(0);
        let both: Vec<Duration> = t_merge.iter().zip(&t_read).map(|(m, r)| *m + *r).collect();
        (stats(both), stats(t_merge), stats(t_read), last)
    };
    let (ab, ab_merge, ab_read, merged_ab) = merge_way(&da, &db);
    let (ba_, _, _, merged_ba) = merge_way(&db, &da);
    if merged_ab != merged_ba {
        return Err(Error::msg("the two merges differ"));
    }
    let (mo, ma, mb) = (diff3::markdown(&base), diff3::markdown(&ba), diff3::markdown(&bb));
    let mut conflicts = 0;
    let peer_ab = time(a.reps, || {
        let (t, (_, c)) = timed(|| diff3::merge(&mo, &ma, &mb));
        conflicts = c;
        t
    });
    let peer_ba = time(a.reps, || timed(|| diff3::merge(&mo, &mb, &ma)).0);
    let merged_chars: usize = merged_ab.iter().map(|b| b.text().chars().count()).sum();
    out.text(
        &format!(
            "**(3) merge two replicas {} edits apart** (from the page of (2); merged: {merged_chars} characters)",
            a.diverge
        ),
        "",
        "",
    );
    out.row("A takes in B: `merge` + `blocks`", ab, Some(peer_ab));
    out.row("B takes in A: `merge` + `blocks`", ba_, Some(peer_ba));
    out.row("— `merge` alone (A takes in B)", ab_merge, Some(peer_ab));
    out.row("— `blocks` of the merged page", ab_read, Some(peer_ab));
    out.text(
        "result",
        "both merges equal, every edit of both kept",
        &format!("{conflicts} conflicting regions left to resolve by hand"),
    );

    let _ = writeln!(
        notes,
        "\nPeers: (1) the character inserted into the page held as plain blocks (`String::insert`) and the whole page \
         rendered to an HTML string; (2) `serde_json::from_slice` of the final page (no history) into the same blocks; \
         (3) a three-way line merge (diff3, LCS line diff against the common ancestor) of the page as Markdown, one line \
         per block. Run took {:.0} s.",
        t_all.elapsed().as_secs_f64()
    );
    Ok(format!("{}{notes}", out.0))
}

/// The typist's caret, as (block, character) clamped to the block.
fn typist_caret(t: &Typist) -> (usize, usize) {
    let (b, at) = t.caret();
    (b, at.min(t.block_len(b)))
}
