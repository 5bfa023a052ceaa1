-- Node sharing requests between users.
CREATE TABLE sharing_requests (
    request_id   TEXT PRIMARY KEY,
    from_user    TEXT NOT NULL REFERENCES users(user_id) ON DELETE CASCADE,
    to_user      TEXT NOT NULL REFERENCES users(user_id) ON DELETE CASCADE,
    node_ids     TEXT NOT NULL,               -- JSON array
    primary_role INTEGER NOT NULL DEFAULT 0,  -- share as primary
    transfer     INTEGER NOT NULL DEFAULT 0,
    new_role     TEXT NOT NULL DEFAULT '',    -- the sender's role after a transfer
    metadata     TEXT NOT NULL DEFAULT '{}',
    status       TEXT NOT NULL,               -- pending | accepted | declined
    created_at   INTEGER NOT NULL
);
CREATE INDEX sharing_requests_from ON sharing_requests(from_user, request_id);
CREATE INDEX sharing_requests_to ON sharing_requests(to_user, request_id);
