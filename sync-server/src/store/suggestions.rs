//! The suggestion box's storage: nothing but its document ([`qiao_model::schema::suggestions`]).
//!
//! There is no table of suggestions: an anonymous suggestion exists only as a change of the
//! suggestion box document made by the relay's own actor, with no author in it. The one thing
//! that could still order it against other stored rows is the row id SQLite gives each
//! document chunk — ids count up across every document, so a chunk's id would say which chat
//! message or board change was stored just before it. The suggestion box's chunks therefore
//! take a random negative row id ([`chunk_rowid`]): SQLite keeps numbering every other row from
//! the largest id, which stays positive, and the chunk sits at a random place in the table.

use super::Store;
use crate::error::AppError;
use qiao_model::ids::DocumentId;
use qiao_model::schema::suggestions;
use rand::Rng;

impl Store {
    /// The one suggestion box document exists from the first start.
    pub async fn register_suggestions_document(&self) -> Result<(), AppError> {
        sqlx::query("INSERT OR IGNORE INTO documents (id, kind) VALUES (?, 'suggestions')")
            .bind(suggestions::document_id().to_string())
            .execute(self.pool())
            .await?;
        Ok(())
    }
}

/// The row id for a new chunk of document `doc`: `None` (SQLite's next) for every document but
/// the suggestion box, a random negative one for it (see the module docs). A collision with an
/// earlier random id (one in 2^62 per pair) fails the write, which the client retries.
pub fn chunk_rowid(doc: DocumentId) -> Option<i64> {
    (doc == suggestions::document_id()).then(|| -rand::thread_rng().gen_range(1..i64::MAX / 2))
}
