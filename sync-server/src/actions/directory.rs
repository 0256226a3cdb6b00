//! The directory (组织架构) as everyone sees it, and its synced copy.
//!
//! `GET /api/directory` reads the tables. The same content is published as the read-only
//! Automerge document [`qiao_model::schema::directory`], so the app can browse the org chart
//! offline: after every committed change to departments or accounts, [`publish`] reconciles the
//! document with the tables through [`Registry::server_change`](crate::sync::registry::Registry::server_change),
//! which stores the relay's change and fans it out to everyone syncing the document.

use crate::AppState;
use crate::error::AppError;
use qiao_model::api::Directory;
use qiao_model::schema::directory;

/// Publishes run one at a time, each reading the tables afresh: two concurrent changes can never
/// leave the document at the older state.
static PUBLISH: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

pub async fn directory(state: &AppState) -> Result<Directory, AppError> {
    let (departments, users) = state.store.directory().await?;
    Ok(Directory { document: directory::document_id(), departments, users })
}

/// Bring the directory document up to date with the tables; whether it changed.
pub async fn publish(state: &AppState) -> Result<bool, AppError> {
    let _one_at_a_time = PUBLISH.lock().await;
    let (departments, users) = state.store.directory().await?;
    state
        .registry
        .server_change(directory::document_id(), |doc| {
            let mut tx = doc.transaction();
            directory::reconcile(&mut tx, &departments, &users)
                .map_err(|e| AppError::Internal(format!("directory document: {e}")))?;
            tx.commit();
            Ok(())
        })
        .await
}

/// [`publish`] after an action has committed: the action stands either way, so a failure is
/// logged, and the next publish (any later change, or the next start) repairs the document.
pub async fn publish_after_commit(state: &AppState) {
    if let Err(e) = publish(state).await {
        tracing::error!(error = %e, "publishing the directory document failed");
    }
}
