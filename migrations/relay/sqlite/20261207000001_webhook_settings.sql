-- What a workspace's webhooks are checked with when its admin set it from the app
-- (PUT /v1/webhook) rather than in the configuration file: Meta's app secret, the verify token,
-- and the account and numbers its webhooks may be about (phone_number_ids: space-separated).
-- Kept apart from the event log: never in an event, never sent back by the API.
CREATE TABLE webhook_settings (
    workspace TEXT PRIMARY KEY,
    app_secret TEXT NOT NULL,
    verify_token TEXT NOT NULL,
    waba_id TEXT,
    phone_number_ids TEXT NOT NULL DEFAULT '',
    updated_at INTEGER NOT NULL,
    updated_by TEXT NOT NULL
);
