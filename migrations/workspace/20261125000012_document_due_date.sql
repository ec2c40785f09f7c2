-- documents module: an invoice's (or proforma's) due date, YYYY-MM-DD; null when none is set.
-- The invoice template model names it, so "Send on WhatsApp" can fill it.
ALTER TABLE documents ADD COLUMN due_date TEXT;
