-- Bots at work (issue 22), on the replica that runs automation: one live session per conversation,
-- pinned to the bot's version it started with; the engine's state after each turn (crmconnect_flow
-- Session, JSON). A session ends (ended: why, JSON) and stays for the figures of the Bots list.
CREATE TABLE bot_sessions (
    id              INTEGER PRIMARY KEY,
    conversation_id INTEGER NOT NULL,
    bot_uid         TEXT    NOT NULL,
    version         INTEGER NOT NULL,
    state           TEXT    NOT NULL,
    ended           TEXT,
    messages        INTEGER NOT NULL DEFAULT 0,
    started_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
) STRICT;
-- One turn at a time per conversation: at most one live session.
CREATE UNIQUE INDEX bot_sessions_live ON bot_sessions (conversation_id) WHERE ended IS NULL;
-- The Bots list's figures: per bot, this month.
CREATE INDEX bot_sessions_by_bot ON bot_sessions (bot_uid, started_at);

-- Durable timers of the sessions (waits, reminders, timeouts): fired by the automation replica.
CREATE TABLE bot_timers (
    session_id INTEGER NOT NULL,
    token      INTEGER NOT NULL,
    due_at     INTEGER NOT NULL,
    PRIMARY KEY (session_id, token)
) STRICT, WITHOUT ROWID;
CREATE INDEX bot_timers_due ON bot_timers (due_at);

-- This desktop's bot events not back from the log yet (by outbox event id): while a later one is
-- on its way, an earlier one coming back does not undo the later change here.
CREATE TABLE bot_pending (
    event_id TEXT PRIMARY KEY,
    uid      TEXT NOT NULL
) STRICT, WITHOUT ROWID;
CREATE INDEX bot_pending_uid ON bot_pending (uid);
