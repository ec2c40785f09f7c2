-- Where each conversation has been read up to (a message id): the mark only moves forward, so a
-- read event that arrives late never makes read messages unread again.
ALTER TABLE chat_conversations ADD COLUMN read_up_to INTEGER NOT NULL DEFAULT 0;
