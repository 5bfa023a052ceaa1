-- Command-response requests (#101-#104): one row per request and node (a request sent to
-- several nodes shares its request_id). A pending request's expires_at is its due time: the
-- command-timeouts job times out the past ones, so a restart loses no timeout.
CREATE TABLE cmd_requests (
    seq                INTEGER PRIMARY KEY AUTOINCREMENT, -- creation order: the page cursor
    request_id         TEXT NOT NULL,
    node_id            TEXT NOT NULL,
    user_id            TEXT NOT NULL,
    user_name          TEXT NOT NULL,
    admin              INTEGER NOT NULL DEFAULT 0,        -- made through the admin route
    cmd                INTEGER NOT NULL,
    role               INTEGER NOT NULL,                  -- the role byte sent to the node
    data_kind          INTEGER NOT NULL,                  -- 0 JSON object, 1 string, 2 base64
    data               TEXT NOT NULL,                     -- as given
    status             TEXT NOT NULL,                     -- requested | in_progress | success
                                                          -- | failure | timed_out
    created_at         INTEGER NOT NULL,
    expires_at         INTEGER NOT NULL,                  -- 0: never
    device_status      INTEGER,                           -- the node's status byte
    status_description TEXT NOT NULL DEFAULT '',
    response_data      BLOB,                              -- the node's data bytes
    responded_at       INTEGER NOT NULL DEFAULT 0,
    UNIQUE (request_id, node_id)
);
CREATE INDEX cmd_requests_node ON cmd_requests(node_id, seq);
CREATE INDEX cmd_requests_user ON cmd_requests(user_id, seq);
CREATE INDEX cmd_requests_due ON cmd_requests(expires_at)
    WHERE status IN ('requested', 'in_progress') AND expires_at > 0;
CREATE INDEX cmd_requests_created ON cmd_requests(created_at);
