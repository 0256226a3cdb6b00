//! Creating channels.

use crate::AppState;
use crate::error::AppError;
use crate::store::UserRow;
use qiao_model::acl::{self, Actor};
use qiao_model::api::{ChannelSummary, CreateChannel};
use qiao_model::ids::ChannelId;
use rand::RngCore;

pub const MAX_CHANNEL_NAME: usize = 80;

pub fn new_channel_id() -> ChannelId {
    let mut b = [0u8; 12];
    rand::thread_rng().fill_bytes(&mut b);
    ChannelId(format!("c{}", hex::encode(b)))
}

pub async fn do_create_channel(
    state: &AppState,
    who: &UserRow,
    req: &CreateChannel,
) -> Result<ChannelSummary, AppError> {
    super::modules::require_for(state, qiao_model::acl::Module::Chat, who.me.id, None, "channel.create").await?;
    let name = req.name.trim();
    if name.is_empty() || name.chars().count() > MAX_CHANNEL_NAME || name.chars().any(char::is_control) {
        return Err(AppError::BadRequest(format!("a channel name is 1 to {MAX_CHANNEL_NAME} characters")));
    }
    let actor = Actor { role: who.me.role, dept: None };
    // A private channel starts with its creator only: a group within the matrix's size limit.
    let allowed = if req.private { acl::create_group(&actor, 1, None) } else { acl::create_public_channel(&actor) };
    if let Err(denied) = allowed {
        state.store.audit(Some(who.me.id), None, "channel.create", true, name).await?;
        return Err(AppError::Forbidden(denied.to_string()));
    }
    let summary = state.store.create_channel(&new_channel_id(), name, req.private, who.me.id).await?;
    state.store.audit(Some(who.me.id), None, "channel.create", false, &format!("{} {}", summary.id, name)).await?;
    Ok(summary)
}
