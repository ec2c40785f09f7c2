-- Bots (issue 22): the team's, every change a `bot.created/updated/deleted` event applied on every
-- desktop (bots/shared.rs). A bot's draft is the editor's Drawflow export; publishing makes an
-- immutable numbered version (bot_versions) and the bot runs its latest one. `trigger` and
-- `binding` are JSON (crmconnect_flow::trigger::Trigger, the template binding). seq: the log
-- position last applied (NULL: made here, not back from the relay yet).
CREATE TABLE bots (
    id          INTEGER PRIMARY KEY,
    uid         TEXT    NOT NULL UNIQUE,
    name        TEXT    NOT NULL UNIQUE COLLATE NOCASE,
    kind        TEXT    NOT NULL CHECK (kind IN ('keyword', 'menu', 'ai', 'fallback')),
    trigger     TEXT    NOT NULL,
    -- The business number (Meta's phone number id) it answers on; NULL: every number.
    number_id   TEXT,
    binding     TEXT,
    media       TEXT,
    active      INTEGER NOT NULL DEFAULT 0 CHECK (active IN (0, 1)),
    -- Whether the log says it is active (a change made here and not back yet may say otherwise):
    -- two overlapping bots activated at once are decided on what the log says.
    log_active  INTEGER NOT NULL DEFAULT 0 CHECK (log_active IN (0, 1)),
    draft       TEXT    NOT NULL,
    -- The version it runs (0: never published).
    version     INTEGER NOT NULL DEFAULT 0,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    seq         INTEGER
) STRICT;
-- The runner looks up the active bots of a number for every inbound message.
CREATE INDEX bots_active ON bots (active, number_id);

CREATE TABLE bot_versions (
    bot_uid      TEXT    NOT NULL,
    version      INTEGER NOT NULL,
    drawflow     TEXT    NOT NULL,
    flow         TEXT    NOT NULL,
    published_at INTEGER NOT NULL,
    published_by TEXT    NOT NULL,
    PRIMARY KEY (bot_uid, version)
) STRICT, WITHOUT ROWID;

CREATE TABLE bot_tombstones (
    uid TEXT PRIMARY KEY
) STRICT, WITHOUT ROWID;
