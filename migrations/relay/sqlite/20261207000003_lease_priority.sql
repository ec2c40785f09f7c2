-- A server runner comes before a desktop that holds the automation lease because it works alone
-- (issue 21): priority 1 (a runner) takes the lease from priority 0 (a desktop) at once, with the
-- next epoch; the desktop takes it back when no runner holds it.
ALTER TABLE leases ADD COLUMN priority INTEGER NOT NULL DEFAULT 1;
