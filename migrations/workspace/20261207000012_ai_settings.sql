-- AI bots (issue 22): the OpenAI-compatible endpoint they ask (its key is in the keychain, or the
-- runner's credentials). The sandbox workspace uses the sandbox's stand-in when none is set.
CREATE TABLE ai_settings (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    base_url   TEXT    NOT NULL,
    model      TEXT    NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT;
