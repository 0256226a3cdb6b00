//! An anonymous suggestion leaves nothing in any store that links it to its author.
//!
//! An employee (the *author*) files an anonymous suggestion whose text holds a unique marker;
//! another employee (the *control*) files a signed one with a marker of its own. Then every
//! store the relay has is scanned, each with the same detector for both suggestions:
//!
//! - the author's identifiers: user id, username, display name, session id, and the actor id of
//!   the device they sync from (they upvoted over sync before submitting, so that actor is in
//!   the suggestion box's history — the scan must tell it apart from the suggestion);
//! - **documents and their whole history** (every registered document, every change): a change
//!   holding the marker must be under the relay's own actor, never one
//!   [`qiao_model::actor`] binds to the author, and must hold none of the author's identifiers
//!   (as values, in a vote key, or as its actor); the suggestion object holds no author;
//! - **the database**: every row of every table, read before and after the request. A row that
//!   holds the marker, or that was written or changed while the request ran, must not name the
//!   author (an integer column about a person equal to their id or session, a text or blob
//!   holding their username, display name or actor id); the suggestion box's document chunks
//!   have negative, random row ids while every other document's count up;
//! - **the audit log** (a table of the database, so under the previous rule, and in addition):
//!   the anonymous request adds no audit row at all;
//! - **the log**: everything the relay's code logs at every level (captured from `tracing`), and
//!   every log line written while the request ran must not name the author; no line anywhere
//!   holds the marker;
//! - **files**: every file under the data directory (database, WAL, shared memory, file blobs);
//!   the marker's bytes may appear only in the database and its WAL, where the row scan above
//!   reads them.
//!
//! "In connection" thus means: held by the same stored record as the suggestion (its change, its
//! document object, its database row), or written by the request that filed it. What it does
//! not cover: the suggestion's place in the suggestion box's own causal order (it follows the
//! changes the relay had when it arrived, as any change does), and traffic recorded outside
//! the relay (a reverse proxy's access log).
//!
//! The control proves each detector can fire: its signed suggestion's change and row name it,
//! its request writes an audit row naming it; and the log detector finds the author's id in a
//! line from outside the window (the relay ending the author's connection after a forged vote).

mod common;

use automerge::{ActorId, AutoCommit, ScalarValue};
use common::*;
use qiao_model::actor::{self, actor_for};
use qiao_model::ids::{DocumentId, UserId};
use qiao_model::schema::directory::SERVER_USER;
use qiao_model::schema::suggestions as sug;
use serde_json::json;
use sqlx::{Row, TypeInfo, ValueRef};
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

// --- capturing the relay's log ----------------------------------------------------------------

#[derive(Clone, Default)]
struct LogBuf(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for LogBuf {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl LogBuf {
    fn len(&self) -> usize {
        self.0.lock().unwrap().len()
    }
    fn text(&self, from: usize, to: usize) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()[from..to]).into_owned()
    }
}

/// Everything the relay's crates log, at every level (far more than a production relay, which
/// logs `qiao_server=info,tower_http=warn`).
fn capture_logs() -> LogBuf {
    let buf = LogBuf::default();
    let writer = buf.clone();
    tracing_subscriber::fmt()
        .with_env_filter("qiao_server=trace,tower_http=trace,sqlx=trace,axum=trace,info")
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .init();
    buf
}

// --- who the author is --------------------------------------------------------------------------

struct Person {
    id: UserId,
    username: String,
    display_name: String,
    session: i64,
    actors: Vec<ActorId>,
}

impl Person {
    /// Why `s` names this person, if it does.
    fn in_text(&self, s: &str) -> Option<String> {
        if s.contains(&self.username) {
            return Some(format!("username {}", self.username));
        }
        if s.contains(&self.display_name) {
            return Some(format!("display name {}", self.display_name));
        }
        None
    }

    fn in_bytes(&self, b: &[u8]) -> Option<String> {
        let has = |needle: &[u8]| b.windows(needle.len()).any(|w| w == needle);
        if let Some(why) = self.in_text(&String::from_utf8_lossy(b)) {
            return Some(why);
        }
        for a in &self.actors {
            if has(a.to_bytes()) {
                return Some(format!("actor {a}"));
            }
        }
        // A vote key (`<id>|<user id>`) is looked for in the decoded documents, where keys are
        // keys: in raw bytes `|` and a digit turn up in hashes by chance.
        None
    }

    /// Why a log line names this person, if it does.
    fn in_log_line(&self, line: &str) -> Option<String> {
        if let Some(why) = self.in_text(line) {
            return Some(why);
        }
        let id = self.id.0;
        let s = self.session;
        let patterns = [
            format!("user={id}"),
            format!("user_id={id}"),
            format!("user: {id}"),
            format!("UserId({id})"),
            format!("\"user\":{id}"),
            format!("session={s}"),
            format!("session_id={s}"),
        ];
        patterns.iter().find(|p| line.contains(p.as_str())).map(|p| format!("log pattern {p}"))
    }
}

// --- the database ---------------------------------------------------------------------------------

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Val {
    Null,
    Int(i64),
    Real(String),
    Text(String),
    Blob(Vec<u8>),
}

type DbRow = (String, Vec<(String, Val)>);

async fn all_rows(pool: &sqlx::SqlitePool) -> BTreeSet<DbRow> {
    let tables: Vec<String> = sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        .fetch_all(pool)
        .await
        .unwrap();
    let mut out = BTreeSet::new();
    for t in tables {
        let rows = sqlx::query(&format!("SELECT * FROM \"{t}\"")).fetch_all(pool).await.unwrap();
        for r in rows {
            let mut cols = Vec::new();
            for (i, c) in r.columns().iter().enumerate() {
                use sqlx::Column;
                let raw = r.try_get_raw(i).unwrap();
                let v = if raw.is_null() {
                    Val::Null
                } else {
                    match raw.type_info().name() {
                        "INTEGER" | "BOOLEAN" => Val::Int(r.get::<i64, _>(i)),
                        "REAL" => Val::Real(r.get::<f64, _>(i).to_string()),
                        "TEXT" => Val::Text(r.get::<String, _>(i)),
                        _ => Val::Blob(r.get::<Vec<u8>, _>(i)),
                    }
                };
                cols.push((c.name().to_string(), v));
            }
            out.insert((t.clone(), cols));
        }
    }
    out
}

fn is_person_column(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    ["user", "author", "owner", "by", "actor", "member", "requester", "agent", "voter", "creator"]
        .iter()
        .any(|k| n.contains(k))
}

/// Why `row` names `p`, if it does.
fn row_names(row: &DbRow, p: &Person) -> Option<String> {
    for (col, v) in &row.1 {
        let why = match v {
            Val::Int(i) if *i == p.id.0 && is_person_column(col) => Some(format!("user id in column {col}")),
            Val::Int(i) if *i == p.session && col.to_ascii_lowercase().contains("session") => {
                Some(format!("session id in column {col}"))
            }
            Val::Text(t) => p.in_text(t).or_else(|| p.in_bytes(t.as_bytes())),
            Val::Blob(b) => p.in_bytes(b),
            _ => None,
        };
        if let Some(why) = why {
            return Some(format!("{}.{col}: {why}", row.0));
        }
    }
    None
}

fn row_holds(row: &DbRow, marker: &str) -> bool {
    row.1.iter().any(|(_, v)| match v {
        Val::Text(t) => t.contains(marker),
        Val::Blob(b) => b.windows(marker.len()).any(|w| w == marker.as_bytes()),
        _ => false,
    })
}

// --- documents ----------------------------------------------------------------------------------

/// For every change of every stored document that holds `marker`: its actor, its time, and why
/// it names `p` (if it does).
async fn changes_holding(relay: &Relay, marker: &str, p: &Person) -> Vec<(ActorId, i64, Option<String>)> {
    let ids: Vec<String> =
        sqlx::query_scalar("SELECT id FROM documents").fetch_all(relay.state.store.pool()).await.unwrap();
    let mut out = Vec::new();
    for id in ids {
        let id: DocumentId = id.parse().expect("a document id");
        let Some(kind) = relay.state.store.doc_kind(id).await.unwrap() else { continue };
        let found = relay
            .state
            .registry
            .read_doc(id, &kind, |doc| {
                let mut found = Vec::new();
                for c in doc.get_changes(&[]) {
                    let ex = c.decode();
                    let mut holds = false;
                    let mut why = None;
                    for op in &ex.operations {
                        if let automerge::legacy::OpType::Put(v) = &op.action {
                            match v {
                                ScalarValue::Str(s) if s.contains(marker) => holds = true,
                                ScalarValue::Str(s) => why = why.or_else(|| p.in_text(s)),
                                ScalarValue::Int(i) if *i == p.id.0 => {
                                    why = why.or_else(|| Some(format!("user id as value of {:?}", op.key)))
                                }
                                _ => {}
                            }
                        }
                        if let automerge::legacy::Key::Map(k) = &op.key
                            && k.ends_with(&format!("|{}", p.id.0))
                        {
                            why = why.or_else(|| Some(format!("vote key {k}")));
                        }
                    }
                    if !holds {
                        continue;
                    }
                    if actor::user_of(c.actor_id()) == Some(p.id) || p.actors.contains(c.actor_id()) {
                        why = Some(format!("the change is under the person's actor {}", c.actor_id()));
                    }
                    found.push((c.actor_id().clone(), c.timestamp(), why));
                }
                found
            })
            .await
            .unwrap();
        out.extend(found);
    }
    out
}

// --- files --------------------------------------------------------------------------------------

fn files_holding(dir: &std::path::Path, marker: &str, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let path = e.unwrap().path();
        if path.is_dir() {
            files_holding(&path, marker, out);
        } else if let Ok(bytes) = std::fs::read(&path)
            && bytes.windows(marker.len()).any(|w| w == marker.as_bytes())
        {
            out.push(path);
        }
    }
}

// --- the test -----------------------------------------------------------------------------------

async fn person(relay: &Relay, username: &str, display_name: &str) -> (User, Person) {
    let hash = qiao_server::auth::hash_password(PASSWORD).unwrap();
    relay.state.store.create_user(username, display_name, &hash, qiao_model::acl::Role::Employee).await.unwrap();
    let user = relay.login(username, PASSWORD).await;
    let session: i64 = sqlx::query_scalar("SELECT MAX(id) FROM sessions WHERE user_id = ?")
        .bind(user.id.0)
        .fetch_one(relay.state.store.pool())
        .await
        .unwrap();
    let mut device = [0u8; 8];
    rand::RngCore::fill_bytes(&mut rand::thread_rng(), &mut device);
    let p = Person {
        id: user.id,
        username: username.into(),
        display_name: display_name.into(),
        session,
        actors: vec![actor_for(user.id, device)],
    };
    (user, p)
}

fn box_doc(p: &Person) -> AutoCommit {
    let mut d = sug::genesis();
    d.set_actor(p.actors[0].clone());
    d
}

/// The database rows, audit rows and log text a request wrote.
struct Window {
    new_rows: Vec<DbRow>,
    audit_rows: i64,
    log: String,
}

async fn audit_count(relay: &Relay) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM audit_log").fetch_one(relay.state.store.pool()).await.unwrap()
}

async fn submit_watched(relay: &Relay, logs: &LogBuf, who: &User, body: serde_json::Value) -> Window {
    let pool = relay.state.store.pool();
    let before = all_rows(pool).await;
    let audit_before = audit_count(relay).await;
    let log_from = logs.len();
    let r = relay.post("/api/suggestions", Some(&who.token), body).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let log_to = logs.len();
    let after = all_rows(pool).await;
    Window {
        new_rows: after.difference(&before).cloned().collect(),
        audit_rows: audit_count(relay).await - audit_before,
        log: logs.text(log_from, log_to),
    }
}

#[tokio::test]
async fn an_anonymous_suggestion_cannot_be_traced_to_its_author() {
    let logs = capture_logs();
    let relay = Relay::start().await;
    // A few colleagues first, so that ids are not 1 and 2.
    for n in 0..4 {
        relay.employee(&format!("colleague{n}")).await;
    }
    let (author_user, author) = person(&relay, "anon_author_q7", "匿名测试作者甲").await;
    let (control_user, control) = person(&relay, "signed_ctl_q8", "署名对照员乙").await;
    // Whatever the logins set off in the background (the directory document) is done.
    qiao_server::actions::directory::publish(&relay.state).await.unwrap();

    let anon_marker = format!("ANON-MARKER-{:016x}", rand::random::<u64>());
    let signed_marker = format!("SIGNED-MARKER-{:016x}", rand::random::<u64>());
    let id = sug::document_id();

    // The control files a signed suggestion.
    let control_window = submit_watched(
        &relay,
        &logs,
        &control_user,
        json!({ "id": "sug-control-0001", "title": signed_marker, "body": format!("请增加停车位 {signed_marker}"), "anonymous": false }),
    )
    .await;

    // The author syncs the suggestion box, upvotes the control's suggestion (their actor is now
    // in its history), then tries to forge a vote in the control's name: refused, audited and
    // logged with the author's id — outside the window of the anonymous request.
    let mut c = relay.connect(&author_user).await;
    let mut d = box_doc(&author);
    c.sync(id, &mut d).await.expect("reads");
    assert!(sug::toggle_vote(&mut d, "sug-control-0001", author.id).unwrap());
    c.sync(id, &mut d).await.expect("one's own upvote");
    sug::toggle_vote(&mut d, "sug-control-0001", control.id).unwrap();
    c.sync(id, &mut d).await.expect_err("a forged upvote").assert_says("person it names");

    // The anonymous suggestion.
    let anon_window = submit_watched(
        &relay,
        &logs,
        &author_user,
        json!({ "id": "sug-anon-00000001", "title": "", "body": format!("食堂太贵了 {anon_marker}"), "category": "行政", "anonymous": true }),
    )
    .await;
    // The author reads it back like everyone else.
    let mut c = relay.connect(&author_user).await;
    let mut d = box_doc(&author);
    c.sync(id, &mut d).await.expect("reads");
    let mine = sug::list(&d).into_iter().find(|s| s.body.contains(&anon_marker)).expect("the suggestion is there");
    assert_eq!((mine.author, mine.author_name.as_str()), (None, ""));
    assert_eq!(mine.created % sug::CREATED_GRANULARITY_MS, 0, "the stored time is coarse");

    // --- documents and their history ---
    let anon_changes = changes_holding(&relay, &anon_marker, &author).await;
    assert_eq!(anon_changes.len(), 1, "one change holds the anonymous suggestion: {anon_changes:?}");
    for (a, time, why) in &anon_changes {
        assert_eq!(actor::user_of(a), Some(SERVER_USER), "the relay's actor wrote it, not {a}");
        assert_eq!(*time, 0, "the change carries no clock reading");
        assert_eq!(why, &None, "the anonymous suggestion's change names its author");
    }
    let control_changes = changes_holding(&relay, &signed_marker, &control).await;
    assert!(
        control_changes.iter().any(|(_, _, why)| why.is_some()),
        "the detector must find the signed suggestion's author in its change: {control_changes:?}"
    );
    // The detector sees the author's actor where it is: on their upvote.
    let author_vote_seen = relay
        .state
        .registry
        .read_doc(id, &qiao_server::store::DocKind::Suggestions, |doc| {
            doc.get_changes(&[]).iter().any(|c| author.actors.contains(c.actor_id()))
        })
        .await
        .unwrap();
    assert!(author_vote_seen, "the author's upvote is in the history under their actor");

    // --- the database ---
    let rows = all_rows(relay.state.store.pool()).await;
    let holding: Vec<&DbRow> = rows.iter().filter(|r| row_holds(r, &anon_marker)).collect();
    assert!(!holding.is_empty(), "the scan reads the suggestion's row");
    for r in &holding {
        assert_eq!(row_names(r, &author), None, "a row holding the anonymous suggestion names its author: {}", r.0);
    }
    let control_holding: Vec<&DbRow> = rows.iter().filter(|r| row_holds(r, &signed_marker)).collect();
    assert!(
        control_holding.iter().any(|r| row_names(r, &control).is_some()),
        "the detector must find the signed suggestion's author in its rows"
    );
    assert!(!anon_window.new_rows.is_empty(), "the request stored the suggestion");
    for r in &anon_window.new_rows {
        assert_eq!(row_names(r, &author), None, "a row written by the anonymous request names its author: {r:?}");
    }
    assert!(
        control_window.new_rows.iter().any(|r| row_names(r, &control).is_some()),
        "the detector must find the control in the rows its signed request wrote"
    );

    // The suggestion box's chunks sit at random places among the other documents' chunks: their
    // row ids do not count up with the rows stored before and after them.
    let rowids: Vec<(i64, bool)> = sqlx::query_as("SELECT rowid, doc_id = ? FROM doc_chunks")
        .bind(id.to_string())
        .fetch_all(relay.state.store.pool())
        .await
        .unwrap();
    assert!(rowids.iter().any(|(_, mine)| *mine) && rowids.iter().any(|(_, mine)| !*mine));
    for (rowid, in_box) in &rowids {
        assert_eq!(*rowid < 0, *in_box, "row id {rowid} (suggestion box: {in_box})");
    }

    // --- the audit log ---
    assert_eq!(anon_window.audit_rows, 0, "the anonymous request wrote no audit row");
    assert_eq!(control_window.audit_rows, 1, "the signed request is audited");
    let audit_naming_author: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE user_id = ?")
        .bind(author.id.0)
        .fetch_one(relay.state.store.pool())
        .await
        .unwrap();
    assert!(audit_naming_author >= 2, "the author's login and forged vote are audited (the detector's control)");
    assert!(holding.iter().all(|r| r.0 != "audit_log"), "no audit row holds the anonymous suggestion's text");

    // --- the log ---
    let all_log = logs.text(0, logs.len());
    assert!(!anon_window.log.is_empty(), "the request was logged at trace level (the capture works)");
    for line in anon_window.log.lines() {
        assert_eq!(author.in_log_line(line), None, "a log line of the anonymous request names its author: {line}");
    }
    assert!(!all_log.contains(&anon_marker), "the suggestion's text is not logged");
    assert!(
        all_log.lines().any(|l| author.in_log_line(l).is_some()),
        "the detector must find the author's id in the log where it is (their refused connection)"
    );

    // --- files ---
    let mut files = Vec::new();
    files_holding(&relay.state.config.data_dir, &anon_marker, &mut files);
    for f in &files {
        let name = f.file_name().unwrap().to_string_lossy().into_owned();
        assert!(name == "qiao.db" || name == "qiao.db-wal", "the marker is in {}", f.display());
    }
    assert!(!files.is_empty(), "the marker is on disk (in the database), so the file scan reads it");
}
