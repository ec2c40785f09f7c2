-- account module: what Meta says about the account itself — the account restricted, banned or
-- reviewed, a number's quality or messaging limit changed, a template re-categorised or its
-- quality dropped, the business's messaging limit — one row per event of the log (its key:
-- applying an event again, or Meta's retry of it, changes nothing; `seq` orders them). The top
-- bar shows what is still in force; the Activity Log has one entry each. `dismissed_at`: hidden
-- from the banner on this desktop.
CREATE TABLE account_notices (
    id           INTEGER PRIMARY KEY,
    key          TEXT    NOT NULL UNIQUE,
    seq          INTEGER NOT NULL,
    kind         TEXT    NOT NULL,
    severity     TEXT    NOT NULL CHECK (severity IN ('critical', 'warning', 'info')),
    title        TEXT    NOT NULL,
    detail       TEXT    NOT NULL,
    subject      TEXT    NOT NULL DEFAULT '',
    received_at  INTEGER NOT NULL,
    dismissed_at INTEGER
) STRICT;
-- The banner: what is not dismissed, newest first.
CREATE INDEX account_notices_open ON account_notices (dismissed_at, received_at DESC);
-- The newest notice of each subject (a reinstatement replaces the ban it ends).
CREATE INDEX account_notices_by_subject ON account_notices (subject, seq);

-- templates module: Meta's quality score of a template (GREEN, YELLOW, RED, UNKNOWN), from
-- message_template_quality_update; NULL until Meta sends one.
ALTER TABLE templates ADD COLUMN quality_score TEXT;
