-- Accounts and sessions. Tokens are stored only as SHA-256 hashes.
CREATE TABLE users (
  id            INTEGER PRIMARY KEY,
  username      TEXT NOT NULL UNIQUE,
  display_name  TEXT NOT NULL,
  password_hash TEXT NOT NULL,
  role          TEXT NOT NULL CHECK (role IN ('super_admin', 'dept_admin', 'employee')),
  dept_id       TEXT,
  status        TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'deactivated')),
  created_at    INTEGER NOT NULL
);

CREATE TABLE sessions (
  id          INTEGER PRIMARY KEY,
  user_id     INTEGER NOT NULL REFERENCES users(id),
  token_hash  BLOB NOT NULL UNIQUE,
  created_at  INTEGER NOT NULL,
  expires_at  INTEGER NOT NULL,
  revoked_at  INTEGER,
  user_agent  TEXT,
  ip          TEXT
);
CREATE INDEX sessions_user ON sessions(user_id);

-- Conversations. Messages themselves live in Automerge segment documents.
CREATE TABLE channels (
  id           TEXT PRIMARY KEY,
  name         TEXT NOT NULL,
  private      INTEGER NOT NULL DEFAULT 0,
  created_by   INTEGER NOT NULL REFERENCES users(id),
  created_at   INTEGER NOT NULL,
  head_segment INTEGER NOT NULL DEFAULT 0,
  archived     INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE channel_members (
  channel_id TEXT NOT NULL REFERENCES channels(id),
  user_id    INTEGER NOT NULL REFERENCES users(id),
  role       TEXT NOT NULL DEFAULT 'member',
  joined_at  INTEGER NOT NULL,
  PRIMARY KEY (channel_id, user_id)
);
CREATE INDEX channel_members_user ON channel_members(user_id);

-- Every document the relay will serve, and what decides who may read and write it. A document id
-- that is not here does not exist as far as any client can tell.
CREATE TABLE documents (
  id         TEXT PRIMARY KEY,
  kind       TEXT NOT NULL,
  channel_id TEXT REFERENCES channels(id),
  segment    INTEGER
);
CREATE INDEX documents_channel ON documents(channel_id);

-- Document bytes: Automerge changes appended as they arrive, folded into a snapshot now and then.
CREATE TABLE doc_chunks (
  doc_id TEXT NOT NULL,
  seq    INTEGER NOT NULL,
  kind   TEXT NOT NULL CHECK (kind IN ('change', 'snapshot')),
  bytes  BLOB NOT NULL,
  PRIMARY KEY (doc_id, seq)
);

-- Who did what. Refused actions are recorded too.
CREATE TABLE audit_log (
  id       INTEGER PRIMARY KEY,
  at       INTEGER NOT NULL,
  user_id  INTEGER,
  ip       TEXT,
  action   TEXT NOT NULL,
  outcome  TEXT NOT NULL CHECK (outcome IN ('ok', 'refused')),
  detail   TEXT NOT NULL DEFAULT ''
);
