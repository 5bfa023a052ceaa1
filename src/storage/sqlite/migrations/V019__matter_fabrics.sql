-- Homes as Matter fabrics (#9): a top-level user group with a fabric has its own root CA.
-- The root's private key is stored sealed (AES-256-GCM under data/keys/fabric-sealing.key),
-- never in the clear.
CREATE TABLE matter_fabrics (
    group_id         TEXT PRIMARY KEY REFERENCES node_groups(group_id) ON DELETE CASCADE,
    fabric_id        TEXT NOT NULL UNIQUE,   -- 16 upper-case hex digits, never 0
    rcac_id          TEXT NOT NULL,          -- 16 upper-case hex digits
    root_ca          TEXT NOT NULL,          -- PEM
    root_key_sealed  TEXT NOT NULL,          -- "v1:" + base64(nonce, ciphertext, tag)
    ipk              TEXT NOT NULL,          -- 32 upper-case hex digits (16 bytes)
    cat_admin        TEXT NOT NULL,          -- 8 hex digits: identifier + version
    cat_operate      TEXT NOT NULL,
    created_at       INTEGER NOT NULL
);

-- A member's identity in a fabric: its node id in user NOCs and its own CAT.
CREATE TABLE matter_members (
    group_id        TEXT NOT NULL REFERENCES matter_fabrics(group_id) ON DELETE CASCADE,
    user_id         TEXT NOT NULL REFERENCES users(user_id) ON DELETE CASCADE,
    matter_user_id  TEXT NOT NULL,
    user_cat_id     TEXT NOT NULL,
    PRIMARY KEY (group_id, user_id),
    UNIQUE (group_id, matter_user_id),
    UNIQUE (group_id, user_cat_id)
);

-- Operational node ids handed out in a fabric (users' ids live in matter_members; both are
-- checked for uniqueness by the domain): devices and controllers. A device NOC issues a
-- commissioning request (request_id) that the app confirms.
CREATE TABLE matter_nodes (
    group_id           TEXT NOT NULL REFERENCES matter_fabrics(group_id) ON DELETE CASCADE,
    matter_node_id     TEXT NOT NULL,
    kind               TEXT NOT NULL,              -- node | controller
    request_id         TEXT NOT NULL DEFAULT '',   -- the commissioning request (kind node)
    status             TEXT NOT NULL DEFAULT '',   -- pending | success | failure
    rainmaker_node_id  TEXT NOT NULL DEFAULT '',   -- a RainMaker+Matter node once confirmed
    requested_by       TEXT NOT NULL DEFAULT '',
    created_at         INTEGER NOT NULL,
    PRIMARY KEY (group_id, matter_node_id)
);
CREATE UNIQUE INDEX matter_nodes_request ON matter_nodes(request_id) WHERE request_id <> '';
CREATE INDEX matter_nodes_rainmaker ON matter_nodes(rainmaker_node_id) WHERE rainmaker_node_id <> '';
