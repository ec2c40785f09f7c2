-- Templates are the team's (issue 17): `template.*` events, applied on every desktop. seq is the log
-- position of the last team event applied to the row; NULL for a template this desktop has not seen
-- come back from the team's log (made or pulled from Meta here before templates were shared, or not
-- back from the relay yet): pulling from Meta shares those again.
ALTER TABLE templates ADD COLUMN seq INTEGER;
