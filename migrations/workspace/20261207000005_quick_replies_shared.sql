-- Quick replies are the team's (issue 17): `quick_reply.created/updated/deleted` events, applied on
-- every desktop. uid names one on every desktop: rows from before take one made from their name
-- ('name:' and the hex of the lowercased name, cut to 64 characters), so that the desktops of a
-- team agree on them without having shared them; new ones take a UUIDv7. seq is the log position
-- of the last event applied to the row (NULL: made here, not back from the relay yet): a name
-- the log gave one quick reply is not taken by a later one (see chat/quick_replies.rs).
ALTER TABLE quick_replies ADD COLUMN uid TEXT;
ALTER TABLE quick_replies ADD COLUMN seq INTEGER;
UPDATE quick_replies SET uid = substr('name:' || lower(hex(lower(name))), 1, 64);
CREATE UNIQUE INDEX quick_replies_by_uid ON quick_replies (uid);

-- The log's tombstones: a quick reply deleted by the log is not brought back by an older edit.
CREATE TABLE quick_reply_tombstones (
    uid TEXT PRIMARY KEY
) STRICT, WITHOUT ROWID;
