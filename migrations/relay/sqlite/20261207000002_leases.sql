-- The automation lease (issue 21): exactly one runner per workspace runs bots and campaigns. The
-- relay grants it to one holder at a time, for a few seconds, renewed while the holder lives; a
-- standby takes it once it expires. epoch grows by one each time the lease changes hands, and what
-- a runner publishes carries the epoch it holds: the relay refuses a stale one (a runner paused,
-- then resumed, after another took over).
CREATE TABLE leases (
    workspace TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    staff TEXT NOT NULL,
    epoch INTEGER NOT NULL,
    since INTEGER NOT NULL,
    heartbeat_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    status TEXT NOT NULL DEFAULT ''
);
