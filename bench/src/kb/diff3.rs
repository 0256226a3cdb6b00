//! The merge benchmark's peer: a page kept as plain text (one Markdown line per block, as a wiki
//! that stores text files would) and merged the way `git merge-file` / diff3 does: a line diff of
//! each side against the common ancestor (longest common subsequence), then the classic diff3
//! walk. Where both sides changed the same lines differently, the result keeps both and counts
//! a conflict, which a person then resolves by hand; the Automerge page merges those character
//! by character instead.

use qiao_model::schema::kb::{Block, BlockKind};

/// One Markdown line per block.
pub fn markdown(blocks: &[Block]) -> String {
    let mut out = String::new();
    for b in blocks {
        out.push_str(match b.kind {
            BlockKind::Heading(1) => "# ",
            BlockKind::Heading(2) => "## ",
            BlockKind::Heading(_) => "### ",
            BlockKind::Bullet => "- ",
            BlockKind::Numbered => "1. ",
            BlockKind::Quote => "> ",
            BlockKind::Code => "    ",
            BlockKind::Paragraph | BlockKind::Cell(_) | BlockKind::Image { .. } | BlockKind::File { .. } => "",
        });
        for r in &b.runs {
            let mut t = r.text.clone();
            if r.bold {
                t = format!("**{t}**");
            }
            if let Some(l) = &r.link {
                t = format!("[{t}]({l})");
            }
            out.push_str(&t);
        }
        out.push('\n');
    }
    out
}

/// For each line of `base`, the line of `other` it is matched with in a longest common
/// subsequence (dynamic programming over lines; pages have hundreds of lines, not millions).
fn matches(base: &[&str], other: &[&str]) -> Vec<Option<usize>> {
    let (n, m) = (base.len(), other.len());
    let mut l = vec![0u32; (n + 1) * (m + 1)];
    let at = |i: usize, j: usize| i * (m + 1) + j;
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            l[at(i, j)] =
                if base[i] == other[j] { l[at(i + 1, j + 1)] + 1 } else { l[at(i + 1, j)].max(l[at(i, j + 1)]) };
        }
    }
    let mut out = vec![None; n];
    let (mut i, mut j) = (0, 0);
    while i < n && j < m {
        if base[i] == other[j] {
            out[i] = Some(j);
            i += 1;
            j += 1;
        } else if l[at(i + 1, j)] >= l[at(i, j + 1)] {
            i += 1;
        } else {
            j += 1;
        }
    }
    out
}

/// Merge `a` and `b`, both descended from `base`: the merged text and how many conflicts it holds.
pub fn merge(base: &str, a: &str, b: &str) -> (String, usize) {
    let (o, x, y): (Vec<&str>, Vec<&str>, Vec<&str>) =
        (base.lines().collect(), a.lines().collect(), b.lines().collect());
    let (ma, mb) = (matches(&o, &x), matches(&o, &y));
    let mut out: Vec<&str> = Vec::with_capacity(x.len().max(y.len()));
    let mut conflicts = 0;
    let (mut i, mut ia, mut ib) = (0, 0, 0);
    loop {
        // Lines unchanged on both sides.
        while i < o.len() && ma[i] == Some(ia) && mb[i] == Some(ib) {
            out.push(o[i]);
            i += 1;
            ia += 1;
            ib += 1;
        }
        // The next line both sides kept, or the end: what lies before it changed on one side or
        // both.
        let next = (i..o.len()).find(|&k| ma[k].is_some() && mb[k].is_some());
        let (ei, ea, eb) = match next {
            Some(k) => (k, ma[k].expect("found"), mb[k].expect("found")),
            None => (o.len(), x.len(), y.len()),
        };
        let (co, ca, cb) = (&o[i..ei], &x[ia..ea], &y[ib..eb]);
        if ca == co {
            out.extend_from_slice(cb);
        } else if cb == co || ca == cb {
            out.extend_from_slice(ca);
        } else {
            conflicts += 1;
            out.push("<<<<<<<");
            out.extend_from_slice(ca);
            out.push("=======");
            out.extend_from_slice(cb);
            out.push(">>>>>>>");
        }
        (i, ia, ib) = (ei, ea, eb);
        if next.is_none() {
            break;
        }
    }
    (out.join("\n"), conflicts)
}

#[cfg(test)]
mod tests {
    #[test]
    fn merges_separate_changes_and_flags_overlapping_ones() {
        let base = "a\nb\nc\nd\n";
        let (m, c) = super::merge(base, "a\nB\nc\nd\n", "a\nb\nc\nD\ne\n");
        assert_eq!((m.as_str(), c), ("a\nB\nc\nD\ne", 0));
        let (_, c) = super::merge(base, "a\nX\nc\nd\n", "a\nY\nc\nd\n");
        assert_eq!(c, 1);
    }
}
