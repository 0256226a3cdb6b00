//! Opening a document from the chunks a replica stored (IndexedDB in the app): the fastest load
//! that gives the same document as its genesis plus every chunk.
//!
//! A replica never stores a document's genesis (every replica can make it), so its first chunks
//! are changes that depend on it. A snapshot written by [`snapshot`] holds the genesis, and is a
//! document chunk, which `AutoCommit::load` rebuilds directly; loading the same bytes into the
//! genesis with `load_incremental` instead decodes them back into changes and applies them one by
//! one, about four times slower (the knowledge-base and board benchmarks measured it). So:
//!
//! 1. stored data that starts with a document chunk is loaded whole, and kept if it holds the
//!    genesis and misses nothing;
//! 2. otherwise the genesis is put in front of the stored bytes and the lot loaded whole;
//! 3. if that fails too (a damaged chunk), the chunks are loaded into the genesis one by one,
//!    skipping the damaged ones, as before.
//!
//! Whatever the path, the genesis is the document's first change and the result is the same.

use automerge::{AutoCommit, ChangeHash};

/// The type byte of a chunk: after the 4-byte magic number and the 4-byte checksum; 0 is a
/// document chunk (the format is Automerge's binary format, stable across versions).
fn starts_with_document(bytes: &[u8]) -> bool {
    bytes.len() > 8 && bytes[..4] == [0x85, 0x6f, 0x4a, 0x83] && bytes[8] == 0
}

/// Holds the genesis and every change its changes depend on.
fn complete(doc: &mut AutoCommit, genesis: &[ChangeHash]) -> bool {
    genesis.iter().all(|h| doc.get_change_by_hash(h).is_some()) && doc.get_missing_deps(&[]).is_empty()
}

/// Open a document from `genesis` (see [`super`]) and the chunks stored for it, oldest first.
pub fn open(mut genesis: AutoCommit, chunks: &[&[u8]]) -> AutoCommit {
    if chunks.is_empty() {
        return genesis;
    }
    let heads = genesis.get_heads();
    let whole = chunks.concat();
    if starts_with_document(&whole)
        && let Ok(mut doc) = AutoCommit::load(&whole)
        && complete(&mut doc, &heads)
    {
        return doc;
    }
    let mut front = genesis.save();
    front.extend_from_slice(&whole);
    if let Ok(mut doc) = AutoCommit::load(&front)
        && complete(&mut doc, &heads)
    {
        return doc;
    }
    for c in chunks {
        // A damaged chunk loads nothing (Automerge logs it); the others still load.
        let _ = genesis.load_incremental(c);
    }
    genesis
}

/// The stored chunks folded into one snapshot that holds the genesis, so that [`open`] loads it
/// on its fast path.
pub fn snapshot(genesis: AutoCommit, chunks: &[&[u8]]) -> Vec<u8> {
    open(genesis, chunks).save()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actor::actor_for;
    use crate::ids::UserId;
    use crate::schema::kb::{self, Block, BlockKind};

    fn genesis() -> AutoCommit {
        kb::page_genesis("s", "p")
    }

    /// A replica that opened the page, then wrote `n` versions, each stored as its own chunk.
    fn chunks(n: usize) -> (AutoCommit, Vec<Vec<u8>>) {
        let mut d = genesis();
        d.set_actor(actor_for(UserId(1), [1; 8]));
        let _ = d.save_incremental(); // the genesis is not stored
        let mut out = Vec::new();
        for i in 0..n {
            kb::write_blocks(&mut d, &[Block::plain(BlockKind::Paragraph, &format!("第 {i} 版"))], 1_000).unwrap();
            out.push(d.save_incremental());
        }
        (d, out)
    }

    fn refs(v: &[Vec<u8>]) -> Vec<&[u8]> {
        v.iter().map(Vec::as_slice).collect()
    }

    fn same(a: &mut AutoCommit, b: &mut AutoCommit) {
        assert_eq!(a.get_heads(), b.get_heads());
        assert_eq!(kb::blocks(a), kb::blocks(b));
        let g = genesis().get_heads();
        assert_eq!(a.get_changes(&[])[0].hash(), g[0], "the genesis is the first change");
    }

    #[test]
    fn changes_alone_open_on_the_genesis() {
        let (mut want, stored) = chunks(5);
        same(&mut open(genesis(), &refs(&stored)), &mut want);
        assert_eq!(open(genesis(), &[]).get_heads(), genesis().get_heads());
    }

    #[test]
    fn a_snapshot_holds_the_genesis_and_opens_whole() {
        let (mut want, stored) = chunks(6);
        let snap = snapshot(genesis(), &refs(&stored[..4]));
        assert!(starts_with_document(&snap));
        let mut reopened = AutoCommit::load(&snap).unwrap();
        assert!(complete(&mut reopened, &genesis().get_heads()), "the fast path applies");
        let later = [vec![snap], stored[4..].to_vec()].concat();
        same(&mut open(genesis(), &refs(&later)), &mut want);
    }

    #[test]
    fn an_old_snapshot_without_the_genesis_still_opens() {
        let (mut want, stored) = chunks(4);
        // Compaction used to fold chunks into an empty document, which cannot hold them.
        let mut merged = AutoCommit::new();
        for c in &stored[..3] {
            let _ = merged.load_incremental(c);
        }
        let old = [vec![merged.save()], stored[3..].to_vec()].concat();
        same(&mut open(genesis(), &refs(&old)), &mut want);
    }

    #[test]
    fn a_damaged_chunk_is_skipped_and_the_others_kept() {
        let (mut want, mut stored) = chunks(3);
        let mut bad = stored[1].clone();
        let last = bad.len() - 1;
        bad[last] ^= 0xff; // the checksum no longer matches
        stored.insert(2, bad);
        same(&mut open(genesis(), &refs(&stored)), &mut want);
    }
}
