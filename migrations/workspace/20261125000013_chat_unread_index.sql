-- chat module: the total of unread messages sums only the conversations that have some.
CREATE INDEX chat_conversations_unread ON chat_conversations (unread) WHERE unread > 0;
