-- Planning writes every recipient at once (100,000 in well under a second): the indexes of
-- campaign_recipients keep only what their queries read. The dispatcher takes the next waiting
-- recipients in order; a customer's reply marks the recipients it answers, which are only ever
-- those Meta took (rank 2 to 6). The report's counts read the table's own order.
DROP INDEX campaign_recipients_state;
DROP INDEX campaign_recipients_phone;
CREATE INDEX campaign_recipients_waiting ON campaign_recipients (campaign_uid, idx)
    WHERE state IN ('planned', 'deferred', 'sending');
CREATE INDEX campaign_recipients_reached ON campaign_recipients (phone)
    WHERE rank BETWEEN 2 AND 6;
