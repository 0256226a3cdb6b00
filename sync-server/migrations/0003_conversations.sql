-- Conversations come in three kinds: channels (public or private), small groups, 1:1 messages.
ALTER TABLE channels ADD COLUMN kind TEXT NOT NULL DEFAULT 'channel' CHECK (kind IN ('channel', 'group', 'dm'));
