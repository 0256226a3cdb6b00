-- Surveys (问卷). The definitions are a synced document (qiao_model::schema::surveys); the
-- answers are here, written only by the relay (POST /api/surveys/{id}/answers).
--
-- Who has answered and what was answered are two tables with nothing that orders or times them
-- together, so that an anonymous survey's answers cannot be matched to the people who gave them:
-- * survey_respondents: who answered which survey, to refuse a second answer. Keyed by
--   (survey, user): its order is the users' ids, not the order of answering; no time.
-- * survey_answers: one row per response, keyed by 16 random bytes (hex), so neither the key nor
--   the B-tree's order says when it came; no time; user_id is NULL when the survey is anonymous.
-- Both are WITHOUT ROWID: no hidden increasing rowid to line the two tables up.
CREATE TABLE survey_respondents (
  survey_id TEXT    NOT NULL,
  user_id   INTEGER NOT NULL REFERENCES users(id),
  PRIMARY KEY (survey_id, user_id)
) WITHOUT ROWID;

CREATE TABLE survey_answers (
  id        TEXT NOT NULL PRIMARY KEY,
  survey_id TEXT NOT NULL,
  user_id   INTEGER REFERENCES users(id),
  answers   TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX survey_answers_survey ON survey_answers(survey_id, id);

