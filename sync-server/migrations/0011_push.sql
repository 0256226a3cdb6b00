-- Web push (RFC 8030/8291/8292). A subscription belongs to the session that made it: when that
-- session ends (logout, revocation, expiry) the device stops receiving anything, because the
-- sender joins on live sessions only; stale rows are deleted by the sender.
CREATE TABLE push_subscriptions (
  id          INTEGER PRIMARY KEY,
  user_id     INTEGER NOT NULL REFERENCES users(id),
  session_id  INTEGER NOT NULL REFERENCES sessions(id),
  endpoint    TEXT NOT NULL UNIQUE,
  p256dh      BLOB NOT NULL,
  auth        BLOB NOT NULL,
  created_at  INTEGER NOT NULL,
  -- Consecutive failed deliveries; the subscription is dropped after a few.
  failures    INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX push_subscriptions_user ON push_subscriptions(user_id);

-- Task reminders the relay fires as pushes while the app is closed, kept in step with the
-- project boards by the relay itself (every stored change of a board re-reads its reminders).
CREATE TABLE task_reminders (
  document_id TEXT NOT NULL,
  task_id     TEXT NOT NULL,
  project_id  TEXT NOT NULL,
  title       TEXT NOT NULL,
  remind_at   INTEGER NOT NULL,
  -- JSON array of user ids.
  assignees   TEXT NOT NULL,
  sent_at     INTEGER,
  PRIMARY KEY (document_id, task_id)
);
CREATE INDEX task_reminders_due ON task_reminders(remind_at) WHERE sent_at IS NULL;
