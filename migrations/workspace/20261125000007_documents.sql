-- documents module: proposals, estimates, invoices, proforma invoices and credit notes (storno)
-- that CRM actions later send over WhatsApp. Amounts are integers in the currency's minor unit.
-- The PDF is a file in the workspace's `documents/` folder (rendered from the lines, or attached).
CREATE TABLE documents (
    id          INTEGER PRIMARY KEY,
    kind        TEXT    NOT NULL CHECK (kind IN ('proposal', 'estimate', 'invoice', 'proforma', 'credit_note')),
    number      TEXT    NOT NULL COLLATE NOCASE,
    client_id   INTEGER REFERENCES clients (id) ON DELETE RESTRICT,
    lead_id     INTEGER REFERENCES leads (id) ON DELETE RESTRICT,
    date        TEXT    NOT NULL CHECK (date GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),
    currency    TEXT    NOT NULL CHECK (length(currency) = 3),
    total       INTEGER NOT NULL CHECK (total >= 0),
    status      TEXT    NOT NULL,
    notes       TEXT    NOT NULL DEFAULT '',
    pdf_source  TEXT    NOT NULL CHECK (pdf_source IN ('rendered', 'attached')),
    pdf_file    TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    CHECK ((client_id IS NULL) <> (lead_id IS NULL)),
    UNIQUE (kind, number)
) STRICT;
CREATE INDEX documents_by_date   ON documents (date, id);
CREATE INDEX documents_by_client ON documents (client_id, date, id);
CREATE INDEX documents_by_lead   ON documents (lead_id, date, id);

CREATE TABLE document_lines (
    document_id    INTEGER NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    position       INTEGER NOT NULL,
    description    TEXT    NOT NULL,
    -- thousandths: 1.5 hours is 1500
    quantity_milli INTEGER NOT NULL CHECK (quantity_milli > 0),
    unit_price     INTEGER NOT NULL CHECK (unit_price >= 0),
    PRIMARY KEY (document_id, position)
) STRICT, WITHOUT ROWID;
