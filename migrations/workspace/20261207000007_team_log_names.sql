-- The name the team's log last gave a quick reply, a role, or a staff member's username
-- (20261207000004, 20261207000005): a clash of names is decided on these, never on a name a change
-- made here gave a row and the log has not confirmed yet (an edit here is not back from the relay:
-- the row's name is this desktop's, its log_name the team's). NULL: the log has not named the row.
-- Rows from before, whose uids are made from their names, are named alike on every desktop: they
-- keep their names as the log's.
ALTER TABLE quick_replies ADD COLUMN log_name TEXT COLLATE NOCASE;
ALTER TABLE roles ADD COLUMN log_name TEXT COLLATE NOCASE;
ALTER TABLE staff ADD COLUMN log_username TEXT COLLATE NOCASE;
UPDATE quick_replies SET log_name = name;
UPDATE roles SET log_name = name;
UPDATE staff SET log_username = username;
CREATE INDEX quick_replies_log_name ON quick_replies (log_name) WHERE log_name IS NOT NULL;
CREATE INDEX roles_log_name ON roles (log_name) WHERE log_name IS NOT NULL;
CREATE INDEX staff_log_username ON staff (log_username) WHERE log_username IS NOT NULL;
