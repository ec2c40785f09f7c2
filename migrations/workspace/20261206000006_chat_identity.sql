-- chat module: who a customer is, as Meta names them since 2026. Any of these may be missing:
-- `customer` stays the conversation's key (E.164 when a phone is known, else the user id).
ALTER TABLE chat_conversations ADD COLUMN user_id TEXT;          -- business-scoped user id (US.1349…)
ALTER TABLE chat_conversations ADD COLUMN parent_user_id TEXT;   -- across linked portfolios (US.ENT.…)
ALTER TABLE chat_conversations ADD COLUMN username TEXT;         -- the WhatsApp username, without @
CREATE INDEX chat_conversations_user ON chat_conversations (user_id, phone_number_id) WHERE user_id IS NOT NULL;
