-- Bots (issue 22): a message a bot sent names the bot, so the thread marks it as the bot's and the
-- bot engine tells a person's reply (which silences the bot) from its own.
ALTER TABLE chat_messages ADD COLUMN bot TEXT;
-- The Bots list's figures: each bot's messages this month.
CREATE INDEX chat_messages_bot ON chat_messages (bot, sent_at) WHERE bot IS NOT NULL;
