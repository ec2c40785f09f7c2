-- What the relay made this desktop do that the user should know: resuming after the relay's
-- retention deleted events it had not received, or after the relay's log went back. Shown in
-- Settings until dismissed.
ALTER TABLE sync_settings ADD COLUMN warning TEXT;

-- An outbox event the relay refused for good (a permission this staff member no longer has, a
-- payload it does not accept): kept and shown, no longer sent. The others in its batch go on.
ALTER TABLE sync_outbox ADD COLUMN refused_at INTEGER;
CREATE INDEX sync_outbox_pending ON sync_outbox (refused_at, id);
