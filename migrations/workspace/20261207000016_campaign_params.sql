-- A campaign recipient keeps the values of the template's variables (a JSON array of strings, in
-- the template's order), not Meta's whole components: smaller rows and events, the same frozen
-- values. The dispatcher builds the components from the template when it sends.
ALTER TABLE campaign_recipients RENAME COLUMN components TO params;
