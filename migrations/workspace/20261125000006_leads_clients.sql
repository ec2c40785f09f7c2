-- CRM side (leads and clients modules): CRMConnect's leads with configurable statuses, and
-- clients (companies) with their contact persons. Phones are E.164 or NULL (none given).

-- leads module -------------------------------------------------------------------------------
CREATE TABLE lead_statuses (
    id          INTEGER PRIMARY KEY,
    name        TEXT    NOT NULL UNIQUE COLLATE NOCASE,
    color       TEXT    NOT NULL CHECK (color GLOB '#[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]'),
    position    INTEGER NOT NULL,
    created_at  INTEGER NOT NULL
) STRICT;
INSERT INTO lead_statuses (name, color, position, created_at) VALUES
    ('New',       '#2563eb', 1, 0),
    ('Contacted', '#0891b2', 2, 0),
    ('Qualified', '#7c3aed', 3, 0),
    ('Proposal',  '#d97706', 4, 0),
    ('Won',       '#16a34a', 5, 0),
    ('Lost',      '#dc2626', 6, 0);

-- A lead is reached by phone or email (at least one): no two leads share a phone, nor an email,
-- which is also what makes importing a file twice create nothing the second time.
CREATE TABLE leads (
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
    CHECK (phone IS NOT NULL OR email <> '')
) STRICT;
CREATE UNIQUE INDEX leads_phone ON leads (phone) WHERE phone IS NOT NULL;
CREATE UNIQUE INDEX leads_email ON leads (email) WHERE email <> '';
-- The list pages newest first; each filter has an index that also yields that order.
CREATE INDEX leads_created  ON leads (created_at, id);
CREATE INDEX leads_status   ON leads (status_id, created_at, id);
CREATE INDEX leads_source   ON leads (source, created_at, id);
CREATE INDEX leads_assigned ON leads (assigned_staff_id, created_at, id);
CREATE INDEX leads_whatsapp ON leads (whatsapp, created_at, id);

-- clients module -----------------------------------------------------------------------------
CREATE TABLE clients (
    id          INTEGER PRIMARY KEY,
    company     TEXT    NOT NULL UNIQUE COLLATE NOCASE,
    phone       TEXT,
    email       TEXT    NOT NULL DEFAULT '',
    address     TEXT    NOT NULL DEFAULT '',
    notes       TEXT    NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
) STRICT;

CREATE TABLE client_contacts (
    id          INTEGER PRIMARY KEY,
    client_id   INTEGER NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    name        TEXT    NOT NULL,
    position    TEXT    NOT NULL DEFAULT '',
    phone       TEXT,
    whatsapp    INTEGER NOT NULL DEFAULT 0 CHECK (whatsapp IN (0, 1)),
    email       TEXT    NOT NULL DEFAULT '',
    is_primary  INTEGER NOT NULL DEFAULT 0 CHECK (is_primary IN (0, 1))
) STRICT;
CREATE INDEX client_contacts_by_client ON client_contacts (client_id, id);

-- permissions: CRMConnect's CRM permissions for the built-in roles of existing workspaces (new
-- workspaces get them from permissions::default_roles). Administrators hold every permission.
INSERT OR IGNORE INTO role_permissions (role_id, resource, action)
SELECT r.id, p.resource, p.action FROM roles r
JOIN (SELECT 'leads' AS resource, 'view' AS action UNION ALL SELECT 'leads', 'create'
      UNION ALL SELECT 'leads', 'edit' UNION ALL SELECT 'clients', 'view'
      UNION ALL SELECT 'clients', 'create' UNION ALL SELECT 'clients', 'edit'
      UNION ALL SELECT 'documents', 'view' UNION ALL SELECT 'documents', 'create'
      UNION ALL SELECT 'documents', 'edit') p
WHERE r.name = 'Sales rep' AND r.is_admin = 0;
INSERT OR IGNORE INTO role_permissions (role_id, resource, action)
SELECT r.id, p.resource, p.action FROM roles r
JOIN (SELECT 'leads' AS resource, 'view' AS action UNION ALL SELECT 'leads', 'create'
      UNION ALL SELECT 'leads', 'edit' UNION ALL SELECT 'leads', 'import'
      UNION ALL SELECT 'clients', 'view' UNION ALL SELECT 'documents', 'view') p
WHERE r.name = 'Marketing' AND r.is_admin = 0;
