//! Writing the editor's blocks into a page body as the smallest change, at a cost that follows
//! the edit rather than the page.
//!
//! The editor knows what it showed (`before`, equal to the body) and what it shows now (`after`).
//! Blocks equal at the start and at the end of both are skipped by comparing [`Block`]s in
//! memory; only the blocks in between (one paragraph for a keystroke) are turned into positions
//! (a block marker or a character) and compared:
//!
//! 1. **Text and structure.** Equal positions at the region's start and end are skipped; what is
//!    left is diffed position by position ([`script`], a longest common subsequence; a region
//!    past a million cells is replaced whole) and only the differences written: deletions
//!    (`splice_text`, `join_block` for a marker) and insertions (`splice_text`, `split_block` with
//!    the block's attributes). Markers align with markers
//!    whatever their kind, and an aligned marker whose kind changed is updated in place, so a
//!    paragraph turned into a heading keeps its identity (and a colleague's concurrent typing).
//! 2. **Marks.** The marks wanted on each character of the region are compared with the marks the
//!    body holds there after step 1 (text typed after bold inherits it, as in the editor), and
//!    only differing stretches are marked or unmarked. Comparing character by character matters:
//!    `update_spans` compares whole runs with whole mark ranges, so bold overlapping a link never
//!    matched and every keystroke in such a paragraph cleared and set all its marks again.
//!
//! Nothing outside the region is read except the body's length, a marker at the region's start
//! and the body's mark ranges (a handful per page). [`rebase`] moves an edit onto a body that
//! changed underneath (a colleague's edit that arrived during an IME composition).

use super::{Block, BlockKind, KbError, Run, block_value};
use automerge::marks::{ExpandMark, Mark};
use automerge::transaction::Transactable;
use automerge::{AutoCommit, ObjId, ObjType, ReadDoc, ScalarValue, TextEncoding, Value};

/// The marks this editor writes; others (from other editors) are left alone.
const MARKS: [&str; 4] = ["bold", "italic", "code", "link"];

/// Links end where they end; bold and the like continue as one types after them.
pub(super) fn expand_of(mark: &str) -> ExpandMark {
    if mark == "link" { ExpandMark::None } else { ExpandMark::After }
}

/// One position of the body: a block marker, or a character of a run.
#[derive(Clone, Copy)]
enum Item<'a> {
    Marker(&'a BlockKind),
    Char(char, &'a Run),
}

impl Item<'_> {
    /// Same text and structure (marks and block kinds are compared separately).
    fn same(&self, other: &Item<'_>) -> bool {
        match (self, other) {
            (Item::Marker(_), Item::Marker(_)) => true,
            (Item::Char(a, _), Item::Char(b, _)) => a == b,
            _ => false,
        }
    }
}

/// A character as stored: a block marker is one position of the text, so a newline or an object
/// replacement character inside a run would read back as part of the structure.
fn stored(c: char) -> char {
    if matches!(c, '\n' | '\u{fffc}') { ' ' } else { c }
}

fn items(blocks: &[Block]) -> Vec<Item<'_>> {
    let mut out = Vec::new();
    for b in blocks {
        out.push(Item::Marker(&b.kind));
        for r in &b.runs {
            out.extend(r.text.chars().map(|c| Item::Char(stored(c), r)));
        }
    }
    out
}

/// Positions a block takes in the body: its marker and its characters.
fn width(b: &Block) -> usize {
    1 + b.runs.iter().map(|r| r.text.chars().count()).sum::<usize>()
}

/// A mark's value wanted on a character of `r`, `None` for no mark.
fn wanted(r: &Run, mark: &str) -> Option<ScalarValue> {
    let on = |b: bool| b.then_some(ScalarValue::Boolean(true));
    match mark {
        "bold" => on(r.bold),
        "italic" => on(r.italic),
        "code" => on(r.code),
        "link" => r.link.as_ref().filter(|l| crate::markdown::safe_url(l)).map(|l| ScalarValue::Str(l.as_str().into())),
        _ => None,
    }
}

/// Whether a stored value is what `want` asks for. Any true-ish value counts as on for the
/// formatting marks (that is how [`super::blocks`] reads them), so another editor's `"true"` is
/// not rewritten.
fn matches(have: Option<&ScalarValue>, want: Option<&ScalarValue>, mark: &str) -> bool {
    let on = |v: Option<&ScalarValue>| !matches!(v, None | Some(ScalarValue::Null | ScalarValue::Boolean(false)));
    if mark == "link" { have == want } else { on(have) == on(want) }
}

/// The edit's region: blocks `p..before.len() - s` of `before` became `p..after.len() - s` of
/// `after`.
fn region(before: &[Block], after: &[Block]) -> (usize, usize) {
    let p = before.iter().zip(after).take_while(|(a, b)| a == b).count();
    let room = before.len().min(after.len()) - p;
    let s = before.iter().rev().zip(after.iter().rev()).take(room).take_while(|(a, b)| a == b).count();
    (p, s)
}

/// Whether `doc`'s body can be `before` as far as cheap checks tell: its length, and a block
/// marker at the start of the body and of the edited region.
fn plausible(doc: &AutoCommit, body: &ObjId, before: &[Block], base: usize) -> bool {
    let is_marker = |i: usize| matches!(doc.get(body, i), Ok(Some((Value::Object(ObjType::Map), _))));
    doc.text_encoding() == TextEncoding::UnicodeCodePoint
        && doc.length(body) == before.iter().map(width).sum::<usize>()
        && (before.is_empty() || is_marker(0))
        && (base >= doc.length(body) || is_marker(base))
}

/// Every write error here means the body is not what a page's body is.
fn err<E>(_: E) -> KbError {
    KbError::NotKb
}

/// One step of turning the old positions of a region into the new ones.
#[derive(Debug, PartialEq)]
enum Step {
    /// Old position `.0` stays, as new position `.1`.
    Keep(usize, usize),
    /// These old positions go.
    Delete(std::ops::Range<usize>),
    /// These new positions come.
    Insert(std::ops::Range<usize>),
}

/// Largest region (old × new positions) diffed position by position; past it the region is
/// replaced whole (a paste over a long stretch), as a diff there costs more than it saves.
const MAX_DIFF_CELLS: usize = 1_000_000;

/// The edit script from `old` to `new`: a longest common subsequence of positions (markers align
/// with markers whatever their kind), so an edit that changes one block and adds others keeps
/// the characters it did not change. Replacing them instead would delete a colleague's
/// concurrent edit's surroundings and insert copies: merged, a cell or a line appeared twice.
fn script(old: &[Item<'_>], new: &[Item<'_>]) -> Vec<Step> {
    let (n, m) = (old.len(), new.len());
    if n == 0 || m == 0 || n.saturating_mul(m) > MAX_DIFF_CELLS {
        let mut out = Vec::new();
        if n > 0 {
            out.push(Step::Delete(0..n));
        }
        if m > 0 {
            out.push(Step::Insert(0..m));
        }
        return out;
    }
    // lcs[i][j]: the longest common subsequence of old[i..] and new[j..], row by row.
    let w = m + 1;
    let mut lcs = vec![0u32; (n + 1) * w];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[i * w + j] = if old[i].same(&new[j]) {
                lcs[(i + 1) * w + j + 1] + 1
            } else {
                lcs[(i + 1) * w + j].max(lcs[i * w + j + 1])
            };
        }
    }
    let mut out: Vec<Step> = Vec::new();
    let push = |out: &mut Vec<Step>, step: Step| match (out.last_mut(), step) {
        (Some(Step::Delete(r)), Step::Delete(s)) if r.end == s.start => r.end = s.end,
        (Some(Step::Insert(r)), Step::Insert(s)) if r.end == s.start => r.end = s.end,
        (_, step) => out.push(step),
    };
    let (mut i, mut j) = (0, 0);
    while i < n || j < m {
        if i < n && j < m && old[i].same(&new[j]) {
            push(&mut out, Step::Keep(i, j));
            i += 1;
            j += 1;
        } else if j < m && (i == n || lcs[i * w + j + 1] >= lcs[(i + 1) * w + j]) {
            push(&mut out, Step::Insert(j..j + 1));
            j += 1;
        } else {
            push(&mut out, Step::Delete(i..i + 1));
            i += 1;
        }
    }
    out
}

/// Make the body `after`, given that it is `before` now. `Ok(false)`: `before` cannot be the
/// body (nothing was written; the caller reads the body and tries again).
pub(super) fn apply(doc: &mut AutoCommit, body: &ObjId, before: &[Block], after: &[Block]) -> Result<bool, KbError> {
    let (p, s) = region(before, after);
    let base: usize = before[..p].iter().map(width).sum();
    if !plausible(doc, body, before, base) {
        return Ok(false);
    }
    if p == before.len() && p == after.len() {
        return Ok(true);
    }
    let old = items(&before[p..before.len() - s]);
    let new = items(&after[p..after.len() - s]);

    // 1. Text and structure.
    let head = old.iter().zip(&new).take_while(|(a, b)| a.same(b)).count();
    let room = old.len().min(new.len()) - head;
    let tail = old.iter().rev().zip(new.iter().rev()).take(room).take_while(|(a, b)| a.same(b)).count();
    let (old_mid, new_mid) = (&old[head..old.len() - tail], &new[head..new.len() - tail]);
    let mut pos = base + head;
    for step in script(old_mid, new_mid) {
        match step {
            Step::Keep(i, j) => {
                // A marker kept in place whose block changed kind.
                if let (Item::Marker(was), Item::Marker(now)) = (old_mid[i], new_mid[j])
                    && was != now
                    && let Ok(Some((Value::Object(ObjType::Map), m))) = doc.get(body, pos)
                {
                    doc.update_object(&m, &block_value(now).into()).map_err(err)?;
                }
                pos += 1;
            }
            Step::Delete(range) => {
                let mut k = range.start;
                while k < range.end {
                    if let Item::Marker(_) = old_mid[k] {
                        doc.join_block(body, pos).map_err(err)?;
                        k += 1;
                    } else {
                        let n = old_mid[k..range.end].iter().take_while(|i| matches!(i, Item::Char(..))).count();
                        doc.splice_text(body, pos, n as isize, "").map_err(err)?;
                        k += n;
                    }
                }
            }
            Step::Insert(range) => {
                let mut run = String::new();
                for item in &new_mid[range] {
                    match item {
                        Item::Char(c, _) => run.push(*c),
                        Item::Marker(kind) => {
                            if !run.is_empty() {
                                doc.splice_text(body, pos, 0, &run).map_err(err)?;
                                pos += run.chars().count();
                                run.clear();
                            }
                            let m = doc.split_block(body, pos).map_err(err)?;
                            doc.update_object(&m, &block_value(kind).into()).map_err(err)?;
                            pos += 1;
                        }
                    }
                }
                if !run.is_empty() {
                    doc.splice_text(body, pos, 0, &run).map_err(err)?;
                    pos += run.chars().count();
                }
            }
        }
    }
    // Markers kept in place at the region's ends whose block changed kind.
    let kept = (0..head).map(|i| (i, i)).chain((0..tail).map(|t| (old.len() - tail + t, new.len() - tail + t)));
    for (i, j) in kept {
        if let (Item::Marker(was), Item::Marker(now)) = (old[i], new[j])
            && was != now
            && let Ok(Some((Value::Object(ObjType::Map), m))) = doc.get(body, base + j)
        {
            doc.update_object(&m, &block_value(now).into()).map_err(err)?;
        }
    }

    // 2. Marks, character by character over the region.
    let end = base + new.len();
    let held: Vec<Mark> = doc.marks(body).map_err(err)?.into_iter().filter(|m| m.start < end && m.end > base).collect();
    for name in MARKS {
        let mut have: Vec<Option<ScalarValue>> = vec![None; new.len()];
        for m in held.iter().filter(|m| m.name == name) {
            for h in &mut have[m.start.max(base) - base..m.end.min(end) - base] {
                *h = Some(m.value.clone());
            }
        }
        // Stretches [from, to) that differ and want the same value.
        let mut i = 0;
        while i < new.len() {
            let want_at = |i: usize| match new[i] {
                Item::Char(_, r) => Some(wanted(r, name)),
                Item::Marker(_) => None, // a marker's marks do not matter
            };
            let differs = |i: usize| want_at(i).is_some_and(|w| !matches(have[i].as_ref(), w.as_ref(), name));
            if !differs(i) {
                i += 1;
                continue;
            }
            let want = want_at(i).flatten();
            let from = i;
            while i < new.len() && differs(i) && want_at(i).flatten() == want {
                i += 1;
            }
            let (start, stop) = (base + from, base + i);
            match want {
                Some(v) => doc.mark(body, Mark::new(name.to_string(), v, start, stop), expand_of(name)),
                None => doc.unmark(body, name, start, stop, expand_of(name)),
            }
            .map_err(err)?;
        }
    }
    Ok(true)
}

/// Move the edit that turned `before` into `after` onto `current`, the body as it is now (it
/// changed since `before` was shown). Blocks the edit did not touch come from `current`, so a
/// colleague's change elsewhere in the page is kept; where both changed the same blocks, this
/// edit's version of them wins.
pub fn rebase(before: &[Block], after: &[Block], current: &[Block]) -> Vec<Block> {
    let (p, s) = region(before, after);
    let (theirs_p, theirs_s) = region(before, current);
    let (nb, nc) = (before.len(), current.len());
    let ours = &after[p..after.len() - s];
    let mut out = Vec::with_capacity(nc + ours.len());
    if nb - s <= theirs_p {
        // The edit lies before everything that changed: same indices in both.
        out.extend_from_slice(&current[..p]);
        out.extend_from_slice(ours);
        out.extend_from_slice(&current[nb - s..]);
    } else if p >= nb - theirs_s {
        // The edit lies after everything that changed: same indices from the end.
        let shift = |i: usize| i + nc - nb;
        out.extend_from_slice(&current[..shift(p)]);
        out.extend_from_slice(ours);
        out.extend_from_slice(&current[shift(nb - s)..]);
    } else {
        // Both changed the same blocks: this edit's blocks there.
        let (lo, hi) = (p.min(theirs_p), s.min(theirs_s));
        out.extend_from_slice(&current[..lo]);
        out.extend_from_slice(&after[lo..after.len() - hi]);
        out.extend_from_slice(&current[nc - hi..]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::{blocks, page_genesis, write_blocks, write_edit};
    use super::*;
    use crate::actor::actor_for;
    use crate::ids::UserId;
    use proptest::prelude::*;

    /// `blocks` as the body reads them back: neighbouring runs with the same marks joined, empty
    /// runs dropped, newlines as spaces, unsafe links gone.
    fn norm(bs: &[Block]) -> Vec<Block> {
        bs.iter()
            .map(|b| {
                let mut runs: Vec<Run> = Vec::new();
                for r in &b.runs {
                    let mut r = Run { text: r.text.chars().map(stored).collect(), ..r.clone() };
                    r.link = r.link.filter(|l| crate::markdown::safe_url(l));
                    match runs.last_mut() {
                        Some(l)
                            if Run { text: String::new(), ..l.clone() } == Run { text: String::new(), ..r.clone() } =>
                        {
                            l.text.push_str(&r.text)
                        }
                        _ if r.text.is_empty() => {}
                        _ => runs.push(r),
                    }
                }
                Block { kind: b.kind.clone(), runs }
            })
            .collect()
    }

    fn run_strategy() -> impl Strategy<Value = Run> {
        (
            "[ab好\n]{0,4}",
            any::<bool>(),
            any::<bool>(),
            prop::option::of(prop::sample::select(vec!["https://a.cn/", "https://b.cn/"])),
        )
            .prop_map(|(text, bold, italic, link)| Run {
                text,
                bold,
                italic,
                link: link.map(String::from),
                ..Default::default()
            })
    }

    fn block_strategy() -> impl Strategy<Value = Block> {
        (
            prop::sample::select(vec![BlockKind::Paragraph, BlockKind::Heading(2), BlockKind::Bullet]),
            prop::collection::vec(run_strategy(), 0..4),
        )
            .prop_map(|(kind, runs)| Block { kind, runs })
    }

    /// A page and a few edits of it: blocks replaced, inserted, removed; runs changed.
    fn pages() -> impl Strategy<Value = (Vec<Block>, Vec<Vec<Block>>)> {
        let page = || prop::collection::vec(block_strategy(), 1..6);
        (page(), prop::collection::vec(page(), 1..4)).prop_map(|(first, edits)| {
            // Each later page keeps some blocks of the first at both ends, as edits do.
            let edits = edits
                .into_iter()
                .enumerate()
                .map(|(i, mid)| {
                    let keep = i % first.len().max(1);
                    let mut p = first[..keep].to_vec();
                    p.extend(mid);
                    p.extend_from_slice(&first[keep..][first.len().saturating_sub(keep) / 2..]);
                    p
                })
                .collect();
            (first, edits)
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]
        /// Whatever the edit, the body reads back as the editor's blocks; the same as writing
        /// the whole page.
        #[test]
        fn an_edit_reads_back_as_the_editor_wrote_it((first, edits) in pages()) {
            let mut d = page_genesis("s", "p");
            d.set_actor(actor_for(UserId(1), [1; 8]));
            write_blocks(&mut d, &first, 1_000).unwrap();
            prop_assert_eq!(blocks(&d), norm(&first));
            let mut shown = blocks(&d);
            for (i, e) in edits.iter().enumerate() {
                write_edit(&mut d, &shown, e, 2_000 + i as i64).unwrap();
                prop_assert_eq!(blocks(&d), norm(e));
                shown = norm(e);
            }
        }
    }

    #[test]
    fn typing_is_one_operation_and_enter_and_backspace_are_one_more() {
        let mut d = page_genesis("s", "p");
        d.set_actor(actor_for(UserId(1), [1; 8]));
        let page: Vec<Block> =
            (0..50).map(|i| Block::plain(BlockKind::Paragraph, &format!("第 {i} 段：报销须知"))).collect();
        write_blocks(&mut d, &page, 1_000).unwrap();
        let ops = |d: &mut AutoCommit| d.get_last_local_change().map(|c| c.len()).unwrap_or(0);
        let mut typed = page.clone();
        typed[20].runs[0].text.push('好');
        write_edit(&mut d, &page, &typed, 2_000).unwrap();
        assert_eq!(ops(&mut d), 1);
        // Enter in the middle of paragraph 20: one marker (split + its attributes).
        let mut split = typed.clone();
        split[20] = Block::plain(BlockKind::Paragraph, "第 20 段：");
        split.insert(21, Block::plain(BlockKind::Paragraph, "报销须知好"));
        write_edit(&mut d, &typed, &split, 3_000).unwrap();
        assert_eq!(blocks(&d), split);
        // Backspace at the start of the new paragraph joins it again: one deletion.
        write_edit(&mut d, &split, &typed, 4_000).unwrap();
        assert_eq!(ops(&mut d), 1);
        assert_eq!(blocks(&d), typed);
        // A paragraph becomes a heading: its marker is updated, the text is untouched.
        let mut heading = typed.clone();
        heading[30].kind = BlockKind::Heading(2);
        write_edit(&mut d, &typed, &heading, 5_000).unwrap();
        assert_eq!(blocks(&d), heading);
        assert!(ops(&mut d) <= 3, "{}", ops(&mut d));
    }

    #[test]
    fn a_stale_before_is_rebased_and_keeps_the_colleagues_edit() {
        let mut a = page_genesis("s", "p");
        a.set_actor(actor_for(UserId(1), [1; 8]));
        let page: Vec<Block> = ["一", "二", "三", "四"].iter().map(|t| Block::plain(BlockKind::Paragraph, t)).collect();
        write_blocks(&mut a, &page, 1_000).unwrap();
        let mut b = a.fork().with_actor(actor_for(UserId(2), [2; 8]));
        // B edits the first paragraph; A, shown the old page, types in the last one meanwhile.
        let mut theirs = page.clone();
        theirs[0].runs[0].text.push_str("（乙）");
        write_blocks(&mut b, &theirs, 2_000).unwrap();
        a.merge(&mut b).unwrap();
        let mut ours = page.clone();
        ours[3].runs[0].text.push_str("（甲）");
        write_edit(&mut a, &page, &ours, 3_000).unwrap();
        let text = super::super::plain_text(&blocks(&a));
        assert_eq!(text, "一（乙）\n二\n三\n四（甲）");
        // Before it, and on the same block: ours wins there, theirs stays elsewhere.
        assert_eq!(rebase(&page, &ours, &theirs).len(), 4);
        let mut same = page.clone();
        same[0].runs[0].text = "壹".into();
        assert_eq!(super::super::plain_text(&rebase(&page, &same, &theirs)), "壹\n二\n三\n四");
        let mut removed = theirs.clone();
        removed.remove(1);
        let mut ours2 = page.clone();
        ours2[3].runs[0].text = "肆".into();
        assert_eq!(super::super::plain_text(&rebase(&page, &ours2, &removed)), "一（乙）\n三\n肆");
    }
}
