-- A bot's own events on their way back are kept with every other module's, in outbox_pending
-- (subject `bot:<uid>`): the relay's refusal of one clears it there too.
INSERT OR IGNORE INTO outbox_pending (event_id, subject) SELECT event_id, 'bot:' || uid FROM bot_pending;
DROP TABLE bot_pending;
