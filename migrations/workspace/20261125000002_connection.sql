-- The Meta layer's local state. Secrets are never here: they live in the OS keychain.

-- connection module: the non-secret half of the Cloud API credentials (one row).
CREATE TABLE connection (
    id              INTEGER PRIMARY KEY CHECK (id = 1),
    phone_number_id TEXT    NOT NULL DEFAULT '',
    waba_id         TEXT    NOT NULL DEFAULT '',
    graph_base_url  TEXT    NOT NULL,
    graph_version   TEXT    NOT NULL,
    updated_at      INTEGER NOT NULL
) STRICT;
