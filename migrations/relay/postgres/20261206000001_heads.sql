-- Each workspace's head: the last sequence number it ever gave. Retention deletes events, never
-- the head, so a workspace quiet for longer than the retention goes on from where it was instead
-- of giving 1, 2, 3… again (which desktops at the old cursor would never receive). Written under
-- the workspace's advisory lock, like the events.

CREATE TABLE heads (
    workspace TEXT   PRIMARY KEY,
    seq       BIGINT NOT NULL
);
INSERT INTO heads (workspace, seq) SELECT workspace, MAX(seq) FROM events GROUP BY workspace;
