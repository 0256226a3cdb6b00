//! The suggestion box (意见箱): `POST /api/suggestions` files a suggestion, signed or anonymous.
//!
//! Suggestions are the one kind of record people do not write into their document themselves:
//! every client change is made under an actor that names its user ([`qiao_model::actor`]), so a
//! suggestion written over sync would carry its author in the change history forever. Instead
//! the app sends the text here and the relay writes it into the suggestion box document with
//! its own actor ([`Registry::server_change`](crate::sync::registry::Registry::server_change)),
//! as it does for the directory. For an anonymous suggestion nothing the relay keeps links it to
//! the person who sent it:
//!
//! - the document: no author field; the change is the relay's, committed with time 0; the
//!   stored time is rounded down to the hour ([`suggestions::coarse_time`]), so it cannot be
//!   matched against the times of logins or sync connections;
//! - the database: no table of suggestions; the document's chunks take random row ids
//!   ([`crate::store::suggestions`]), so their order does not say what was stored next to them;
//! - the audit log: no row (signed suggestions get a `suggestion.submit` row like other signed
//!   actions; anonymous ones none, not even when refused);
//! - the log: this handler logs nothing, and neither does the session lookup; the HTTP trace
//!   layer logs method and path only;
//! - the flood limit ([`Flood`]) counts per person in memory only, and forgets after an hour.
//!
//! The request itself is authenticated (only staff may post), so a relay operator who
//! records traffic outside the relay (a proxy's access log with session cookies) could still
//! see who posted when; that is outside what the relay stores. An id chosen by the device makes
//! a resent outbox entry file once.

use crate::AppState;
use crate::auth::AuthUser;
use crate::error::AppError;
use crate::store::AuditRecord;
use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use qiao_model::acl::Module;
use qiao_model::audit::Event;
use qiao_model::ids::UserId;
use qiao_model::schema::suggestions::{self, Signer, Submission, Submitted};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub fn router() -> Router<AppState> {
    Router::new().route("/api/suggestions", post(submit))
}

/// Suggestions one person may file per [`FLOOD_WINDOW`].
pub const FLOOD_LIMIT: usize = 20;
pub const FLOOD_WINDOW: Duration = Duration::from_secs(3600);

/// Who filed how many suggestions lately: memory only, never written anywhere, each entry
/// dropped an hour after it was made.
#[derive(Default)]
pub struct Flood {
    recent: Mutex<HashMap<UserId, Vec<Instant>>>,
}

impl Flood {
    /// Count one suggestion of `user`, or refuse it with the seconds until the next is allowed.
    pub fn take(&self, user: UserId) -> Result<(), AppError> {
        let now = Instant::now();
        let mut recent = self.recent.lock().unwrap_or_else(|p| p.into_inner());
        recent.retain(|_, times| {
            times.retain(|t| now.duration_since(*t) < FLOOD_WINDOW);
            !times.is_empty()
        });
        let times = recent.entry(user).or_default();
        if times.len() >= FLOOD_LIMIT {
            let wait = FLOOD_WINDOW.saturating_sub(now.duration_since(times[0]));
            return Err(AppError::RateLimited(wait.as_secs().max(1)));
        }
        times.push(now);
        Ok(())
    }
}

async fn submit(
    State(state): State<AppState>,
    who: AuthUser,
    Json(req): Json<Submission>,
) -> Result<Json<Submitted>, AppError> {
    if req.anonymous {
        // Refused without an audit row: a row naming the person would say they tried.
        crate::actions::modules::require(&state, Module::Suggestions).await?;
    } else {
        crate::actions::modules::require_for(&state, Module::Suggestions, who.id(), Some(&who.ip), "suggestion.submit")
            .await?;
    }
    suggestions::check(&req).map_err(|e| AppError::BadRequest(e.to_string()))?;
    state.suggestion_flood.take(who.id())?;
    let signer = (!req.anonymous).then(|| Signer { id: who.id(), name: who.user.me.display_name.clone() });
    let now = crate::store::now_ms();
    let mut created = false;
    state
        .registry
        .server_change(suggestions::document_id(), |doc| {
            let mut tx = doc.transaction();
            created = suggestions::submit(&mut tx, &req, signer.as_ref(), now)
                .map_err(|e| AppError::BadRequest(e.to_string()))?;
            tx.commit_with(suggestions::commit_time());
            Ok(())
        })
        .await?;
    if created && let Some(signer) = &signer {
        let rec = AuditRecord::ok(Event::SuggestionSubmit)
            .by(signer.id)
            .ip(&who.ip)
            .target(format!("suggestion:{}", req.id))
            .detail(req.title.trim().to_string());
        state.store.audit_record(&rec).await?;
    }
    Ok(Json(Submitted { id: req.id, created }))
}
