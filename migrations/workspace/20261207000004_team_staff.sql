-- Staff and roles are the team's (issue 17): administrators change them on any desktop, as
-- `role.changed` and `staff.changed` events, and every desktop applies them.
--
-- uid names a role or a staff member on every desktop. The roles every workspace starts with, and
-- the rows from before this migration, take one made from their name (a role) or username (a staff
-- member), so that the desktops of a team agree on them without having shared them: 'name:' or
-- 'user:' and the hex of the lowercased name, cut to 64 characters. The administrator role is
-- 'administrator' everywhere; it is fixed and never travels. New roles take a UUIDv7.
--
-- seq is the log position of the last event applied to the row; NULL for a row made here and not
-- back from the relay yet. The desktops decide who may change staff and roles from the rows that
-- have one (an active administrator the log named), never from a row only this desktop has.
--
-- A staff member who came from the log has no passphrase here (passphrase_hash ''): nobody signs in
-- as them on this desktop until an administrator sets one here or they join with their own token.
ALTER TABLE roles ADD COLUMN uid TEXT;
ALTER TABLE roles ADD COLUMN seq INTEGER;
UPDATE roles SET uid = CASE WHEN is_admin = 1 THEN 'administrator'
                            ELSE substr('name:' || lower(hex(lower(name))), 1, 64) END;
CREATE UNIQUE INDEX roles_by_uid ON roles (uid);

ALTER TABLE staff ADD COLUMN uid TEXT;
ALTER TABLE staff ADD COLUMN seq INTEGER;
UPDATE staff SET uid = substr('user:' || lower(hex(lower(username))), 1, 64);
CREATE UNIQUE INDEX staff_by_uid ON staff (uid);
