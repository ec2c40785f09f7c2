-- contacts module: the Bulk Contacts directory and its groups.
-- Phone numbers are stored in E.164 (+15551234567): two spellings of one number are one number.
CREATE TABLE contacts (
    id          INTEGER PRIMARY KEY,
    phone       TEXT    NOT NULL UNIQUE,
    name        TEXT    NOT NULL DEFAULT '',
    company     TEXT    NOT NULL DEFAULT '',
    address     TEXT    NOT NULL DEFAULT '',
    city        TEXT    NOT NULL DEFAULT '',
    state       TEXT    NOT NULL DEFAULT '',
    country     TEXT    NOT NULL DEFAULT '',
    description TEXT    NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
) STRICT;
CREATE INDEX contacts_by_name ON contacts (name COLLATE NOCASE, id);

CREATE TABLE contact_groups (
    id          INTEGER PRIMARY KEY,
    name        TEXT    NOT NULL UNIQUE COLLATE NOCASE,
    description TEXT    NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL
) STRICT;

CREATE TABLE contact_group_members (
    contact_id  INTEGER NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    group_id    INTEGER NOT NULL REFERENCES contact_groups (id) ON DELETE CASCADE,
    PRIMARY KEY (contact_id, group_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX contact_group_members_by_group ON contact_group_members (group_id, contact_id);

-- The country assumed for numbers written without one (ISO 3166 alpha-2).
CREATE TABLE contact_settings (
    id              INTEGER PRIMARY KEY CHECK (id = 1),
    default_country TEXT    NOT NULL
) STRICT;
INSERT INTO contact_settings (id, default_country) VALUES (1, 'US');
