-- A campaign spread over days: at most this many recipients tried in any 24 hours.
ALTER TABLE campaigns ADD COLUMN daily_cap INTEGER CHECK (daily_cap IS NULL OR daily_cap > 0);
