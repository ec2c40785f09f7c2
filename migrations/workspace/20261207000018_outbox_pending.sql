-- This desktop's own events still on their way back from the log, by what they change
-- (`template:<name>:<language>`…): while a later one of the same thing is on its way, an earlier
-- one coming back does not undo the later change here.
CREATE TABLE outbox_pending (
    event_id TEXT PRIMARY KEY,
    subject  TEXT NOT NULL
) STRICT, WITHOUT ROWID;
CREATE INDEX outbox_pending_subject ON outbox_pending (subject);
