-- chat module: since when Meta's AI agent (or another app on the number) holds a conversation,
-- as Meta's `standby` and `messaging_handovers` webhooks say; NULL while this app holds it or
-- nobody does. No bot of ours answers while it is set.
ALTER TABLE chat_conversations ADD COLUMN agent_holds_at INTEGER;
