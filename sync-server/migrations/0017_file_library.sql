-- The file library (文件库), and files scoped by one (scope_kind, scope_id) pair.
--
-- Files and uploads so far had one nullable column per scope (channel_id, project_id,
-- ticket_id) and a CHECK that exactly one is set: every new scope meant rebuilding both tables
-- (0013, 0014). Now the scope is a kind and an id, checked by the relay (which alone writes these
-- rows), so a new kind of scope needs no migration. The foreign keys from the scope columns go:
-- channels, projects and tickets are never deleted, only archived or closed. Rebuilt in the
-- order 0013 explains (foreign keys stay on inside a migration's transaction).
CREATE TABLE files_new (
  id         TEXT PRIMARY KEY,
  sha256     TEXT NOT NULL,
  size       INTEGER NOT NULL,
  name       TEXT NOT NULL,
  mime       TEXT NOT NULL,
  owner      INTEGER NOT NULL REFERENCES users(id),
  scope_kind TEXT NOT NULL,
  scope_id   TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
INSERT INTO files_new (id, sha256, size, name, mime, owner, scope_kind, scope_id, created_at)
  SELECT id, sha256, size, name, mime, owner,
         CASE WHEN channel_id IS NOT NULL THEN 'channel' WHEN project_id IS NOT NULL THEN 'project' ELSE 'ticket' END,
         COALESCE(channel_id, project_id, ticket_id), created_at
  FROM files;

CREATE TABLE uploads_new (
  id         TEXT PRIMARY KEY,
  owner      INTEGER NOT NULL REFERENCES users(id),
  scope_kind TEXT NOT NULL,
  scope_id   TEXT NOT NULL,
  name       TEXT NOT NULL,
  size       INTEGER NOT NULL,
  mime       TEXT NOT NULL,
  sha256     TEXT NOT NULL,
  received   INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  file_id    TEXT REFERENCES files_new(id),
  touched_at INTEGER
);
INSERT INTO uploads_new (id, owner, scope_kind, scope_id, name, size, mime, sha256, received, created_at, file_id, touched_at)
  SELECT id, owner,
         CASE WHEN channel_id IS NOT NULL THEN 'channel' WHEN project_id IS NOT NULL THEN 'project' ELSE 'ticket' END,
         COALESCE(channel_id, project_id, ticket_id), name, size, mime, sha256, received, created_at, file_id, touched_at
  FROM uploads;
DROP TABLE uploads;
DROP TABLE files;
ALTER TABLE files_new RENAME TO files;
ALTER TABLE uploads_new RENAME TO uploads;
CREATE INDEX files_sha256 ON files (sha256);
CREATE INDEX uploads_unfinished ON uploads (COALESCE(touched_at, created_at)) WHERE file_id IS NULL;

-- A folder of the company (no department, no project), of a department, or of a project.
-- A subfolder has the place of its parent.
CREATE TABLE library_folders (
  id             TEXT PRIMARY KEY,
  name           TEXT NOT NULL,
  dept_id        TEXT REFERENCES departments(id),
  project_id     TEXT REFERENCES projects(id),
  parent_id      TEXT REFERENCES library_folders(id),
  needs_approval INTEGER NOT NULL DEFAULT 0,
  created_by     INTEGER NOT NULL REFERENCES users(id),
  created_at     INTEGER NOT NULL,
  CHECK (dept_id IS NULL OR project_id IS NULL)
);
CREATE INDEX library_folders_parent ON library_folders (parent_id);

-- A file in a folder: a name with versions. Deleting marks it (its versions' bytes stay for
-- whatever else refers to them; the entry is no longer listed or served).
CREATE TABLE library_entries (
  id         TEXT PRIMARY KEY,
  folder_id  TEXT NOT NULL REFERENCES library_folders(id),
  name       TEXT NOT NULL,
  owner      INTEGER NOT NULL REFERENCES users(id),
  created_at INTEGER NOT NULL,
  deleted_at INTEGER,
  deleted_by INTEGER REFERENCES users(id)
);
CREATE INDEX library_entries_folder ON library_entries (folder_id) WHERE deleted_at IS NULL;

-- Version n of an entry is stored file `file_id` (whose owner and created_at say who added it
-- and when). `status` is approved at once in a folder without approval.
CREATE TABLE library_versions (
  entry_id    TEXT NOT NULL REFERENCES library_entries(id),
  n           INTEGER NOT NULL,
  file_id     TEXT NOT NULL UNIQUE REFERENCES files(id),
  status      TEXT NOT NULL CHECK (status IN ('approved', 'pending', 'rejected')),
  reviewed_by INTEGER REFERENCES users(id),
  reviewed_at INTEGER,
  note        TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (entry_id, n)
);
