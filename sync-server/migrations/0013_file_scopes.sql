-- Files belong to a conversation (chat) or to a project (task attachments): exactly one of
-- channel_id and project_id is set, and it decides who may read the file. SQLite cannot relax a
-- NOT NULL in place, so both tables are rebuilt. Foreign keys stay on (a migration runs inside a
-- transaction, where they cannot be turned off), so the order matters: the new uploads table
-- first points at files_new, the old tables go (nothing references them any more), and renaming
-- files_new to files rewrites that reference.

CREATE TABLE files_new (
  id         TEXT PRIMARY KEY,
  sha256     TEXT NOT NULL,
  size       INTEGER NOT NULL,
  name       TEXT NOT NULL,
  mime       TEXT NOT NULL,
  owner      INTEGER NOT NULL REFERENCES users(id),
  channel_id TEXT REFERENCES channels(id),
  project_id TEXT REFERENCES projects(id),
  created_at INTEGER NOT NULL,
  CHECK ((channel_id IS NULL) <> (project_id IS NULL))
);
INSERT INTO files_new (id, sha256, size, name, mime, owner, channel_id, project_id, created_at)
  SELECT id, sha256, size, name, mime, owner, channel_id, NULL, created_at FROM files;

CREATE TABLE uploads_new (
  id         TEXT PRIMARY KEY,
  owner      INTEGER NOT NULL REFERENCES users(id),
  channel_id TEXT REFERENCES channels(id),
  project_id TEXT REFERENCES projects(id),
  name       TEXT NOT NULL,
  size       INTEGER NOT NULL,
  mime       TEXT NOT NULL,
  sha256     TEXT NOT NULL,
  received   INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  file_id    TEXT REFERENCES files_new(id),
  touched_at INTEGER,
  CHECK ((channel_id IS NULL) <> (project_id IS NULL))
);
INSERT INTO uploads_new (id, owner, channel_id, project_id, name, size, mime, sha256, received, created_at, file_id, touched_at)
  SELECT id, owner, channel_id, NULL, name, size, mime, sha256, received, created_at, file_id, touched_at FROM uploads;
DROP TABLE uploads;
DROP TABLE files;
ALTER TABLE files_new RENAME TO files;
ALTER TABLE uploads_new RENAME TO uploads;
CREATE INDEX files_sha256 ON files (sha256);
CREATE INDEX uploads_unfinished ON uploads (COALESCE(touched_at, created_at)) WHERE file_id IS NULL;
