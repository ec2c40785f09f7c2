-- contacts module: contacts, groups and memberships are the team's (issue 17). Each record has a
-- uid every desktop knows it by, and what the team's log last said of it:
--   seq        the log sequence of the last event applied to it; NULL while it was made on this
--              desktop and its event is not back from the relay yet (a pending create);
--   log_phone  (contacts) the phone the log gives it, kept only while a change made here moved
--              the shown phone away from it and is not back yet; NULL when they agree.
--   log_name   (groups) the same for a group's name.
-- A uniqueness clash is decided on what the log says, never on a change still on its way, so
-- that every desktop decides it the same way. Records that were here before are the log's (0).
ALTER TABLE contacts ADD COLUMN uid TEXT;
ALTER TABLE contacts ADD COLUMN seq INTEGER;
ALTER TABLE contacts ADD COLUMN log_phone TEXT;
UPDATE contacts SET uid = lower(hex(randomblob(16))), seq = 0;
-- A contact an import created has no uid of its own in this table (indexing a million of them
-- would double the import's time): its uid is its import's base and its number in the import,
-- found through `contact_import_ranges`, and written here the first time something names it.
CREATE UNIQUE INDEX contacts_by_uid ON contacts (uid) WHERE uid IS NOT NULL;
CREATE INDEX contacts_by_log_phone ON contacts (log_phone) WHERE log_phone IS NOT NULL;

ALTER TABLE contact_groups ADD COLUMN uid TEXT;
ALTER TABLE contact_groups ADD COLUMN seq INTEGER;
ALTER TABLE contact_groups ADD COLUMN log_name TEXT;
UPDATE contact_groups SET uid = lower(hex(randomblob(16))), seq = 0;
CREATE UNIQUE INDEX contact_groups_by_uid ON contact_groups (uid);

-- A record that lost a clash lives on as another's: its uid points to the one it was merged
-- into, so later events naming it change the survivor.
CREATE TABLE contact_aliases (
    kind     TEXT NOT NULL CHECK (kind IN ('contact', 'group')),
    uid      TEXT NOT NULL,
    into_uid TEXT NOT NULL,
    PRIMARY KEY (kind, uid)
) STRICT, WITHOUT ROWID;

-- Records deleted here whose deletion is not back from the relay: the log still gives them their
-- phone or name (`key`) until it is, and clashes are decided on that.
CREATE TABLE contact_tombstones (
    kind TEXT NOT NULL CHECK (kind IN ('contact', 'group')),
    uid  TEXT NOT NULL,
    key  TEXT NOT NULL COLLATE NOCASE,
    PRIMARY KEY (kind, uid)
) STRICT, WITHOUT ROWID;
CREATE INDEX contact_tombstones_by_key ON contact_tombstones (kind, key);

-- Contacts an import made here created, a batch's run of consecutive ids at a time: contact
-- `first_id + i` has the uid `base` followed by `first_n + i` as 8 hex digits, for i below
-- `count` — unless a later range covers that id too (ids of deleted rows are used again): the
-- newest range (highest rowid) covering an id is its.
CREATE TABLE contact_import_ranges (
    base     TEXT    NOT NULL,
    first_n  INTEGER NOT NULL,
    first_id INTEGER NOT NULL,
    count    INTEGER NOT NULL,
    PRIMARY KEY (base, first_n)
) STRICT;
CREATE INDEX contact_import_ranges_by_id ON contact_import_ranges (first_id);

-- Every contact's uid, its own or its import's.
CREATE VIEW contact_uids AS
SELECT c.id AS id, coalesce(c.uid, (
    SELECT r.base || printf('%08x', r.first_n + c.id - r.first_id)
    FROM contact_import_ranges r
    WHERE r.first_id <= c.id AND c.id < r.first_id + r.count
    ORDER BY r.rowid DESC LIMIT 1
)) AS uid
FROM contacts c;
