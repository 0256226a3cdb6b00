-- Knowledge base (知识库). Each space's page tree is one Automerge document ('kb-space'); each
-- page's text another ('kb-page', registered when the space document first names the page).
-- dept_id NULL: the company-wide space. Who edits: super admins everywhere, department admins in
-- their department's space, and anyone granted in kb_editors; everyone else reads and comments.
CREATE TABLE kb_spaces (
  id         TEXT PRIMARY KEY,
  name       TEXT NOT NULL,
  dept_id    TEXT REFERENCES departments(id),
  created_by INTEGER REFERENCES users(id),
  created_at INTEGER NOT NULL
);

CREATE TABLE kb_editors (
  space_id   TEXT NOT NULL REFERENCES kb_spaces(id),
  user_id    INTEGER NOT NULL REFERENCES users(id),
  granted_by INTEGER REFERENCES users(id),
  granted_at INTEGER NOT NULL,
  PRIMARY KEY (space_id, user_id)
);

ALTER TABLE documents ADD COLUMN space_id TEXT REFERENCES kb_spaces(id);
-- A page document's page id (its genesis names it, and the relay builds the genesis itself).
ALTER TABLE documents ADD COLUMN page_id TEXT;
