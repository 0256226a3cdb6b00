-- When an upload last received bytes: uploads nobody continued for days are swept (their part
-- file deleted, the row with it). NULL: none since it was started (use created_at).
ALTER TABLE uploads ADD COLUMN touched_at INTEGER;
CREATE INDEX uploads_unfinished ON uploads (COALESCE(touched_at, created_at)) WHERE file_id IS NULL;
