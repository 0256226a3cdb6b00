//! Durable state: one SQLite database (WAL, `synchronous=FULL`) under the data directory.
//!
//! Everything the relay knows lives here: accounts, sessions, channels, which documents exist and
//! who may open them, the documents' bytes, and the audit log. A write returns only after its
//! transaction has committed, which is what lets the sync layer promise "acknowledged means
//! durable" (see `sync::registry`).
//!
//! It is a concrete type over sqlx's SQLite pool for now; the queries are plain SQL so that a
//! PostgreSQL backend can sit behind the same methods when a deployment needs it.
//!
//! Areas with more than a handful of queries live in submodules: [`audit`] (the hash-chained
//! log), [`directory`] (departments and HR fields), [`sessions`], [`settings`] (module toggles
//! and system settings), [`files`] (uploads and stored files). File bytes are not in the
//! database: [`blobs`] keeps them on disk beside it. Write paths that must be atomic with their audit row take a [`Tx`]
//! from [`Store::begin`].

pub mod audit;
pub mod blobs;
pub mod channels;
pub mod directory;
pub mod files;
pub mod helpdesk;
pub mod kb;
pub mod library;
pub mod projects;
pub mod push;
pub mod sessions;
pub mod settings;
pub mod suggestions;
pub mod surveys;

pub use audit::{AuditFilter, AuditRecord, audit_tx};

use crate::error::AppError;
use qiao_model::acl::Role;
use qiao_model::api::{ChannelSummary, ConversationKind, Me, UserBrief};
use qiao_model::ids::{ChannelId, DeptId, DocumentId, ProjectId, UserId};
use qiao_model::schema::chat;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Row, SqlitePool};
use std::path::Path;
use std::time::Duration;

/// How many segments beyond the newest written one are registered ahead of time, so that a
/// client that fills a segment offline can open the next without asking.
pub const SEGMENTS_AHEAD: u32 = 3;

#[derive(Clone)]
pub struct Store {
    pool: SqlitePool,
}

/// A write transaction. It starts with `BEGIN IMMEDIATE`: it holds SQLite's write lock from the
/// start, so a read inside it (the audit chain's last hash, a row's state before an update) can
/// never be overtaken by another writer, and it never fails midway with a stale snapshot.
pub type Tx = sqlx::Transaction<'static, sqlx::Sqlite>;

/// A user as the relay sees them.
#[derive(Clone, Debug)]
pub struct UserRow {
    pub me: Me,
    pub password_hash: String,
    pub active: bool,
    /// The user's department (`users.dept_id`), which decides what a department admin manages.
    pub dept: Option<DeptId>,
}

/// What a document is, which decides who may open it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DocKind {
    ChatSegment {
        channel: ChannelId,
        segment: u32,
    },
    /// The company directory ([`qiao_model::schema::directory`]): everyone reads, only the relay
    /// writes (through `Registry::server_change`).
    Directory,
    /// One person's own state ([`qiao_model::schema::user_state`]): only they read and write it.
    UserState {
        owner: UserId,
    },
    /// A project's task board ([`qiao_model::schema::tasks`]): members write, and everyone reads
    /// a company-visible project.
    ProjectBoard {
        project: ProjectId,
    },
    /// One helpdesk ticket ([`qiao_model::schema::helpdesk`]): its requester and the helpdesk
    /// agents write (the ticket rules say which fields), nobody else even reads it.
    Ticket {
        ticket: String,
        requester: UserId,
    },
    /// A knowledge-base space's page tree ([`qiao_model::schema::kb`]): everyone reads, editors
    /// write.
    KbSpace {
        space: String,
    },
    /// One knowledge-base page: everyone reads and comments, editors write the text.
    KbPage {
        space: String,
        page: String,
    },
    /// The company's announcements ([`qiao_model::schema::announcements`]): everyone reads and
    /// acknowledges; publishers publish (checked per operation).
    Announcements,
    /// The company's surveys ([`qiao_model::schema::surveys`]): everyone reads, publishers
    /// write (checked per operation); the answers are not in it ([`surveys`]).
    Surveys,
    /// The suggestion box ([`qiao_model::schema::suggestions`]): everyone reads and upvotes,
    /// admins reply (checked per operation); suggestions are written by the relay only
    /// ([`crate::http::suggestions`]).
    Suggestions,
}

impl DocKind {
    /// The deterministic first change every replica of such a document starts from, when the
    /// kind has one (the directory has none: the relay writes it from nothing). The relay holds
    /// it from the start, so a replica's own copy of it is never news to the relay — and a
    /// change under the genesis actor that the relay does not already have is a forgery.
    pub fn genesis(&self) -> Option<automerge::AutoCommit> {
        use qiao_model::schema::{announcements, chat, kb, tasks, user_state};
        Some(match self {
            DocKind::ChatSegment { channel, segment } => chat::genesis(channel, *segment),
            DocKind::Directory => return None,
            DocKind::UserState { owner } => user_state::genesis(*owner),
            DocKind::ProjectBoard { project } => tasks::genesis(project),
            DocKind::Ticket { ticket, requester } => qiao_model::schema::helpdesk::genesis(ticket, *requester),
            DocKind::KbSpace { space } => kb::space_genesis(space),
            DocKind::KbPage { space, page } => kb::page_genesis(space, page),
            DocKind::Announcements => announcements::genesis(),
            DocKind::Surveys => qiao_model::schema::surveys::genesis(),
            DocKind::Suggestions => qiao_model::schema::suggestions::genesis(),
        })
    }
}

/// What a user may do with a document.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Access {
    None,
    Read,
    Write,
}

pub fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

fn user_from_row(r: &sqlx::sqlite::SqliteRow) -> Result<UserRow, AppError> {
    let role: String = r.get("role");
    Ok(UserRow {
        me: Me {
            id: UserId(r.get("id")),
            username: r.get("username"),
            display_name: r.get("display_name"),
            role: Role::parse(&role).ok_or_else(|| AppError::Internal(format!("bad role {role}")))?,
        },
        password_hash: r.get("password_hash"),
        active: r.get::<String, _>("status") == "active",
        dept: r.get::<Option<String>, _>("dept_id").map(DeptId),
    })
}

impl Store {
    /// Open (creating if needed) `<data_dir>/qiao.db` and apply migrations.
    pub async fn open(data_dir: &Path) -> Result<Self, AppError> {
        std::fs::create_dir_all(data_dir)
            .map_err(|e| AppError::Internal(format!("cannot create {}: {e}", data_dir.display())))?;
        let opts = SqliteConnectOptions::new()
            .filename(data_dir.join("qiao.db"))
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // FULL: a commit is on disk before the relay tells anyone it has the change.
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let pool = SqlitePoolOptions::new().max_connections(8).connect_with(opts).await?;
        sqlx::migrate!("./migrations").run(&pool).await.map_err(|e| AppError::Internal(e.to_string()))?;
        let store = Self { pool };
        store.register_directory_document().await?;
        store.register_announcements_document().await?;
        store.register_suggestions_document().await?;
        store.register_surveys_document().await?;
        store.seal_audit_chain().await?;
        Ok(store)
    }

    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// A write transaction holding the write lock (see [`Tx`]).
    pub async fn begin(&self) -> Result<Tx, AppError> {
        Ok(self.pool.begin_with("BEGIN IMMEDIATE").await?)
    }

    // --- users ---------------------------------------------------------------------------------

    pub async fn user_count(&self) -> Result<i64, AppError> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM users").fetch_one(&self.pool).await?)
    }

    pub async fn create_user(
        &self,
        username: &str,
        display_name: &str,
        password_hash: &str,
        role: Role,
    ) -> Result<UserId, AppError> {
        let res = sqlx::query(
            "INSERT INTO users (username, display_name, password_hash, role, created_at) VALUES (?, ?, ?, ?, ?)",
        )
        .bind(username)
        .bind(display_name)
        .bind(password_hash)
        .bind(role.as_str())
        .bind(now_ms())
        .execute(&self.pool)
        .await;
        match res {
            Ok(r) => Ok(UserId(r.last_insert_rowid())),
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                Err(AppError::Conflict(format!("user {username} already exists")))
            }
            Err(e) => Err(e.into()),
        }
    }

    pub async fn user_by_username(&self, username: &str) -> Result<Option<UserRow>, AppError> {
        let row =
            sqlx::query("SELECT * FROM users WHERE username = ?").bind(username).fetch_optional(&self.pool).await?;
        row.as_ref().map(user_from_row).transpose()
    }

    // --- sessions ------------------------------------------------------------------------------

    pub async fn create_session(
        &self,
        user: UserId,
        token_hash: &[u8],
        expires_at: i64,
        user_agent: Option<&str>,
        ip: Option<&str>,
    ) -> Result<i64, AppError> {
        let r = sqlx::query(
            "INSERT INTO sessions (user_id, token_hash, created_at, expires_at, user_agent, ip) VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(user.0)
        .bind(token_hash)
        .bind(now_ms())
        .bind(expires_at)
        .bind(user_agent)
        .bind(ip)
        .execute(&self.pool)
        .await?;
        Ok(r.last_insert_rowid())
    }

    /// The active user behind a live session, with the session's id.
    pub async fn session_user(&self, token_hash: &[u8]) -> Result<Option<(UserRow, i64)>, AppError> {
        let row = sqlx::query(
            "SELECT u.*, s.id AS session_id FROM sessions s JOIN users u ON u.id = s.user_id
             WHERE s.token_hash = ? AND s.revoked_at IS NULL AND s.expires_at > ? AND u.status = 'active'",
        )
        .bind(token_hash)
        .bind(now_ms())
        .fetch_optional(&self.pool)
        .await?;
        match row {
            Some(r) => Ok(Some((user_from_row(&r)?, r.get("session_id")))),
            None => Ok(None),
        }
    }

    /// Whether a session may still be used: not revoked, not expired, its person active.
    pub async fn session_live(&self, session_id: i64) -> Result<bool, AppError> {
        Ok(sqlx::query_scalar::<_, i64>(
            "SELECT 1 FROM sessions s JOIN users u ON u.id = s.user_id
             WHERE s.id = ? AND s.revoked_at IS NULL AND s.expires_at > ? AND u.status = 'active'",
        )
        .bind(session_id)
        .bind(now_ms())
        .fetch_optional(&self.pool)
        .await?
        .is_some())
    }

    pub async fn revoke_session(&self, session_id: i64) -> Result<(), AppError> {
        sqlx::query("UPDATE sessions SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL")
            .bind(now_ms())
            .bind(session_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    // --- channels ------------------------------------------------------------------------------

    /// Create a conversation, its first segments and its members (the creator as owner) in an
    /// open transaction; the caller writes the audit row in the same transaction and commits.
    pub async fn create_channel_tx(
        tx: &mut Tx,
        id: &ChannelId,
        name: &str,
        private: bool,
        kind: ConversationKind,
        creator: UserId,
        members: &[UserId],
    ) -> Result<(), AppError> {
        sqlx::query("INSERT INTO channels (id, name, private, kind, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?)")
            .bind(id.as_str())
            .bind(name)
            .bind(private)
            .bind(kind.as_str())
            .bind(creator.0)
            .bind(now_ms())
            .execute(&mut **tx)
            .await?;
        sqlx::query("INSERT INTO channel_members (channel_id, user_id, role, joined_at) VALUES (?, ?, 'owner', ?)")
            .bind(id.as_str())
            .bind(creator.0)
            .bind(now_ms())
            .execute(&mut **tx)
            .await?;
        for m in members.iter().filter(|m| **m != creator) {
            sqlx::query("INSERT OR IGNORE INTO channel_members (channel_id, user_id, role, joined_at) VALUES (?, ?, 'member', ?)")
                .bind(id.as_str())
                .bind(m.0)
                .bind(now_ms())
                .execute(&mut **tx)
                .await?;
        }
        register_segments(tx, id, 0..=SEGMENTS_AHEAD).await?;
        Ok(())
    }

    /// Create a public or private channel owned by `creator` (first start, tests).
    pub async fn create_channel(
        &self,
        id: &ChannelId,
        name: &str,
        private: bool,
        creator: UserId,
    ) -> Result<ChannelSummary, AppError> {
        let mut tx = self.begin().await?;
        Self::create_channel_tx(&mut tx, id, name, private, ConversationKind::Channel, creator, &[]).await?;
        tx.commit().await?;
        self.channel_summary(id, creator).await?.ok_or_else(|| AppError::Internal("channel vanished".into()))
    }

    pub async fn add_member(&self, channel: &ChannelId, user: UserId) -> Result<(), AppError> {
        sqlx::query("INSERT OR IGNORE INTO channel_members (channel_id, user_id, joined_at) VALUES (?, ?, ?)")
            .bind(channel.as_str())
            .bind(user.0)
            .bind(now_ms())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Conversations `user` may read: every public channel and the rest they belong to,
    /// archived ones included (read-only).
    pub async fn channels_for(&self, user: UserId) -> Result<Vec<ChannelSummary>, AppError> {
        let rows = sqlx::query(&format!(
            "{SUMMARY_SELECT} WHERE (c.private = 0 OR me.user_id IS NOT NULL) ORDER BY c.created_at, c.id"
        ))
        .bind(user.0)
        .bind(user.0)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.iter().map(summary_from_row).collect())
    }

    /// One conversation as `user` sees it (whether or not they may read it: callers check).
    pub async fn channel_summary(&self, id: &ChannelId, user: UserId) -> Result<Option<ChannelSummary>, AppError> {
        let row = sqlx::query(&format!("{SUMMARY_SELECT} WHERE c.id = ?"))
            .bind(user.0)
            .bind(user.0)
            .bind(id.as_str())
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.as_ref().map(summary_from_row))
    }

    // --- documents -----------------------------------------------------------------------------

    pub async fn doc_kind(&self, doc: DocumentId) -> Result<Option<DocKind>, AppError> {
        let row = sqlx::query(
            "SELECT kind, channel_id, segment, owner, project_id, space_id, page_id, ticket_id FROM documents WHERE id = ?",
        )
        .bind(doc.to_string())
        .fetch_optional(&self.pool)
        .await?;
        let Some(r) = row else { return Ok(None) };
        let kind: String = r.get("kind");
        Ok(match kind.as_str() {
            "chat-segment" => Some(DocKind::ChatSegment {
                channel: ChannelId(r.get("channel_id")),
                segment: r.get::<i64, _>("segment") as u32,
            }),
            "directory" => Some(DocKind::Directory),
            "user-state" => r.get::<Option<i64>, _>("owner").map(|o| DocKind::UserState { owner: UserId(o) }),
            "announcements" => Some(DocKind::Announcements),
            "ticket" => match (r.get::<Option<String>, _>("ticket_id"), r.get::<Option<i64>, _>("owner")) {
                (Some(ticket), Some(owner)) => Some(DocKind::Ticket { ticket, requester: UserId(owner) }),
                _ => None,
            },
            "surveys" => Some(DocKind::Surveys),
            "suggestions" => Some(DocKind::Suggestions),
            "kb-space" => r.get::<Option<String>, _>("space_id").map(|space| DocKind::KbSpace { space }),
            "kb-page" => match (r.get::<Option<String>, _>("space_id"), r.get::<Option<String>, _>("page_id")) {
                (Some(space), Some(page)) => Some(DocKind::KbPage { space, page }),
                _ => None,
            },
            "project-board" => {
                r.get::<Option<String>, _>("project_id").map(|p| DocKind::ProjectBoard { project: ProjectId(p) })
            }
            _ => None,
        })
    }

    /// Make sure `user`'s own state document exists (at login: every account gets one).
    pub async fn ensure_user_state(&self, user: UserId) -> Result<DocumentId, AppError> {
        let id = qiao_model::schema::user_state::doc_id(user);
        sqlx::query("INSERT OR IGNORE INTO documents (id, kind, owner) VALUES (?, 'user-state', ?)")
            .bind(id.to_string())
            .bind(user.0)
            .execute(&self.pool)
            .await?;
        Ok(id)
    }

    /// Every account's state document (at start: accounts made before they existed get theirs
    /// without having to log in again).
    pub async fn ensure_all_user_states(&self) -> Result<(), AppError> {
        let ids: Vec<i64> = sqlx::query_scalar("SELECT id FROM users").fetch_all(&self.pool).await?;
        for id in ids {
            self.ensure_user_state(UserId(id)).await?;
        }
        Ok(())
    }

    /// What `user` may do with `doc`. Unknown documents and documents the user may not read
    /// answer the same, so a guessed id reveals nothing. Chat segments are unavailable to
    /// everyone while the chat module is off; the directory is readable by every active user
    /// and writable by no one over sync.
    pub async fn access(&self, user: UserId, doc: DocumentId) -> Result<(Access, Option<DocKind>), AppError> {
        let Some(kind) = self.doc_kind(doc).await? else { return Ok((Access::None, None)) };
        let access = match &kind {
            DocKind::ChatSegment { channel, .. } => {
                let row = sqlx::query(
                    "SELECT c.private, c.archived,
                       EXISTS (SELECT 1 FROM channel_members m WHERE m.channel_id = c.id AND m.user_id = ?) AS member,
                       COALESCE((SELECT enabled FROM modules WHERE name = 'chat'), 1) AS chat_on
                     FROM channels c WHERE c.id = ?",
                )
                .bind(user.0)
                .bind(channel.as_str())
                .fetch_optional(&self.pool)
                .await?;
                match row {
                    None => Access::None,
                    Some(r) => {
                        let private: bool = r.get("private");
                        let member: bool = r.get("member");
                        let archived: bool = r.get("archived");
                        let chat_on: bool = r.get("chat_on");
                        match ((private && !member) || !chat_on, archived) {
                            (true, _) => Access::None,
                            (false, true) => Access::Read,
                            (false, false) => Access::Write,
                        }
                    }
                }
            }
            DocKind::Directory => {
                let active: Option<String> = sqlx::query_scalar("SELECT status FROM users WHERE id = ?")
                    .bind(user.0)
                    .fetch_optional(&self.pool)
                    .await?;
                if active.as_deref() == Some("active") { Access::Read } else { Access::None }
            }
            DocKind::UserState { owner } => {
                if *owner == user {
                    Access::Write
                } else {
                    Access::None
                }
            }
            DocKind::Announcements => {
                let on: bool = sqlx::query_scalar(
                    "SELECT COALESCE((SELECT enabled FROM modules WHERE name = 'announcements'), 1)",
                )
                .fetch_one(&self.pool)
                .await?;
                if on && self.actor_of(user).await?.is_some() { Access::Write } else { Access::None }
            }
            // Every active person writes (the suggestion rules keep them to their own upvotes).
            DocKind::Suggestions => {
                let on = self.module_enabled(qiao_model::acl::Module::Suggestions).await?;
                if on && self.actor_of(user).await?.is_some() { Access::Write } else { Access::None }
            }
            // Publishers write (the survey rules keep them to their own surveys); the rest read.
            DocKind::Surveys => {
                let on = self.module_enabled(qiao_model::acl::Module::Suggestions).await?;
                match (on, self.actor_of(user).await?) {
                    (true, Some(a)) if a.role != Role::Employee => Access::Write,
                    (true, Some(_)) => Access::Read,
                    _ => Access::None,
                }
            }
            // The requester and the helpdesk agents, while the module is on and they are active.
            DocKind::Ticket { requester, .. } => {
                let on = self.module_enabled(qiao_model::acl::Module::Helpdesk).await?;
                match (on, self.actor_of(user).await?) {
                    (true, Some(_)) if *requester == user || self.helpdesk_agent(user).await? => Access::Write,
                    _ => Access::None,
                }
            }
            DocKind::KbSpace { space } | DocKind::KbPage { space, .. } => {
                let on: bool =
                    sqlx::query_scalar("SELECT COALESCE((SELECT enabled FROM modules WHERE name = 'kb'), 1)")
                        .fetch_one(&self.pool)
                        .await?;
                match (on, self.actor_of(user).await?) {
                    (false, _) | (_, None) => Access::None,
                    // Readers comment on pages (the page rules keep them to comments).
                    _ if matches!(kind, DocKind::KbPage { .. }) => Access::Write,
                    _ if self.kb_editor(space, user).await? => Access::Write,
                    _ => Access::Read,
                }
            }
            DocKind::ProjectBoard { project } => {
                let row = sqlx::query(
                    "SELECT p.visibility, p.archived,
                       EXISTS (SELECT 1 FROM project_members m WHERE m.project_id = p.id AND m.user_id = ?) AS member,
                       COALESCE((SELECT enabled FROM modules WHERE name = 'tasks'), 1) AS tasks_on,
                       (SELECT status FROM users WHERE id = ?) AS status
                     FROM projects p WHERE p.id = ?",
                )
                .bind(user.0)
                .bind(user.0)
                .bind(project.as_str())
                .fetch_optional(&self.pool)
                .await?;
                match row {
                    None => Access::None,
                    Some(r) => {
                        let member: bool = r.get("member");
                        let company = r.get::<String, _>("visibility") == "company";
                        let archived: bool = r.get("archived");
                        let on: bool = r.get("tasks_on");
                        let active = r.get::<Option<String>, _>("status").as_deref() == Some("active");
                        match (on && active, member, company, archived) {
                            (false, ..) => Access::None,
                            (true, true, _, false) => Access::Write,
                            (true, true, _, true) | (true, false, true, _) => Access::Read,
                            (true, false, false, _) => Access::None,
                        }
                    }
                }
            }
        };
        Ok((access, Some(kind)))
    }

    /// All stored chunks of a document in order, and how many of them are single changes.
    pub async fn load_chunks(&self, doc: DocumentId) -> Result<Vec<(i64, String, Vec<u8>)>, AppError> {
        let rows = sqlx::query("SELECT seq, kind, bytes FROM doc_chunks WHERE doc_id = ? ORDER BY seq")
            .bind(doc.to_string())
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.iter().map(|r| (r.get("seq"), r.get("kind"), r.get("bytes"))).collect())
    }

    /// Append changes and move the channel's head segment forward, in one transaction that has
    /// committed when this returns.
    pub async fn append_changes(&self, doc: DocumentId, kind: &DocKind, changes: &[Vec<u8>]) -> Result<i64, AppError> {
        let mut tx = self.begin().await?;
        let id = doc.to_string();
        let mut seq: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(seq), 0) FROM doc_chunks WHERE doc_id = ?")
            .bind(&id)
            .fetch_one(&mut *tx)
            .await?;
        for c in changes {
            seq += 1;
            // NULL: SQLite numbers the row; the suggestion box's rows get random ones (see there).
            sqlx::query("INSERT INTO doc_chunks (rowid, doc_id, seq, kind, bytes) VALUES (?, ?, ?, 'change', ?)")
                .bind(suggestions::chunk_rowid(doc))
                .bind(&id)
                .bind(seq)
                .bind(c)
                .execute(&mut *tx)
                .await?;
        }
        match kind {
            DocKind::ChatSegment { channel, segment } => {
                sqlx::query("UPDATE channels SET head_segment = ? WHERE id = ? AND head_segment < ?")
                    .bind(*segment as i64)
                    .bind(channel.as_str())
                    .bind(*segment as i64)
                    .execute(&mut *tx)
                    .await?;
                register_segments(&mut tx, channel, *segment + 1..=*segment + SEGMENTS_AHEAD).await?;
            }
            DocKind::Directory
            | DocKind::UserState { .. }
            | DocKind::ProjectBoard { .. }
            | DocKind::Ticket { .. }
            | DocKind::KbSpace { .. }
            | DocKind::KbPage { .. }
            | DocKind::Announcements
            | DocKind::Surveys
            | DocKind::Suggestions => {}
        }
        tx.commit().await?;
        Ok(seq)
    }

    /// Replace every chunk up to `upto_seq` with one snapshot.
    pub async fn compact(&self, doc: DocumentId, snapshot: &[u8], upto_seq: i64) -> Result<(), AppError> {
        let mut tx = self.begin().await?;
        let id = doc.to_string();
        sqlx::query("DELETE FROM doc_chunks WHERE doc_id = ? AND seq <= ?")
            .bind(&id)
            .bind(upto_seq)
            .execute(&mut *tx)
            .await?;
        sqlx::query("INSERT INTO doc_chunks (rowid, doc_id, seq, kind, bytes) VALUES (?, ?, ?, 'snapshot', ?)")
            .bind(suggestions::chunk_rowid(doc))
            .bind(&id)
            .bind(upto_seq)
            .bind(snapshot)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    // --- audit ---------------------------------------------------------------------------------

    /// Append one row to the audit log in a transaction of its own (for events that change
    /// nothing else: refusals, logins). Actions that change state write theirs with [`audit_tx`]
    /// inside their own transaction.
    pub async fn audit(
        &self,
        user: Option<UserId>,
        ip: Option<&str>,
        action: &str,
        refused: bool,
        detail: &str,
    ) -> Result<(), AppError> {
        let mut tx = self.begin().await?;
        audit::insert(
            &mut tx,
            &audit::RowFields {
                user,
                ip,
                action,
                outcome: if refused { "refused" } else { "ok" },
                target: "",
                detail,
                before: None,
                after: None,
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// [`Store::audit`] for a typed [`AuditRecord`].
    pub async fn audit_record(&self, rec: &AuditRecord<'_>) -> Result<(), AppError> {
        let mut tx = self.begin().await?;
        audit_tx(&mut tx, rec).await?;
        tx.commit().await?;
        Ok(())
    }
}

/// Every column a [`ChannelSummary`] needs; binds: the viewing user twice.
const SUMMARY_SELECT: &str = "SELECT c.id, c.name, c.private, c.kind, c.archived, c.head_segment,
       (SELECT COUNT(*) FROM channel_members m WHERE m.channel_id = c.id) AS members,
       peer.id AS peer_id, peer.display_name AS peer_name
     FROM channels c
     LEFT JOIN channel_members me ON me.channel_id = c.id AND me.user_id = ?
     LEFT JOIN users peer ON c.kind = 'dm' AND peer.id = (
       SELECT m.user_id FROM channel_members m WHERE m.channel_id = c.id AND m.user_id != ? LIMIT 1)";

fn summary_from_row(r: &sqlx::sqlite::SqliteRow) -> ChannelSummary {
    let id = ChannelId(r.get("id"));
    let head: i64 = r.get("head_segment");
    let peer_id: Option<i64> = r.get("peer_id");
    ChannelSummary {
        head_document: chat::segment_id(&id, head as u32),
        id,
        name: r.get("name"),
        private: r.get::<bool, _>("private"),
        kind: ConversationKind::parse(&r.get::<String, _>("kind")),
        archived: r.get::<bool, _>("archived"),
        members: r.get::<i64, _>("members") as u32,
        dm_peer: peer_id.map(|id| UserBrief { id: UserId(id), display_name: r.get("peer_name") }),
        head_segment: head as u32,
    }
}

async fn register_segments(
    tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
    channel: &ChannelId,
    segments: std::ops::RangeInclusive<u32>,
) -> Result<(), AppError> {
    for n in segments {
        sqlx::query("INSERT OR IGNORE INTO documents (id, kind, channel_id, segment) VALUES (?, 'chat-segment', ?, ?)")
            .bind(chat::segment_id(channel, n).to_string())
            .bind(channel.as_str())
            .bind(n as i64)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}
