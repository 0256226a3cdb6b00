//! What a client's Automerge bytes would make the relay allocate, bounded before Automerge sees
//! them.
//!
//! Automerge's binary format is columnar and run-length encoded: six bytes of a column can say
//! "the next value, 2^32 times", and a compressed chunk can inflate a thousandfold. Automerge
//! believes both. Decoding such a chunk allocates for every row it claims (fuzzing found a
//! 150-byte bundle on which `Change::from_bytes` asks for 4 GiB), and a process that cannot
//! allocate aborts: `catch_unwind` does not help, one small sync frame would end the relay.
//!
//! [`check_chunks`] walks the same bytes without decoding any value: each chunk's header, its
//! column metadata and every column's run lengths, inflating compressed parts into a buffer that
//! may not grow past what is left of the budget. It adds up the rows each chunk expands to (the
//! longest column of each column set, or the sum a group column announces) and the bytes it
//! expands to (inflated data, and every repeated string once per repetition), and refuses the
//! bytes as soon as either passes [`Limits`]. One pass over the input; the only allocation is
//! inflation, itself bounded.
//!
//! [`check_sync_message`] applies this to every change of a sync message, after checking the
//! bloom filters the relay would compute with when it answers.
//!
//! The layout read here is Automerge's binary format: chunk = magic, checksum, type, length,
//! body; a change body = dependencies, actor, seq, start op, time, message, other actors, op
//! columns; a document = actors, heads, change columns, op columns; a bundle = dependencies,
//! actors, change columns, op columns; a compressed change = a deflated change body. Columns are
//! described by (spec, length) pairs, the spec's low three bits naming the encoding and bit 3
//! marking deflate.

use automerge::sync;
use std::io::Read;

/// How much one sync message may expand to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Rows (operations, changes) over all its chunks.
    pub rows: u64,
    /// Bytes: inflated data plus strings counted once per row that repeats them.
    pub bytes: u64,
}

impl Limits {
    /// What the relay accepts in one frame. A change that pastes or deletes 100,000 characters is
    /// 100,000 rows; automerge needs some hundred bytes per row while it applies them.
    pub const RELAY: Limits = Limits { rows: 1_000_000, bytes: 64 << 20 };
}

/// Why bytes were refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("malformed automerge chunk: {0}")]
    Malformed(&'static str),
    #[error("automerge chunks expanding to more than {limit} rows")]
    TooManyRows { limit: u64 },
    #[error("automerge chunks expanding to more than {limit} bytes")]
    TooManyBytes { limit: u64 },
}

/// What checked chunks expand to.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Usage {
    pub rows: u64,
    pub bytes: u64,
}

const MAGIC: [u8; 4] = [0x85, 0x6f, 0x4a, 0x83];
const HASH_BYTES: u64 = 32;

/// Check a sync message a client sent: its bloom filters, then every change it carries, against
/// one budget.
pub fn check_sync_message(msg: &sync::Message, limits: Limits) -> Result<Usage, String> {
    check_haves(msg)?;
    let mut budget = Budget { limits, used: Usage::default() };
    for chunk in msg.changes.iter() {
        budget.chunks(chunk).map_err(|e| e.to_string())?;
    }
    Ok(budget.used)
}

/// Check a sequence of chunks (what `load_incremental` takes).
pub fn check_chunks(bytes: &[u8], limits: Limits) -> Result<Usage, Refused> {
    let mut budget = Budget { limits, used: Usage::default() };
    budget.chunks(bytes)?;
    Ok(budget.used)
}

struct Budget {
    limits: Limits,
    used: Usage,
}

impl Budget {
    fn rows(&mut self, n: u64) -> Result<(), Refused> {
        self.used.rows = self.used.rows.saturating_add(n);
        if self.used.rows > self.limits.rows {
            return Err(Refused::TooManyRows { limit: self.limits.rows });
        }
        Ok(())
    }

    fn bytes(&mut self, n: u64) -> Result<(), Refused> {
        self.used.bytes = self.used.bytes.saturating_add(n);
        if self.used.bytes > self.limits.bytes {
            return Err(Refused::TooManyBytes { limit: self.limits.bytes });
        }
        Ok(())
    }

    /// Inflate a raw deflate stream into at most what is left of the byte budget.
    fn inflate(&mut self, data: &[u8]) -> Result<Vec<u8>, Refused> {
        let room = self.limits.bytes.saturating_sub(self.used.bytes);
        let mut out = Vec::new();
        flate2::read::DeflateDecoder::new(data)
            .take(room.saturating_add(1))
            .read_to_end(&mut out)
            .map_err(|_| Refused::Malformed("bad deflate data"))?;
        self.bytes(out.len() as u64)?;
        Ok(out)
    }

    fn chunks(&mut self, bytes: &[u8]) -> Result<(), Refused> {
        let mut r = Reader(bytes);
        while !r.0.is_empty() {
            if r.take(4)? != MAGIC {
                return Err(Refused::Malformed("not an automerge chunk"));
            }
            r.take(4)?; // checksum: Automerge verifies it
            let kind = r.take(1)?[0];
            let len = r.uleb()?;
            let body = r.take(len)?;
            match kind {
                0 => self.document(body)?,
                1 => self.change(body)?,
                2 => {
                    let inflated = self.inflate(body)?;
                    self.change(&inflated)?
                }
                3 => self.bundle(body)?,
                _ => return Err(Refused::Malformed("unknown chunk type")),
            }
        }
        Ok(())
    }

    fn change(&mut self, body: &[u8]) -> Result<(), Refused> {
        let mut r = Reader(body);
        r.hashes()?; // dependencies
        r.prefixed()?; // actor
        r.uleb()?; // seq
        r.uleb()?; // start op
        r.uleb()?; // time (signed; skipping it is the same)
        r.prefixed()?; // message
        r.list_of_prefixed()?; // other actors
        let ops = r.columns()?;
        self.column_set(&ops, &mut r)
    }

    fn document(&mut self, body: &[u8]) -> Result<(), Refused> {
        let mut r = Reader(body);
        r.list_of_prefixed()?; // actors
        r.hashes()?; // heads
        let changes = r.columns()?;
        let ops = r.columns()?;
        self.column_set(&changes, &mut r)?;
        self.column_set(&ops, &mut r)
    }

    fn bundle(&mut self, body: &[u8]) -> Result<(), Refused> {
        let mut r = Reader(body);
        r.hashes()?; // dependencies
        r.list_of_prefixed()?; // actors
        let changes = r.columns()?;
        self.column_set(&changes, &mut r)?;
        let ops = r.columns()?;
        self.column_set(&ops, &mut r)
    }

    /// The data of one set of columns, read from `r`: charge the longest column's rows.
    fn column_set(&mut self, specs: &[(u32, u64)], r: &mut Reader) -> Result<(), Refused> {
        let mut rows = 0u64;
        for &(spec, len) in specs {
            let raw = r.take(len)?;
            let inflated;
            let data = if spec & 0b1000 != 0 {
                inflated = self.inflate(raw)?;
                &inflated[..]
            } else {
                raw
            };
            rows = rows.max(self.column(spec & 0b111, data)?);
        }
        self.rows(rows)
    }

    /// The rows one column expands to (for a group column, the rows of the columns it groups if
    /// that is more). Refused at the first run that passes what is left of the budget: Automerge
    /// allocates as it goes, so a column that is malformed *after* its bomb still explodes.
    fn column(&mut self, encoding: u32, data: &[u8]) -> Result<u64, Refused> {
        let room = self.limits.rows.saturating_sub(self.used.rows);
        let too_many = Err(Refused::TooManyRows { limit: self.limits.rows });
        let mut r = Reader(data);
        let mut rows = 0u64;
        let mut grouped = 0u64;
        while !r.0.is_empty() {
            if rows > room || grouped > room {
                return too_many;
            }
            match encoding {
                // Group cardinality, actor index, unsigned integer, value metadata: RLE of ULEB.
                0 | 1 | 2 | 6 => {
                    let (count, value) = r.rle_run(|r| r.uleb())?;
                    rows = rows.saturating_add(count);
                    if encoding == 0 {
                        grouped = grouped.saturating_add(count.saturating_mul(value.unwrap_or(0)));
                    }
                }
                // Delta-encoded integers: RLE of signed LEB.
                3 => rows = rows.saturating_add(r.rle_run(|r| r.sleb())?.0),
                // Booleans: alternating run lengths.
                4 => rows = rows.saturating_add(r.uleb()?),
                // Strings: RLE of length-prefixed UTF-8; a repeated string is materialised per row.
                5 => {
                    let (count, len) = r.rle_run(|r| r.prefixed().map(|s| s.len() as u64))?;
                    self.bytes(count.saturating_mul(len.unwrap_or(0)))?;
                    rows = rows.saturating_add(count);
                }
                // Raw values: as many bytes as are there; the metadata column counts their rows.
                7 => return Ok(0),
                _ => unreachable!("three bits"),
            }
        }
        if rows > room || grouped > room {
            return too_many;
        }
        Ok(rows.max(grouped))
    }
}

/// A cursor over bytes whose every read is checked against what is left.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: u64) -> Result<&'a [u8], Refused> {
        let n = usize::try_from(n).ok().filter(|n| *n <= self.0.len()).ok_or(Refused::Malformed("cut short"))?;
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }

    fn uleb(&mut self) -> Result<u64, Refused> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.take(1)?[0];
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(Refused::Malformed("integer too long"))
    }

    fn sleb(&mut self) -> Result<i64, Refused> {
        let mut v = 0i64;
        for shift in (0..64).step_by(7) {
            let b = self.take(1)?[0];
            v |= i64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                if shift + 7 < 64 && b & 0x40 != 0 {
                    v |= -1i64 << (shift + 7);
                }
                return Ok(v);
            }
        }
        Err(Refused::Malformed("integer too long"))
    }

    fn prefixed(&mut self) -> Result<&'a [u8], Refused> {
        let n = self.uleb()?;
        self.take(n)
    }

    fn list_of_prefixed(&mut self) -> Result<(), Refused> {
        for _ in 0..self.uleb()? {
            self.prefixed()?;
        }
        Ok(())
    }

    fn hashes(&mut self) -> Result<(), Refused> {
        let n = self.uleb()?;
        self.take(n.checked_mul(HASH_BYTES).ok_or(Refused::Malformed("cut short"))?)?;
        Ok(())
    }

    /// Column metadata: a count, then (spec, data length) pairs.
    fn columns(&mut self) -> Result<Vec<(u32, u64)>, Refused> {
        let mut specs = Vec::new();
        for _ in 0..self.uleb()? {
            let spec = u32::try_from(self.uleb()?).map_err(|_| Refused::Malformed("column spec"))?;
            specs.push((spec, self.uleb()?));
        }
        Ok(specs)
    }

    /// One run of a run-length encoded column: how many rows it stands for, and the value `read`
    /// returned for a repeated value (`None` for nulls and literals).
    fn rle_run<T>(
        &mut self,
        mut read: impl FnMut(&mut Self) -> Result<T, Refused>,
    ) -> Result<(u64, Option<T>), Refused> {
        let n = self.sleb()?;
        if n > 0 {
            Ok((n as u64, Some(read(self)?)))
        } else if n < 0 {
            let count = n.unsigned_abs();
            for _ in 0..count {
                read(self)?; // each literal is really there, so this loop is bounded by the input
            }
            Ok((count, None))
        } else {
            Ok((self.uleb()?, None))
        }
    }
}

/// Most `have` entries a sync message may carry. Automerge sends none or one; every document
/// hash is tested against every entry when the relay answers.
const MAX_HAVES: usize = 4;
/// Bloom parameters automerge uses are 10 bits per entry and 7 probes.
const MAX_BLOOM_BITS_PER_ENTRY: u64 = 64;
const MAX_BLOOM_PROBES: u64 = 64;

/// The bloom filters of a sync message, which the relay computes with later, when it *generates*
/// its answer — repeatedly, for every later change of the document while the peer stays
/// connected. Automerge takes a peer's filter parameters as they come: zero bits per entry
/// divides by zero, and `num_probes` sizes a vector per hash tested (2^32-1 probes: 16 GiB per
/// hash).
fn check_haves(msg: &sync::Message) -> Result<(), String> {
    if msg.have.len() > MAX_HAVES {
        return Err(format!("{} bloom filters (at most {MAX_HAVES})", msg.have.len()));
    }
    for have in &msg.have {
        let bytes = have.bloom.to_bytes();
        if bytes.is_empty() {
            continue; // the empty filter
        }
        let mut r = Reader(&bytes);
        let mut next = || r.uleb().map_err(|_| "bloom filter header is cut short or too long");
        let (_entries, bits_per_entry, probes) = (next()?, next()?, next()?);
        if !(1..=MAX_BLOOM_BITS_PER_ENTRY).contains(&bits_per_entry) || !(1..=MAX_BLOOM_PROBES).contains(&probes) {
            return Err(format!("bloom filter with {bits_per_entry} bits per entry and {probes} probes"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use automerge::sync::SyncDoc;
    use automerge::transaction::Transactable;
    use automerge::{AutoCommit, ObjType, ROOT};

    /// The input fuzzing found: a 150-byte bundle whose inverse-counter column claims 2^32 rows.
    const BUNDLE_BOMB: &[u8] = include_bytes!("../../fuzz/known/bundle-4gib-rows.bin");

    #[test]
    fn the_fuzzed_bundle_is_refused() {
        let r = check_chunks(BUNDLE_BOMB, Limits::RELAY);
        assert!(matches!(r, Err(Refused::TooManyRows { .. })), "{r:?}");
    }

    /// A change whose one column says "this value, 2^40 times".
    #[test]
    fn a_run_length_claim_is_refused_and_a_real_change_is_measured() {
        let mut doc = AutoCommit::new();
        let list = doc.put_object(ROOT, "l", ObjType::List).unwrap();
        for i in 0..300 {
            doc.insert(&list, i, i as i64).unwrap();
        }
        let change = doc.get_last_local_change().unwrap().raw_bytes().to_vec();
        let used = check_chunks(&change, Limits::RELAY).unwrap();
        assert_eq!(used.rows, 301, "one row per op");

        let text = doc.put_object(ROOT, "t", ObjType::Text).unwrap();
        doc.splice_text(&text, 0, 0, &"字".repeat(5000)).unwrap();
        doc.commit();
        let all = doc.save();
        let used = check_chunks(&all, Limits::RELAY).unwrap();
        assert!(used.rows >= 5302 && used.rows < 5400, "{used:?}");
        assert!(check_chunks(&all, Limits { rows: 5000, bytes: 1 << 20 }).is_err());
    }

    #[test]
    fn a_deflate_bomb_is_refused() {
        use std::io::Write;
        let mut z = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
        z.write_all(&vec![0u8; 100 << 20]).unwrap();
        let body = z.finish().unwrap();
        assert!(body.len() < 200_000);
        let mut chunk = MAGIC.to_vec();
        chunk.extend([0; 4]);
        chunk.push(2);
        let mut len = body.len() as u64;
        loop {
            let b = (len & 0x7f) as u8;
            len >>= 7;
            chunk.push(if len == 0 { b } else { b | 0x80 });
            if len == 0 {
                break;
            }
        }
        chunk.extend(&body);
        assert_eq!(check_chunks(&chunk, Limits::RELAY), Err(Refused::TooManyBytes { limit: Limits::RELAY.bytes }));
    }

    /// Everything two real peers send each other while syncing passes, compressed changes and
    /// whole documents included.
    #[test]
    fn real_sync_traffic_passes() {
        let mut a = AutoCommit::new();
        let text = a.put_object(ROOT, "text", ObjType::Text).unwrap();
        for i in 0..200 {
            a.splice_text(&text, 0, 0, &format!("第{i}行 line {i}\n")).unwrap();
            a.put(ROOT, format!("k{}", i % 7), i as i64).unwrap();
            a.commit();
        }
        let mut b = AutoCommit::new();
        let (mut sa, mut sb) = (sync::State::new(), sync::State::new());
        let mut checked = 0;
        for _ in 0..20 {
            let mut quiet = true;
            if let Some(m) = a.sync().generate_sync_message(&mut sa) {
                check_sync_message(&m, Limits::RELAY).unwrap();
                checked += m.changes.len();
                b.sync().receive_sync_message(&mut sb, m).unwrap();
                quiet = false;
            }
            if let Some(m) = b.sync().generate_sync_message(&mut sb) {
                check_sync_message(&m, Limits::RELAY).unwrap();
                a.sync().receive_sync_message(&mut sa, m).unwrap();
                quiet = false;
            }
            if quiet {
                break;
            }
        }
        assert_eq!(a.get_heads(), b.get_heads());
        assert!(checked > 0);
        check_chunks(&a.save(), Limits::RELAY).unwrap();
        check_chunks(&a.save_nocompress(), Limits::RELAY).unwrap();
        for mut c in a.get_changes(&[]) {
            check_chunks(c.bytes().as_ref(), Limits::RELAY).unwrap(); // compressed when large
            check_chunks(c.raw_bytes(), Limits::RELAY).unwrap();
        }
    }
}
