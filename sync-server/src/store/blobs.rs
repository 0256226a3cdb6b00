//! File bytes on disk: unfinished uploads and content-addressed blobs.
//!
//! - An upload in progress is `<data>/uploads/<upload id>.part`. Each chunk is written at the
//!   offset the database says the upload stands at (cutting off whatever a crash mid-chunk left
//!   beyond it), then fsynced, and only then does the caller record the new length and answer:
//!   an acknowledged chunk survives a crash.
//! - A completed file is `<data>/blobs/<sha256[0..2]>/<sha256>`, put there by renaming the part
//!   file after its hash was checked (the same filesystem, so the rename is atomic), then fsynced
//!   with its directory. When a blob with that hash exists already the part is simply dropped:
//!   one copy per distinct content.
//!
//! Every path is built from a relay-made upload id or a checked SHA-256, never from anything a
//! client named: a file called `../../x` is display text in the database and nothing more.
//!
//! Only one chunk of an upload is written at a time ([`Blobs::lock_part`]); a second request for
//! the same upload meanwhile is refused rather than interleaved into the same file.

use axum::body::Bytes;
use futures_util::{Stream, StreamExt};
use qiao_model::files::valid_sha256;
use sha2::{Digest, Sha256};
use std::collections::HashSet;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncSeekExt, AsyncWriteExt};

/// Read and write buffer size: large enough for few syscalls, small enough that memory stays
/// flat however large the file.
const IO_BUF: usize = 256 * 1024;

/// Where file bytes live. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Blobs {
    uploads: PathBuf,
    blobs: PathBuf,
    /// Uploads whose part file is being written or completed right now.
    busy: Arc<Mutex<HashSet<String>>>,
}

/// Why a chunk was not stored. Whatever part of it reached the file is cut off again.
#[derive(Debug, thiserror::Error)]
pub enum ChunkError {
    #[error("the chunk is longer than {0} bytes")]
    TooLong(u64),
    #[error("the request body broke off: {0}")]
    Body(String),
    #[error(transparent)]
    Io(#[from] io::Error),
}

/// Holds an upload's part file for one request; released when dropped (also when the client
/// goes away mid-chunk and the handler is cancelled).
pub struct PartGuard {
    busy: Arc<Mutex<HashSet<String>>>,
    id: String,
}

impl Drop for PartGuard {
    fn drop(&mut self) {
        self.busy.lock().unwrap_or_else(|e| e.into_inner()).remove(&self.id);
    }
}

impl Blobs {
    /// Create `uploads/` and `blobs/` under `data_dir` if needed.
    pub fn open(data_dir: &Path) -> io::Result<Self> {
        let uploads = data_dir.join("uploads");
        let blobs = data_dir.join("blobs");
        std::fs::create_dir_all(&uploads)?;
        std::fs::create_dir_all(&blobs)?;
        Ok(Self { uploads, blobs, busy: Arc::default() })
    }

    /// The part file of upload `id` (a relay-made id: see [`crate::actions::files::new_upload_id`]).
    pub fn part_path(&self, id: &str) -> PathBuf {
        debug_assert!(id.bytes().all(|b| b.is_ascii_alphanumeric()), "upload ids are made by the relay");
        self.uploads.join(format!("{id}.part"))
    }

    /// The blob holding the bytes whose SHA-256 is `sha256` (checked lowercase hex).
    pub fn blob_path(&self, sha256: &str) -> PathBuf {
        assert!(valid_sha256(sha256), "blob paths come from checked hashes only");
        self.blobs.join(&sha256[..2]).join(sha256)
    }

    pub async fn has_blob(&self, sha256: &str) -> bool {
        tokio::fs::metadata(self.blob_path(sha256)).await.is_ok_and(|m| m.is_file())
    }

    /// Take upload `id`'s part file for this request; `None` while another request holds it.
    pub fn lock_part(&self, id: &str) -> Option<PartGuard> {
        let mut busy = self.busy.lock().unwrap_or_else(|e| e.into_inner());
        busy.insert(id.to_string()).then(|| PartGuard { busy: self.busy.clone(), id: id.to_string() })
    }

    /// Write `body` to upload `id`'s part file at `offset` (where the upload durably stands) and
    /// fsync it; at most `limit` bytes are accepted. Returns how many bytes were written. On any
    /// error the file is cut back to `offset`.
    pub async fn write_chunk<S, E>(&self, id: &str, offset: u64, limit: u64, body: S) -> Result<u64, ChunkError>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        let path = self.part_path(id);
        let mut file = tokio::fs::OpenOptions::new().create(true).write(true).truncate(false).open(&path).await?;
        // A crash or a broken request may have left bytes past the acknowledged length.
        file.set_len(offset).await?;
        file.seek(io::SeekFrom::Start(offset)).await?;
        let mut out = tokio::io::BufWriter::with_capacity(IO_BUF, file);
        let written = match copy_limited(body, &mut out, limit).await {
            Ok(n) => n,
            Err(e) => {
                // Drop what was buffered, then cut the file back. Best effort: the next chunk
                // cuts it back to the acknowledged length anyway.
                let file = out.into_inner();
                let _ = file.set_len(offset).await;
                return Err(e);
            }
        };
        out.flush().await?;
        let file = out.into_inner();
        file.sync_all().await?;
        if offset == 0 {
            // The part file is new: make its directory entry durable too.
            sync_dir(&self.uploads).await?;
        }
        Ok(written)
    }

    /// SHA-256 (lowercase hex) of upload `id`'s part file, read in bounded buffers; `None` when
    /// there is no part file.
    pub async fn hash_part(&self, id: &str) -> io::Result<Option<String>> {
        let path = self.part_path(id);
        tokio::task::spawn_blocking(move || {
            let mut f = match std::fs::File::open(&path) {
                Ok(f) => f,
                Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
                Err(e) => return Err(e),
            };
            let mut h = Sha256::new();
            let mut buf = vec![0u8; IO_BUF];
            loop {
                let n = f.read(&mut buf)?;
                if n == 0 {
                    return Ok(Some(hex::encode(h.finalize())));
                }
                h.update(&buf[..n]);
            }
        })
        .await
        .map_err(io::Error::other)?
    }

    /// Make upload `id`'s checked part file the blob for `sha256`: rename it into place and
    /// fsync the blob and its directory, or drop it when that blob exists already.
    pub async fn promote(&self, id: &str, sha256: &str) -> io::Result<()> {
        let part = self.part_path(id);
        let blob = self.blob_path(sha256);
        tokio::task::spawn_blocking(move || {
            if blob.is_file() {
                return remove_if_there(&part);
            }
            let dir = blob.parent().expect("a blob path has a directory");
            std::fs::create_dir_all(dir)?;
            std::fs::rename(&part, &blob)?;
            // The part was fsynced chunk by chunk; this makes sure of the bytes under their new
            // name and of the name itself.
            std::fs::File::open(&blob)?.sync_all()?;
            std::fs::File::open(dir)?.sync_all()?;
            // A new fan-out directory is itself an entry in blobs/.
            std::fs::File::open(dir.parent().expect("blobs/ has a parent"))?.sync_all()
        })
        .await
        .map_err(io::Error::other)?
    }

    /// Delete upload `id`'s part file, if any.
    pub async fn remove_part(&self, id: &str) -> io::Result<()> {
        let part = self.part_path(id);
        tokio::task::spawn_blocking(move || remove_if_there(&part)).await.map_err(io::Error::other)?
    }

    /// The blob for `sha256`, opened for reading.
    pub async fn open_blob(&self, sha256: &str) -> io::Result<tokio::fs::File> {
        tokio::fs::File::open(self.blob_path(sha256)).await
    }
}

/// Copy `body` into `out`, refusing more than `limit` bytes in all.
async fn copy_limited<S, E>(
    mut body: S,
    out: &mut tokio::io::BufWriter<tokio::fs::File>,
    limit: u64,
) -> Result<u64, ChunkError>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    let mut n: u64 = 0;
    while let Some(frame) = body.next().await {
        let frame = frame.map_err(|e| ChunkError::Body(e.to_string()))?;
        n += frame.len() as u64;
        if n > limit {
            return Err(ChunkError::TooLong(limit));
        }
        out.write_all(&frame).await?;
    }
    Ok(n)
}

fn remove_if_there(path: &Path) -> io::Result<()> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

async fn sync_dir(dir: &Path) -> io::Result<()> {
    let dir = dir.to_path_buf();
    tokio::task::spawn_blocking(move || std::fs::File::open(dir)?.sync_all()).await.map_err(io::Error::other)?
}
