-- chat module: the customer asked Meta to stop marketing messages from this business (a
-- `user_preferences` webhook, "stop"); cleared when they resume. Campaigns leave them out.
ALTER TABLE chat_conversations ADD COLUMN marketing_stopped_at INTEGER;
