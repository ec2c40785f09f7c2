-- Chat (the chat module): conversations with customers, their messages (searchable with FTS5),
-- the statuses Meta reports, the outbox of sends, quick replies, and the template per CRM action.

-- One thread between one customer (E.164 number, or user id for username-only users) and one of
-- our business numbers. The linked record is a lead, a client contact or a bulk contact; the
-- owning modules keep those tables, so these are plain ids, not foreign keys.
CREATE TABLE chat_conversations (
    id                INTEGER PRIMARY KEY,
    customer          TEXT    NOT NULL,
    phone_number_id   TEXT    NOT NULL,
    customer_name     TEXT    NOT NULL DEFAULT '',
    lead_id           INTEGER,
    client_contact_id INTEGER,
    contact_id        INTEGER,
    -- Staff usernames travel between desktops; local staff ids do not.
    assigned_username TEXT COLLATE NOCASE,
    assigned_name     TEXT,
    last_activity_at  INTEGER NOT NULL,
    last_preview      TEXT    NOT NULL DEFAULT '',
    last_direction    TEXT    NOT NULL DEFAULT 'in',
    unread            INTEGER NOT NULL DEFAULT 0,
    -- When the customer last wrote (ms): the 24-hour customer-service window runs from it.
    last_inbound_at   INTEGER,
    created_at        INTEGER NOT NULL,
    UNIQUE (customer, phone_number_id)
) STRICT;
-- The list is ordered by last activity; each filter has an index that yields that order.
CREATE INDEX chat_conversations_activity ON chat_conversations (last_activity_at DESC, id DESC);
CREATE INDEX chat_conversations_assigned ON chat_conversations (assigned_username, last_activity_at DESC, id DESC);
CREATE INDEX chat_conversations_number   ON chat_conversations (phone_number_id, last_activity_at DESC, id DESC);
CREATE INDEX chat_conversations_lead     ON chat_conversations (lead_id) WHERE lead_id IS NOT NULL;

CREATE TABLE chat_messages (
    id              INTEGER PRIMARY KEY,
    conversation_id INTEGER NOT NULL REFERENCES chat_conversations (id) ON DELETE CASCADE,
    -- Meta's message id, once Meta has it.
    wamid           TEXT    UNIQUE,
    -- The desktop's id of an outbound message: the same on every desktop of the team.
    client_id       TEXT    UNIQUE,
    direction       TEXT    NOT NULL CHECK (direction IN ('in', 'out')),
    kind            TEXT    NOT NULL,
    -- The searchable text (body, caption, file name, location name…).
    body            TEXT    NOT NULL DEFAULT '',
    -- The message as the UI shows it (chat::MessageContent, JSON).
    content         TEXT    NOT NULL,
    reply_to        TEXT,
    their_reaction  TEXT,
    our_reaction    TEXT,
    staff_name      TEXT,
    sent_at         INTEGER NOT NULL,
    -- Before Meta answers: queued (in the outbox), or refused with `error`.
    local_status    TEXT    NOT NULL DEFAULT 'accepted'
        CHECK (local_status IN ('queued', 'accepted', 'refused')),
    error           TEXT
) STRICT;
CREATE INDEX chat_messages_thread ON chat_messages (conversation_id, id);

-- What Meta reported for each message we sent, kept even when the status arrives before the
-- message itself (another desktop's send). `rank` only grows: a status never goes backwards.
CREATE TABLE chat_statuses (
    wamid   TEXT    PRIMARY KEY,
    rank    INTEGER NOT NULL,
    status  TEXT    NOT NULL,
    error   TEXT,
    at      INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

CREATE VIRTUAL TABLE chat_messages_fts USING fts5(
    body,
    content = 'chat_messages',
    content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TRIGGER chat_messages_fts_insert AFTER INSERT ON chat_messages WHEN new.body <> '' BEGIN
    INSERT INTO chat_messages_fts (rowid, body) VALUES (new.id, new.body);
END;
CREATE TRIGGER chat_messages_fts_delete AFTER DELETE ON chat_messages WHEN old.body <> '' BEGIN
    INSERT INTO chat_messages_fts (chat_messages_fts, rowid, body) VALUES ('delete', old.id, old.body);
END;

-- Sends waiting for Meta: made offline, or refused for a reason that passes (rate, network).
CREATE TABLE chat_sends (
    id          INTEGER PRIMARY KEY,
    message_id  INTEGER NOT NULL UNIQUE REFERENCES chat_messages (id) ON DELETE CASCADE,
    request     TEXT    NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    last_error  TEXT,
    next_at     INTEGER NOT NULL
) STRICT;

-- Per staff member: notifications muted or not.
CREATE TABLE chat_preferences (
    staff_id    INTEGER PRIMARY KEY REFERENCES staff (id) ON DELETE CASCADE,
    muted       INTEGER NOT NULL DEFAULT 0 CHECK (muted IN (0, 1))
) STRICT;

-- Settings → WhatsApp → template per action (the template's own mapping fills it).
CREATE TABLE chat_action_templates (
    action      TEXT    PRIMARY KEY
        CHECK (action IN ('proposal', 'estimate', 'invoice', 'proforma', 'credit_note')),
    template_id INTEGER NOT NULL REFERENCES templates (id) ON DELETE CASCADE
) STRICT;

CREATE TABLE quick_replies (
    id          INTEGER PRIMARY KEY,
    name        TEXT    NOT NULL UNIQUE COLLATE NOCASE,
    message     TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
) STRICT;

-- clients module: conversations find a client contact by phone.
CREATE INDEX client_contacts_phone ON client_contacts (phone) WHERE phone IS NOT NULL;
