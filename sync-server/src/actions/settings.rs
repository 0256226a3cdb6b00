//! Settings the app reads (`GET /api/settings/client`) and their super-admin write path.

use crate::AppState;
use crate::auth::AuthUser;
use crate::error::AppError;
use crate::store::settings::{self, OFFLINE_CACHE_EXPIRY_DAYS};
use crate::store::{AuditRecord, audit_tx};
use qiao_model::api::ClientSettings;
use qiao_model::audit::Event;

/// Longest offline-cache expiry accepted (10 years; `None` means never).
pub const MAX_EXPIRY_DAYS: u32 = 3650;

pub async fn client_settings(state: &AppState) -> Result<ClientSettings, AppError> {
    Ok(ClientSettings {
        offline_cache_expiry_days: state.store.setting::<Option<u32>>(OFFLINE_CACHE_EXPIRY_DAYS).await?.flatten(),
    })
}

pub async fn do_set_client_settings(
    state: &AppState,
    who: &AuthUser,
    new: &ClientSettings,
) -> Result<ClientSettings, AppError> {
    if let Some(d) = new.offline_cache_expiry_days
        && !(1..=MAX_EXPIRY_DAYS).contains(&d)
    {
        return Err(AppError::BadRequest(format!(
            "offline_cache_expiry_days is 1 to {MAX_EXPIRY_DAYS} days, or null for never"
        )));
    }
    let mut tx = state.store.begin().await?;
    let before = ClientSettings {
        offline_cache_expiry_days: settings::setting_tx::<Option<u32>>(&mut tx, OFFLINE_CACHE_EXPIRY_DAYS)
            .await?
            .flatten(),
    };
    settings::set_setting(&mut tx, OFFLINE_CACHE_EXPIRY_DAYS, &new.offline_cache_expiry_days).await?;
    let rec = AuditRecord::ok(Event::SettingsClient)
        .by(who.id())
        .ip(&who.ip)
        .target("settings:client")
        .before(&before)
        .after(new);
    audit_tx(&mut tx, &rec).await?;
    tx.commit().await?;
    Ok(new.clone())
}
