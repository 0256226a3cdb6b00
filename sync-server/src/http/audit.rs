//! The audit log for super admins: `GET /api/admin/audit` (JSON, newest first, paged),
//! `GET /api/admin/audit.csv` (every matching row, for Excel) and `GET /api/admin/audit/verify`
//! (is the hash chain intact?).
//!
//! Filters (all optional): `user` (id or username), `action` (an event code such as
//! `user.deactivate`, or a domain such as `user`), `outcome` (`ok`, `refused`), `from` and `to`
//! (Unix ms, or a `YYYY-MM-DD` UTC day; `from` inclusive, `to` inclusive of its whole day when a
//! date, exclusive when ms), and for JSON `before` (row id, for the next page) and `limit`
//! (default 100, at most 1000).

use crate::AppState;
use crate::auth::SuperAdmin;
use crate::error::AppError;
use crate::store::{AuditFilter, AuditRecord};
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use qiao_model::api::{AuditEntry, AuditPage, AuditVerify};
use qiao_model::audit::{Event, Outcome};
use qiao_model::ids::UserId;
use serde::Deserialize;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/admin/audit", get(list))
        .route("/api/admin/audit.csv", get(export_csv))
        .route("/api/admin/audit/verify", get(verify))
}

const DEFAULT_LIMIT: i64 = 100;
const MAX_LIMIT: i64 = 1000;
const DAY_MS: i64 = 86_400_000;

/// The query string as text, so that a bad value gets our JSON error, not a bare 400.
#[derive(Debug, Default, Deserialize)]
pub struct AuditQuery {
    pub user: Option<String>,
    pub action: Option<String>,
    pub outcome: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub before: Option<String>,
    pub limit: Option<String>,
    pub anchor_id: Option<String>,
    pub anchor_hash: Option<String>,
}

fn nonempty(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil date of a day number (inverse of [`days_from_civil`]).
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// Unix ms as `YYYY-MM-DD HH:MM:SS` (UTC), which Excel reads as a date and time.
pub fn format_utc(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    let s = secs.rem_euclid(86_400);
    format!("{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
}

/// A time bound: Unix ms, or a `YYYY-MM-DD` day (its start; with `end_of_day`, the next day's).
fn time_bound(name: &str, v: &str, end_of_day: bool) -> Result<i64, AppError> {
    if let Ok(ms) = v.parse::<i64>() {
        return Ok(ms);
    }
    let bad = || AppError::BadRequest(format!("{name} must be Unix milliseconds or a date YYYY-MM-DD, not {v:?}"));
    let mut parts = v.splitn(3, '-').map(|p| p.parse::<i64>().map_err(|_| bad()));
    let (y, m, d) = (parts.next().ok_or_else(bad)??, parts.next().ok_or_else(bad)??, parts.next().ok_or_else(bad)??);
    if !(1970..=9999).contains(&y) || !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return Err(bad());
    }
    Ok(days_from_civil(y, m, d) * DAY_MS + if end_of_day { DAY_MS } else { 0 })
}

async fn filter(state: &AppState, q: &AuditQuery, paged: bool) -> Result<AuditFilter, AppError> {
    let user = match nonempty(&q.user) {
        None => None,
        Some(u) => match u.parse::<i64>() {
            Ok(id) => Some(UserId(id)),
            Err(_) => Some(
                state
                    .store
                    .user_by_username(u)
                    .await?
                    .map(|r| r.me.id)
                    // An unknown username matches nothing rather than everything.
                    .unwrap_or(UserId(-1)),
            ),
        },
    };
    let action = nonempty(&q.action).map(String::from);
    if let Some(a) = &action {
        let known_domain = Event::ALL.iter().any(|e| e.domain().as_str() == a);
        if Event::parse(a).is_none() && !known_domain {
            let domains: std::collections::BTreeSet<&str> = Event::ALL.iter().map(|e| e.domain().as_str()).collect();
            return Err(AppError::BadRequest(format!(
                "unknown action {a:?}: use an event code (e.g. user.deactivate) or a domain ({})",
                domains.into_iter().collect::<Vec<_>>().join(", ")
            )));
        }
    }
    let outcome = match nonempty(&q.outcome) {
        None => None,
        Some(o) => Some(Outcome::parse(o).ok_or_else(|| AppError::BadRequest("outcome is ok or refused".into()))?),
    };
    let from = nonempty(&q.from).map(|v| time_bound("from", v, false)).transpose()?;
    let to = nonempty(&q.to).map(|v| time_bound("to", v, true)).transpose()?;
    let int = |name: &str, v: Option<&str>| {
        v.map(|v| v.parse::<i64>().map_err(|_| AppError::BadRequest(format!("{name} must be a number")))).transpose()
    };
    let (before, limit) = if paged {
        let limit = int("limit", nonempty(&q.limit))?.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT);
        (int("before", nonempty(&q.before))?, Some(limit))
    } else {
        (None, None)
    };
    Ok(AuditFilter { user, action, outcome, from, to, before, limit })
}

async fn list(
    State(state): State<AppState>,
    _admin: SuperAdmin,
    Query(q): Query<AuditQuery>,
) -> Result<Json<AuditPage>, AppError> {
    let f = filter(&state, &q, true).await?;
    let entries = state.store.audit_entries(&f).await?;
    let full = f.limit.is_some_and(|l| entries.len() as i64 == l);
    let next_before = entries.last().filter(|_| full).map(|e| e.id);
    Ok(Json(AuditPage { entries, next_before }))
}

/// One CSV field: quoted when it holds a separator, quote or line break (quotes doubled), and
/// prefixed with `'` when a spreadsheet would take it for a formula (CSV injection).
pub fn csv_field(v: &str) -> String {
    let v = if v.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{v}") } else { v.to_string() };
    if v.contains([',', '"', '\n', '\r']) || v.starts_with(' ') || v.ends_with(' ') {
        format!("\"{}\"", v.replace('"', "\"\""))
    } else {
        v
    }
}

const CSV_HEADER: [&str; 13] = [
    "id",
    "time (UTC)",
    "user_id",
    "username",
    "ip",
    "action",
    "outcome",
    "target",
    "detail",
    "before",
    "after",
    "prev_hash",
    "hash",
];

/// The export: UTF-8 with a byte order mark (so Excel reads Chinese correctly), CRLF line ends.
pub fn to_csv(entries: &[AuditEntry]) -> String {
    let mut out = String::from("\u{feff}");
    out.push_str(&CSV_HEADER.join(","));
    out.push_str("\r\n");
    for e in entries {
        let fields = [
            e.id.to_string(),
            format_utc(e.at),
            e.user.map(|u| u.0.to_string()).unwrap_or_default(),
            e.username.clone().unwrap_or_default(),
            e.ip.clone().unwrap_or_default(),
            e.action.clone(),
            e.outcome.as_str().to_string(),
            e.target.clone(),
            e.detail.clone(),
            e.before.clone().unwrap_or_default(),
            e.after.clone().unwrap_or_default(),
            e.prev_hash.clone(),
            e.hash.clone(),
        ];
        let line: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
        out.push_str(&line.join(","));
        out.push_str("\r\n");
    }
    out
}

async fn export_csv(
    State(state): State<AppState>,
    admin: SuperAdmin,
    Query(q): Query<AuditQuery>,
) -> Result<Response, AppError> {
    let f = filter(&state, &q, false).await?;
    let entries = state.store.audit_entries(&f).await?;
    // Exporting the log is itself on record (the export does not contain its own row).
    let rec = AuditRecord::ok(Event::AuditExport)
        .by(admin.id())
        .ip(&admin.ip)
        .target("audit.csv")
        .detail(format!("{} rows; filter {f:?}", entries.len()));
    state.store.audit_record(&rec).await?;
    let csv = to_csv(&entries);
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (header::CONTENT_DISPOSITION, "attachment; filename=\"qiao-audit.csv\""),
        ],
        csv,
    )
        .into_response())
}

async fn verify(
    State(state): State<AppState>,
    admin: SuperAdmin,
    Query(q): Query<AuditQuery>,
) -> Result<Json<AuditVerify>, AppError> {
    let anchor_id = nonempty(&q.anchor_id)
        .map(|v| v.parse::<i64>().map_err(|_| AppError::BadRequest("anchor_id must be a number".into())))
        .transpose()?;
    let anchor = match (anchor_id, nonempty(&q.anchor_hash)) {
        (Some(id), Some(h)) => Some((id, h)),
        (None, None) => None,
        _ => return Err(AppError::BadRequest("give both anchor_id and anchor_hash, or neither".into())),
    };
    let result = state.store.verify_audit(anchor).await?;
    let rec = AuditRecord::ok(Event::AuditVerify).by(admin.id()).ip(&admin.ip).target("audit").detail(
        match &result.problem {
            None => format!("intact, {} rows", result.rows),
            Some(p) => format!("BROKEN: {p}"),
        },
    );
    state.store.audit_record(&rec).await?;
    Ok(Json(result))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_round_trip() {
        assert_eq!(format_utc(0), "1970-01-01 00:00:00");
        assert_eq!(format_utc(1_700_000_000_000), "2023-11-14 22:13:20");
        assert_eq!(time_bound("from", "2023-11-14", false).unwrap(), days_from_civil(2023, 11, 14) * DAY_MS);
        assert_eq!(format_utc(time_bound("to", "2024-02-29", true).unwrap()), "2024-03-01 00:00:00");
        assert!(time_bound("from", "yesterday", false).is_err());
        assert_eq!(time_bound("from", "123", false).unwrap(), 123);
    }

    #[test]
    fn csv_fields_are_quoted_and_defused() {
        assert_eq!(csv_field("plain 中文"), "plain 中文");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("two\nlines"), "\"two\nlines\"");
        assert_eq!(csv_field("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_field("-1"), "'-1");
        assert_eq!(csv_field(""), "");
    }
}
