-- templates module: the WABA's message templates, synced with Meta, and their default mapping of
-- variables to CRM merge fields.
CREATE TABLE templates (
    id               INTEGER PRIMARY KEY,
    meta_id          TEXT    UNIQUE,
    name             TEXT    NOT NULL,
    language         TEXT    NOT NULL,
    status           TEXT    NOT NULL,
    category         TEXT    NOT NULL,
    parameter_format TEXT    NOT NULL CHECK (parameter_format IN ('POSITIONAL', 'NAMED')),
    definition       TEXT    NOT NULL,               -- the template as Meta has it (JSON)
    rejected_reason  TEXT,
    model            TEXT,                           -- the template model it was loaded from, if any
    mapping          TEXT    NOT NULL DEFAULT '[]',  -- default bindings of its variables (JSON)
    synced_at        INTEGER,
    updated_at       INTEGER NOT NULL,
    UNIQUE (name, language)
) STRICT;
CREATE INDEX templates_by_status ON templates (status, name);
