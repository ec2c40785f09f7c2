-- no-transaction
-- Leads reached only on WhatsApp: a customer known by their business-scoped user id (and
-- username) and no phone is a lead too. The table is rebuilt to relax its CHECK (SQLite cannot
-- alter one), as SQLite's documented procedure does it: foreign keys off around a transaction
-- (documents refer to leads), the new table renamed in place, every index made again.
PRAGMA foreign_keys = OFF;

BEGIN;

CREATE TABLE leads_rebuilt (
    id                INTEGER PRIMARY KEY,
    name              TEXT    NOT NULL,
    company           TEXT    NOT NULL DEFAULT '',
    phone             TEXT,
    -- 1 when `phone` is a valid number of a type WhatsApp can reach (mobile, or fixed-or-mobile).
    whatsapp          INTEGER NOT NULL DEFAULT 0 CHECK (whatsapp IN (0, 1)),
    email             TEXT    NOT NULL DEFAULT '' COLLATE NOCASE,
    source            TEXT    NOT NULL DEFAULT '',
    status_id         INTEGER NOT NULL REFERENCES lead_statuses (id) ON DELETE RESTRICT,
    assigned_staff_id INTEGER REFERENCES staff (id) ON DELETE SET NULL,
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL,
    -- The customer's business-scoped WhatsApp user id, for a lead made from a conversation.
    wa_user_id        TEXT,
    CHECK (phone IS NOT NULL OR email <> '' OR wa_user_id IS NOT NULL)
) STRICT;

INSERT INTO leads_rebuilt (id, name, company, phone, whatsapp, email, source, status_id,
                           assigned_staff_id, created_at, updated_at)
SELECT id, name, company, phone, whatsapp, email, source, status_id,
       assigned_staff_id, created_at, updated_at
FROM leads;

DROP TABLE leads;
ALTER TABLE leads_rebuilt RENAME TO leads;

CREATE UNIQUE INDEX leads_phone ON leads (phone) WHERE phone IS NOT NULL;
CREATE UNIQUE INDEX leads_email ON leads (email) WHERE email <> '';
CREATE UNIQUE INDEX leads_wa_user ON leads (wa_user_id) WHERE wa_user_id IS NOT NULL;
CREATE INDEX leads_created  ON leads (created_at, id);
CREATE INDEX leads_status   ON leads (status_id, created_at, id);
CREATE INDEX leads_source   ON leads (source, created_at, id);
CREATE INDEX leads_assigned ON leads (assigned_staff_id, created_at, id);
CREATE INDEX leads_whatsapp ON leads (whatsapp, created_at, id);

COMMIT;

PRAGMA foreign_keys = ON;
