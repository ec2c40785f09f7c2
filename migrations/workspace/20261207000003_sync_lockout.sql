-- sync module: the relay refused this desktop's token (revoked by the team's administrator, or
-- expired). A team workspace is then locked: nobody signs in until a new token is entered.
ALTER TABLE sync_settings ADD COLUMN locked_at INTEGER;
ALTER TABLE sync_settings ADD COLUMN locked_reason TEXT;
