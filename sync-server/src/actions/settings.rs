//! Settings the app reads (`GET /api/settings/client`, `GET /api/settings/files`) and their
//! super-admin write paths.

use crate::AppState;
use crate::auth::AuthUser;
use crate::error::AppError;
use crate::store::files::MAX_UPLOAD_BYTES;
use crate::store::settings::{self, OFFLINE_CACHE_EXPIRY_DAYS};
use crate::store::{AuditRecord, audit_tx};
use qiao_model::acl;
use qiao_model::api::{ClientSettings, FileSettings};
use qiao_model::audit::Event;
use qiao_model::files::DEFAULT_MAX_UPLOAD_BYTES;

/// Longest offline-cache expiry accepted (10 years; `None` means never).
pub const MAX_EXPIRY_DAYS: u32 = 3650;

/// Highest upload limit accepted (1 TiB): far beyond any chat attachment, and it keeps sizes well
/// inside SQLite's integers.
pub const MAX_UPLOAD_LIMIT: u64 = 1 << 40;

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

/// The file settings in force ([`DEFAULT_MAX_UPLOAD_BYTES`] until a super admin sets a limit).
pub async fn file_settings(state: &AppState) -> Result<FileSettings, AppError> {
    Ok(FileSettings {
        max_upload_bytes: state.store.setting::<u64>(MAX_UPLOAD_BYTES).await?.unwrap_or(DEFAULT_MAX_UPLOAD_BYTES),
    })
}

pub async fn do_set_file_settings(
    state: &AppState,
    who: &AuthUser,
    new: &FileSettings,
) -> Result<FileSettings, AppError> {
    acl::system_settings(&who.actor()).map_err(|d| AppError::Forbidden(d.to_string()))?;
    if !(1..=MAX_UPLOAD_LIMIT).contains(&new.max_upload_bytes) {
        return Err(AppError::BadRequest(format!("max_upload_bytes is 1 to {MAX_UPLOAD_LIMIT} bytes")));
    }
    let mut tx = state.store.begin().await?;
    let before = FileSettings {
        max_upload_bytes: settings::setting_tx::<u64>(&mut tx, MAX_UPLOAD_BYTES)
            .await?
            .unwrap_or(DEFAULT_MAX_UPLOAD_BYTES),
    };
    settings::set_setting(&mut tx, MAX_UPLOAD_BYTES, &new.max_upload_bytes).await?;
    let rec = AuditRecord::ok(Event::SettingsFiles)
        .by(who.id())
        .ip(&who.ip)
        .target("settings:files")
        .before(&before)
        .after(new);
    audit_tx(&mut tx, &rec).await?;
    tx.commit().await?;
    Ok(new.clone())
}
