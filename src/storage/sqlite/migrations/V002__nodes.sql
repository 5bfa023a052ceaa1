-- Nodes (devices), their reported state, user-node mappings and mapping requests.
CREATE TABLE nodes (
    node_id           TEXT PRIMARY KEY,
    created_at        INTEGER NOT NULL,
    mac_addr          TEXT NOT NULL DEFAULT '',
    platform          TEXT NOT NULL DEFAULT '',
    claimed_by        TEXT NOT NULL DEFAULT '',
    cert_pem          TEXT NOT NULL DEFAULT '',
    cert_serial       TEXT NOT NULL DEFAULT '',
    config            TEXT NOT NULL DEFAULT '',   -- '' until the node reports it
    node_type         TEXT NOT NULL DEFAULT '',
    model             TEXT NOT NULL DEFAULT '',
    fw_version        TEXT NOT NULL DEFAULT '',
    params            TEXT NOT NULL DEFAULT '',   -- '' until the node reports them
    params_updated_at INTEGER NOT NULL DEFAULT 0,
    connected         INTEGER NOT NULL DEFAULT 0,
    connectivity_at   INTEGER NOT NULL DEFAULT 0, -- unix ms of the last presence change
    presence_version  INTEGER NOT NULL DEFAULT 0,
    revoked           INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX nodes_type ON nodes(node_type);
CREATE INDEX nodes_model ON nodes(model);
CREATE INDEX nodes_fw_version ON nodes(fw_version);
CREATE UNIQUE INDEX nodes_mac ON nodes(mac_addr) WHERE mac_addr <> '';

CREATE TABLE user_nodes (
    user_id    TEXT NOT NULL REFERENCES users(user_id) ON DELETE CASCADE,
    node_id    TEXT NOT NULL REFERENCES nodes(node_id) ON DELETE CASCADE,
    role       TEXT NOT NULL DEFAULT 'primary',
    tags       TEXT NOT NULL DEFAULT '[]',
    metadata   TEXT NOT NULL DEFAULT '{}',
    group_id   TEXT NOT NULL DEFAULT '',
    admin_access TEXT NOT NULL DEFAULT '',  -- READ | WRITE | NONE | ''
    created_at INTEGER NOT NULL,
    PRIMARY KEY (user_id, node_id)
);
CREATE INDEX user_nodes_node ON user_nodes(node_id);

CREATE TABLE mapping_requests (
    request_id  TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users(user_id) ON DELETE CASCADE,
    node_id     TEXT NOT NULL DEFAULT '',
    kind        TEXT NOT NULL,               -- 'secret' | 'challenge'
    secret_hash TEXT NOT NULL DEFAULT '',
    challenge   TEXT NOT NULL DEFAULT '',
    status      TEXT NOT NULL,               -- requested | confirmed | timedout | discarded
    tags        TEXT NOT NULL DEFAULT '',    -- JSON array text, '' when not given
    metadata    TEXT NOT NULL DEFAULT '',    -- JSON object text, '' when not given
    group_id    TEXT NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL             -- 0 = never
);
CREATE INDEX mapping_requests_node ON mapping_requests(node_id, status);

-- The node side of a secret-key mapping, kept until a matching request arrives or it expires.
CREATE TABLE node_mapping_reports (
    node_id     TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL,
    secret_hash TEXT NOT NULL,
    reported_at INTEGER NOT NULL
);

CREATE TABLE node_alerts (
    id         INTEGER PRIMARY KEY,
    node_id    TEXT NOT NULL,
    payload    TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX node_alerts_node ON node_alerts(node_id, id);
