-- A bot's messages (issue 22): which session and node sent each, so that a failure Meta reports
-- later (a status webhook: 131047, 132015, 131026…) takes that node's failure branch.
CREATE TABLE bot_sends (
    message_id INTEGER PRIMARY KEY,
    session_id INTEGER NOT NULL,
    send       INTEGER NOT NULL,
    node       INTEGER NOT NULL
) STRICT;
