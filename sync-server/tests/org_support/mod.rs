//! Helpers for the organisation, audit and permission tests (`org_*`, `audit_*`, `acl_*`), on top
//! of the shared harness in `common`: requests with any method and body, an org chart set up
//! through the real HR import, and direct looks at the audit log.
#![allow(dead_code)]

use super::common::*;
use automerge::AutoCommit;
use qiao_model::acl::Role;
use qiao_model::api::{Directory, ImportApplied, ImportPreview};
use qiao_model::ids::{DeptId, UserId};
use qiao_model::schema::directory;
use sqlx::Row;
use std::collections::HashMap;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// One request with any method, body and content type, on its own connection.
pub async fn request(
    relay: &Relay,
    method: &str,
    path: &str,
    token: Option<&str>,
    content_type: Option<&str>,
    body: &[u8],
) -> Reply {
    let addr = relay.addr;
    let mut head =
        format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n", body.len());
    if let Some(t) = token {
        head.push_str(&format!("Authorization: Bearer {t}\r\n"));
    }
    if let Some(ct) = content_type {
        head.push_str(&format!("Content-Type: {ct}\r\n"));
    }
    head.push_str("\r\n");
    let raw = tokio::time::timeout(STEP, async {
        let mut s = TcpStream::connect(addr).await.expect("connect to the relay");
        s.write_all(head.as_bytes()).await.expect("send head");
        s.write_all(body).await.expect("send body");
        let mut raw = Vec::new();
        s.read_to_end(&mut raw).await.expect("read response");
        raw
    })
    .await
    .unwrap_or_else(|_| panic!("{method} {path}: no response within {STEP:?}"));
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").expect("response has a header");
    let head = String::from_utf8_lossy(&raw[..split]).to_ascii_lowercase();
    let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).expect("status line");
    let mut body = raw[split + 4..].to_vec();
    if head.contains("transfer-encoding: chunked") {
        body = dechunk(&body);
    }
    Reply { status, body }
}

fn dechunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let Some(eol) = b.windows(2).position(|w| w == b"\r\n") else { return out };
        let size = usize::from_str_radix(String::from_utf8_lossy(&b[..eol]).trim(), 16).unwrap_or(0);
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&b[eol + 2..eol + 2 + size]);
        b = &b[eol + 2 + size + 2..];
    }
}

pub async fn put_json(relay: &Relay, path: &str, token: &str, body: serde_json::Value) -> Reply {
    request(relay, "PUT", path, Some(token), Some("application/json"), body.to_string().as_bytes()).await
}

pub async fn post_json(relay: &Relay, path: &str, token: &str, body: serde_json::Value) -> Reply {
    request(relay, "POST", path, Some(token), Some("application/json"), body.to_string().as_bytes()).await
}

pub async fn post_file(relay: &Relay, path: &str, token: &str, body: &str) -> Reply {
    request(relay, "POST", path, Some(token), Some("text/csv"), body.as_bytes()).await
}

pub async fn get(relay: &Relay, path: &str, token: &str) -> Reply {
    request(relay, "GET", path, Some(token), None, b"").await
}

/// Preview `file` as `admin` (must succeed).
pub async fn preview(relay: &Relay, admin: &User, file: &str) -> ImportPreview {
    let r = post_file(relay, "/api/admin/import/preview", &admin.token, file).await;
    assert_eq!(r.status, 200, "preview: {}", r.text());
    r.json()
}

/// Preview and apply `file` as `admin` (both must succeed).
pub async fn import(relay: &Relay, admin: &User, file: &str) -> (ImportPreview, ImportApplied) {
    let p = preview(relay, admin, file).await;
    let r = post_json(relay, "/api/admin/import/apply", &admin.token, serde_json::json!({ "token": p.token })).await;
    assert_eq!(r.status, 200, "apply: {}", r.text());
    (p, r.json())
}

/// The org chart most tests start from: Sales and Eng, each with a department admin and two
/// employees, plus a second super admin in IT.
pub const ORG: &str = "employee_id,name,department,position,manager_employee_id,role\n\
S1,销售管理员 Sales Admin,Sales,Manager,,dept_admin\n\
S2,李雷,Sales,Rep,S1,employee\n\
S3,韩梅梅,Sales/East,Rep,S1,\n\
E1,Eng Admin,Eng,Lead,,dept_admin\n\
E2,王芳,Eng,Dev,E1,\n\
X1,Second Super,IT,,,super_admin\n";

/// A relay with [`ORG`] imported; everyone's initial password by username.
pub struct Org {
    pub relay: Relay,
    pub admin: User,
    pub passwords: HashMap<String, String>,
}

impl Org {
    pub async fn start() -> Org {
        let relay = Relay::start().await;
        let admin = relay.admin().await;
        let (_, applied) = import(&relay, &admin, ORG).await;
        let passwords = applied.initial_passwords.into_iter().map(|p| (p.username, p.password)).collect();
        Org { relay, admin, passwords }
    }

    pub async fn login(&self, username: &str) -> User {
        self.relay.login(username, &self.passwords[username]).await
    }

    pub async fn directory(&self) -> Directory {
        let r = get(&self.relay, "/api/directory", &self.admin.token).await;
        assert_eq!(r.status, 200, "{}", r.text());
        r.json()
    }

    pub async fn dept(&self, path: &str) -> DeptId {
        self.directory().await.departments.into_iter().find(|d| d.path == path).expect(path).id
    }

    pub async fn user_id(&self, username: &str) -> UserId {
        self.directory().await.users.into_iter().find(|u| u.username == username).expect(username).id
    }

    /// A new active account straight in the database (no import, no argon2): a target for
    /// destructive cases.
    pub async fn make_user(&self, username: &str, role: Role, dept: Option<&DeptId>) -> UserId {
        let r = sqlx::query(
            "INSERT INTO users (username, display_name, password_hash, role, dept_id, created_at) VALUES (?, ?, 'x', ?, ?, 0)",
        )
        .bind(username)
        .bind(username)
        .bind(role.as_str())
        .bind(dept.map(DeptId::as_str))
        .execute(self.relay.state.store.pool())
        .await
        .expect("insert user");
        UserId(r.last_insert_rowid())
    }
}

/// `users.status` of `id`.
pub async fn status(relay: &Relay, id: UserId) -> String {
    sqlx::query_scalar("SELECT status FROM users WHERE id = ?")
        .bind(id.0)
        .fetch_one(relay.state.store.pool())
        .await
        .expect("status")
}

/// An audit row, as the tests look at it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditRow {
    pub id: i64,
    pub user: Option<i64>,
    pub action: String,
    pub outcome: String,
    pub target: String,
    pub detail: String,
    pub before: Option<String>,
    pub after: Option<String>,
}

pub async fn audit_rows(relay: &Relay) -> Vec<AuditRow> {
    sqlx::query(
        "SELECT id, user_id, action, outcome, target, detail, before_json, after_json FROM audit_log ORDER BY id",
    )
    .fetch_all(relay.state.store.pool())
    .await
    .expect("read audit_log")
    .iter()
    .map(|r| AuditRow {
        id: r.get("id"),
        user: r.get("user_id"),
        action: r.get("action"),
        outcome: r.get("outcome"),
        target: r.get("target"),
        detail: r.get("detail"),
        before: r.get("before_json"),
        after: r.get("after_json"),
    })
    .collect()
}

pub async fn audit_len(relay: &Relay) -> usize {
    audit_rows(relay).await.len()
}

/// The rows written since the log had `since` rows.
pub async fn audit_since(relay: &Relay, since: usize) -> Vec<AuditRow> {
    audit_rows(relay).await.split_off(since)
}

/// Sync the directory document until it lists `n` people (another change may still be in
/// flight), and return its content.
pub async fn synced_directory(
    c: &mut SyncClient,
    doc: &mut AutoCommit,
    n: usize,
) -> Vec<qiao_model::api::DirectoryUser> {
    let id = directory::document_id();
    let deadline = tokio::time::Instant::now() + STEP;
    loop {
        c.sync(id, doc).await.expect("the directory syncs");
        let (_, users) = directory::read(doc);
        if users.len() == n {
            return users;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "directory document holds {} people, expected {n}",
            users.len()
        );
    }
}
