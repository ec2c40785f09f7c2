-- Foundation: the workspace record, roles and their permissions, staff, and the activity log.
-- Times are Unix milliseconds (UTC). Append-only: never edit a migration that has shipped.

CREATE TABLE workspace (
    id          INTEGER PRIMARY KEY CHECK (id = 1),   -- one row: the workspace this file holds
    slug        TEXT    NOT NULL,
    name        TEXT    NOT NULL,
    kind        TEXT    NOT NULL CHECK (kind IN ('sandbox', 'live')),
    created_at  INTEGER NOT NULL
) STRICT;

-- permissions module -------------------------------------------------------------------------
CREATE TABLE roles (
    id          INTEGER PRIMARY KEY,
    name        TEXT    NOT NULL UNIQUE COLLATE NOCASE,
    is_admin    INTEGER NOT NULL DEFAULT 0 CHECK (is_admin IN (0, 1)),
    created_at  INTEGER NOT NULL
) STRICT;

CREATE TABLE role_permissions (
    role_id     INTEGER NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
    resource    TEXT    NOT NULL,
    action      TEXT    NOT NULL,
    PRIMARY KEY (role_id, resource, action)
) STRICT, WITHOUT ROWID;

-- staff module -------------------------------------------------------------------------------
CREATE TABLE staff (
    id              INTEGER PRIMARY KEY,
    name            TEXT    NOT NULL,
    username        TEXT    NOT NULL UNIQUE COLLATE NOCASE,
    role_id         INTEGER NOT NULL REFERENCES roles (id) ON DELETE RESTRICT,
    passphrase_hash TEXT    NOT NULL,
    active          INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    created_at      INTEGER NOT NULL
) STRICT;
CREATE INDEX staff_role ON staff (role_id);

-- audit module -------------------------------------------------------------------------------
-- staff_name is a snapshot: the log still reads right after a staff member is renamed or deleted.
CREATE TABLE activity_log (
    id          INTEGER PRIMARY KEY,
    at          INTEGER NOT NULL,
    staff_id    INTEGER,
    staff_name  TEXT    NOT NULL,
    module      TEXT    NOT NULL,
    action      TEXT    NOT NULL,
    target      TEXT    NOT NULL,
    outcome     TEXT    NOT NULL CHECK (outcome IN ('ok', 'denied')),
    detail      TEXT
) STRICT;
-- The log screen pages newest first by (at, id), optionally filtered by staff, module and a date
-- range: each filter has an index that also yields that order, so a page never sorts.
CREATE INDEX activity_log_at     ON activity_log (at, id);
CREATE INDEX activity_log_staff  ON activity_log (staff_id, at, id);
CREATE INDEX activity_log_module ON activity_log (module, at, id);
