-- chat module: what Meta says about a message beyond its content, and what happens to it later.
-- marks: forwarded marks, the ad (click-to-WhatsApp referral) or product a message came from (JSON).
ALTER TABLE chat_messages ADD COLUMN marks TEXT;
-- The customer edited it (content replaced, earlier versions below) or deleted it.
ALTER TABLE chat_messages ADD COLUMN edited_at INTEGER;
ALTER TABLE chat_messages ADD COLUMN deleted_at INTEGER;
CREATE TABLE chat_message_versions (
    id           INTEGER PRIMARY KEY,
    message_id   INTEGER NOT NULL REFERENCES chat_messages (id) ON DELETE CASCADE,
    content      TEXT    NOT NULL,  -- the content it had before (MessageContent JSON)
    replaced_at  INTEGER NOT NULL
) STRICT;
CREATE INDEX chat_message_versions_by_message ON chat_message_versions (message_id, id);

-- Search follows an edit or a deletion.
CREATE TRIGGER chat_messages_fts_update AFTER UPDATE OF body ON chat_messages BEGIN
    INSERT INTO chat_messages_fts (chat_messages_fts, rowid, body) SELECT 'delete', old.id, old.body WHERE old.body <> '';
    INSERT INTO chat_messages_fts (rowid, body) SELECT new.id, new.body WHERE new.body <> '';
END;

-- Statuses: `played` (a voice message listened to) ranks after `read`; `failed` moves up one.
UPDATE chat_statuses SET rank = 5 WHERE status = 'failed';
-- The pricing category Meta charged the message under (marketing, utility…), for cost reports.
ALTER TABLE chat_statuses ADD COLUMN pricing_category TEXT;
