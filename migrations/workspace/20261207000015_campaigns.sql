-- Campaigns (issue 23): the team's campaigns (a whole-state row per campaign, applied from the
-- campaign.* events in log order; `version` orders one desktop's own changes against their echoes),
-- and each campaign's frozen audience: one row per recipient, with the number and the template's
-- parameters rendered when the campaign was planned, and where the recipient's message is.
CREATE TABLE campaigns (
    id                INTEGER PRIMARY KEY,
    uid               TEXT    NOT NULL UNIQUE,
    name              TEXT    NOT NULL,
    -- The business number that sends (Meta's phone number id); NULL: the connection's.
    number_id         TEXT,
    template_name     TEXT    NOT NULL,
    template_language TEXT    NOT NULL,
    template_category TEXT    NOT NULL,
    -- Who it goes to (campaigns::Audience, JSON), as the person chose it.
    audience          TEXT    NOT NULL,
    -- When it starts (ms); NULL: when it is started.
    start_at          INTEGER,
    -- draft, planned, scheduled, running, paused, completed, stopped
    status            TEXT    NOT NULL,
    -- Why it is paused or stopped, in plain words (NULL when a person paused it).
    reason            TEXT,
    -- The plan's figures (campaigns::PlanFigures, JSON), once planned.
    plan              TEXT,
    version           INTEGER NOT NULL,
    created_by        TEXT    NOT NULL,
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL,
    started_at        INTEGER,
    finished_at       INTEGER
) STRICT;

CREATE TABLE campaign_recipients (
    campaign_uid TEXT    NOT NULL,
    -- Its place in the frozen audience: the send's tag is `cr:{campaign_uid}:{idx}`.
    idx          INTEGER NOT NULL,
    -- E.164 digits without '+' (or a business-scoped user id).
    phone        TEXT    NOT NULL,
    name         TEXT    NOT NULL,
    -- The record it came from: `lead:12`, `contact:4`.
    record       TEXT,
    -- The template's components for this recipient (Meta's JSON); NULL when skipped.
    components   TEXT,
    -- planned, sending, attention, accepted, sent, delivered, read, replied, failed, deferred,
    -- skipped, held
    state        TEXT    NOT NULL,
    -- How far along it is (campaigns::State::rank): a status never moves it back.
    rank         INTEGER NOT NULL,
    code         INTEGER,
    reason       TEXT,
    wamid        TEXT,
    attempts     INTEGER NOT NULL DEFAULT 0,
    -- A deferred recipient's next try.
    next_at      INTEGER,
    -- When the current attempt started (on the replica that sends).
    attempt_at   INTEGER,
    sent_at      INTEGER,
    delivered_at INTEGER,
    read_at      INTEGER,
    updated_at   INTEGER NOT NULL,
    PRIMARY KEY (campaign_uid, idx)
) STRICT, WITHOUT ROWID;
-- The dispatcher takes the next planned recipients; the report counts by state.
CREATE INDEX campaign_recipients_state ON campaign_recipients (campaign_uid, state, idx);
-- A customer's reply marks the recipient rows it answers.
CREATE INDEX campaign_recipients_phone ON campaign_recipients (phone, rank);

-- Deleted campaigns: a later event of one does not bring it back.
CREATE TABLE campaign_tombstones (
    uid TEXT PRIMARY KEY
) STRICT, WITHOUT ROWID;

-- Recipients who answered the STOP keyword: later campaigns leave them out.
CREATE TABLE campaign_optouts (
    phone TEXT PRIMARY KEY,
    at    INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

-- The STOP keyword (one row; empty: none).
CREATE TABLE campaign_settings (
    id        INTEGER PRIMARY KEY CHECK (id = 1),
    stop_word TEXT    NOT NULL
) STRICT;
INSERT INTO campaign_settings (id, stop_word) VALUES (1, 'STOP');
