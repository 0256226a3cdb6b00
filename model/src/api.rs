//! REST bodies shared by the relay's HTTP API and the app, and the wire error type.
//!
//! Endpoints (all JSON; the session travels in the `qiao_session` HttpOnly cookie or an
//! `Authorization: Bearer` header, never in a URL):
//! - `POST /api/auth/login` [`LoginRequest`] → [`LoginResponse`] and the cookie
//! - `POST /api/auth/logout` → 204, the session is revoked
//! - `GET  /api/me` → [`Me`]
//! - `GET  /api/channels` → `Vec<ChannelSummary>` the caller may read
//! - `POST /api/channels` [`CreateChannel`] → [`ChannelSummary`]
//! - `GET  /sync` websocket: the automerge-repo protocol ([`crate::protocol`])

use crate::acl::Role;
use crate::ids::{ChannelId, DocumentId, UserId};
use serde::{Deserialize, Serialize};

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
    /// The newest segment anyone has written to; the app opens this one and the next.
    pub head_segment: u32,
    /// The document id of `head_segment` (what an automerge-repo client would `find`).
    pub head_document: DocumentId,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CreateChannel {
    pub name: String,
    #[serde(default)]
    pub private: bool,
}

/// Every error body the API returns: a stable code for programs, a sentence for people.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiError {
    pub code: String,
    pub message: String,
}
