-- no-transaction
-- Bulk Contacts reached only on WhatsApp (issue 19): a customer known by their business-scoped
-- user id and username, with no phone, is a contact too. Phones stay unique; a contact has a
-- phone or a user id. The table is rebuilt to make `phone` optional, as SQLite's documented
-- procedure does it: foreign keys off around a transaction (memberships refer to contacts), the
-- view over it dropped and made again, the new table renamed in place, every index made again.
-- Row ids are kept (an import's contacts are found by their ids).
PRAGMA foreign_keys = OFF;

BEGIN;

DROP VIEW contact_uids;

CREATE TABLE contacts_rebuilt (
    id          INTEGER PRIMARY KEY,
    phone       TEXT,
    name        TEXT    NOT NULL DEFAULT '',
    company     TEXT    NOT NULL DEFAULT '',
    address     TEXT    NOT NULL DEFAULT '',
    city        TEXT    NOT NULL DEFAULT '',
    state       TEXT    NOT NULL DEFAULT '',
    country     TEXT    NOT NULL DEFAULT '',
    description TEXT    NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    uid         TEXT,
    seq         INTEGER,
    log_phone   TEXT,
    -- The customer's business-scoped WhatsApp user id and username, for a contact made from a
    -- conversation.
    wa_user_id  TEXT,
    username    TEXT    NOT NULL DEFAULT '',
    CHECK (phone IS NOT NULL OR wa_user_id IS NOT NULL)
) STRICT;

INSERT INTO contacts_rebuilt (id, phone, name, company, address, city, state, country,
                              description, created_at, updated_at, uid, seq, log_phone)
SELECT id, phone, name, company, address, city, state, country,
       description, created_at, updated_at, uid, seq, log_phone
FROM contacts;

DROP TABLE contacts;
ALTER TABLE contacts_rebuilt RENAME TO contacts;

CREATE UNIQUE INDEX contacts_phone ON contacts (phone) WHERE phone IS NOT NULL;
CREATE INDEX contacts_by_name ON contacts (name COLLATE NOCASE, id);
CREATE UNIQUE INDEX contacts_by_uid ON contacts (uid) WHERE uid IS NOT NULL;
CREATE INDEX contacts_by_log_phone ON contacts (log_phone) WHERE log_phone IS NOT NULL;
CREATE INDEX contacts_by_wa_user ON contacts (wa_user_id) WHERE wa_user_id IS NOT NULL;

CREATE VIEW contact_uids AS
SELECT c.id AS id, coalesce(c.uid, (
    SELECT r.base || printf('%08x', r.first_n + c.id - r.first_id)
    FROM contact_import_ranges r
    WHERE r.first_id <= c.id AND c.id < r.first_id + r.count
    ORDER BY r.rowid DESC LIMIT 1
)) AS uid
FROM contacts c;

COMMIT;

PRAGMA foreign_keys = ON;
