-- Projects (任务管理). The tasks themselves live in one Automerge board document per project
-- (`documents.kind = 'project-board'`); these tables decide who may open it.
CREATE TABLE projects (
  id          TEXT PRIMARY KEY,
  name        TEXT NOT NULL,
  description TEXT NOT NULL DEFAULT '',
  -- private: members only; company: everyone reads, members write.
  visibility  TEXT NOT NULL DEFAULT 'private' CHECK (visibility IN ('private', 'company')),
  owner       INTEGER NOT NULL REFERENCES users(id),
  created_at  INTEGER NOT NULL,
  archived    INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE project_members (
  project_id TEXT NOT NULL REFERENCES projects(id),
  user_id    INTEGER NOT NULL REFERENCES users(id),
  role       TEXT NOT NULL DEFAULT 'member' CHECK (role IN ('owner', 'member')),
  joined_at  INTEGER NOT NULL,
  PRIMARY KEY (project_id, user_id)
);
CREATE INDEX project_members_user ON project_members(user_id);

ALTER TABLE documents ADD COLUMN project_id TEXT REFERENCES projects(id);
