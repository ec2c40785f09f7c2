-- The relay's event log (PostgreSQL): one totally ordered log per workspace, shared by several
-- relay instances, and the desktops' tokens. Writers take a per-workspace advisory lock for the
-- whole transaction, so sequence numbers commit in order and no reader can skip one.

CREATE TABLE events (
    workspace   TEXT    NOT NULL,
    seq         BIGINT  NOT NULL,
    key         TEXT    NOT NULL,
    kind        TEXT    NOT NULL,
    source      TEXT    NOT NULL CHECK (source IN ('meta', 'desktop')),
    staff       TEXT,
    fields      TEXT    NOT NULL,
    raw         TEXT    NOT NULL,
    received_at BIGINT  NOT NULL,
    PRIMARY KEY (workspace, seq),
    UNIQUE (workspace, key)
);
CREATE INDEX events_by_received ON events (received_at);

CREATE TABLE tokens (
    id          TEXT    PRIMARY KEY,
    workspace   TEXT    NOT NULL,
    staff       TEXT    NOT NULL,
    is_admin    BOOLEAN NOT NULL,
    permissions TEXT    NOT NULL,
    label       TEXT    NOT NULL,
    hash        TEXT    NOT NULL UNIQUE,
    created_at  BIGINT  NOT NULL,
    revoked_at  BIGINT
);
CREATE INDEX tokens_by_workspace ON tokens (workspace, created_at);
