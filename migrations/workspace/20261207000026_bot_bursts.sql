-- bots module: a customer's messages waiting out the short debounce that makes a burst one turn
-- (written when the first arrives, taken when it is due: a crash in between loses none of them).
CREATE TABLE bot_bursts (
    conversation_id INTEGER PRIMARY KEY,
    -- JSON: the customer's messages, in the order they arrived.
    messages        TEXT    NOT NULL,
    due_at          INTEGER NOT NULL
) STRICT;
CREATE INDEX bot_bursts_due ON bot_bursts (due_at);
