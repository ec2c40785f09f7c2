-- A token may expire (milliseconds since the epoch); NULL never does.
ALTER TABLE tokens ADD COLUMN expires_at BIGINT;
