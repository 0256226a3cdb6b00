//! Files in chat, at the relay: chunked uploads that resume where they stopped (after a dropped
//! connection and after a crash), offsets and hashes checked, the size limit enforced before any
//! byte is stored, downloads only for whoever may read the conversation now, names that cannot
//! reach outside the data directory, uploaded HTML and SVG served inert, the same bytes stored
//! once, and a large upload with flat memory.
//!
//! The large upload is 100 MB in 4 MiB chunks (under a second in a debug build).

mod common;

use common::*;
use qiao_model::api::{ApiError, ChannelSummary, FileInfo, FileScope, FileSettings, UploadState};
use qiao_model::files::{DEFAULT_MAX_UPLOAD_BYTES, MAX_CHUNK_BYTES};
use qiao_model::ids::ChannelId;
use rand::{RngCore, SeedableRng};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// `cargo test` runs a file's tests as threads of one process; the memory test must not count
/// the others' buffers (nextest runs each test in its own process anyway).
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

const CHUNK: usize = MAX_CHUNK_BYTES;

fn sha256(b: &[u8]) -> String {
    hex::encode(Sha256::digest(b))
}

/// `n` bytes that differ from test to test (`seed`) and compress badly.
fn random_bytes(seed: u64, n: usize) -> Vec<u8> {
    let mut b = vec![0u8; n];
    rand::rngs::StdRng::seed_from_u64(seed).fill_bytes(&mut b);
    b
}

fn data_dir(relay: &Relay) -> PathBuf {
    relay.state.config.data_dir.clone()
}

/// Every regular file under `dir`.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).expect("read dir") {
            let p = e.expect("dir entry").path();
            if p.is_dir() { todo.push(p) } else { out.push(p) }
        }
    }
    out
}

async fn start(relay: &Relay, user: &User, channel: &ChannelId, name: &str, mime: &str, bytes: &[u8]) -> Reply {
    let body = serde_json::json!({
        "channel": channel, "name": name, "size": bytes.len(), "mime": mime, "sha256": sha256(bytes),
    });
    relay.post("/api/uploads", Some(&user.token), body).await
}

async fn put(relay: &Relay, user: &User, id: &str, offset: u64, chunk: &[u8]) -> RawReply {
    let path = format!("/api/uploads/{id}?offset={offset}");
    http_bytes(relay.addr, "PUT", &path, Some(&user.token), &[("Content-Type", "application/octet-stream")], chunk)
        .await
}

/// Like [`put`], waiting while the relay still holds the upload for a request that broke off.
async fn put_when_free(relay: &Relay, user: &User, id: &str, offset: u64, chunk: &[u8]) -> RawReply {
    let deadline = Instant::now() + STEP;
    loop {
        let r = put(relay, user, id, offset, chunk).await;
        if r.status != 409 || r.json::<ApiError>().code != "conflict" || Instant::now() > deadline {
            return r;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
}

async fn complete(relay: &Relay, user: &User, id: &str) -> Reply {
    relay.post(&format!("/api/uploads/{id}/complete"), Some(&user.token), serde_json::json!({})).await
}

async fn state(relay: &Relay, user: &User, id: &str) -> Reply {
    relay.get(&format!("/api/uploads/{id}"), Some(&user.token)).await
}

/// Upload `bytes` whole, in chunks; the stored file.
async fn upload(relay: &Relay, user: &User, channel: &ChannelId, name: &str, mime: &str, bytes: &[u8]) -> FileInfo {
    let r = start(relay, user, channel, name, mime, bytes).await;
    assert_eq!(r.status, 200, "start {name}: {}", r.text());
    let st: UploadState = r.json();
    if let Some(f) = st.file {
        return f;
    }
    for (i, chunk) in bytes.chunks(CHUNK).enumerate() {
        let r = put(relay, user, &st.id, (i * CHUNK) as u64, chunk).await;
        assert_eq!(r.status, 200, "chunk {i} of {name}: {}", r.text());
    }
    let r = complete(relay, user, &st.id).await;
    assert_eq!(r.status, 200, "complete {name}: {}", r.text());
    r.json()
}

async fn download(relay: &Relay, user: &User, id: &str, headers: &[(&str, &str)]) -> RawReply {
    http_bytes(relay.addr, "GET", &format!("/api/files/{id}"), Some(&user.token), headers, &[]).await
}

/// A private channel of `owner` with `members`.
async fn private_channel(relay: &Relay, owner: &User, members: &[&User]) -> ChannelSummary {
    let ids: Vec<_> = members.iter().map(|m| m.id).collect();
    let r = relay
        .post(
            "/api/channels",
            Some(&owner.token),
            serde_json::json!({ "name": "机密", "private": true, "members": ids }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()
}

/// Start a chunk and break the connection after `sent` of its bytes, like a dropped network.
async fn drop_mid_chunk(relay: &Relay, user: &User, id: &str, offset: u64, chunk: &[u8], sent: usize) {
    use tokio::io::AsyncWriteExt;
    let head = format!(
        "PUT /api/uploads/{id}?offset={offset} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {}\r\nContent-Length: {}\r\n\r\n",
        relay.addr,
        user.token,
        chunk.len()
    );
    let mut s = tokio::net::TcpStream::connect(relay.addr).await.expect("connect");
    s.write_all(head.as_bytes()).await.expect("head");
    s.write_all(&chunk[..sent]).await.expect("part of the body");
    s.flush().await.expect("flush");
    drop(s);
}

#[tokio::test]
async fn a_chunked_upload_resumes_after_a_drop_and_a_crash_and_downloads_intact() {
    let _serial = SERIAL.lock().await;
    let relay = Relay::start().await;
    let admin = relay.admin().await;
    let general = relay.general(&admin).await;
    let bytes = random_bytes(1, 3 * CHUNK + 12_345);
    let r = start(&relay, &admin, &general.id, "report.bin", "application/pdf", &bytes).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let st: UploadState = r.json();
    assert_eq!((st.received, st.size, st.file.is_none()), (0, bytes.len() as u64, true));
    let id = st.id.clone();
    assert!(id.len() >= 32, "upload ids are long random strings: {id}");

    // First chunk; the second breaks off halfway: only the first counts.
    let r = put(&relay, &admin, &id, 0, &bytes[..CHUNK]).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json::<UploadState>().received, CHUNK as u64);
    drop_mid_chunk(&relay, &admin, &id, CHUNK as u64, &bytes[CHUNK..2 * CHUNK], CHUNK / 2).await;
    let st: UploadState = state(&relay, &admin, &id).await.json();
    assert_eq!(st.received, CHUNK as u64, "a broken chunk is not acknowledged");
    let r = put_when_free(&relay, &admin, &id, st.received, &bytes[CHUNK..2 * CHUNK]).await;
    assert_eq!(r.status, 200, "resume at the reported offset: {}", r.text());

    // The third breaks off too, and the relay crashes: acknowledged chunks survive it.
    drop_mid_chunk(&relay, &admin, &id, 2 * CHUNK as u64, &bytes[2 * CHUNK..3 * CHUNK], CHUNK / 3).await;
    let relay = relay.restart().await;
    let st: UploadState = state(&relay, &admin, &id).await.json();
    assert_eq!(st.received, 2 * CHUNK as u64, "acknowledged chunks survive a crash");
    for (i, chunk) in bytes[2 * CHUNK..].chunks(CHUNK).enumerate() {
        let r = put(&relay, &admin, &id, (2 * CHUNK + i * CHUNK) as u64, chunk).await;
        assert_eq!(r.status, 200, "{}", r.text());
    }
    let r = complete(&relay, &admin, &id).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let file: FileInfo = r.json();
    assert_eq!(
        (file.size, file.sha256.as_str(), file.scope.clone()),
        (bytes.len() as u64, &*sha256(&bytes), FileScope::Channel(general.id))
    );
    assert_ne!(file.id, id);
    // Completing again (a lost answer) gives the same file; the state names it.
    assert_eq!(complete(&relay, &admin, &id).await.json::<FileInfo>(), file);
    assert_eq!(state(&relay, &admin, &id).await.json::<UploadState>().file, Some(file.clone()));

    let d = download(&relay, &admin, &file.id, &[]).await;
    assert_eq!(d.status, 200);
    assert_eq!(d.body.len(), bytes.len());
    assert!(d.body == bytes, "the download is the uploaded bytes");
    assert_eq!(sha256(&d.body), file.sha256);
    let meta: FileInfo = relay.get(&format!("/api/files/{}/meta", file.id), Some(&admin.token)).await.json();
    assert_eq!(meta, file);
    // A range, for resumed downloads and seeking.
    let d = download(&relay, &admin, &file.id, &[("Range", "bytes=100-199")]).await;
    assert_eq!(d.status, 206);
    assert_eq!(d.body, bytes[100..200]);
    assert_eq!(d.header("content-range"), Some(format!("bytes 100-199/{}", bytes.len()).as_str()));
    // Nothing is left of the upload but the blob.
    let left = files_under(&data_dir(&relay).join("uploads"));
    assert!(left.is_empty(), "part files left: {left:?}");
}

#[tokio::test]
async fn chunks_at_the_wrong_offset_or_past_the_end_are_refused() {
    let _serial = SERIAL.lock().await;
    let relay = Relay::start().await;
    let admin = relay.admin().await;
    let general = relay.general(&admin).await;
    let bytes = random_bytes(2, 1000);
    let st: UploadState = start(&relay, &admin, &general.id, "a.txt", "text/plain", &bytes).await.json();

    let r = put(&relay, &admin, &st.id, 10, &bytes[10..20]).await;
    assert_eq!(r.status, 409, "{}", r.text());
    let err: ApiError = r.json();
    let at: UploadState = r.json();
    assert_eq!((err.code.as_str(), at.received), ("upload_offset", 0), "the refusal says where to resume");
    assert!(err.message.contains("offset=0"), "{}", err.message);

    assert_eq!(put(&relay, &admin, &st.id, 0, &bytes[..600]).await.status, 200);
    // The same chunk again (a retry whose answer was lost): refused, with the new position.
    let r = put(&relay, &admin, &st.id, 0, &bytes[..600]).await;
    assert_eq!((r.status, r.json::<UploadState>().received), (409, 600));
    // Completing early: refused, nothing lost.
    let r = complete(&relay, &admin, &st.id).await;
    assert_eq!((r.status, r.json::<UploadState>().received), (409, 600), "{}", r.text());
    // More than the announced size: refused, and nothing of it kept.
    let r = put(&relay, &admin, &st.id, 600, &random_bytes(3, 401)).await;
    assert_eq!(r.status, 413, "{}", r.text());
    assert_eq!(state(&relay, &admin, &st.id).await.json::<UploadState>().received, 600);
    // No offset at all.
    let r = http_bytes(relay.addr, "PUT", &format!("/api/uploads/{}", st.id), Some(&admin.token), &[], b"x").await;
    assert_eq!(r.status, 400, "{}", r.text());

    assert_eq!(put(&relay, &admin, &st.id, 600, &bytes[600..]).await.status, 200);
    assert_eq!(complete(&relay, &admin, &st.id).await.status, 200);
    // A finished upload takes nothing more.
    let r = put(&relay, &admin, &st.id, 1000, b"x").await;
    assert_eq!(r.status, 409, "{}", r.text());
    assert!(r.json::<UploadState>().file.is_some());
}

#[tokio::test]
async fn bytes_that_do_not_hash_to_the_announcement_are_discarded() {
    let _serial = SERIAL.lock().await;
    let relay = Relay::start().await;
    let admin = relay.admin().await;
    let general = relay.general(&admin).await;
    let announced = random_bytes(4, 5000);
    let mut sent = announced.clone();
    sent[4321] ^= 1;
    let st: UploadState =
        start(&relay, &admin, &general.id, "a.bin", "application/octet-stream", &announced).await.json();
    assert_eq!(put(&relay, &admin, &st.id, 0, &sent).await.status, 200);
    let r = complete(&relay, &admin, &st.id).await;
    assert_eq!(r.status, 422, "{}", r.text());
    let err: ApiError = r.json();
    assert_eq!(err.code, "hash_mismatch");
    assert!(err.message.contains(&sha256(&sent)), "{}", err.message);
    // Discarded: no upload, no part file, no blob, one refusal in the log.
    assert_eq!(state(&relay, &admin, &st.id).await.status, 404);
    let dir = data_dir(&relay);
    assert!(files_under(&dir.join("uploads")).is_empty() && files_under(&dir.join("blobs")).is_empty());
    assert_eq!(relay.refused_audit("file.upload").await.len(), 1);
    // A malformed hash is refused at the start.
    let body = serde_json::json!({ "channel": general.id, "name": "a", "size": 1, "mime": "", "sha256": "ABC" });
    assert_eq!(relay.post("/api/uploads", Some(&admin.token), body).await.status, 400);
}

#[tokio::test]
async fn over_the_limit_is_refused_before_any_byte_is_stored() {
    let _serial = SERIAL.lock().await;
    let relay = Relay::start().await;
    let admin = relay.admin().await;
    let emp = relay.employee("emp").await;
    let general = relay.general(&admin).await;
    let dir = data_dir(&relay);
    let nothing_stored = || files_under(&dir.join("uploads")).is_empty() && files_under(&dir.join("blobs")).is_empty();

    let settings: FileSettings = relay.get("/api/settings/files", Some(&emp.token)).await.json();
    assert_eq!(settings.max_upload_bytes, DEFAULT_MAX_UPLOAD_BYTES);
    let body = serde_json::json!({
        "channel": general.id, "name": "huge.iso", "size": DEFAULT_MAX_UPLOAD_BYTES + 1,
        "mime": "application/x-iso9660-image", "sha256": "0".repeat(64),
    });
    let r = relay.post("/api/uploads", Some(&emp.token), body).await;
    assert_eq!(r.status, 413, "{}", r.text());
    let err: ApiError = r.json();
    assert_eq!(err.code, "too_large");
    assert!(
        err.message.contains(&DEFAULT_MAX_UPLOAD_BYTES.to_string()),
        "the message names the limit: {}",
        err.message
    );
    assert!(nothing_stored());

    // Only a super admin changes the limit; the change is audited.
    let set = |token: String, max: u64| {
        let addr = relay.addr;
        async move {
            let body = serde_json::json!({ "max_upload_bytes": max }).to_string();
            let h = [("Content-Type", "application/json")];
            http_bytes(addr, "PUT", "/api/admin/settings/files", Some(&token), &h, body.as_bytes()).await
        }
    };
    assert_eq!(set(emp.token.clone(), 1 << 30).await.status, 403);
    assert_eq!(set(admin.token.clone(), 0).await.status, 400);
    let r = set(admin.token.clone(), 1000).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(relay.get("/api/settings/files", Some(&emp.token)).await.json::<FileSettings>().max_upload_bytes, 1000);
    let rows: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'settings.files' AND outcome = 'ok'")
            .fetch_one(relay.state.store.pool())
            .await
            .expect("audit");
    assert_eq!(rows, 1);

    let r = start(&relay, &emp, &general.id, "a.bin", "", &random_bytes(5, 1001)).await;
    assert_eq!(r.status, 413, "{}", r.text());
    assert!(nothing_stored());
    upload(&relay, &emp, &general.id, "b.bin", "", &random_bytes(5, 1000)).await;
    assert!(files_under(&dir.join("uploads")).is_empty());

    // A chunk larger than any chunk may be is refused from its announced length, unread.
    assert_eq!(set(admin.token.clone(), 10 << 20).await.status, 200);
    let big = random_bytes(6, CHUNK + 1);
    let st: UploadState = start(&relay, &emp, &general.id, "c.bin", "", &big).await.json();
    let r = put(&relay, &emp, &st.id, 0, &big).await;
    assert_eq!((r.status, r.json::<ApiError>().code.as_str()), (413, "too_large"), "{}", r.text());
    assert!(files_under(&dir.join("uploads")).is_empty(), "nothing of the chunk was stored");
    assert_eq!(state(&relay, &emp, &st.id).await.json::<UploadState>().received, 0);
}

#[tokio::test]
async fn only_those_who_may_read_a_conversation_get_its_files() {
    let _serial = SERIAL.lock().await;
    let relay = Relay::start().await;
    let admin = relay.admin().await;
    let mia = relay.employee("mia").await;
    let oz = relay.employee("oz").await;
    let secret = private_channel(&relay, &admin, &[&mia]).await;
    let bytes = b"quarterly numbers".to_vec();

    // An outsider cannot upload into it: the same 404 as for a conversation that does not exist.
    let r = start(&relay, &oz, &secret.id, "x.txt", "text/plain", &bytes).await;
    assert_eq!(r.status, 404, "{}", r.text());
    let nowhere = start(&relay, &oz, &ChannelId("cnope".into()), "x.txt", "text/plain", &bytes).await;
    assert_eq!((nowhere.status, nowhere.json::<ApiError>().code), (404, r.json::<ApiError>().code));

    let file = upload(&relay, &mia, &secret.id, "numbers.txt", "text/plain", &bytes).await;
    let plan = b"the admin's plan".to_vec();
    let admins = upload(&relay, &admin, &secret.id, "plan.txt", "text/plain", &plan).await;
    assert_eq!(download(&relay, &mia, &admins.id, &[]).await.body, plan);
    // Nor may the outsider see or continue someone else's upload.
    let up: UploadState = start(&relay, &mia, &secret.id, "more.txt", "text/plain", b"more").await.json();
    assert_eq!(state(&relay, &oz, &up.id).await.status, 404);
    assert_eq!(put(&relay, &oz, &up.id, 0, b"more").await.status, 404);
    assert_eq!(complete(&relay, &oz, &up.id).await.status, 404);

    // Download: members yes, the outsider gets exactly what an unknown id gets.
    assert_eq!(download(&relay, &mia, &file.id, &[]).await.body, bytes);
    assert_eq!(download(&relay, &admin, &file.id, &[]).await.status, 200);
    let refused = download(&relay, &oz, &file.id, &[]).await;
    let unknown = download(&relay, &oz, "f00000000000000000000000000000000", &[]).await;
    assert_eq!(refused.status, 404);
    assert_eq!((unknown.status, unknown.json::<ApiError>().code), (404, refused.json::<ApiError>().code));
    assert!(!refused.text().contains("quarterly"));
    assert_eq!(relay.get(&format!("/api/files/{}/meta", file.id), Some(&oz.token)).await.status, 404);
    let audited = relay.refused_audit("file.download").await;
    assert_eq!(audited.len(), 3, "every refused download is in the log: {audited:?}");
    // Without a session: 401.
    assert_eq!(http_bytes(relay.addr, "GET", &format!("/api/files/{}", file.id), None, &[], &[]).await.status, 401);

    // Removed from the channel, Mia loses its files at once.
    let r = http(
        relay.addr,
        "DELETE",
        &format!("/api/channels/{}/members/{}", secret.id, mia.id),
        Some(&admin.token),
        None,
    )
    .await;
    assert_eq!(r.status, 204, "{}", r.text());
    assert_eq!(download(&relay, &mia, &file.id, &[]).await.status, 404);
    assert_eq!(relay.get(&format!("/api/files/{}/meta", file.id), Some(&mia.token)).await.status, 404);
    // Her unfinished upload cannot be completed into it any more either.
    assert_eq!(put(&relay, &mia, &up.id, 0, b"more").await.status, 200);
    assert_eq!(complete(&relay, &mia, &up.id).await.status, 404);
    // Nor can she get someone else's file back by announcing its hash elsewhere: she must send
    // the bytes (her own upload she may announce again: she had those bytes).
    let general = relay.general(&mia).await;
    let again: UploadState = start(&relay, &mia, &general.id, "p.txt", "text/plain", &plan).await.json();
    assert!(again.file.is_none(), "no instant copy of bytes she may no longer read");
    let own: UploadState = start(&relay, &mia, &general.id, "n.txt", "text/plain", &bytes).await.json();
    assert!(own.file.is_some());
}

#[tokio::test]
async fn a_name_with_a_path_stays_a_name() {
    let _serial = SERIAL.lock().await;
    let relay = Relay::start().await;
    let admin = relay.admin().await;
    let general = relay.general(&admin).await;
    let dir = data_dir(&relay);
    let outside = [dir.join("../x"), dir.join("../../x"), dir.join("uploads/../../x")];
    let before: Vec<bool> = outside.iter().map(|p| p.exists()).collect();

    let file = upload(&relay, &admin, &general.id, "../../x", "text/plain", b"traversal").await;
    assert_eq!(file.name, "x");
    let file2 = upload(&relay, &admin, &general.id, "..\\..\\evil\r\nSet-Cookie: a=b.txt", "text/plain", b"crlf").await;
    assert_eq!(file2.name, "evilSet-Cookie: a=b.txt");
    let d = download(&relay, &admin, &file2.id, &[]).await;
    assert_eq!(d.status, 200);
    assert!(d.header("set-cookie").is_none(), "a name cannot add a header");
    assert_eq!(
        d.header("content-disposition"),
        Some("attachment; filename=\"evilSet-Cookie: a=b.txt\"; filename*=UTF-8''evilSet-Cookie%3A%20a%3Db.txt")
    );
    let after: Vec<bool> = outside.iter().map(|p| p.exists()).collect();
    assert_eq!(before, after, "nothing was written outside the data directory");
    // Everything stored is a content-addressed blob: no file is named after what a client sent.
    let stored = files_under(&dir.join("blobs"));
    assert_eq!(stored.len(), 2);
    for p in stored {
        let name = p.file_name().and_then(|n| n.to_str()).expect("name");
        assert!(name == sha256(b"traversal") || name == sha256(b"crlf"), "{p:?}");
    }
}

#[tokio::test]
async fn active_content_is_served_as_an_inert_attachment() {
    let _serial = SERIAL.lock().await;
    let relay = Relay::start().await;
    let admin = relay.admin().await;
    let general = relay.general(&admin).await;
    let svg = br#"<svg xmlns="http://www.w3.org/2000/svg" onload="alert(document.cookie)"/>"#;
    let html = b"<html><script>fetch('/api/me').then(r=>r.text()).then(alert)</script></html>";
    // A PNG signature and an IHDR chunk start: enough to be a PNG to the eye of a sniffer.
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89";
    let cases: [(&str, &str, &[u8], bool); 4] = [
        ("logo.svg", "image/svg+xml", svg, false),
        ("page.html", "text/html", html, false),
        ("cat.png", "image/PNG", png, true),
        // A type that lies about the name: it is the type that decides, and HTML is never inline.
        ("photo.png", "text/html; charset=utf-8", b"<script>alert(1)</script>", false),
    ];
    for (name, mime, bytes, inline) in cases {
        let f = upload(&relay, &admin, &general.id, name, mime, bytes).await;
        let d = download(&relay, &admin, &f.id, &[]).await;
        assert_eq!(d.status, 200, "{name}");
        assert_eq!(d.body, bytes, "{name}");
        let ctype = if inline { "image/png" } else { "application/octet-stream" };
        assert_eq!(d.header("content-type"), Some(ctype), "{name}");
        let disposition = d.header("content-disposition").unwrap_or_default();
        let kind = if inline { "inline;" } else { "attachment;" };
        assert!(disposition.starts_with(kind), "{name}: {disposition}");
        assert!(disposition.contains(&format!("filename*=UTF-8''{name}")), "{name}: {disposition}");
        assert_eq!(d.header("x-content-type-options"), Some("nosniff"), "{name}");
        assert_eq!(d.header("content-security-policy"), Some("sandbox; default-src 'none'"), "{name}");
        let cache = d.header("cache-control").unwrap_or_default();
        assert!(cache.starts_with("private, max-age="), "{name}: {cache}");
    }
}

#[tokio::test]
async fn the_same_bytes_are_stored_once() {
    let _serial = SERIAL.lock().await;
    let relay = Relay::start().await;
    let admin = relay.admin().await;
    let mia = relay.employee("mia").await;
    let oz = relay.employee("oz").await;
    let general = relay.general(&admin).await;
    let secret = private_channel(&relay, &admin, &[&mia]).await;
    let bytes = random_bytes(6, CHUNK + 10);

    let first = upload(&relay, &admin, &secret.id, "a.bin", "", &bytes).await;
    // Someone who cannot see that file announces the same hash: they must send the bytes (a hash
    // alone is no proof of having them); the bytes are checked, then dropped for the blob.
    let r = start(&relay, &oz, &general.id, "b.bin", "", &bytes).await;
    assert!(r.json::<UploadState>().file.is_none(), "no instant copy for someone who cannot see the bytes");
    let from_oz = upload(&relay, &oz, &general.id, "b.bin", "", &bytes).await;
    // Someone who may read the first file's conversation: done at once, no bytes sent.
    let dm: ChannelSummary =
        relay.post("/api/dms", Some(&mia.token), serde_json::json!({ "user": admin.id })).await.json();
    let st: UploadState = start(&relay, &mia, &dm.id, "c.bin", "", &bytes).await.json();
    let from_mia = st.file.expect("completed at once");
    assert_eq!(st.received, st.size);
    assert_eq!((from_mia.sha256.as_str(), from_mia.scope.clone()), (first.sha256.as_str(), FileScope::Channel(dm.id)));
    // The first uploader again, elsewhere: at once too.
    let again = upload(&relay, &admin, &general.id, "d.bin", "", &bytes).await;

    let ids: std::collections::HashSet<_> =
        [&first, &from_oz, &from_mia, &again].iter().map(|f| f.id.clone()).collect();
    assert_eq!(ids.len(), 4, "a file per upload, each with its own conversation's access");
    let blobs = files_under(&data_dir(&relay).join("blobs"));
    assert_eq!(blobs.len(), 1, "{blobs:?}");
    assert!(files_under(&data_dir(&relay).join("uploads")).len() <= 1, "only the abandoned start may have a part");
    for f in [&first, &from_oz, &from_mia, &again] {
        assert_eq!(download(&relay, &admin, &f.id, &[]).await.body, bytes);
    }
}

#[tokio::test]
async fn a_large_upload_keeps_memory_flat() {
    let _serial = SERIAL.lock().await;
    let total: usize = 100 << 20;
    let chunks = total / CHUNK;
    let chunk_bytes = |i: usize, buf: &mut Vec<u8>| {
        rand::rngs::StdRng::seed_from_u64(1000 + i as u64).fill_bytes(buf);
    };
    let mut buf = vec![0u8; CHUNK];
    let mut h = Sha256::new();
    for i in 0..chunks {
        chunk_bytes(i, &mut buf);
        h.update(&buf);
    }
    let sha = hex::encode(h.finalize());

    let relay = Relay::start().await;
    let admin = relay.admin().await;
    let general = relay.general(&admin).await;
    let body = serde_json::json!({
        "channel": general.id, "name": "big.bin", "size": total, "mime": "application/octet-stream", "sha256": sha,
    });
    let st: UploadState = relay.post("/api/uploads", Some(&admin.token), body).await.json();
    let started = Instant::now();
    let before = rss_bytes();
    let mut peak = before;
    for i in 0..chunks {
        chunk_bytes(i, &mut buf);
        let r = put(&relay, &admin, &st.id, (i * CHUNK) as u64, &buf).await;
        assert_eq!(r.status, 200, "chunk {i}: {}", r.text());
        peak = peak.max(rss_bytes());
    }
    let sent = started.elapsed();
    let r = complete(&relay, &admin, &st.id).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let file: FileInfo = r.json();
    peak = peak.max(rss_bytes());
    assert_eq!((file.size, file.sha256.as_str()), (total as u64, sha.as_str()));
    let blob = data_dir(&relay).join("blobs").join(&sha[..2]).join(&sha);
    assert_eq!(std::fs::metadata(&blob).expect("the blob").len(), total as u64);
    let grown = peak.saturating_sub(before);
    println!(
        "{} MB in {chunks} chunks: sent in {:.1} s, completed in {:.1} s; RSS {} MB -> peak {} MB (+{} MB)",
        total >> 20,
        sent.as_secs_f64(),
        started.elapsed().as_secs_f64(),
        before >> 20,
        peak >> 20,
        grown >> 20
    );
    assert!(grown < 30 << 20, "the relay grew by {} MB for a {} MB upload", grown >> 20, total >> 20);
}

#[tokio::test]
async fn files_follow_the_chat_module_toggle() {
    let _serial = SERIAL.lock().await;
    let relay = Relay::start().await;
    let admin = relay.admin().await;
    let general = relay.general(&admin).await;
    let file = upload(&relay, &admin, &general.id, "a.txt", "text/plain", b"module").await;
    let toggle = |on: bool| {
        let (addr, token) = (relay.addr, admin.token.clone());
        async move {
            let body = serde_json::json!({ "chat": on }).to_string();
            let h = [("Content-Type", "application/json")];
            let r = http_bytes(addr, "PUT", "/api/admin/modules", Some(&token), &h, body.as_bytes()).await;
            assert_eq!(r.status, 200, "{}", r.text());
        }
    };
    toggle(false).await;
    let r = start(&relay, &admin, &general.id, "b.txt", "text/plain", b"off").await;
    assert_eq!(r.status, 403, "{}", r.text());
    assert_eq!(download(&relay, &admin, &file.id, &[]).await.status, 404, "like the chat documents");
    toggle(true).await;
    assert_eq!(download(&relay, &admin, &file.id, &[]).await.body, b"module");
}

#[tokio::test]
async fn a_forwarded_file_follows_the_conversation_it_was_forwarded_into() {
    let _one = SERIAL.lock().await;
    let relay = Relay::start().await;
    let owner = relay.employee("owner").await;
    let insider = relay.employee("insider").await;
    let outsider = relay.employee("outsider").await;
    let source = private_channel(&relay, &owner, &[&insider]).await;
    let target = private_channel(&relay, &owner, &[&outsider]).await;
    let bytes = random_bytes(77, 50_000);
    let file = upload(&relay, &insider, &source.id, "方案.docx", "application/octet-stream", &bytes).await;

    // The outsider cannot read the original, nor forward it anywhere.
    assert_eq!(download(&relay, &outsider, &file.id, &[]).await.status, 404);
    let r = relay
        .post(
            &format!("/api/files/{}/forward", file.id),
            Some(&outsider.token),
            serde_json::json!({ "channel": target.id }),
        )
        .await;
    assert_eq!(r.status, 404, "{}", r.text());
    // The insider may read the file but may not write the target: refused too.
    let r = relay
        .post(
            &format!("/api/files/{}/forward", file.id),
            Some(&insider.token),
            serde_json::json!({ "channel": target.id }),
        )
        .await;
    assert_eq!(r.status, 404, "{}", r.text());

    // The owner (in both) forwards it: the copy belongs to the target, the bytes are shared.
    let r = relay
        .post(
            &format!("/api/files/{}/forward", file.id),
            Some(&owner.token),
            serde_json::json!({ "channel": target.id }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let copy: FileInfo = r.json();
    assert_ne!(copy.id, file.id);
    assert_eq!(
        (copy.scope.clone(), copy.sha256.clone(), copy.name.clone()),
        (FileScope::Channel(target.id.clone()), file.sha256.clone(), file.name.clone())
    );
    let got = download(&relay, &outsider, &copy.id, &[]).await;
    assert_eq!(got.status, 200);
    assert_eq!(sha256(&got.body), sha256(&bytes));
    assert_eq!(download(&relay, &outsider, &file.id, &[]).await.status, 404, "the original stays closed to them");
    assert_eq!(download(&relay, &insider, &copy.id, &[]).await.status, 404, "the copy follows the target's members");
}

#[tokio::test]
async fn uploads_abandoned_for_days_are_swept_and_the_file_goes_again() {
    let _serial = SERIAL.lock().await;
    let relay = Relay::start().await;
    let admin = relay.admin().await;
    let general = relay.general(&admin).await;
    let dir = data_dir(&relay);
    let bytes = random_bytes(40, 3 * CHUNK);

    // Half an upload, then nothing for a week.
    let st: UploadState =
        start(&relay, &admin, &general.id, "半截.bin", "application/octet-stream", &bytes).await.json();
    assert_eq!(put(&relay, &admin, &st.id, 0, &bytes[..CHUNK]).await.status, 200);
    let finished =
        upload(&relay, &admin, &general.id, "完整.bin", "application/octet-stream", &random_bytes(41, 10)).await;
    let week_ago = qiao_server::store::now_ms() - 8 * 24 * 3600 * 1000;
    sqlx::query("UPDATE uploads SET touched_at = ?, created_at = ?")
        .bind(week_ago)
        .bind(week_ago)
        .execute(relay.state.store.pool())
        .await
        .unwrap();
    // An upload that is still moving is kept.
    let fresh: UploadState =
        start(&relay, &admin, &general.id, "新的.bin", "application/octet-stream", &random_bytes(42, CHUNK + 1))
            .await
            .json();
    assert_eq!(files_under(&dir.join("uploads")).len(), 1, "one part file on disk");

    let idle = relay.state.config.abandoned_upload_hours as i64 * 3600 * 1000;
    assert_eq!(qiao_server::actions::files::sweep_abandoned_uploads(&relay.state, idle).await.unwrap(), 1);
    assert!(files_under(&dir.join("uploads")).is_empty(), "the half file is gone from disk");
    assert_eq!(state(&relay, &admin, &st.id).await.status, 404, "the swept upload is gone");
    assert_eq!(put(&relay, &admin, &st.id, CHUNK as u64, &bytes[CHUNK..2 * CHUNK]).await.status, 404);
    assert_eq!(state(&relay, &admin, &fresh.id).await.status, 200, "a recent upload is kept");
    assert_eq!(download(&relay, &admin, &finished.id, &[]).await.status, 200, "a finished file is kept");
    assert_eq!(qiao_server::actions::files::sweep_abandoned_uploads(&relay.state, idle).await.unwrap(), 0);

    // The client starts again and the file arrives whole.
    let again = upload(&relay, &admin, &general.id, "半截.bin", "application/octet-stream", &bytes).await;
    assert_eq!(download(&relay, &admin, &again.id, &[]).await.body, bytes);
}

#[tokio::test]
async fn a_projects_files_are_for_those_who_may_read_its_board() {
    let _serial = SERIAL.lock().await;
    let relay = Relay::start().await;
    let ann = relay.employee("ann").await;
    let ben = relay.employee("ben").await;
    let eve = relay.employee("eve").await;
    let r = relay
        .post(
            "/api/projects",
            Some(&ann.token),
            serde_json::json!({ "name": "机密项目", "members": [ben.id], "visibility": "private" }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let p: qiao_model::api::ProjectSummary = r.json();
    let bytes = random_bytes(50, CHUNK + 10);
    let body = |project: &str| serde_json::json!({ "project": project, "name": "方案.pdf", "size": bytes.len(), "mime": "application/pdf", "sha256": sha256(&bytes) });

    // A member attaches a file to the project; the other member downloads it.
    let st: UploadState = {
        let r = relay.post("/api/uploads", Some(&ann.token), body(p.id.as_str())).await;
        assert_eq!(r.status, 200, "{}", r.text());
        r.json()
    };
    for (i, chunk) in bytes.chunks(CHUNK).enumerate() {
        assert_eq!(put(&relay, &ann, &st.id, (i * CHUNK) as u64, chunk).await.status, 200);
    }
    let r = complete(&relay, &ann, &st.id).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let f: FileInfo = r.json();
    assert_eq!(f.scope, FileScope::Project(p.id.clone()));
    assert_eq!(download(&relay, &ben, &f.id, &[]).await.body, bytes);

    // An outsider neither uploads into it nor downloads from it, even knowing the bytes.
    let r = relay.post("/api/uploads", Some(&eve.token), body(p.id.as_str())).await;
    assert_eq!(r.status, 404, "{}", r.text());
    assert_eq!(download(&relay, &eve, &f.id, &[]).await.status, 404);
    // Removed from the project, Ben loses its files at once.
    let r =
        http(relay.addr, "DELETE", &format!("/api/projects/{}/members/{}", p.id, ben.id), Some(&ann.token), None).await;
    assert!(r.status < 300, "{}", r.text());
    assert_eq!(download(&relay, &ben, &f.id, &[]).await.status, 404);
    assert_eq!(relay.refused_audit("file.download").await.len(), 2);
}
