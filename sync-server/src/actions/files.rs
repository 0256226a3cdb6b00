//! Files in chat: starting an upload, receiving its chunks, completing it into a stored file,
//! and deciding who may download one.
//!
//! Access follows the conversation, exactly as its chat documents do: a user may upload into a
//! conversation iff they may write its chat segments, and may download a file iff they may read
//! them *now* (membership, archiving and the chat module toggle included) — checked on every
//! request, so someone removed from a private channel loses its files at once. A file the caller
//! may not read answers 404 like an unknown id, and the refusal is audited like a refused sync
//! read.
//!
//! An upload is announced with its size and SHA-256; the size limit is checked before anything
//! is stored. Chunks arrive at the offset the relay reports, each fsynced before it is
//! acknowledged ([`crate::store::blobs`]). Completion hashes the whole part file: a mismatch
//! discards the upload (422), a match moves the bytes under their hash, where the same content
//! is kept once however often it is sent.

use crate::AppState;
use crate::actions::channels::refuse;
use crate::actions::settings::file_settings;
use crate::auth::AuthUser;
use crate::error::AppError;
use crate::store::blobs::ChunkError;
use crate::store::files::{self as rows, UploadRow};
use crate::store::{Access, AuditRecord, audit_tx, now_ms};
use axum::body::Bytes;
use futures_util::Stream;
use qiao_model::acl::Module;
use qiao_model::api::{FileInfo, FileScope, NewUpload, UploadState};
use qiao_model::audit::Event;
use qiao_model::files::{MAX_CHUNK_BYTES, clean_mime, clean_name, valid_sha256};
use qiao_model::ids::{ChannelId, UserId};
use qiao_model::schema::{chat, tasks};
use rand::RngCore;

/// At most this many earlier files with the same bytes are looked at for an instant completion.
const DEDUPE_CANDIDATES: usize = 100;

fn random_id(prefix: char) -> String {
    let mut b = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut b);
    format!("{prefix}{}", hex::encode(b))
}

/// A new upload id: 128 random bits, unguessable, and safe as a file name (it names the part
/// file).
pub fn new_upload_id() -> String {
    random_id('u')
}

/// A new file id: 128 random bits, so that an id cannot be guessed (access is checked anyway).
pub fn new_file_id() -> String {
    random_id('f')
}

/// What `user` may do in `channel`: the access of its chat documents. Every segment of a
/// conversation follows the conversation's rules, and segment 0 is registered when it is
/// created, so asking about segment 0 asks about the conversation.
pub async fn conversation_access(state: &AppState, user: UserId, channel: &ChannelId) -> Result<Access, AppError> {
    Ok(state.store.access(user, chat::segment_id(channel, 0)).await?.0)
}

/// What `user` may do with files of `scope`: a conversation's files follow its chat documents,
/// a project's files follow its board (members write, readers of a company-visible project read).
pub async fn scope_access(state: &AppState, user: UserId, scope: &FileScope) -> Result<Access, AppError> {
    match scope {
        FileScope::Channel(c) => conversation_access(state, user, c).await,
        FileScope::Project(p) => Ok(state.store.access(user, tasks::board_id(p)).await?.0),
        // A ticket's files follow its document: the requester and the helpdesk agents.
        FileScope::Ticket(t) => Ok(state.store.access(user, qiao_model::schema::helpdesk::document_id(t)).await?.0),
        // A library folder's: who may upload there writes, who may read it reads.
        FileScope::Folder(f) => super::library::folder_access(state, user, f).await,
        // An image of a knowledge-base page: its readers read it, its editors (not the readers
        // who may only comment) upload.
        FileScope::Page(doc) => match state.store.access(user, *doc).await? {
            (Access::None, _) => Ok(Access::None),
            (_, Some(crate::store::DocKind::KbPage { space, .. })) => {
                Ok(if state.store.kb_editor(&space, user).await? { Access::Write } else { Access::Read })
            }
            _ => Ok(Access::None),
        },
    }
}

/// The module a scope's files belong to: turned off, its files are neither sent nor served.
fn scope_module(scope: &FileScope) -> Module {
    match scope {
        FileScope::Channel(_) => Module::Chat,
        FileScope::Project(_) => Module::Tasks,
        FileScope::Ticket(_) => Module::Helpdesk,
        FileScope::Folder(_) => Module::Files,
        FileScope::Page(_) => Module::Kb,
    }
}

fn stored_detail(f: &FileInfo) -> String {
    format!("{} ({} bytes, sha256 {}) in {}", f.name, f.size, f.sha256, f.scope)
}

/// `POST /api/uploads`: check the announcement, then either complete at once (the caller already
/// has these bytes on the relay) or open an upload at offset 0.
pub async fn do_start_upload(state: &AppState, who: &AuthUser, req: &NewUpload) -> Result<UploadState, AppError> {
    if !valid_sha256(&req.sha256) {
        return Err(AppError::BadRequest("sha256 must be the file's SHA-256 as 64 lowercase hex digits".into()));
    }
    if req.size == 0 {
        return Err(AppError::BadRequest("an empty file cannot be uploaded".into()));
    }
    let max = file_settings(state).await?.max_upload_bytes;
    if req.size > max {
        return Err(AppError::TooLarge(format!(
            "the file is {} bytes; the largest file accepted is {max} bytes",
            req.size
        )));
    }
    super::modules::require_for(state, scope_module(&req.scope), who.id(), Some(&who.ip), "file.upload").await?;
    if scope_access(state, who.id(), &req.scope).await? < Access::Write {
        let err = AppError::NotFound(format!("no {} you may write to", req.scope));
        return Err(refuse(state, who, Event::FileUpload, req.scope.to_string(), err).await);
    }
    let mut upload = UploadRow {
        id: new_upload_id(),
        owner: who.id(),
        scope: req.scope.clone(),
        name: clean_name(&req.name),
        size: req.size,
        mime: clean_mime(&req.mime),
        sha256: req.sha256.clone(),
        received: 0,
        file_id: None,
    };
    let now = now_ms();
    // Looked up before the write transaction, which holds the database's write lock.
    let known = known_bytes(state, who, req).await?;
    let mut tx = state.store.begin().await?;
    let file = match known {
        Some(same) => {
            let file = FileInfo {
                id: new_file_id(),
                name: upload.name.clone(),
                size: upload.size,
                mime: upload.mime.clone(),
                sha256: upload.sha256.clone(),
                scope: upload.scope.clone(),
                owner: who.id(),
                created_at: now,
            };
            upload.received = upload.size;
            upload.file_id = Some(file.id.clone());
            rows::insert_file_tx(&mut tx, &file).await?;
            let rec = AuditRecord::ok(Event::FileUpload)
                .by(who.id())
                .ip(&who.ip)
                .target(format!("file:{}", file.id))
                .detail(format!("{}; the same bytes as file:{}", stored_detail(&file), same.id));
            audit_tx(&mut tx, &rec).await?;
            Some(file)
        }
        None => None,
    };
    rows::insert_upload_tx(&mut tx, &upload, now).await?;
    tx.commit().await?;
    Ok(upload.state(file))
}

/// An earlier file with the announced bytes that the caller may see already — theirs, or in a
/// conversation they may read — whose blob is on disk. Only then is the upload completed without
/// the bytes: completing on the hash alone would hand anyone who learned a file's SHA-256 a copy
/// of it. Anyone else sends the bytes, which are checked and then dropped for the existing blob.
async fn known_bytes(state: &AppState, who: &AuthUser, req: &NewUpload) -> Result<Option<FileInfo>, AppError> {
    for f in state.store.files_with_sha256(&req.sha256).await?.into_iter().take(DEDUPE_CANDIDATES) {
        if f.size != req.size || !state.blobs.has_blob(&f.sha256).await {
            continue;
        }
        if f.owner == who.id() || may_read_file(state, who.id(), &f).await? {
            return Ok(Some(f));
        }
    }
    Ok(None)
}

/// The caller's own upload `id`; anyone else's answers like an unknown one.
async fn own_upload(state: &AppState, who: &AuthUser, id: &str) -> Result<UploadRow, AppError> {
    match state.store.upload(id).await? {
        Some(u) if u.owner == who.id() => Ok(u),
        _ => Err(AppError::NotFound(format!("no upload {id}"))),
    }
}

async fn state_of(state: &AppState, u: &UploadRow) -> Result<UploadState, AppError> {
    let file = match &u.file_id {
        Some(f) => state.store.file(f).await?,
        None => None,
    };
    Ok(u.state(file))
}

/// `GET /api/uploads/{id}`: where to resume.
pub async fn upload_state(state: &AppState, who: &AuthUser, id: &str) -> Result<UploadState, AppError> {
    let u = own_upload(state, who, id).await?;
    state_of(state, &u).await
}

fn busy() -> AppError {
    AppError::Conflict("another request for this upload is in progress; retry when it has answered".into())
}

/// `PUT /api/uploads/{id}?offset=N`: store one chunk at `offset`, which must be where the upload
/// stands. `length` is the request's `Content-Length`, when it sent one: a chunk that cannot fit
/// is refused before its bytes are read.
pub async fn do_put_chunk<S, E>(
    state: &AppState,
    who: &AuthUser,
    id: &str,
    offset: u64,
    length: Option<u64>,
    body: S,
) -> Result<UploadState, AppError>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    let _part = state.blobs.lock_part(id).ok_or_else(busy)?;
    let mut u = own_upload(state, who, id).await?;
    if u.file_id.is_some() {
        let message = "the upload is complete; nothing more can be added".to_string();
        return Err(AppError::UploadOffset { message, state: Box::new(state_of(state, &u).await?) });
    }
    if offset != u.received {
        let message =
            format!("the upload stands at {} bytes, not {offset}: send from offset={}", u.received, u.received);
        return Err(AppError::UploadOffset { message, state: Box::new(u.state(None)) });
    }
    let room = u.size - u.received;
    let limit = room.min(MAX_CHUNK_BYTES as u64);
    let too_long = || {
        AppError::TooLarge(if room < MAX_CHUNK_BYTES as u64 {
            format!("the upload was announced as {} bytes; only {room} more are accepted", u.size)
        } else {
            format!("a chunk is at most {MAX_CHUNK_BYTES} bytes")
        })
    };
    if length.is_some_and(|n| n > limit) {
        return Err(too_long());
    }
    let n = match state.blobs.write_chunk(id, u.received, limit, body).await {
        Ok(n) => n,
        Err(ChunkError::TooLong(_)) => return Err(too_long()),
        Err(ChunkError::Body(why)) => return Err(AppError::BadRequest(why)),
        Err(ChunkError::Io(e)) => return Err(e.into()),
    };
    // The bytes are on disk (fsynced); recording the new length is what acknowledges them.
    if !state.store.set_received(id, u.received, u.received + n).await? {
        return Err(busy());
    }
    u.received += n;
    Ok(u.state(None))
}

/// `POST /api/uploads/{id}/complete`: check the bytes against the announced SHA-256 and store
/// them as a file of the conversation. Completing twice answers the same file (a client whose
/// first answer was lost asks again).
pub async fn do_complete(state: &AppState, who: &AuthUser, id: &str) -> Result<FileInfo, AppError> {
    let _part = state.blobs.lock_part(id).ok_or_else(busy)?;
    let u = own_upload(state, who, id).await?;
    if let Some(f) = &u.file_id {
        return state
            .store
            .file(f)
            .await?
            .ok_or_else(|| AppError::Internal(format!("file {f} of upload {id} is gone")));
    }
    if u.received != u.size {
        let message =
            format!("the upload has {} of {} bytes: send the rest from offset={}", u.received, u.size, u.received);
        return Err(AppError::UploadOffset { message, state: Box::new(u.state(None)) });
    }
    // Rights may have changed since the upload started (removed from the channel, archived).
    super::modules::require_for(state, scope_module(&u.scope), who.id(), Some(&who.ip), "file.upload").await?;
    if scope_access(state, who.id(), &u.scope).await? < Access::Write {
        let err = AppError::NotFound(format!("no {} you may write to", u.scope));
        return Err(refuse(state, who, Event::FileUpload, format!("upload:{id}"), err).await);
    }
    let hash = match state.blobs.hash_part(id).await? {
        Some(h) => h,
        // No part file although every byte was acknowledged: a crash came after the checked part
        // was renamed into place and before the file row was written. The blob is the bytes.
        None if state.blobs.has_blob(&u.sha256).await => u.sha256.clone(),
        None => {
            let mut tx = state.store.begin().await?;
            rows::delete_upload_tx(&mut tx, id).await?;
            tx.commit().await?;
            return Err(AppError::Conflict("the upload's bytes are gone; start it again".into()));
        }
    };
    if hash != u.sha256 {
        state.blobs.remove_part(id).await?;
        let mut tx = state.store.begin().await?;
        rows::delete_upload_tx(&mut tx, id).await?;
        let rec = AuditRecord::refused(Event::FileUpload)
            .by(who.id())
            .ip(&who.ip)
            .target(format!("upload:{id}"))
            .detail(format!("{} announced sha256 {}, the bytes hash to {hash}", u.name, u.sha256));
        audit_tx(&mut tx, &rec).await?;
        tx.commit().await?;
        return Err(AppError::HashMismatch(format!(
            "the bytes hash to {hash}, not to the announced {}; the upload was discarded",
            u.sha256
        )));
    }
    state.blobs.promote(id, &u.sha256).await?;
    let file = FileInfo {
        id: new_file_id(),
        name: u.name.clone(),
        size: u.size,
        mime: u.mime.clone(),
        sha256: u.sha256.clone(),
        scope: u.scope.clone(),
        owner: who.id(),
        created_at: now_ms(),
    };
    let mut tx = state.store.begin().await?;
    rows::insert_file_tx(&mut tx, &file).await?;
    rows::finish_upload_tx(&mut tx, id, &file.id).await?;
    let rec = AuditRecord::ok(Event::FileUpload)
        .by(who.id())
        .ip(&who.ip)
        .target(format!("file:{}", file.id))
        .detail(stored_detail(&file));
    audit_tx(&mut tx, &rec).await?;
    tx.commit().await?;
    Ok(file)
}

/// Forward file `id` into conversation `to`: a new file of `to` over the same stored bytes, so
/// that the people there may download it (access follows the conversation a file belongs to).
/// The caller must be able to read the file and write `to`.
pub async fn do_forward(state: &AppState, who: &AuthUser, id: &str, to: &ChannelId) -> Result<FileInfo, AppError> {
    let source = readable_file(state, who, id).await?;
    super::modules::require_for(state, Module::Chat, who.id(), Some(&who.ip), "file.upload").await?;
    if conversation_access(state, who.id(), to).await? < Access::Write {
        let err = AppError::NotFound(format!("no conversation {to} you may write to"));
        return Err(refuse(state, who, Event::FileUpload, format!("channel:{to}"), err).await);
    }
    let file = FileInfo {
        id: new_file_id(),
        scope: FileScope::Channel(to.clone()),
        owner: who.id(),
        created_at: now_ms(),
        ..source
    };
    let mut tx = state.store.begin().await?;
    rows::insert_file_tx(&mut tx, &file).await?;
    let rec = AuditRecord::ok(Event::FileUpload)
        .by(who.id())
        .ip(&who.ip)
        .target(format!("file:{}", file.id))
        .detail(format!("forwarded from file:{id}"));
    audit_tx(&mut tx, &rec).await?;
    tx.commit().await?;
    Ok(file)
}

/// Whether `user` may read stored file `f` now: its conversation, project or ticket, or for a
/// library file its folder and that version (a version waiting for approval is its uploader's
/// and the approvers' only).
pub async fn may_read_file(state: &AppState, user: UserId, f: &FileInfo) -> Result<bool, AppError> {
    match &f.scope {
        // The folder and the version in one look (reading the folder alone is not enough).
        FileScope::Folder(_) => super::library::may_download(state, user, f).await,
        scope => Ok(scope_access(state, user, scope).await? >= Access::Read),
    }
}

/// File `id` if the caller may read its conversation or project now; otherwise 404, the same
/// answer as for an id that does not exist, and an audit row.
pub async fn readable_file(state: &AppState, who: &AuthUser, id: &str) -> Result<FileInfo, AppError> {
    if let Some(f) = state.store.file(id).await?
        && may_read_file(state, who.id(), &f).await?
    {
        return Ok(f);
    }
    // The id comes from the client: keep the log row bounded.
    let shown: String = id.chars().take(80).collect();
    let err = AppError::NotFound(format!("no file {shown}"));
    Err(refuse(state, who, Event::FileDownload, format!("file:{shown}"), err).await)
}

/// How often the relay looks for abandoned uploads.
pub const SWEEP_EVERY: std::time::Duration = std::time::Duration::from_secs(3600);

/// Delete unfinished uploads that received nothing for `idle_ms`: their part files (which
/// otherwise fill the disk with halves of files nobody will finish) and their rows. An upload a
/// request is writing right now is left for the next sweep. A client that comes back later finds
/// its upload gone (404) and sends the file again from the start. Returns how many were swept.
pub async fn sweep_abandoned_uploads(state: &AppState, idle_ms: i64) -> Result<usize, AppError> {
    let before = now_ms() - idle_ms;
    let mut swept = 0;
    loop {
        let ids = state.store.abandoned_uploads(before, 500).await?;
        let batch = ids.len();
        let mut progressed = false;
        for id in ids {
            // Holding the part's lock: no chunk can land between the check and the delete.
            let Some(_part) = state.blobs.lock_part(&id) else { continue };
            if state.store.delete_abandoned_upload(&id, before).await? {
                state.blobs.remove_part(&id).await?;
                swept += 1;
                progressed = true;
            }
        }
        if batch < 500 || !progressed {
            break;
        }
    }
    if swept > 0 {
        state
            .store
            .audit(None, None, Event::FileUploadSwept.as_str(), false, &format!("{swept} abandoned uploads"))
            .await?;
    }
    Ok(swept)
}

/// Sweep abandoned uploads every [`SWEEP_EVERY`] for the life of the relay.
pub fn start_sweeper(state: &AppState) {
    let state = state.clone();
    tokio::spawn(async move {
        let idle_ms = state.config.abandoned_upload_hours.saturating_mul(3600 * 1000) as i64;
        let mut tick = tokio::time::interval(SWEEP_EVERY);
        loop {
            tick.tick().await;
            match sweep_abandoned_uploads(&state, idle_ms).await {
                Ok(0) => {}
                Ok(n) => tracing::info!("swept {n} abandoned uploads"),
                Err(e) => tracing::warn!("sweeping abandoned uploads: {e}"),
            }
        }
    });
}
