-- bots module: the workspace's business hours, which a bot's condition reads (one row; none: the
-- default, Monday to Friday 9:00 to 17:00 UTC). The team's: `settings.business_hours` events,
-- the log's last one kept (`seq`).
CREATE TABLE business_hours (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    time_zone  TEXT    NOT NULL,
    -- JSON: seven entries, Monday first, each [opens, closes] in minutes after midnight or null.
    days       TEXT    NOT NULL,
    seq        INTEGER,
    updated_at INTEGER NOT NULL
) STRICT;
