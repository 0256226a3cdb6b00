//! REST bodies shared by the relay's HTTP API and the app, and the wire error type.
//!
//! Endpoints (all JSON; the session travels in the `qiao_session` HttpOnly cookie or an
//! `Authorization: Bearer` header, never in a URL):
//! - `POST /api/auth/login` [`LoginRequest`] → [`LoginResponse`] and the cookie
//! - `POST /api/auth/logout` → 204, the session is revoked
//! - `GET  /api/me` → [`Me`]
//! - `POST /api/me/password` [`ChangePassword`] → [`LoggedOutOthers`] (400 when the current
//!   password is wrong or the new one shorter than [`MIN_PASSWORD_CHARS`]); other sessions end
//! - `GET  /api/channels` → `Vec<ChannelSummary>` the caller may read
//! - `POST /api/channels` [`CreateChannel`] → [`ChannelSummary`]
//! - `GET  /sync` websocket: the automerge-repo protocol ([`crate::protocol`])
//!
//! Organisation, sessions, settings and audit (issue 3):
//! - `GET  /api/directory` → [`Directory`] (any logged-in user; also synced as a read-only
//!   Automerge document, [`crate::schema::directory`])
//! - `GET  /api/sessions` → `Vec<SessionInfo>`; `POST /api/sessions/logout-others` → [`LoggedOutOthers`]
//! - `GET  /api/modules` → [`ModuleStates`]; `PUT /api/admin/modules` [`ModuleStates`] (partial) → [`ModuleStates`]
//! - `GET  /api/settings/client` → [`ClientSettings`]; `PUT /api/admin/settings/client` [`ClientSettings`] → [`ClientSettings`]
//!
//! Single sign-on (OpenID Connect, configured by a super admin):
//! - `GET  /api/auth/oidc` (no login) → [`OidcLoginOption`]: whether the login page shows the button
//! - `GET  /api/auth/oidc/start` → 303 to the provider; `GET /api/auth/oidc/callback` → 303 to
//!   the app, logged in, or to `/?sso_error=<code>` ([`SsoError`])
//! - `GET  /api/admin/settings/oidc` → [`OidcSettings`]; `PUT` [`SetOidcSettings`] → [`OidcSettings`]
//! - `POST /api/admin/users/{id}/deactivate` → [`Deactivated`]
//! - `POST /api/admin/import/preview` CSV text or a JSON array of [`ImportRow`] → [`ImportPreview`]
//!   (a malformed file: 400 [`ImportRejected`] with the line); `POST /api/admin/import/apply`
//!   [`ImportApply`] → [`ImportApplied`]; `GET /api/admin/import/progress/{token}` →
//!   [`ImportProgress`] while that apply runs (404 otherwise)
//! - `GET  /api/admin/audit?user=&action=&outcome=&from=&to=&before=&limit=` → [`AuditPage`];
//!   `GET /api/admin/audit.csv` (same filters) → CSV; `GET /api/admin/audit/verify` → [`AuditVerify`]
//!
//! Files (chunked, resumable, content-addressed; see [`crate::files`]):
//! - `POST /api/uploads` [`NewUpload`] → [`UploadState`] (413 over the size limit, before any
//!   byte is stored; 404 when the caller may not write the conversation)
//! - `GET  /api/uploads/{id}` → [`UploadState`] (where to resume)
//! - `PUT  /api/uploads/{id}?offset=N` raw bytes (at most [`crate::files::MAX_CHUNK_BYTES`]) →
//!   [`UploadState`]; 409 [`UploadState`]-bearing error when `offset` is not where the upload stands
//! - `POST /api/uploads/{id}/complete` → [`FileInfo`] (422 when the bytes do not hash to the
//!   announced SHA-256: the upload is discarded)
//! - `GET  /api/files/{id}` → the bytes, with the access check repeated on every request;
//!   `inline` only for raster images, `attachment` for anything else, always `nosniff` and a
//!   `sandbox` content security policy (an uploaded HTML or SVG file cannot run in the app)
//! - `GET  /api/files/{id}/meta` → [`FileInfo`]
//! - `POST /api/files/{id}/forward` [`ForwardFile`] → [`FileInfo`]: the same bytes as a file of
//!   another conversation (caller reads the file and writes that conversation)
//! - `GET  /api/settings/files` → [`FileSettings`]; `PUT /api/admin/settings/files` [`FileSettings`]
//!
//! Knowledge base (the pages are synced documents, [`crate::schema::kb`]):
//! - `GET  /api/kb/spaces` → `Vec<KbSpace>` (everyone reads every space)
//! - `POST /api/kb/spaces` [`CreateKbSpace`] → [`KbSpace`] (super admin; a department admin for
//!   their own department)
//! - `POST /api/kb/spaces/{id}/editors` [`AddMember`] → 204: let someone edit a space
//!
//! Projects (tasks; the board itself is a synced document, [`crate::schema::tasks`]):
//! - `GET  /api/projects` → `Vec<ProjectSummary>` the caller may read
//! - `POST /api/projects` [`CreateProject`] → [`ProjectSummary`]
//! - `GET  /api/projects/{id}/members` → `Vec<Member>`; `POST …/members` [`AddMember`] → 204;
//!   `DELETE …/members/{user}` → 204 (the owner or a super admin; leaving is always allowed)

use crate::acl::{Module, Role};
use crate::audit::Outcome;
use crate::ids::{ChannelId, DeptId, DocumentId, ProjectId, UserId};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Me {
    pub id: UserId,
    pub username: String,
    pub display_name: String,
    pub role: Role,
}

/// Change one's own password.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ChangePassword {
    pub current: String,
    pub new: String,
}

/// The shortest password accepted when someone sets their own.
pub const MIN_PASSWORD_CHARS: usize = 8;

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct LoginResponse {
    /// The session token, for clients that cannot keep cookies (scripts, tests).
    pub token: String,
    /// Unix milliseconds.
    pub expires_at: i64,
    pub user: Me,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelSummary {
    pub id: ChannelId,
    pub name: String,
    pub private: bool,
    #[serde(default)]
    pub kind: ConversationKind,
    /// Archived conversations are read-only.
    #[serde(default)]
    pub archived: bool,
    #[serde(default)]
    pub members: u32,
    /// For a direct message: the other person.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dm_peer: Option<UserBrief>,
    /// The newest segment anyone has written to; the app opens this one and the next.
    pub head_segment: u32,
    /// The document id of `head_segment` (what an automerge-repo client would `find`).
    pub head_document: DocumentId,
}

/// Public and private channels, small groups (群组), and 1:1 direct messages.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConversationKind {
    #[default]
    Channel,
    Group,
    Dm,
}

impl ConversationKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ConversationKind::Channel => "channel",
            ConversationKind::Group => "group",
            ConversationKind::Dm => "dm",
        }
    }
    pub fn parse(s: &str) -> Self {
        match s {
            "group" => ConversationKind::Group,
            "dm" => ConversationKind::Dm,
            _ => ConversationKind::Channel,
        }
    }
}

/// A person as a list shows them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserBrief {
    pub id: UserId,
    pub display_name: String,
}

/// A member of a conversation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    pub id: UserId,
    pub username: String,
    pub display_name: String,
    /// `owner` or `member`.
    pub role: String,
}

/// `GET /api/channels/{id}/members?q=&limit=&after=`: one page of a conversation's members,
/// owners first, then by name. A channel may have 10,000 members: the list comes a page at a
/// time, and `q` filters by name or username on the relay.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberPage {
    pub members: Vec<Member>,
    /// Members matching `q` (all members without it).
    pub total: u32,
    /// Pass as `after` for the next page; `None` on the last one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

/// `POST /api/dms`: open (or find) the 1:1 conversation with `user`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct OpenDm {
    pub user: UserId,
}

/// `POST /api/channels/{id}/members`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AddMember {
    pub user: UserId,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CreateChannel {
    pub name: String,
    #[serde(default)]
    pub private: bool,
    /// `group`: a private conversation of the listed people (the creator included anyway).
    #[serde(default)]
    pub kind: ConversationKind,
    #[serde(default)]
    pub members: Vec<UserId>,
}

/// Every error body the API returns: a stable code for programs, a sentence for people.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiError {
    pub code: String,
    pub message: String,
}

// --- directory (组织架构) -------------------------------------------------------------------------

/// A department; `parent: None` is a top-level one. `path` is its name from the top down,
/// joined with `/` ("Sales/East"), which is how HR files name it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Department {
    pub id: DeptId,
    pub name: String,
    pub parent: Option<DeptId>,
    pub path: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UserStatus {
    Active,
    Deactivated,
}

impl UserStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            UserStatus::Active => "active",
            UserStatus::Deactivated => "deactivated",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "active" => Some(UserStatus::Active),
            "deactivated" => Some(UserStatus::Deactivated),
            _ => None,
        }
    }
}

/// A person as everyone in the company may see them: no password hash, no sessions.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirectoryUser {
    pub id: UserId,
    pub username: String,
    /// The HR system's key; `None` for accounts HR does not manage (the first admin).
    pub employee_id: Option<String>,
    pub name: String,
    pub department: Option<DeptId>,
    pub position: String,
    pub manager: Option<UserId>,
    pub role: Role,
    pub status: UserStatus,
}

/// `GET /api/directory`: the department tree (as parent links) and everyone in it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Directory {
    /// The synced, read-only Automerge copy of this directory (for offline browsing).
    pub document: DocumentId,
    pub departments: Vec<Department>,
    pub users: Vec<DirectoryUser>,
}

// --- HR import --------------------------------------------------------------------------------

/// One row of an HR file (CSV columns or JSON array entries). Only `employee_id` and `name` are
/// required. `department` is a path ("Sales/East"); departments are created as needed.
/// `role` (super_admin, dept_admin, employee) is optional: new people default to employee, and
/// existing people keep theirs when it is absent.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportRow {
    pub employee_id: String,
    pub name: String,
    #[serde(default)]
    pub department: Option<String>,
    #[serde(default)]
    pub position: Option<String>,
    #[serde(default)]
    pub manager_employee_id: Option<String>,
    #[serde(default)]
    pub role: Option<String>,
}

/// A person's HR fields as compared by an import.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportRecord {
    pub employee_id: String,
    pub name: String,
    /// Department path, "" for none.
    pub department: String,
    pub position: String,
    pub manager_employee_id: Option<String>,
    pub role: Role,
    pub status: UserStatus,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportNew {
    /// Where the row is in the file (CSV: line, the header being line 1; JSON: entry, from 1).
    pub line: usize,
    pub record: ImportRecord,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportChange {
    pub line: usize,
    pub user: UserId,
    pub before: ImportRecord,
    pub after: ImportRecord,
    /// The fields that differ: name, department, position, manager_employee_id, role, status.
    pub fields: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportDeactivate {
    pub user: UserId,
    pub record: ImportRecord,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportCounts {
    pub new: usize,
    /// People whose name, position, manager, role or status changes.
    pub changed: usize,
    /// People whose department changes.
    pub moved: usize,
    pub deactivate: usize,
    pub unchanged: usize,
    pub departments_new: usize,
}

/// `POST /api/admin/import/preview`: what applying the file would do. Nothing has changed yet.
/// A person whose department and other fields both change is in `moved` and in `changed`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportPreview {
    /// Send it back to `POST /api/admin/import/apply`. It is the file's SHA-256.
    pub token: String,
    pub counts: ImportCounts,
    pub new: Vec<ImportNew>,
    pub changed: Vec<ImportChange>,
    pub moved: Vec<ImportChange>,
    /// HR-managed people (with an employee id) who are not in the file.
    pub deactivate: Vec<ImportDeactivate>,
    /// Department paths that will be created.
    pub departments_new: Vec<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ImportApply {
    pub token: String,
}

/// How far an import being applied has got (`GET /api/admin/import/progress/{token}`): first the
/// new accounts' initial passwords are hashed (argon2, slow on purpose), then every row is
/// written in one transaction, which commits at the end (nothing shows before it does).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportProgress {
    pub hashed: u64,
    pub to_hash: u64,
    pub written: u64,
    pub to_write: u64,
}

impl ImportProgress {
    /// Work done out of all work, 0.0..=1.0 (hashing weighs like writing a row: it is slower,
    /// but the bar should move through both).
    pub fn fraction(&self) -> f64 {
        let total = self.to_hash + self.to_write;
        if total == 0 { 0.0 } else { (self.hashed + self.written) as f64 / total as f64 }
    }
}

/// A new account's first password, shown once to the admin who ran the import (to hand out);
/// the relay keeps only its argon2 hash.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InitialPassword {
    pub employee_id: String,
    pub username: String,
    pub password: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ImportApplied {
    pub counts: ImportCounts,
    pub initial_passwords: Vec<InitialPassword>,
}

/// A refused HR file: an [`ApiError`] plus the line (CSV) or entry (JSON) at fault; 0 when the
/// problem is the file as a whole.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportRejected {
    pub code: String,
    pub message: String,
    pub line: usize,
}

// --- users and sessions -----------------------------------------------------------------------

/// `POST /api/admin/users/{id}/deactivate`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deactivated {
    pub user: UserId,
    pub sessions_revoked: u64,
}

/// One of the caller's live sessions (`GET /api/sessions`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionInfo {
    pub id: i64,
    pub created_at: i64,
    pub expires_at: i64,
    pub user_agent: Option<String>,
    pub ip: Option<String>,
    /// The session this request came with.
    pub current: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoggedOutOthers {
    pub revoked: u64,
}

// --- modules and settings ---------------------------------------------------------------------

/// Which modules are on; a `PUT` may name only the ones it changes.
pub type ModuleStates = BTreeMap<Module, bool>;

/// Settings the app needs (`GET /api/settings/client`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientSettings {
    /// Days without contact with the relay after which the app wipes its local copy
    /// (IndexedDB); `None`: never.
    pub offline_cache_expiry_days: Option<u32>,
}

// --- single sign-on (OpenID Connect) -------------------------------------------------------------

/// `GET /api/auth/oidc`: what the login page needs to offer single sign-on.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OidcLoginOption {
    pub enabled: bool,
    /// The button's text ("" when disabled).
    pub button_label: String,
}

/// `GET /api/admin/settings/oidc`: the configuration as a super admin sees it. The client
/// secret never leaves the relay once saved: only whether one is set.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OidcSettings {
    pub enabled: bool,
    /// The provider's issuer URL (`<issuer>/.well-known/openid-configuration` must answer).
    pub issuer: String,
    pub client_id: String,
    pub client_secret_set: bool,
    /// The claim (`preferred_username`, `email`, ...) whose value is a Qiao username.
    pub claim: String,
    pub button_label: String,
    /// The redirect URI to register at the provider, `None` while the relay does not know its
    /// public URL (`--public-url`).
    pub redirect_uri: Option<String>,
}

/// `PUT /api/admin/settings/oidc`. `client_secret`: absent or null keeps the stored one, a
/// string replaces it ("" clears it).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetOidcSettings {
    pub enabled: bool,
    pub issuer: String,
    pub client_id: String,
    #[serde(default)]
    pub client_secret: Option<String>,
    pub claim: String,
    pub button_label: String,
}

/// Why a single sign-on attempt ended on the login page: the relay redirects to
/// `/?sso_error=<code>`, and the login page shows the matching message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SsoError {
    /// Single sign-on is turned off.
    Disabled,
    /// The provider could not be reached or answered wrongly, or the relay lacks its public URL.
    Unavailable,
    /// The attempt did not start in this browser, took too long, or was already used.
    State,
    /// The provider refused or the person cancelled there.
    Denied,
    /// The provider's ID token did not check out (signature, issuer, audience, expiry, nonce).
    InvalidToken,
    /// The provider did not send the claim that names the account.
    NoClaim,
    /// No Qiao account has that username (accounts are never created by a login).
    UnknownAccount,
    /// The account exists but is deactivated.
    Deactivated,
}

impl SsoError {
    pub const ALL: [SsoError; 8] = [
        SsoError::Disabled,
        SsoError::Unavailable,
        SsoError::State,
        SsoError::Denied,
        SsoError::InvalidToken,
        SsoError::NoClaim,
        SsoError::UnknownAccount,
        SsoError::Deactivated,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            SsoError::Disabled => "disabled",
            SsoError::Unavailable => "unavailable",
            SsoError::State => "state",
            SsoError::Denied => "denied",
            SsoError::InvalidToken => "invalid_token",
            SsoError::NoClaim => "no_claim",
            SsoError::UnknownAccount => "unknown_account",
            SsoError::Deactivated => "deactivated",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|e| e.as_str() == s)
    }
}

// --- files ------------------------------------------------------------------------------------

/// Start an upload into a conversation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewUpload {
    /// Where the file goes: `"channel": id` or `"project": id` beside the other fields.
    #[serde(flatten)]
    pub scope: FileScope,
    /// The file's name as the user sees it (never used as a path on the server).
    pub name: String,
    pub size: u64,
    pub mime: String,
    /// SHA-256 of the whole file, lowercase hex: the relay checks it on completion and stores
    /// the bytes under it.
    pub sha256: String,
}

/// Where an upload stands.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadState {
    pub id: String,
    /// Bytes stored so far: the next `PUT` goes at this offset.
    pub received: u64,
    pub size: u64,
    /// Set once complete (also at once when the relay already holds these bytes).
    pub file: Option<FileInfo>,
}

/// A stored file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileInfo {
    pub id: String,
    pub name: String,
    pub size: u64,
    pub mime: String,
    pub sha256: String,
    /// Where it belongs, which decides who may read it: `"channel": id` or `"project": id`.
    #[serde(flatten)]
    pub scope: FileScope,
    pub owner: UserId,
    pub created_at: i64,
}

/// What a file belongs to: a conversation (sent in chat) or a project (attached to a task).
/// Whoever may read that conversation or project's board may read the file, checked on every
/// download.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FileScope {
    Channel(ChannelId),
    Project(ProjectId),
    /// A helpdesk ticket's attachment: its requester and the helpdesk agents read it.
    Ticket(String),
    /// A version of a file in the file library ([`crate::library`]): who may read the folder,
    /// and for a version still waiting for approval only its uploader and the approvers.
    Folder(String),
    /// An image in a knowledge-base page, by the page document's id: who may read the page reads
    /// it, who may edit the page uploads it.
    Page(crate::ids::DocumentId),
}

impl FileScope {
    /// The scope as stored: its kind and the id of what it names.
    pub fn parts(&self) -> (&'static str, String) {
        match self {
            FileScope::Channel(c) => ("channel", c.to_string()),
            FileScope::Project(p) => ("project", p.to_string()),
            FileScope::Ticket(t) => ("ticket", t.clone()),
            FileScope::Folder(d) => ("folder", d.clone()),
            FileScope::Page(d) => ("page", d.to_string()),
        }
    }

    /// The scope stored as `kind` and `id`; `None` for a kind this build does not know.
    pub fn from_parts(kind: &str, id: String) -> Option<FileScope> {
        Some(match kind {
            "channel" => FileScope::Channel(crate::ids::ChannelId(id)),
            "project" => FileScope::Project(crate::ids::ProjectId(id)),
            "ticket" => FileScope::Ticket(id),
            "folder" => FileScope::Folder(id),
            "page" => FileScope::Page(id.parse().ok()?),
            _ => return None,
        })
    }
}

impl std::fmt::Display for FileScope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FileScope::Channel(c) => write!(f, "channel:{c}"),
            FileScope::Project(p) => write!(f, "project:{}", p.as_str()),
            FileScope::Ticket(t) => write!(f, "ticket:{t}"),
            FileScope::Folder(d) => write!(f, "folder:{d}"),
            FileScope::Page(d) => write!(f, "page:{d}"),
        }
    }
}

/// Forward a file into another conversation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForwardFile {
    pub channel: ChannelId,
}

/// File settings (super admin).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileSettings {
    /// Largest file accepted, in bytes.
    pub max_upload_bytes: u64,
}

// --- audit log --------------------------------------------------------------------------------

/// One audit row. `before`/`after` are JSON texts of the changed object, when there is one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub id: i64,
    /// Unix milliseconds.
    pub at: i64,
    pub user: Option<UserId>,
    pub username: Option<String>,
    pub ip: Option<String>,
    /// An [`crate::audit::Event`] code.
    pub action: String,
    pub outcome: Outcome,
    pub target: String,
    pub detail: String,
    pub before: Option<String>,
    pub after: Option<String>,
    pub prev_hash: String,
    pub hash: String,
}

/// `GET /api/admin/audit`: newest first; pass `before=<next_before>` for the next page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditPage {
    pub entries: Vec<AuditEntry>,
    pub next_before: Option<i64>,
}

/// `GET /api/admin/audit/verify`: whether the hash chain is intact.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditVerify {
    pub ok: bool,
    pub rows: u64,
    /// The newest row and its hash: keep them elsewhere (a ticket, a printout) to detect later
    /// truncation of the log's tail, which a chain alone cannot.
    pub head_id: Option<i64>,
    pub head_hash: String,
    /// The first row that does not check out.
    pub first_bad: Option<i64>,
    pub problem: Option<String>,
}

// --- projects (任务管理) -----------------------------------------------------------------------------

/// Who sees a project: its members only, or everyone in the company (read-only for non-members).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProjectVisibility {
    #[default]
    Private,
    Company,
}

impl ProjectVisibility {
    pub fn as_str(self) -> &'static str {
        match self {
            ProjectVisibility::Private => "private",
            ProjectVisibility::Company => "company",
        }
    }
    pub fn parse(s: &str) -> Self {
        if s == "company" { ProjectVisibility::Company } else { ProjectVisibility::Private }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectSummary {
    pub id: ProjectId,
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub visibility: ProjectVisibility,
    pub owner: UserId,
    pub members: u32,
    /// The caller is a member: they may edit the board.
    pub member: bool,
    /// The board document ([`crate::schema::tasks::board_id`]).
    pub document: DocumentId,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CreateProject {
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub visibility: ProjectVisibility,
    /// Members besides the creator (who becomes the owner).
    #[serde(default)]
    pub members: Vec<UserId>,
}

// --- knowledge base (知识库) --------------------------------------------------------------------------

/// A knowledge-base space as the caller sees it (`GET /api/kb/spaces`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KbSpace {
    pub id: String,
    pub name: String,
    /// `None`: the company-wide space.
    pub dept: Option<DeptId>,
    #[serde(default)]
    pub dept_name: Option<String>,
    /// The caller may edit pages (others read and comment).
    pub editable: bool,
    /// The space's page-tree document ([`crate::schema::kb::space_doc_id`]).
    pub document: DocumentId,
}

/// `POST /api/kb/spaces`: a department's space (`dept`), or another company-wide one.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CreateKbSpace {
    pub name: String,
    #[serde(default)]
    pub dept: Option<DeptId>,
}

/// `GET /api/push/key`: the relay's VAPID public key, for `PushManager.subscribe`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct PushKey {
    /// Base64url, the uncompressed P-256 point.
    pub public_key: String,
}

/// A browser's push subscription, as `PushSubscription.toJSON()` gives it
/// (`POST /api/push/subscriptions`).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct PushSubscribe {
    pub endpoint: String,
    pub keys: PushKeys,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct PushKeys {
    /// The device's P-256 public key, base64url.
    pub p256dh: String,
    /// The device's authentication secret, base64url.
    pub auth: String,
}

/// `DELETE /api/push/subscriptions`: stop pushing to this device.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct PushUnsubscribe {
    pub endpoint: String,
}
