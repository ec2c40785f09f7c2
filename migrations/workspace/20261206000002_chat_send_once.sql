-- A send goes out once. The attempt is written (in_flight_at) before Meta is called, so a send
-- whose outcome this desktop never learnt (it died between Meta's acceptance and its own commit,
-- or Meta's answer was ambiguous) is never sent again by itself: a status webhook naming it
-- (biz_opaque_callback_data = the message's client id) settles it, and until one does it shows
-- "may have been sent" (uncertain_at) and waits for the person who sent it.
ALTER TABLE chat_sends ADD COLUMN in_flight_at INTEGER;
ALTER TABLE chat_sends ADD COLUMN uncertain_at INTEGER;
