-- Team sync: this desktop's replica of the relay's event log, its cursor, and its outbox.

-- The relay this workspace syncs with (its token is in the keychain), and how far it has read.
CREATE TABLE sync_settings (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    relay_url  TEXT    NOT NULL DEFAULT '',
    -- The last sequence number applied; everything at or below it is in sync_events.
    cursor     INTEGER NOT NULL DEFAULT 0
);
INSERT INTO sync_settings (id) VALUES (1);

-- Every event received from the relay, in log order (applied idempotently by seq and key).
CREATE TABLE sync_events (
    seq         INTEGER PRIMARY KEY,
    key         TEXT    NOT NULL UNIQUE,
    kind        TEXT    NOT NULL,
    source      TEXT    NOT NULL,
    staff       TEXT,
    fields      TEXT    NOT NULL,
    raw         TEXT    NOT NULL,
    received_at INTEGER NOT NULL
);
CREATE INDEX sync_events_by_kind ON sync_events (kind, seq);

-- Events this desktop made and the relay has not confirmed yet. Survives restarts; sent in order.
CREATE TABLE sync_outbox (
    id         INTEGER PRIMARY KEY,
    event_id   TEXT    NOT NULL UNIQUE,
    kind       TEXT    NOT NULL,
    payload    TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    attempts   INTEGER NOT NULL DEFAULT 0,
    last_error TEXT
);
