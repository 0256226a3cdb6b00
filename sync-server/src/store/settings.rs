//! Module toggles (功能模块启用) and system settings.

use super::{Store, Tx};
use crate::error::AppError;
use qiao_model::acl::Module;
use qiao_model::api::ModuleStates;
use serde::Serialize;
use serde::de::DeserializeOwned;
use sqlx::Row;

/// The setting holding [`qiao_model::api::ClientSettings::offline_cache_expiry_days`].
pub const OFFLINE_CACHE_EXPIRY_DAYS: &str = "client.offline_cache_expiry_days";

/// The setting holding the single sign-on configuration ([`crate::oidc::OidcConfig`], the
/// client secret included: keep the database as private as the provider's own secrets).
pub const OIDC: &str = "auth.oidc";

async fn read_modules<'e>(exec: impl sqlx::SqliteExecutor<'e>) -> Result<ModuleStates, AppError> {
    let rows = sqlx::query("SELECT name, enabled FROM modules").fetch_all(exec).await?;
    // A module missing from the table (added to the code later) is on.
    let mut states: ModuleStates = Module::ALL.into_iter().map(|m| (m, true)).collect();
    for r in rows {
        if let Some(m) = Module::parse(r.get::<String, _>("name").as_str()) {
            states.insert(m, r.get::<bool, _>("enabled"));
        }
    }
    Ok(states)
}

impl Store {
    pub async fn modules(&self) -> Result<ModuleStates, AppError> {
        read_modules(&self.pool).await
    }

    pub async fn module_enabled(&self, m: Module) -> Result<bool, AppError> {
        let on: Option<bool> = sqlx::query_scalar("SELECT enabled FROM modules WHERE name = ?")
            .bind(m.as_str())
            .fetch_optional(&self.pool)
            .await?;
        Ok(on.unwrap_or(true))
    }

    /// A setting's value, `None` when it was never set.
    pub async fn setting<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, AppError> {
        let v: Option<String> =
            sqlx::query_scalar("SELECT value FROM settings WHERE key = ?").bind(key).fetch_optional(&self.pool).await?;
        v.map(|v| serde_json::from_str(&v).map_err(|e| AppError::Internal(format!("setting {key}: {e}")))).transpose()
    }
}

pub async fn modules_tx(tx: &mut Tx) -> Result<ModuleStates, AppError> {
    read_modules(&mut **tx).await
}

pub async fn set_module(tx: &mut Tx, m: Module, enabled: bool) -> Result<(), AppError> {
    sqlx::query(
        "INSERT INTO modules (name, enabled) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET enabled = excluded.enabled",
    )
    .bind(m.as_str())
    .bind(enabled)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub async fn setting_tx<T: DeserializeOwned>(tx: &mut Tx, key: &str) -> Result<Option<T>, AppError> {
    let v: Option<String> =
        sqlx::query_scalar("SELECT value FROM settings WHERE key = ?").bind(key).fetch_optional(&mut **tx).await?;
    v.map(|v| serde_json::from_str(&v).map_err(|e| AppError::Internal(format!("setting {key}: {e}")))).transpose()
}

pub async fn set_setting(tx: &mut Tx, key: &str, value: &impl Serialize) -> Result<(), AppError> {
    let v = serde_json::to_string(value).map_err(|e| AppError::Internal(e.to_string()))?;
    sqlx::query(
        "INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    )
    .bind(key)
    .bind(v)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
