-- Bots' HTTP request nodes (issue 22): hosts an administrator allowed although they resolve to an
-- address inside the network (private, loopback, link-local); every other such host is refused.
CREATE TABLE bot_http_hosts (
    host TEXT PRIMARY KEY
) STRICT, WITHOUT ROWID;
