//! Conversations: creating channels and groups, opening direct messages, membership, archiving.
//!
//! Each write validates against the permission matrix ([`qiao_model::acl`]), changes the database
//! and writes its audit row in one transaction. Removing someone also cuts their live sync of the
//! conversation's documents at once ([`Registry::revoke`](crate::sync::registry::Registry::revoke)).

use crate::AppState;
use crate::auth::AuthUser;
use crate::error::AppError;
use crate::store::channels::{self as ch, ChannelFacts};
use crate::store::{AuditRecord, DocKind, Store, audit_tx};
use qiao_model::acl::{self, Module, Role};
use qiao_model::api::{ChannelSummary, ConversationKind, CreateChannel};
use qiao_model::audit::Event;
use qiao_model::ids::{ChannelId, UserId};
use rand::RngCore;

pub const MAX_CHANNEL_NAME: usize = 80;

pub fn new_channel_id() -> ChannelId {
    let mut b = [0u8; 12];
    rand::thread_rng().fill_bytes(&mut b);
    ChannelId(format!("c{}", hex::encode(b)))
}

/// Write a refused audit row for `who`'s attempt at `event` on `target`, then give back `err`.
pub(crate) async fn refuse(state: &AppState, who: &AuthUser, event: Event, target: String, err: AppError) -> AppError {
    let rec = AuditRecord::refused(event).by(who.id()).ip(&who.ip).target(target).detail(err.to_string());
    if let Err(e) = state.store.audit_record(&rec).await {
        return e;
    }
    err
}

fn valid_name(name: &str) -> Result<&str, AppError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_CHANNEL_NAME || name.chars().any(char::is_control) {
        return Err(AppError::BadRequest(format!("a name is 1 to {MAX_CHANNEL_NAME} characters")));
    }
    Ok(name)
}

pub async fn do_create_channel(
    state: &AppState,
    who: &AuthUser,
    req: &CreateChannel,
) -> Result<ChannelSummary, AppError> {
    super::modules::require_for(state, Module::Chat, who.id(), None, "channel.create").await?;
    let name = valid_name(&req.name)?;
    let mut members: Vec<UserId> = req.members.iter().copied().filter(|m| *m != who.id()).collect();
    members.sort();
    members.dedup();
    let (kind, private) = match req.kind {
        ConversationKind::Dm => return Err(AppError::BadRequest("open a direct message with POST /api/dms".into())),
        ConversationKind::Group => (ConversationKind::Group, true),
        ConversationKind::Channel => (ConversationKind::Channel, req.private),
    };
    let allowed = match kind {
        ConversationKind::Channel if !private => acl::create_public_channel(&who.actor()),
        // A private channel or group: the matrix's group rule, counting the creator.
        _ => acl::create_group(&who.actor(), members.len() + 1, None),
    };
    if let Err(denied) = allowed {
        return Err(
            refuse(state, who, Event::ChannelCreate, name.into(), AppError::Forbidden(denied.to_string())).await
        );
    }
    for m in &members {
        if !state.store.user_exists_active(*m).await? {
            return Err(AppError::BadRequest(format!("no active user {m}")));
        }
    }
    let id = new_channel_id();
    let mut tx = state.store.begin().await?;
    Store::create_channel_tx(&mut tx, &id, name, private, kind, who.id(), &members).await?;
    let rec = AuditRecord::ok(Event::ChannelCreate)
        .by(who.id())
        .ip(&who.ip)
        .target(format!("channel:{id}"))
        .detail(name.to_string())
        .after(serde_json::json!({ "kind": kind.as_str(), "private": private, "members": members }));
    audit_tx(&mut tx, &rec).await?;
    tx.commit().await?;
    summary(state, &id, who.id()).await
}

async fn summary(state: &AppState, id: &ChannelId, user: UserId) -> Result<ChannelSummary, AppError> {
    state.store.channel_summary(id, user).await?.ok_or_else(|| AppError::NotFound(format!("no conversation {id}")))
}

/// Open the 1:1 conversation with `other`, creating it the first time.
pub async fn do_open_dm(state: &AppState, who: &AuthUser, other: UserId) -> Result<ChannelSummary, AppError> {
    super::modules::require_for(state, Module::Chat, who.id(), None, "channel.create").await?;
    if other == who.id() || !state.store.user_exists_active(other).await? {
        return Err(AppError::BadRequest("pick another active person".into()));
    }
    let mut tx = state.store.begin().await?;
    let id = match ch::find_dm_tx(&mut tx, who.id(), other).await? {
        Some(id) => {
            tx.rollback().await?;
            id
        }
        None => {
            let id = new_channel_id();
            Store::create_channel_tx(&mut tx, &id, "", true, ConversationKind::Dm, who.id(), &[other]).await?;
            let rec = AuditRecord::ok(Event::ChannelCreate)
                .by(who.id())
                .ip(&who.ip)
                .target(format!("channel:{id}"))
                .after(serde_json::json!({ "kind": "dm", "members": [who.id(), other] }));
            audit_tx(&mut tx, &rec).await?;
            tx.commit().await?;
            id
        }
    };
    summary(state, &id, who.id()).await
}

fn is_admin(who: &AuthUser) -> bool {
    who.user.me.role != Role::Employee
}

async fn facts(state: &AppState, id: &ChannelId) -> Result<ChannelFacts, AppError> {
    state.store.channel_facts(id).await?.ok_or_else(|| AppError::NotFound(format!("no conversation {id}")))
}

/// Add `user` to a conversation. Anyone may join a public channel; adding someone else takes the
/// owner or an admin, and an employee's group stays within the matrix's size limit.
pub async fn do_add_member(state: &AppState, who: &AuthUser, id: &ChannelId, user: UserId) -> Result<(), AppError> {
    let f = facts(state, id).await?;
    let my_role = state.store.member_role(id, who.id()).await?;
    let target = format!("channel:{id} user:{user}");
    let refusal = if f.archived {
        Some("this conversation is archived".to_string())
    } else if f.kind == ConversationKind::Dm {
        Some("a direct message has exactly two people; start a group instead".to_string())
    } else if user == who.id() && !f.private {
        None
    } else if my_role.as_deref() != Some("owner") && !is_admin(who) {
        Some("only the owner or an admin may add people".to_string())
    } else if f.kind == ConversationKind::Group || f.private {
        acl::create_group(&who.actor(), f.members as usize + 1, None).err().map(|d| d.to_string())
    } else {
        None
    };
    if let Some(why) = refusal {
        return Err(refuse(state, who, Event::ChannelMemberAdd, target, AppError::Forbidden(why)).await);
    }
    if !state.store.user_exists_active(user).await? {
        return Err(AppError::BadRequest(format!("no active user {user}")));
    }
    let mut tx = state.store.begin().await?;
    if ch::add_member_tx(&mut tx, id, user).await? {
        let rec = AuditRecord::ok(Event::ChannelMemberAdd).by(who.id()).ip(&who.ip).target(target);
        audit_tx(&mut tx, &rec).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Remove `user` (or leave, when it is yourself). Their live sync of the conversation's
/// documents ends now; their next request for them gets `doc-unavailable` (private ones).
pub async fn do_remove_member(state: &AppState, who: &AuthUser, id: &ChannelId, user: UserId) -> Result<(), AppError> {
    let f = facts(state, id).await?;
    let my_role = state.store.member_role(id, who.id()).await?;
    let target = format!("channel:{id} user:{user}");
    if user != who.id() && my_role.as_deref() != Some("owner") && !is_admin(who) {
        let err = AppError::Forbidden("only the owner or an admin may remove people".into());
        return Err(refuse(state, who, Event::ChannelMemberRemove, target, err).await);
    }
    let mut tx = state.store.begin().await?;
    let removed = ch::remove_member_tx(&mut tx, id, user).await?;
    if removed {
        let rec = AuditRecord::ok(Event::ChannelMemberRemove).by(who.id()).ip(&who.ip).target(target);
        audit_tx(&mut tx, &rec).await?;
    }
    tx.commit().await?;
    if removed && f.private {
        let channel = id.clone();
        state
            .registry
            .revoke(user, move |k| matches!(k, DocKind::ChatSegment { channel: c, .. } if *c == channel))
            .await;
    }
    Ok(())
}

/// Archive: the conversation stays readable and becomes read-only.
pub async fn do_archive(state: &AppState, who: &AuthUser, id: &ChannelId) -> Result<(), AppError> {
    let f = facts(state, id).await?;
    let target = format!("channel:{id}");
    if f.created_by != who.id() && who.user.me.role != Role::SuperAdmin {
        let err = AppError::Forbidden("only the owner or a super admin may archive".into());
        return Err(refuse(state, who, Event::ChannelArchive, target, err).await);
    }
    let mut tx = state.store.begin().await?;
    if ch::archive_tx(&mut tx, id).await? {
        let rec = AuditRecord::ok(Event::ChannelArchive)
            .by(who.id())
            .ip(&who.ip)
            .target(target)
            .before(serde_json::json!({ "archived": false }))
            .after(serde_json::json!({ "archived": true }));
        audit_tx(&mut tx, &rec).await?;
    }
    tx.commit().await?;
    Ok(())
}
