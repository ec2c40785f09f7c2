-- The relay's event log (SQLite): one totally ordered log per workspace, and the desktops' tokens.

CREATE TABLE events (
    id          INTEGER PRIMARY KEY,
    workspace   TEXT    NOT NULL,
    -- 1, 2, 3… per workspace, without gaps, in commit order.
    seq         INTEGER NOT NULL,
    -- The idempotency key: a retried webhook or a re-sent desktop event has the same key.
    key         TEXT    NOT NULL,
    kind        TEXT    NOT NULL,
    source      TEXT    NOT NULL CHECK (source IN ('meta', 'desktop')),
    staff       TEXT,
    -- The parsed fields (JSON), and the raw JSON the event came from, byte for byte.
    fields      TEXT    NOT NULL,
    raw         TEXT    NOT NULL,
    -- Milliseconds since the epoch.
    received_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX events_by_seq ON events (workspace, seq);
CREATE UNIQUE INDEX events_by_key ON events (workspace, key);
CREATE INDEX events_by_received ON events (received_at);

CREATE TABLE tokens (
    id          TEXT    PRIMARY KEY,
    workspace   TEXT    NOT NULL,
    staff       TEXT    NOT NULL,
    is_admin    INTEGER NOT NULL,
    -- Space-separated resource:action pairs.
    permissions TEXT    NOT NULL,
    label       TEXT    NOT NULL,
    -- SHA-256 of the token (hex); the token itself is shown once and stored nowhere.
    hash        TEXT    NOT NULL UNIQUE,
    created_at  INTEGER NOT NULL,
    revoked_at  INTEGER
);
CREATE INDEX tokens_by_workspace ON tokens (workspace, created_at);
