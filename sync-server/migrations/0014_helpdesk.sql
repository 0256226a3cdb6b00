-- Helpdesk (报修): one row per ticket beside its document, kept in step with the document by the
-- relay (like task_reminders with the boards), and the times the relay saw, by its own clock:
-- created, first agent response, resolved, closed. The figures admins see are read from here.

CREATE TABLE helpdesk_tickets (
  id                TEXT PRIMARY KEY,
  doc_id            TEXT NOT NULL UNIQUE REFERENCES documents(id),
  requester         INTEGER NOT NULL REFERENCES users(id),
  -- Chosen by the app when the ticket was typed (maybe offline): a retried creation finds it.
  client_key        TEXT NOT NULL,
  title             TEXT NOT NULL,
  category          TEXT NOT NULL,
  status            TEXT NOT NULL DEFAULT 'new'
                    CHECK (status IN ('new', 'in_progress', 'resolved', 'closed')),
  assignee          INTEGER,
  rating            INTEGER,
  created_at        INTEGER NOT NULL,
  first_response_at INTEGER,
  resolved_at       INTEGER,
  closed_at         INTEGER,
  updated_at        INTEGER NOT NULL,
  UNIQUE (requester, client_key)
);
CREATE INDEX helpdesk_tickets_requester ON helpdesk_tickets (requester);
CREATE INDEX helpdesk_tickets_created ON helpdesk_tickets (created_at);

-- Helpdesk agents (IT staff) named by a super admin; super admins always are agents.
CREATE TABLE helpdesk_agents (
  user_id  INTEGER PRIMARY KEY REFERENCES users(id),
  added_at INTEGER NOT NULL
);

-- A ticket's document names its ticket (its requester is `owner`).
ALTER TABLE documents ADD COLUMN ticket_id TEXT REFERENCES helpdesk_tickets(id);

-- Files may belong to a ticket too (attachments): exactly one of channel_id, project_id and
-- ticket_id is set. Rebuilt as in 0013 (a CHECK cannot change in place), in the same order so
-- the foreign keys stay on: uploads first point at files_new, the old tables go, the renames
-- rewrite the references.
CREATE TABLE files_new (
  id         TEXT PRIMARY KEY,
  sha256     TEXT NOT NULL,
  size       INTEGER NOT NULL,
  name       TEXT NOT NULL,
  mime       TEXT NOT NULL,
  owner      INTEGER NOT NULL REFERENCES users(id),
  channel_id TEXT REFERENCES channels(id),
  project_id TEXT REFERENCES projects(id),
  ticket_id  TEXT REFERENCES helpdesk_tickets(id),
  created_at INTEGER NOT NULL,
  CHECK ((channel_id IS NOT NULL) + (project_id IS NOT NULL) + (ticket_id IS NOT NULL) = 1)
);
INSERT INTO files_new (id, sha256, size, name, mime, owner, channel_id, project_id, ticket_id, created_at)
  SELECT id, sha256, size, name, mime, owner, channel_id, project_id, NULL, created_at FROM files;

CREATE TABLE uploads_new (
  id         TEXT PRIMARY KEY,
  owner      INTEGER NOT NULL REFERENCES users(id),
  channel_id TEXT REFERENCES channels(id),
  project_id TEXT REFERENCES projects(id),
  ticket_id  TEXT REFERENCES helpdesk_tickets(id),
  name       TEXT NOT NULL,
  size       INTEGER NOT NULL,
  mime       TEXT NOT NULL,
  sha256     TEXT NOT NULL,
  received   INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  file_id    TEXT REFERENCES files_new(id),
  touched_at INTEGER,
  CHECK ((channel_id IS NOT NULL) + (project_id IS NOT NULL) + (ticket_id IS NOT NULL) = 1)
);
INSERT INTO uploads_new (id, owner, channel_id, project_id, ticket_id, name, size, mime, sha256, received, created_at, file_id, touched_at)
  SELECT id, owner, channel_id, project_id, NULL, name, size, mime, sha256, received, created_at, file_id, touched_at FROM uploads;
DROP TABLE uploads;
DROP TABLE files;
ALTER TABLE files_new RENAME TO files;
ALTER TABLE uploads_new RENAME TO uploads;
CREATE INDEX files_sha256 ON files (sha256);
CREATE INDEX uploads_unfinished ON uploads (COALESCE(touched_at, created_at)) WHERE file_id IS NULL;
