-- Organisation (组织架构), the hash-chained audit log, module toggles and settings.

-- Departments form a tree. `path` ("Sales/East") is how an HR file names a department; it is
-- unique, so importing the same path twice finds the same department.
CREATE TABLE departments (
  id         TEXT PRIMARY KEY,
  name       TEXT NOT NULL,
  parent_id  TEXT REFERENCES departments(id),
  path       TEXT NOT NULL UNIQUE,
  created_at INTEGER NOT NULL
);
CREATE INDEX departments_parent ON departments(parent_id);

-- The HR side of an account. `employee_id` is the key an HR import matches on; accounts without
-- one (the first admin, service accounts) are never touched by an import. `users.dept_id` (0001)
-- holds a departments.id.
ALTER TABLE users ADD COLUMN employee_id TEXT;
ALTER TABLE users ADD COLUMN position TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN manager_id INTEGER REFERENCES users(id);
ALTER TABLE users ADD COLUMN deactivated_at INTEGER;
CREATE UNIQUE INDEX users_employee_id ON users(employee_id) WHERE employee_id IS NOT NULL;
CREATE INDEX users_dept ON users(dept_id);

-- The audit log becomes a hash chain: hash = sha256(prev_hash || canonical row), see
-- `store::audit`. Rows written before this migration are sealed into the chain when the store
-- opens. before/after are JSON texts (NULL when not applicable); target names what was acted on.
ALTER TABLE audit_log ADD COLUMN target TEXT NOT NULL DEFAULT '';
ALTER TABLE audit_log ADD COLUMN before_json TEXT;
ALTER TABLE audit_log ADD COLUMN after_json TEXT;
ALTER TABLE audit_log ADD COLUMN prev_hash TEXT NOT NULL DEFAULT '';
ALTER TABLE audit_log ADD COLUMN hash TEXT NOT NULL DEFAULT '';
CREATE INDEX audit_log_at ON audit_log(at);
CREATE INDEX audit_log_user ON audit_log(user_id);
CREATE INDEX audit_log_action ON audit_log(action);

-- 功能模块启用: every module is on until a super admin turns it off.
CREATE TABLE modules (
  name    TEXT PRIMARY KEY,
  enabled INTEGER NOT NULL DEFAULT 1
);
INSERT INTO modules (name, enabled) VALUES
  ('chat', 1), ('kb', 1), ('tasks', 1), ('announcements', 1),
  ('files', 1), ('suggestions', 1), ('meetings', 1), ('helpdesk', 1);

-- System settings as JSON values by key (e.g. `client.offline_cache_expiry_days`).
CREATE TABLE settings (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
);

-- HR import previews: the uploaded file, kept until it is applied, so that `apply` needs only
-- the token (the file's hash) and applies exactly the diff the admin saw (`diff_hash`).
CREATE TABLE import_previews (
  token      TEXT PRIMARY KEY,
  format     TEXT NOT NULL CHECK (format IN ('csv', 'json')),
  body       TEXT NOT NULL,
  diff_hash  TEXT NOT NULL,
  created_by INTEGER NOT NULL REFERENCES users(id),
  created_at INTEGER NOT NULL
);
