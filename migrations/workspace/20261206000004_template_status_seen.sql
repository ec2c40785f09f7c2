-- templates module: the last status Meta sent for each template id, with when it arrived. Meta can
-- approve a template before our own insert (or resubmission) of it commits; the insert and the
-- edit read this so that an early webhook is never lost or overwritten with PENDING.
CREATE TABLE template_status_seen (
    meta_id          TEXT    PRIMARY KEY,
    status           TEXT    NOT NULL,
    rejected_reason  TEXT,
    seen_at          INTEGER NOT NULL
) STRICT;
