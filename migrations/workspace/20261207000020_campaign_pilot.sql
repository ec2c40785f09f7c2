-- A campaign's pilot: its first N recipients are sent, then it pauses for a person to look at
-- the report before the rest (`pilot_passed` once they resumed it).
ALTER TABLE campaigns ADD COLUMN pilot INTEGER CHECK (pilot IS NULL OR pilot > 0);
ALTER TABLE campaigns ADD COLUMN pilot_passed INTEGER NOT NULL DEFAULT 0 CHECK (pilot_passed IN (0, 1));
