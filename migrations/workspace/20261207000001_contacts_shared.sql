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
CREATE UNIQUE INDEX contacts_by_uid ON contacts (uid);
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
