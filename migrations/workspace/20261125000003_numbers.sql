-- numbers module: the connected numbers with their cached business profiles and pictures.
CREATE TABLE numbers (
    phone_number_id      TEXT    PRIMARY KEY,
    display_phone_number TEXT    NOT NULL,
    verified_name        TEXT    NOT NULL,
    quality_rating       TEXT,
    messaging_limit      TEXT,
    status               TEXT,
    throughput           TEXT,
    profile              TEXT    NOT NULL DEFAULT '{}',  -- the business profile as Meta gave it (JSON)
    picture              BLOB,                           -- fetched by Rust with the token
    picture_mime         TEXT,
    fetched_at           INTEGER NOT NULL
) STRICT;
