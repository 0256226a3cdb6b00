-- Files in chat: stored files and the uploads that make them.
--
-- The bytes are not in the database: a completed file's bytes are at
-- `<data>/blobs/<sha256[0..2]>/<sha256>` (one copy per distinct content), an unfinished upload's at
-- `<data>/uploads/<upload id>.part`. Ids are random (unguessable); names are display text only.

-- One stored file: the same bytes sent to two conversations are two files (each with the access
-- of its own conversation) over one blob.
CREATE TABLE files (
  id         TEXT PRIMARY KEY,
  sha256     TEXT NOT NULL,
  size       INTEGER NOT NULL,
  name       TEXT NOT NULL,
  mime       TEXT NOT NULL,
  owner      INTEGER NOT NULL REFERENCES users(id),
  channel_id TEXT NOT NULL REFERENCES channels(id),
  created_at INTEGER NOT NULL
);
CREATE INDEX files_sha256 ON files (sha256);

-- An upload in progress (or done: `file_id` is set). `received` is how many bytes of the part
-- file are durable and acknowledged; the part file may be longer after a crash mid-chunk, and the
-- next chunk cuts it back to `received` first.
CREATE TABLE uploads (
  id         TEXT PRIMARY KEY,
  owner      INTEGER NOT NULL REFERENCES users(id),
  channel_id TEXT NOT NULL REFERENCES channels(id),
  name       TEXT NOT NULL,
  size       INTEGER NOT NULL,
  mime       TEXT NOT NULL,
  sha256     TEXT NOT NULL,
  received   INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  file_id    TEXT REFERENCES files(id)
);
