//! Survey answers (migration 0016). The surveys themselves are a synced document
//! ([`qiao_model::schema::surveys`]); this holds who has answered and what was answered.
//!
//! ## How an anonymous answer stays anonymous
//!
//! An answer is two rows written in one transaction: `survey_respondents (survey, user)` — only
//! so that nobody answers twice — and `survey_answers (random id, survey, user or NULL, answers)`.
//! For an anonymous survey the answer row holds no user id, and nothing else ties the two rows
//! together: no timestamps on either, no rowid (both tables are `WITHOUT ROWID`), the answer's
//! key is 16 random bytes so its place in the table says nothing about when it came, and the
//! respondents' table is ordered by user id. Results and the CSV read the answers alone; the
//! respondents are only counted. Nothing is written to the audit log or the request log about
//! which answer anyone gave.
//!
//! What remains: SQLite writes each commit's changed pages to the write-ahead log, so a copy of
//! the `-wal` file taken before the next checkpoint would show the two rows arriving in the same
//! commit. After an anonymous answer the relay asks for a truncating checkpoint, which copies
//! the pages into the database and empties the log (best effort: a long reader can delay it).

use super::Store;
use crate::error::AppError;
use qiao_model::ids::{DeptId, UserId};
use qiao_model::schema::surveys::Answer;
use rand::RngCore;
use sqlx::Row;
use std::collections::{BTreeSet, HashMap};

/// One stored response: who gave it (`None` for an anonymous survey) and the answers.
pub struct Response {
    pub respondent: Option<String>,
    pub answers: Vec<Answer>,
}

impl Store {
    /// Register the company's surveys document (at start, like the announcements').
    pub async fn register_surveys_document(&self) -> Result<(), AppError> {
        sqlx::query("INSERT OR IGNORE INTO documents (id, kind) VALUES (?, 'surveys')")
            .bind(qiao_model::schema::surveys::document_id().to_string())
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Record `user`'s answers to `survey`. 409 when they have answered it already.
    pub async fn record_survey_answer(
        &self,
        survey: &str,
        user: UserId,
        anonymous: bool,
        answers: &[Answer],
    ) -> Result<(), AppError> {
        let json = serde_json::to_string(answers).map_err(|e| AppError::Internal(e.to_string()))?;
        let mut key = [0u8; 16];
        rand::thread_rng().fill_bytes(&mut key);
        let mut tx = self.begin().await?;
        let first = sqlx::query("INSERT OR IGNORE INTO survey_respondents (survey_id, user_id) VALUES (?, ?)")
            .bind(survey)
            .bind(user.0)
            .execute(&mut *tx)
            .await?;
        if first.rows_affected() == 0 {
            return Err(AppError::Conflict("you have already answered this survey".into()));
        }
        sqlx::query("INSERT INTO survey_answers (id, survey_id, user_id, answers) VALUES (?, ?, ?, ?)")
            .bind(hex::encode(key))
            .bind(survey)
            .bind(if anonymous { None } else { Some(user.0) })
            .bind(json)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        if anonymous {
            // See the module docs: empty the write-ahead log that holds both rows' commit.
            let _ = sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)").execute(self.pool()).await;
        }
        Ok(())
    }

    /// The surveys `user` has answered.
    pub async fn surveys_answered(&self, user: UserId) -> Result<Vec<String>, AppError> {
        Ok(sqlx::query_scalar("SELECT survey_id FROM survey_respondents WHERE user_id = ? ORDER BY survey_id")
            .bind(user.0)
            .fetch_all(self.pool())
            .await?)
    }

    /// Everyone who has answered `survey`.
    pub async fn survey_respondents(&self, survey: &str) -> Result<Vec<UserId>, AppError> {
        let ids: Vec<i64> = sqlx::query_scalar("SELECT user_id FROM survey_respondents WHERE survey_id = ?")
            .bind(survey)
            .fetch_all(self.pool())
            .await?;
        Ok(ids.into_iter().map(UserId).collect())
    }

    /// Every response to `survey`: named ones by the respondent's name, anonymous ones in the
    /// order of their random keys.
    pub async fn survey_responses(&self, survey: &str) -> Result<Vec<Response>, AppError> {
        let rows = sqlx::query(
            "SELECT a.answers, u.display_name FROM survey_answers a LEFT JOIN users u ON u.id = a.user_id
             WHERE a.survey_id = ? ORDER BY u.display_name, a.id",
        )
        .bind(survey)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                let answers: Vec<Answer> = serde_json::from_str(&r.get::<String, _>("answers"))
                    .map_err(|e| AppError::Internal(format!("stored survey answer: {e}")))?;
                Ok(Response { respondent: r.get("display_name"), answers })
            })
            .collect()
    }

    /// `dept` and its parents up to the top.
    pub async fn dept_chain(&self, dept: Option<&DeptId>) -> Result<Vec<DeptId>, AppError> {
        let parents = self.dept_parents().await?;
        Ok(chain(&parents, dept))
    }

    async fn dept_parents(&self) -> Result<HashMap<String, Option<String>>, AppError> {
        let rows = sqlx::query("SELECT id, parent_id FROM departments").fetch_all(self.pool()).await?;
        Ok(rows.iter().map(|r| (r.get("id"), r.get("parent_id"))).collect())
    }

    /// The active people a survey for `depts` (with their sub-departments; empty: everyone) is
    /// addressed to.
    pub async fn survey_audience(&self, depts: &[DeptId]) -> Result<BTreeSet<UserId>, AppError> {
        let parents = self.dept_parents().await?;
        let rows = sqlx::query("SELECT id, dept_id FROM users WHERE status = 'active'").fetch_all(self.pool()).await?;
        Ok(rows
            .iter()
            .filter(|r| {
                let dept: Option<String> = r.get("dept_id");
                depts.is_empty() || {
                    let c = chain(&parents, dept.map(DeptId).as_ref());
                    depts.iter().any(|d| c.contains(d))
                }
            })
            .map(|r| UserId(r.get("id")))
            .collect())
    }
}

fn chain(parents: &HashMap<String, Option<String>>, dept: Option<&DeptId>) -> Vec<DeptId> {
    let mut out = Vec::new();
    let mut at = dept.map(|d| d.0.clone());
    // The import keeps the tree acyclic; the bound keeps a broken row from looping forever.
    while let Some(d) = at.take() {
        if out.len() > 64 || out.iter().any(|x: &DeptId| x.0 == d) {
            break;
        }
        at = parents.get(&d).cloned().flatten();
        out.push(DeptId(d));
    }
    out
}
