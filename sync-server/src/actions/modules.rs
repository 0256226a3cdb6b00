//! Module toggles (功能模块启用): which modules are on, turning them on and off, and
//! [`require`], the check every module's write path calls first.
//!
//! An off module is refused by the relay, not only hidden by the app: its REST write paths answer
//! 403, and its documents are unavailable over sync (for chat, `Store::access` gives no access to
//! chat segments while the module is off, so they get `doc-unavailable` like an unknown id).

use crate::AppState;
use crate::auth::AuthUser;
use crate::error::AppError;
use crate::store::{AuditRecord, audit_tx, settings};
use qiao_model::acl::Module;
use qiao_model::api::ModuleStates;
use qiao_model::audit::Event;
use qiao_model::ids::UserId;
use std::collections::BTreeMap;

fn off(module: Module) -> AppError {
    AppError::Forbidden(format!("the {} module is turned off", module.as_str()))
}

/// `Ok` when `module` is on, 403 otherwise. For checks that are not user actions; actions use
/// [`require_for`], which records the refusal.
pub async fn require(state: &AppState, module: Module) -> Result<(), AppError> {
    if state.store.module_enabled(module).await? { Ok(()) } else { Err(off(module)) }
}

/// [`require`] for an action of `user`: a refusal is written to the audit log (`module.disabled`,
/// target `module:<name>`, detail `what`).
pub async fn require_for(
    state: &AppState,
    module: Module,
    user: UserId,
    ip: Option<&str>,
    what: &str,
) -> Result<(), AppError> {
    if state.store.module_enabled(module).await? {
        return Ok(());
    }
    let rec = AuditRecord::refused(Event::ModuleDisabled)
        .by(user)
        .ip(ip.unwrap_or_default())
        .target(format!("module:{}", module.as_str()))
        .detail(what);
    state.store.audit_record(&rec).await?;
    Err(off(module))
}

/// Turn modules on or off. `changes` names only the modules to change; an unknown name refuses
/// the whole request. One audit row with the whole map before and after.
pub async fn do_set_modules(
    state: &AppState,
    who: &AuthUser,
    changes: &BTreeMap<String, bool>,
) -> Result<ModuleStates, AppError> {
    let mut parsed = Vec::with_capacity(changes.len());
    for (name, on) in changes {
        let m = Module::parse(name).ok_or_else(|| {
            let known: Vec<&str> = Module::ALL.iter().map(|m| m.as_str()).collect();
            AppError::BadRequest(format!("unknown module {name:?}; modules are {}", known.join(", ")))
        })?;
        parsed.push((m, *on));
    }
    let mut tx = state.store.begin().await?;
    let before = settings::modules_tx(&mut tx).await?;
    for (m, on) in &parsed {
        settings::set_module(&mut tx, *m, *on).await?;
    }
    let after = settings::modules_tx(&mut tx).await?;
    let switched: Vec<String> = parsed
        .iter()
        .filter(|(m, on)| before.get(m) != Some(on))
        .map(|(m, on)| format!("{}={}", m.as_str(), if *on { "on" } else { "off" }))
        .collect();
    let rec = AuditRecord::ok(Event::SettingsModules)
        .by(who.id())
        .ip(&who.ip)
        .target("modules")
        .detail(switched.join(" "))
        .before(&before)
        .after(&after);
    audit_tx(&mut tx, &rec).await?;
    tx.commit().await?;
    Ok(after)
}
