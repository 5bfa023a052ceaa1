-- The PostgreSQL schema: what the SQLite migrations leave (V001..V030, and ts_head as V031 has
-- it), written as one step, since a PostgreSQL database starts here with nothing older to
-- upgrade. Tables, columns, keys, indexes and triggers are SQLite's, in PostgreSQL's types.
--
-- How SQLite's types read here:
--   INTEGER (0/1 flags too: statements compare them with = 1 and bind 64-bit integers) BIGINT;
--   REAL DOUBLE PRECISION; BLOB BYTEA;
--   TEXT is TEXT COLLATE "C": compared and sorted by bytes, as SQLite's BINARY collation does,
--   whatever the database's locale (pages go by id order, and the RBAC store's Roles() merges
--   two sorted reads with std::string's <);
--   INTEGER PRIMARY KEY (a rowid filled in when the insert leaves it out) an identity column;
--   push_endpoints has a rowid column of its own, as its statements order by rowid.
-- SQLite's AFTER triggers run as PL/pgSQL row triggers, one row at a time as SQLite's do.

-- Accounts, login sessions and pending verification codes (V001).
CREATE TABLE users (
    user_id        TEXT COLLATE "C" PRIMARY KEY,
    user_name      TEXT COLLATE "C" NOT NULL UNIQUE,
    password_hash  TEXT COLLATE "C" NOT NULL,
    confirmed      BIGINT NOT NULL DEFAULT 0,
    name           TEXT COLLATE "C" NOT NULL DEFAULT '',
    phone_number   TEXT COLLATE "C" NOT NULL DEFAULT '',
    phone_verified BIGINT NOT NULL DEFAULT 0,
    mfa            BIGINT NOT NULL DEFAULT 0,
    super_admin    BIGINT NOT NULL DEFAULT 0,
    admin          BIGINT NOT NULL DEFAULT 0,
    picture_url    TEXT COLLATE "C" NOT NULL DEFAULT '',
    custom_data    TEXT COLLATE "C" NOT NULL DEFAULT '{}',
    public_profile TEXT COLLATE "C" NOT NULL DEFAULT '{}',
    tags           TEXT COLLATE "C" NOT NULL DEFAULT '[]',
    created_at     BIGINT NOT NULL
);
-- A verified phone number belongs to one account.
CREATE UNIQUE INDEX users_verified_phone ON users(phone_number)
    WHERE phone_verified = 1 AND phone_number <> '';
CREATE INDEX users_unconfirmed ON users(created_at) WHERE confirmed = 0;

CREATE TABLE sessions (
    session_id   TEXT COLLATE "C" PRIMARY KEY,
    user_id      TEXT COLLATE "C" NOT NULL REFERENCES users(user_id) ON DELETE CASCADE,
    refresh_hash TEXT COLLATE "C" NOT NULL UNIQUE,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    revoked      BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX sessions_user ON sessions(user_id);
CREATE INDEX sessions_expiry ON sessions(expires_at);
CREATE INDEX sessions_revoked ON sessions(session_id) WHERE revoked = 1;

CREATE TABLE verification_codes (
    user_id    TEXT COLLATE "C" NOT NULL REFERENCES users(user_id) ON DELETE CASCADE,
    purpose    TEXT COLLATE "C" NOT NULL,
    code_hash  TEXT COLLATE "C" NOT NULL,
    session    TEXT COLLATE "C" NOT NULL DEFAULT '',
    expires_at BIGINT NOT NULL,
    attempts   BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (user_id, purpose)
);
CREATE INDEX verification_codes_expiry ON verification_codes(expires_at);

-- Nodes, their reported state, user-node mappings and mapping requests (V002, V006, V008,
-- V023).
CREATE TABLE nodes (
    node_id           TEXT COLLATE "C" PRIMARY KEY,
    created_at        BIGINT NOT NULL,
    mac_addr          TEXT COLLATE "C" NOT NULL DEFAULT '',
    platform          TEXT COLLATE "C" NOT NULL DEFAULT '',
    claimed_by        TEXT COLLATE "C" NOT NULL DEFAULT '',
    cert_pem          TEXT COLLATE "C" NOT NULL DEFAULT '',
    cert_serial       TEXT COLLATE "C" NOT NULL DEFAULT '',
    config            TEXT COLLATE "C" NOT NULL DEFAULT '',   -- '' until the node reports it
    node_type         TEXT COLLATE "C" NOT NULL DEFAULT '',
    model             TEXT COLLATE "C" NOT NULL DEFAULT '',
    fw_version        TEXT COLLATE "C" NOT NULL DEFAULT '',
    params            TEXT COLLATE "C" NOT NULL DEFAULT '',   -- '' until the node reports them
    params_updated_at BIGINT NOT NULL DEFAULT 0,
    connected         BIGINT NOT NULL DEFAULT 0,
    connectivity_at   BIGINT NOT NULL DEFAULT 0,  -- unix ms of the last presence change
    presence_version  BIGINT NOT NULL DEFAULT 0,
    revoked           BIGINT NOT NULL DEFAULT 0,
    claimed_at        BIGINT NOT NULL DEFAULT 0,  -- when the claimer last claimed it
    mapped_at         BIGINT NOT NULL DEFAULT 0   -- when a user was last mapped to it; 0 never
);
CREATE INDEX nodes_model ON nodes(model);
CREATE INDEX nodes_fw_version ON nodes(fw_version);
CREATE UNIQUE INDEX nodes_mac ON nodes(mac_addr) WHERE mac_addr <> '';
CREATE INDEX nodes_claimed_by ON nodes(claimed_by) WHERE claimed_by <> '';
CREATE INDEX nodes_pending_claims ON nodes(claimed_at)
    WHERE claimed_by <> '' AND mapped_at = 0;
-- The admin node search (#23): type -> model -> fw_version in node id order.
CREATE INDEX nodes_type_model_fw ON nodes(node_type, model, fw_version, node_id);
CREATE INDEX nodes_type_model ON nodes(node_type, model, node_id);
CREATE INDEX nodes_type_id ON nodes(node_type, node_id);

-- role is the effective role; direct_role the part given directly (mapping, node sharing),
-- the rest coming from shared groups (V006).
CREATE TABLE user_nodes (
    user_id      TEXT COLLATE "C" NOT NULL REFERENCES users(user_id) ON DELETE CASCADE,
    node_id      TEXT COLLATE "C" NOT NULL REFERENCES nodes(node_id) ON DELETE CASCADE,
    role         TEXT COLLATE "C" NOT NULL DEFAULT 'primary',
    tags         TEXT COLLATE "C" NOT NULL DEFAULT '[]',
    metadata     TEXT COLLATE "C" NOT NULL DEFAULT '{}',
    group_id     TEXT COLLATE "C" NOT NULL DEFAULT '',
    admin_access TEXT COLLATE "C" NOT NULL DEFAULT '',  -- READ | WRITE | NONE | ''
    created_at   BIGINT NOT NULL,
    direct_role  TEXT COLLATE "C" NOT NULL DEFAULT '',
    PRIMARY KEY (user_id, node_id)
);
CREATE INDEX user_nodes_node ON user_nodes(node_id);

CREATE TABLE mapping_requests (
    request_id  TEXT COLLATE "C" PRIMARY KEY,
    user_id     TEXT COLLATE "C" NOT NULL REFERENCES users(user_id) ON DELETE CASCADE,
    node_id     TEXT COLLATE "C" NOT NULL DEFAULT '',
    kind        TEXT COLLATE "C" NOT NULL,               -- 'secret' | 'challenge'
    secret_hash TEXT COLLATE "C" NOT NULL DEFAULT '',
    challenge   TEXT COLLATE "C" NOT NULL DEFAULT '',
    status      TEXT COLLATE "C" NOT NULL,   -- requested | confirmed | timedout | discarded
    tags        TEXT COLLATE "C" NOT NULL DEFAULT '',    -- JSON array text, '' when not given
    metadata    TEXT COLLATE "C" NOT NULL DEFAULT '',    -- JSON object text, '' when not given
    group_id    TEXT COLLATE "C" NOT NULL DEFAULT '',
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL                          -- 0 = never
);
CREATE INDEX mapping_requests_node ON mapping_requests(node_id, status);
CREATE INDEX mapping_requests_open ON mapping_requests(expires_at) WHERE status = 'requested';
CREATE INDEX mapping_requests_created ON mapping_requests(created_at);

-- The node side of a secret-key mapping, kept until a matching request arrives or it expires.
CREATE TABLE node_mapping_reports (
    node_id     TEXT COLLATE "C" PRIMARY KEY,
    user_id     TEXT COLLATE "C" NOT NULL,
    secret_hash TEXT COLLATE "C" NOT NULL,
    reported_at BIGINT NOT NULL
);
CREATE INDEX node_mapping_reports_time ON node_mapping_reports(reported_at);

CREATE TABLE node_alerts (
    id         BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    node_id    TEXT COLLATE "C" NOT NULL,
    payload    TEXT COLLATE "C" NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX node_alerts_node ON node_alerts(node_id, id);
CREATE INDEX node_alerts_time ON node_alerts(created_at);

-- Node groups (V003, V007): users' homes and rooms (three levels at most) and admin groups,
-- told apart by kind; a dynamic admin group keeps the query it was made from.
CREATE TABLE node_groups (
    group_id           TEXT COLLATE "C" PRIMARY KEY,
    owner_id           TEXT COLLATE "C" NOT NULL REFERENCES users(user_id) ON DELETE CASCADE,
    parent_id          TEXT COLLATE "C" REFERENCES node_groups(group_id) ON DELETE CASCADE,
    group_name         TEXT COLLATE "C" NOT NULL,
    type               TEXT COLLATE "C" NOT NULL DEFAULT '',
    description        TEXT COLLATE "C" NOT NULL DEFAULT '',
    mutually_exclusive BIGINT NOT NULL DEFAULT 0,
    group_metadata     TEXT COLLATE "C" NOT NULL DEFAULT '{}',
    custom_data        TEXT COLLATE "C" NOT NULL DEFAULT '{}',
    level              BIGINT NOT NULL,                      -- 1 = top level .. 3
    created_at         BIGINT NOT NULL,
    kind               TEXT COLLATE "C" NOT NULL DEFAULT 'user',  -- user | admin
    group_query        TEXT COLLATE "C" NOT NULL DEFAULT ''
);
CREATE INDEX node_groups_owner ON node_groups(owner_id, kind, parent_id, group_id);
CREATE INDEX node_groups_parent ON node_groups(parent_id);

CREATE TABLE node_group_nodes (
    group_id TEXT COLLATE "C" NOT NULL REFERENCES node_groups(group_id) ON DELETE CASCADE,
    node_id  TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (group_id, node_id)
);
CREATE INDEX node_group_nodes_node ON node_group_nodes(node_id);

-- Sharing requests of nodes or groups (V004, V006).
CREATE TABLE sharing_requests (
    request_id   TEXT COLLATE "C" PRIMARY KEY,
    from_user    TEXT COLLATE "C" NOT NULL REFERENCES users(user_id) ON DELETE CASCADE,
    to_user      TEXT COLLATE "C" NOT NULL REFERENCES users(user_id) ON DELETE CASCADE,
    item_ids     TEXT COLLATE "C" NOT NULL,               -- JSON array
    primary_role BIGINT NOT NULL DEFAULT 0,               -- share as primary
    transfer     BIGINT NOT NULL DEFAULT 0,
    new_role     TEXT COLLATE "C" NOT NULL DEFAULT '',    -- the sender's role after a transfer
    metadata     TEXT COLLATE "C" NOT NULL DEFAULT '{}',
    status       TEXT COLLATE "C" NOT NULL,               -- pending | accepted | declined
    created_at   BIGINT NOT NULL,
    kind         TEXT COLLATE "C" NOT NULL DEFAULT 'node' -- node | group
);
CREATE INDEX sharing_requests_from ON sharing_requests(from_user, kind, request_id);
CREATE INDEX sharing_requests_to ON sharing_requests(to_user, kind, request_id);
CREATE INDEX sharing_requests_created ON sharing_requests(created_at);

-- The event log (V005, V028, V030). Ids grow in commit order: writers take turns.
CREATE TABLE events (
    id         BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    event_type TEXT COLLATE "C" NOT NULL,
    user_id    TEXT COLLATE "C" NOT NULL,
    payload    TEXT COLLATE "C" NOT NULL,   -- JSON object
    created_at BIGINT NOT NULL,
    node_id    TEXT COLLATE "C" NOT NULL DEFAULT ''
);
-- Users' events only: a node's (user_id '') is deleted once planned.
CREATE INDEX events_user ON events(user_id, id) WHERE user_id <> '';
CREATE INDEX events_time ON events(created_at) WHERE user_id <> '';

-- A group shared with a user (V006).
CREATE TABLE group_shares (
    group_id   TEXT COLLATE "C" NOT NULL REFERENCES node_groups(group_id) ON DELETE CASCADE,
    user_id    TEXT COLLATE "C" NOT NULL REFERENCES users(user_id) ON DELETE CASCADE,
    role       TEXT COLLATE "C" NOT NULL,              -- primary | secondary
    metadata   TEXT COLLATE "C" NOT NULL DEFAULT '{}', -- given with the sharing request
    created_at BIGINT NOT NULL,
    PRIMARY KEY (group_id, user_id)
);
CREATE INDEX group_shares_user ON group_shares(user_id, group_id);

-- Every certificate issued to a node (V008); rows outlive their node.
CREATE TABLE node_certificates (
    serial     TEXT COLLATE "C" PRIMARY KEY,   -- hex, as the CRL lists it
    node_id    TEXT COLLATE "C" NOT NULL,
    issued_at  BIGINT NOT NULL,
    revoked_at BIGINT NOT NULL DEFAULT 0       -- unix seconds; 0 = valid
);
CREATE INDEX node_certificates_node ON node_certificates(node_id);
CREATE INDEX node_certificates_revoked ON node_certificates(revoked_at) WHERE revoked_at <> 0;

-- The periodic jobs' due times (V009).
CREATE TABLE scheduled_jobs (
    name        TEXT COLLATE "C" PRIMARY KEY,
    due_at      BIGINT NOT NULL,             -- unix seconds of the next run
    last_run_at BIGINT NOT NULL DEFAULT 0
);

-- Time series (V010): one row per series, its fresh points one row each (the head), older
-- points in chunks the domain encodes.
CREATE TABLE ts_series (
    series_id  BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    node_id    TEXT COLLATE "C" NOT NULL,
    kind       BIGINT NOT NULL,             -- 0 tsdata, 1 simple_tsdata
    name       TEXT COLLATE "C" NOT NULL,   -- "<device>.<param>"
    data_type  BIGINT NOT NULL,             -- float, int, bool, string, object, array
    ttl_days   BIGINT NOT NULL DEFAULT 0,   -- 0: the configured default
    UNIQUE (node_id, kind, name, data_type)
);

-- A point's value in the column of its type, the others NULL (SQLite's V031).
CREATE TABLE ts_head (
    series_id BIGINT NOT NULL,
    t         BIGINT NOT NULL,              -- unix seconds
    v_real    DOUBLE PRECISION,
    v_int     BIGINT,
    v_text    TEXT COLLATE "C",
    PRIMARY KEY (series_id, t),
    CONSTRAINT ts_head_one_value CHECK (num_nonnulls(v_real, v_int, v_text) = 1)
);

CREATE TABLE ts_chunks (
    series_id BIGINT NOT NULL,
    start_t   BIGINT NOT NULL,              -- its first point
    end_t     BIGINT NOT NULL,              -- its last point
    count     BIGINT NOT NULL,
    data      BYTEA NOT NULL,
    PRIMARY KEY (series_id, start_t)
);

-- start_id of time-series queries: the range a page was made for and where the next begins.
CREATE TABLE ts_pages (
    token      TEXT COLLATE "C" PRIMARY KEY,
    query_hash TEXT COLLATE "C" NOT NULL,
    start_t    BIGINT NOT NULL,
    end_t      BIGINT NOT NULL,
    cursor     BIGINT NOT NULL,
    uses       BIGINT NOT NULL DEFAULT 0,
    expires_at BIGINT NOT NULL
);
CREATE INDEX ts_pages_expiry ON ts_pages(expires_at);

-- Command-response requests (V011, V013): one row per request and node. seq is the creation
-- order (the page cursor), never reused.
CREATE TABLE cmd_requests (
    seq                BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    request_id         TEXT COLLATE "C" NOT NULL,
    node_id            TEXT COLLATE "C" NOT NULL,
    user_id            TEXT COLLATE "C" NOT NULL,
    user_name          TEXT COLLATE "C" NOT NULL,
    admin              BIGINT NOT NULL DEFAULT 0,   -- made through the admin route
    cmd                BIGINT NOT NULL,
    role               BIGINT NOT NULL,             -- the role byte sent to the node
    data_kind          BIGINT NOT NULL,             -- 0 JSON object, 1 string, 2 base64
    data               TEXT COLLATE "C" NOT NULL,   -- as given
    status             TEXT COLLATE "C" NOT NULL,   -- requested | in_progress | success
                                                    -- | failure | timed_out
    created_at         BIGINT NOT NULL,
    expires_at         BIGINT NOT NULL,             -- 0: never
    device_status      BIGINT,                      -- the node's status byte
    status_description TEXT COLLATE "C" NOT NULL DEFAULT '',
    response_data      BYTEA,                       -- the node's data bytes
    responded_at       BIGINT NOT NULL DEFAULT 0,
    ended_at           BIGINT NOT NULL DEFAULT 0,   -- 0 while pending
    UNIQUE (request_id, node_id)
);
CREATE INDEX cmd_requests_node ON cmd_requests(node_id, seq);
CREATE INDEX cmd_requests_user ON cmd_requests(user_id, seq);
CREATE INDEX cmd_requests_due ON cmd_requests(expires_at)
    WHERE status IN ('requested', 'in_progress') AND expires_at > 0;
CREATE INDEX cmd_requests_ended ON cmd_requests(ended_at) WHERE ended_at > 0;
CREATE INDEX cmd_requests_node_pending ON cmd_requests(node_id, seq)
    WHERE status IN ('requested', 'in_progress');

-- Automations (V012).
CREATE TABLE automations (
    automation_id  TEXT COLLATE "C" PRIMARY KEY,
    user_id        TEXT COLLATE "C" NOT NULL REFERENCES users(user_id) ON DELETE CASCADE,
    name           TEXT COLLATE "C" NOT NULL,
    event_type     TEXT COLLATE "C" NOT NULL,             -- node_params | daylight | weather
    node_id        TEXT COLLATE "C" NOT NULL DEFAULT '',  -- node_params: the watched node
    location       TEXT COLLATE "C" NOT NULL DEFAULT '',  -- {latitude, longitude} as given
    latitude       DOUBLE PRECISION NOT NULL DEFAULT 0,
    longitude      DOUBLE PRECISION NOT NULL DEFAULT 0,
    events         TEXT COLLATE "C" NOT NULL,             -- JSON array, as checked
    event_operator TEXT COLLATE "C" NOT NULL DEFAULT '',  -- and | or | '' (one event)
    actions        TEXT COLLATE "C" NOT NULL,             -- JSON array of {node_id, params}
    metadata       TEXT COLLATE "C" NOT NULL DEFAULT '',  -- JSON, '' = none
    retrigger      BIGINT NOT NULL DEFAULT 0,
    enabled        BIGINT NOT NULL DEFAULT 1,
    last_state     BIGINT NOT NULL DEFAULT 0,
    next_run_at    BIGINT NOT NULL DEFAULT 0,  -- daylight: unix seconds of the next event, 0 none
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL,
    UNIQUE (user_id, name)
);
CREATE INDEX automations_user ON automations(user_id, automation_id);
CREATE INDEX automations_node ON automations(node_id) WHERE event_type = 'node_params';
CREATE INDEX automations_due ON automations(next_run_at) WHERE next_run_at > 0;
CREATE INDEX automations_weather ON automations(latitude, longitude) WHERE event_type = 'weather';
CREATE INDEX automations_user_node ON automations(user_id, node_id, automation_id);

-- Push-notification endpoints (V014). rowid: the insertion order, which a user's listing
-- breaks created_at ties by (SQLite's rowid).
CREATE TABLE push_endpoints (
    endpoint_arn  TEXT COLLATE "C" PRIMARY KEY,
    user_id       TEXT COLLATE "C" NOT NULL REFERENCES users(user_id) ON DELETE CASCADE,
    platform      TEXT COLLATE "C" NOT NULL,             -- GCM | APNS | APNS_SANDBOX
    platform_type TEXT COLLATE "C" NOT NULL DEFAULT '',  -- huawei | ... | fcm | asus; '' none
    device_token  TEXT COLLATE "C" NOT NULL UNIQUE,
    created_at    BIGINT NOT NULL,
    rowid         BIGINT GENERATED ALWAYS AS IDENTITY
);
CREATE INDEX push_endpoints_user ON push_endpoints(user_id, created_at);

-- Admin tags on resources (V016, V023): one row per (resource, tag name, tag value). A node's
-- rows carry a copy of its type, model and firmware version (NULL on other resources' rows),
-- kept by the triggers at the end.
CREATE TABLE resource_tags (
    resource_type TEXT COLLATE "C" NOT NULL,  -- node | group | otaimage | otajob | user
    resource_id   TEXT COLLATE "C" NOT NULL,
    tag_name      TEXT COLLATE "C" NOT NULL,
    tag_value     TEXT COLLATE "C" NOT NULL,
    created_at    BIGINT NOT NULL,
    node_type     TEXT COLLATE "C",
    model         TEXT COLLATE "C",
    fw_version    TEXT COLLATE "C",
    PRIMARY KEY (resource_type, resource_id, tag_name, tag_value)
);
CREATE INDEX resource_tags_by_tag ON resource_tags(resource_type, tag_name, tag_value, resource_id);
CREATE INDEX resource_tags_by_name ON resource_tags(tag_name, tag_value, resource_type);
CREATE INDEX resource_tags_node_search
    ON resource_tags(tag_name, tag_value, node_type, model, resource_id, fw_version)
    WHERE resource_type = 'node';

-- Roles and policies (V018); the RM_DEFAULT_* rows (inserted below) never change.
CREATE TABLE rbac_policies (
    policy_name TEXT COLLATE "C" PRIMARY KEY,
    policy_json TEXT COLLATE "C" NOT NULL,
    is_default  BIGINT NOT NULL DEFAULT 0,
    created_at  BIGINT NOT NULL
);

CREATE TABLE rbac_roles (
    role_name  TEXT COLLATE "C" PRIMARY KEY,
    role_level BIGINT,                      -- NULL = none: nobody restricted can assign it
    is_default BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
);

CREATE TABLE rbac_role_policies (
    role_name   TEXT COLLATE "C" NOT NULL REFERENCES rbac_roles(role_name) ON DELETE CASCADE,
    policy_name TEXT COLLATE "C" NOT NULL REFERENCES rbac_policies(policy_name),
    position    BIGINT NOT NULL,
    PRIMARY KEY (role_name, policy_name)
);
CREATE INDEX rbac_role_policies_policy ON rbac_role_policies(policy_name);

CREATE TABLE rbac_user_roles (
    user_id   TEXT COLLATE "C" NOT NULL REFERENCES users(user_id) ON DELETE CASCADE,
    role_name TEXT COLLATE "C" NOT NULL REFERENCES rbac_roles(role_name),
    PRIMARY KEY (user_id, role_name)
);
CREATE INDEX rbac_user_roles_role ON rbac_user_roles(role_name);

-- Homes as Matter fabrics (V019), and the revisions of their node ACLs (V017, which SQLite
-- could create before the table it references).
CREATE TABLE matter_fabrics (
    group_id         TEXT COLLATE "C" PRIMARY KEY
                         REFERENCES node_groups(group_id) ON DELETE CASCADE,
    fabric_id        TEXT COLLATE "C" NOT NULL UNIQUE,  -- 16 upper-case hex digits, never 0
    rcac_id          TEXT COLLATE "C" NOT NULL,         -- 16 upper-case hex digits
    root_ca          TEXT COLLATE "C" NOT NULL,         -- PEM
    root_key_sealed  TEXT COLLATE "C" NOT NULL,         -- "v1:" + base64(nonce, ciphertext, tag)
    ipk              TEXT COLLATE "C" NOT NULL,         -- 32 upper-case hex digits (16 bytes)
    cat_admin        TEXT COLLATE "C" NOT NULL,         -- 8 hex digits: identifier + version
    cat_operate      TEXT COLLATE "C" NOT NULL,
    created_at       BIGINT NOT NULL
);

CREATE TABLE matter_acl_revisions (
    group_id     TEXT COLLATE "C" PRIMARY KEY
                     REFERENCES matter_fabrics(group_id) ON DELETE CASCADE,
    sequence     BIGINT NOT NULL,   -- 2, 3, ... (1 = no row)
    modified_at  BIGINT NOT NULL    -- when the sequence last grew
);

CREATE TABLE matter_members (
    group_id        TEXT COLLATE "C" NOT NULL
                        REFERENCES matter_fabrics(group_id) ON DELETE CASCADE,
    user_id         TEXT COLLATE "C" NOT NULL REFERENCES users(user_id) ON DELETE CASCADE,
    matter_user_id  TEXT COLLATE "C" NOT NULL,
    user_cat_id     TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (group_id, user_id),
    UNIQUE (group_id, matter_user_id),
    UNIQUE (group_id, user_cat_id)
);

CREATE TABLE matter_nodes (
    group_id           TEXT COLLATE "C" NOT NULL
                           REFERENCES matter_fabrics(group_id) ON DELETE CASCADE,
    matter_node_id     TEXT COLLATE "C" NOT NULL,
    kind               TEXT COLLATE "C" NOT NULL,              -- node | controller
    request_id         TEXT COLLATE "C" NOT NULL DEFAULT '',   -- the commissioning request
    status             TEXT COLLATE "C" NOT NULL DEFAULT '',   -- pending | success | failure
    rainmaker_node_id  TEXT COLLATE "C" NOT NULL DEFAULT '',   -- once confirmed
    requested_by       TEXT COLLATE "C" NOT NULL DEFAULT '',
    created_at         BIGINT NOT NULL,
    PRIMARY KEY (group_id, matter_node_id)
);
CREATE UNIQUE INDEX matter_nodes_request ON matter_nodes(request_id) WHERE request_id <> '';
CREATE INDEX matter_nodes_rainmaker ON matter_nodes(rainmaker_node_id)
    WHERE rainmaker_node_id <> '';

-- Uploads through presigned URLs until confirmed or expired, files' pending uploads among
-- them (V020, V024), and end users' own OTA images (V020).
CREATE TABLE ota_uploads (
    upload_id    TEXT COLLATE "C" PRIMARY KEY,
    kind         TEXT COLLATE "C" NOT NULL,   -- image | package | admin_file | user_file
    image_name   TEXT COLLATE "C" NOT NULL,
    image_type   TEXT COLLATE "C" NOT NULL,   -- firmware | package | raw
    content_md5  TEXT COLLATE "C" NOT NULL DEFAULT '',  -- the PUT must carry it; '' = none
    blob_key     TEXT COLLATE "C" NOT NULL DEFAULT '',
    file_size    BIGINT NOT NULL DEFAULT 0,
    file_md5     TEXT COLLATE "C" NOT NULL DEFAULT '',
    requested_by TEXT COLLATE "C" NOT NULL,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    uploaded_at  BIGINT NOT NULL DEFAULT 0,
    max_bytes    BIGINT NOT NULL DEFAULT 0,   -- 0: the server's
    entity_type  TEXT COLLATE "C" NOT NULL DEFAULT '',
    entity_id    TEXT COLLATE "C" NOT NULL DEFAULT ''
);
CREATE INDEX ota_uploads_expiry ON ota_uploads(expires_at);
CREATE INDEX ota_uploads_blob ON ota_uploads(blob_key);
CREATE INDEX ota_uploads_package ON ota_uploads(kind, image_name);
CREATE INDEX ota_uploads_requester ON ota_uploads(requested_by, expires_at);

CREATE TABLE user_ota_images (
    image_id     TEXT COLLATE "C" PRIMARY KEY,
    user_id      TEXT COLLATE "C" NOT NULL,
    image_name   TEXT COLLATE "C" NOT NULL,
    type         TEXT COLLATE "C" NOT NULL,
    fw_version   TEXT COLLATE "C" NOT NULL,
    model        TEXT COLLATE "C" NOT NULL,
    project_name TEXT COLLATE "C" NOT NULL DEFAULT '',
    blob_key     TEXT COLLATE "C" NOT NULL,
    file_size    BIGINT NOT NULL,
    file_md5     TEXT COLLATE "C" NOT NULL,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    UNIQUE (user_id, image_name)
);
CREATE INDEX user_ota_images_expiry ON user_ota_images(expires_at);
CREATE INDEX user_ota_images_blob ON user_ota_images(blob_key);

-- OTA firmware images (V021): bytes in the blob store under blob_key.
CREATE TABLE ota_images (
    ota_image_id     TEXT COLLATE "C" PRIMARY KEY,
    image_name       TEXT COLLATE "C" NOT NULL UNIQUE,
    type             TEXT COLLATE "C" NOT NULL,
    model            TEXT COLLATE "C" NOT NULL,
    fw_version       TEXT COLLATE "C" NOT NULL,
    project_name     TEXT COLLATE "C" NOT NULL DEFAULT '',
    idf_version      TEXT COLLATE "C" NOT NULL DEFAULT '',
    secure_version   BIGINT NOT NULL DEFAULT 0,
    blob_key         TEXT COLLATE "C" NOT NULL,
    file_size        BIGINT NOT NULL,
    file_md5         TEXT COLLATE "C" NOT NULL,
    archived         BIGINT NOT NULL DEFAULT 0,
    uploaded_by      TEXT COLLATE "C" NOT NULL,  -- the admin's user id (kept when it goes)
    upload_timestamp BIGINT NOT NULL             -- unix seconds
);
CREATE INDEX ota_images_blob ON ota_images(blob_key);

-- OTA jobs (V022, V026), the nodes they target, the groups they named, and the queue of nodes
-- waiting for an otaurl push.
CREATE TABLE ota_jobs (
    ota_job_id        TEXT COLLATE "C" PRIMARY KEY,
    ota_job_name      TEXT COLLATE "C" NOT NULL UNIQUE,
    description       TEXT COLLATE "C" NOT NULL DEFAULT '',
    ota_image_id      TEXT COLLATE "C" NOT NULL,  -- no foreign key: force_delete removes an
                                                  -- image that only cancelled jobs name
    priority          BIGINT NOT NULL,            -- 1 (highest) .. 10
    timeout_seconds   BIGINT NOT NULL DEFAULT 0,  -- 0: none
    expires_at        BIGINT NOT NULL DEFAULT 0,  -- unix seconds; 0: never
    user_approval     BIGINT NOT NULL DEFAULT 0,
    force_push        BIGINT NOT NULL DEFAULT 0,
    notify            BIGINT NOT NULL DEFAULT 0,
    user_image_access BIGINT NOT NULL DEFAULT 0,
    metadata          TEXT COLLATE "C" NOT NULL DEFAULT '',    -- JSON object; '' for none
    nodes             TEXT COLLATE "C" NOT NULL DEFAULT '[]',  -- the node ids listed (JSON)
    all_nodes         BIGINT NOT NULL DEFAULT 0,               -- groups held FFFF-FFFF
    dynamic           BIGINT NOT NULL DEFAULT 0,               -- targets by the filters below
    node_type         TEXT COLLATE "C" NOT NULL DEFAULT '',
    node_model        TEXT COLLATE "C" NOT NULL DEFAULT '',
    node_fw_version   TEXT COLLATE "C" NOT NULL DEFAULT '',
    status            TEXT COLLATE "C" NOT NULL,  -- active | completed | cancelled | expired
    archived          BIGINT NOT NULL DEFAULT 0,
    created_by        TEXT COLLATE "C" NOT NULL,  -- the admin's user id (kept when it goes)
    created_at        BIGINT NOT NULL,            -- unix seconds
    ended_at          BIGINT NOT NULL DEFAULT 0,  -- completed, cancelled or expired at
    signed_image_id   TEXT COLLATE "C" NOT NULL DEFAULT ''  -- the signed firmware delivered
);
CREATE INDEX ota_jobs_image ON ota_jobs(ota_image_id, created_at);
CREATE INDEX ota_jobs_due ON ota_jobs(expires_at) WHERE status = 'active' AND expires_at > 0;
CREATE INDEX ota_jobs_dynamic ON ota_jobs(status) WHERE dynamic = 1;

CREATE TABLE ota_job_nodes (
    ota_job_id      TEXT COLLATE "C" NOT NULL REFERENCES ota_jobs(ota_job_id) ON DELETE CASCADE,
    node_id         TEXT COLLATE "C" NOT NULL REFERENCES nodes(node_id) ON DELETE CASCADE,
    status          TEXT COLLATE "C" NOT NULL,  -- pending | triggered | started | in_progress
                                                -- | delayed | success | failed | rejected
                                                -- | timed_out
    additional_info TEXT COLLATE "C" NOT NULL DEFAULT '',
    updated_at      BIGINT NOT NULL,            -- unix ms of the last change
    approved        BIGINT NOT NULL DEFAULT 0,  -- a user approved it (#42)
    PRIMARY KEY (ota_job_id, node_id)
);
CREATE INDEX ota_job_nodes_node ON ota_job_nodes(node_id, ota_job_id);
CREATE INDEX ota_job_nodes_status ON ota_job_nodes(ota_job_id, status);

CREATE TABLE ota_job_groups (
    ota_job_id TEXT COLLATE "C" NOT NULL REFERENCES ota_jobs(ota_job_id) ON DELETE CASCADE,
    group_id   TEXT COLLATE "C" NOT NULL,  -- an admin group, or FFFF-FFFF
    group_name TEXT COLLATE "C" NOT NULL,  -- as it was when the job was made
    PRIMARY KEY (ota_job_id, group_id)
);
CREATE INDEX ota_job_groups_group ON ota_job_groups(group_id);

CREATE TABLE ota_push_queue (
    seq     BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    node_id TEXT COLLATE "C" NOT NULL UNIQUE REFERENCES nodes(node_id) ON DELETE CASCADE
);

-- Files (V024): admins' files about an entity and users' own.
CREATE TABLE files (
    file_id      TEXT COLLATE "C" PRIMARY KEY,  -- the upload_id it was asked under
    scope        TEXT COLLATE "C" NOT NULL,     -- admin | user
    owner        TEXT COLLATE "C" NOT NULL,     -- the user id of who uploaded it
    file_name    TEXT COLLATE "C" NOT NULL,
    entity_type  TEXT COLLATE "C" NOT NULL,
    entity_id    TEXT COLLATE "C" NOT NULL DEFAULT '',
    file_type    TEXT COLLATE "C" NOT NULL DEFAULT '',
    description  TEXT COLLATE "C" NOT NULL DEFAULT '',
    metadata     TEXT COLLATE "C" NOT NULL DEFAULT '',  -- a JSON object's text; '' = none
    public       BIGINT NOT NULL DEFAULT 0,
    blob_key     TEXT COLLATE "C" NOT NULL,
    file_size    BIGINT NOT NULL,
    file_md5     TEXT COLLATE "C" NOT NULL,
    created_at   BIGINT NOT NULL
);
-- One file of a name per entity: per owner for users, per deployment for admins.
CREATE UNIQUE INDEX files_user_name ON files(owner, entity_type, entity_id, file_name)
    WHERE scope = 'user';
CREATE UNIQUE INDEX files_admin_name ON files(entity_type, entity_id, file_name)
    WHERE scope = 'admin';
CREATE INDEX files_owner ON files(scope, owner, file_id);
CREATE INDEX files_blob ON files(blob_key);

-- Secure boot signing (V025): keys (private halves sealed), requests, the signed images they
-- produce and which keys signed each.
CREATE TABLE signing_keys (
    key_id             TEXT COLLATE "C" PRIMARY KEY,
    key_name           TEXT COLLATE "C" NOT NULL UNIQUE,
    key_spec           TEXT COLLATE "C" NOT NULL,        -- RSA_3072 | ECC_NIST_P256
    description        TEXT COLLATE "C" NOT NULL DEFAULT '',
    tags               TEXT COLLATE "C" NOT NULL DEFAULT '[]',
    public_key         TEXT COLLATE "C" NOT NULL,        -- PEM
    sealed_private_key TEXT COLLATE "C" NOT NULL,
    public_key_digest  TEXT COLLATE "C" NOT NULL,        -- SHA-256 of the signature block's key
    created_by         TEXT COLLATE "C" NOT NULL,
    created_at         BIGINT NOT NULL
);

CREATE TABLE signing_requests (
    request_id         TEXT COLLATE "C" PRIMARY KEY,
    ota_image_id       TEXT COLLATE "C" NOT NULL,
    key_names          TEXT COLLATE "C" NOT NULL,        -- JSON array, in signing order
    sign_bootloader    BIGINT NOT NULL DEFAULT 0,
    bootloader_file_id TEXT COLLATE "C" NOT NULL DEFAULT '',
    status             TEXT COLLATE "C" NOT NULL,        -- in_progress | signing | success
                                                         -- | failed
    description        TEXT COLLATE "C" NOT NULL DEFAULT '',
    requested_by       TEXT COLLATE "C" NOT NULL,
    created_at         BIGINT NOT NULL,
    finished_at        BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX signing_requests_pending ON signing_requests(status, created_at);

CREATE TABLE signed_images (
    signed_image_id TEXT COLLATE "C" PRIMARY KEY,
    request_id      TEXT COLLATE "C" NOT NULL,
    ota_image_id    TEXT COLLATE "C" NOT NULL,
    file_type       TEXT COLLATE "C" NOT NULL,    -- SECURELY_SIGNED_FIRMWARE | _BOOTLOADER
    key_names       TEXT COLLATE "C" NOT NULL,    -- JSON array, in signing order
    blob_key        TEXT COLLATE "C" NOT NULL,
    file_size       BIGINT NOT NULL,
    file_md5        TEXT COLLATE "C" NOT NULL,
    signed_by       TEXT COLLATE "C" NOT NULL,
    created_at      BIGINT NOT NULL
);
CREATE INDEX signed_images_request ON signed_images(request_id);
CREATE INDEX signed_images_image ON signed_images(ota_image_id, signed_image_id);
CREATE INDEX signed_images_blob ON signed_images(blob_key);

CREATE TABLE signed_image_keys (
    signed_image_id TEXT COLLATE "C" NOT NULL
                        REFERENCES signed_images(signed_image_id) ON DELETE CASCADE,
    key_id          TEXT COLLATE "C" NOT NULL REFERENCES signing_keys(key_id),
    PRIMARY KEY (key_id, signed_image_id)
);

-- Event filters (V027): one row per (event_type, entity_id).
CREATE TABLE event_filters (
    event_type   TEXT COLLATE "C" NOT NULL,
    entity_id    TEXT COLLATE "C" NOT NULL,
    entity_type  TEXT COLLATE "C" NOT NULL CHECK (entity_type IN ('System', 'User', 'Node')),
    enabled      BIGINT NOT NULL,
    integrations TEXT COLLATE "C" NOT NULL,  -- JSON array of strings
    created_by   TEXT COLLATE "C" NOT NULL,
    updated_at   BIGINT NOT NULL,
    PRIMARY KEY (event_type, entity_id)
);
CREATE INDEX event_filters_by_entity ON event_filters(entity_id, event_type);

-- The event outbox and webhook delivery (V028, V030): how far each consumer of the event log
-- has read, the webhooks, their deliveries waiting until accepted, and one row per (webhook,
-- order key) with deliveries waiting, due at next_at_ms.
CREATE TABLE outbox_cursors (
    consumer      TEXT COLLATE "C" PRIMARY KEY,
    last_event_id BIGINT NOT NULL
);

CREATE TABLE webhooks (
    name             TEXT COLLATE "C" PRIMARY KEY,
    enabled          BIGINT NOT NULL,
    url              TEXT COLLATE "C" NOT NULL,
    sealed_secret    TEXT COLLATE "C" NOT NULL,  -- the signing secret, sealed, bound to the name
    nodes            TEXT COLLATE "C" NOT NULL,  -- JSON array of node ids; [] = every node
    events           TEXT COLLATE "C" NOT NULL,  -- JSON array of {event_name, ..._timestamp}
    active_timestamp BIGINT NOT NULL,
    created_by       TEXT COLLATE "C" NOT NULL,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL
);

CREATE TABLE webhook_deliveries (
    id         BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    webhook    TEXT COLLATE "C" NOT NULL,
    order_key  TEXT COLLATE "C" NOT NULL,
    event_id   BIGINT NOT NULL,
    event_type TEXT COLLATE "C" NOT NULL,
    body       TEXT COLLATE "C" NOT NULL,  -- the exact bytes signed and sent
    attempts   BIGINT NOT NULL,
    dead       BIGINT NOT NULL,            -- 1: out of attempts, kept until replayed or removed
    last_error TEXT COLLATE "C" NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX webhook_deliveries_queue ON webhook_deliveries(webhook, order_key, dead, id);
CREATE INDEX webhook_deliveries_dead ON webhook_deliveries(webhook, id) WHERE dead = 1;

CREATE TABLE webhook_queues (
    webhook     TEXT COLLATE "C" NOT NULL,
    order_key   TEXT COLLATE "C" NOT NULL,
    next_at_ms  BIGINT NOT NULL,
    PRIMARY KEY (webhook, order_key)
);
CREATE INDEX webhook_queues_due ON webhook_queues(next_at_ms);

-- OAuth sign-in through an external OpenID Connect provider (V029): logins between
-- /authorize and the provider's callback, and our one-time codes until POST /token.
CREATE TABLE oauth_logins (
    state_hash     TEXT COLLATE "C" PRIMARY KEY,
    provider       TEXT COLLATE "C" NOT NULL,
    client_id      TEXT COLLATE "C" NOT NULL,
    redirect_uri   TEXT COLLATE "C" NOT NULL,
    client_state   TEXT COLLATE "C" NOT NULL,   -- the app's state, given back with our code
    code_challenge TEXT COLLATE "C" NOT NULL,   -- the app's PKCE S256 challenge ("" = none)
    code_verifier  TEXT COLLATE "C" NOT NULL,   -- our PKCE verifier towards the provider
    nonce          TEXT COLLATE "C" NOT NULL,
    expires_at     BIGINT NOT NULL
);

CREATE TABLE oauth_codes (
    code_hash      TEXT COLLATE "C" PRIMARY KEY,
    user_id        TEXT COLLATE "C" NOT NULL,
    client_id      TEXT COLLATE "C" NOT NULL,
    redirect_uri   TEXT COLLATE "C" NOT NULL,
    code_challenge TEXT COLLATE "C" NOT NULL,
    expires_at     BIGINT NOT NULL
);

-- Versions of tables that readers cache (V030), bumped by the triggers below in the writing
-- transaction.
CREATE TABLE change_counters (
    name  TEXT COLLATE "C" PRIMARY KEY,
    value BIGINT NOT NULL
);

-- The rows the SQLite migrations insert.
INSERT INTO rbac_policies(policy_name, policy_json, is_default, created_at) VALUES
    ('RM_DEFAULT_FULL_ACCESS',
     '{"version":"1.0.0","statement":[{"Effect":"Allow","Action":["api:*"],"Resource":["/v1/admin/*"]}]}',
     1, 0),
    ('RM_DEFAULT_READ_ONLY',
     '{"version":"1.0.0","statement":[{"Effect":"Allow","Action":["api:Get"],"Resource":["/v1/admin/*"]}]}',
     1, 0);
INSERT INTO rbac_roles(role_name, role_level, is_default, created_at) VALUES
    ('RM_DEFAULT_ADMIN', 0, 1, 0),
    ('RM_DEFAULT_READ_ONLY', 10, 1, 0);
INSERT INTO rbac_role_policies(role_name, policy_name, position) VALUES
    ('RM_DEFAULT_ADMIN', 'RM_DEFAULT_FULL_ACCESS', 0),
    ('RM_DEFAULT_READ_ONLY', 'RM_DEFAULT_READ_ONLY', 0);
INSERT INTO change_counters(name, value) VALUES ('user_nodes', 0), ('event_filters', 0);

-- Triggers. SQLite's are row triggers; so are these, under the same names. PostgreSQL runs an
-- AFTER row trigger at the end of its statement rather than right after the row: what each of
-- these writes depends only on the row that fired it, so the outcome is the same.

-- A resource's tags go with it (V016, V022), cascaded deletes included.
CREATE FUNCTION resource_tags_node_gone() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM resource_tags WHERE resource_type = 'node' AND resource_id = OLD.node_id;
    RETURN NULL;
END
$$;
CREATE TRIGGER resource_tags_node_gone AFTER DELETE ON nodes
    FOR EACH ROW EXECUTE FUNCTION resource_tags_node_gone();

CREATE FUNCTION resource_tags_user_gone() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM resource_tags WHERE resource_type = 'user' AND resource_id = OLD.user_id;
    RETURN NULL;
END
$$;
CREATE TRIGGER resource_tags_user_gone AFTER DELETE ON users
    FOR EACH ROW EXECUTE FUNCTION resource_tags_user_gone();

CREATE FUNCTION resource_tags_group_gone() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM resource_tags WHERE resource_type = 'group' AND resource_id = OLD.group_id;
    RETURN NULL;
END
$$;
CREATE TRIGGER resource_tags_group_gone AFTER DELETE ON node_groups
    FOR EACH ROW EXECUTE FUNCTION resource_tags_group_gone();

CREATE FUNCTION resource_tags_ota_image_gone() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM resource_tags
        WHERE resource_type = 'otaimage' AND resource_id = OLD.ota_image_id;
    RETURN NULL;
END
$$;
CREATE TRIGGER resource_tags_ota_image_gone AFTER DELETE ON ota_images
    FOR EACH ROW EXECUTE FUNCTION resource_tags_ota_image_gone();

CREATE FUNCTION resource_tags_ota_job_gone() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM resource_tags WHERE resource_type = 'otajob' AND resource_id = OLD.ota_job_id;
    RETURN NULL;
END
$$;
CREATE TRIGGER resource_tags_ota_job_gone AFTER DELETE ON ota_jobs
    FOR EACH ROW EXECUTE FUNCTION resource_tags_ota_job_gone();

-- A tag of a node that does not exist is not kept (SQLite's RAISE(IGNORE): the row is skipped,
-- the statement goes on). BEFORE row triggers run in name order: this one first.
CREATE FUNCTION resource_tags_node_exists() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM nodes WHERE node_id = NEW.resource_id) THEN
        RETURN NULL;
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER resource_tags_node_exists BEFORE INSERT ON resource_tags
    FOR EACH ROW WHEN (NEW.resource_type = 'node')
    EXECUTE FUNCTION resource_tags_node_exists();

-- A new node tag takes its node's type, model and firmware version. SQLite's trigger updates
-- the row just inserted (AFTER INSERT); setting them on the row before it is written leaves
-- the same row without a second version of it.
CREATE FUNCTION resource_tags_node_facts() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    SELECT n.node_type, n.model, n.fw_version INTO NEW.node_type, NEW.model, NEW.fw_version
        FROM nodes n WHERE n.node_id = NEW.resource_id;
    RETURN NEW;
END
$$;
CREATE TRIGGER resource_tags_node_facts BEFORE INSERT ON resource_tags
    FOR EACH ROW WHEN (NEW.resource_type = 'node')
    EXECUTE FUNCTION resource_tags_node_facts();

-- A tag row moved to another resource (nothing does that but resource_tags_node_changed, when
-- a node's id changes) follows the same rules.
CREATE FUNCTION resource_tags_node_moved() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM resource_tags
        WHERE resource_type = 'node' AND resource_id = NEW.resource_id
          AND tag_name = NEW.tag_name AND tag_value = NEW.tag_value
          AND NOT EXISTS (SELECT 1 FROM nodes n WHERE n.node_id = NEW.resource_id);
    UPDATE resource_tags SET (node_type, model, fw_version) =
        (SELECT n.node_type, n.model, n.fw_version FROM nodes n WHERE n.node_id = NEW.resource_id)
        WHERE resource_type = 'node' AND resource_id = NEW.resource_id
          AND tag_name = NEW.tag_name AND tag_value = NEW.tag_value;
    RETURN NULL;
END
$$;
CREATE TRIGGER resource_tags_node_moved AFTER UPDATE OF resource_type, resource_id
    ON resource_tags
    FOR EACH ROW WHEN (NEW.resource_type = 'node')
    EXECUTE FUNCTION resource_tags_node_moved();

-- A node that reports another type, model or firmware version (or changes its id) carries its
-- tags along.
CREATE FUNCTION resource_tags_node_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE resource_tags SET resource_id = NEW.node_id
        WHERE OLD.node_id IS DISTINCT FROM NEW.node_id AND resource_type = 'node'
          AND resource_id = OLD.node_id;
    UPDATE resource_tags
        SET node_type = NEW.node_type, model = NEW.model, fw_version = NEW.fw_version
        WHERE resource_type = 'node' AND resource_id = NEW.node_id;
    RETURN NULL;
END
$$;
CREATE TRIGGER resource_tags_node_changed
    AFTER UPDATE OF node_id, node_type, model, fw_version ON nodes
    FOR EACH ROW WHEN (OLD.node_id IS DISTINCT FROM NEW.node_id
                       OR OLD.node_type IS DISTINCT FROM NEW.node_type
                       OR OLD.model IS DISTINCT FROM NEW.model
                       OR OLD.fw_version IS DISTINCT FROM NEW.fw_version)
    EXECUTE FUNCTION resource_tags_node_changed();

-- change_counters: one more for every row written, of the counter its trigger names.
CREATE FUNCTION change_counters_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE change_counters SET value = value + 1 WHERE name = TG_ARGV[0];
    RETURN NULL;
END
$$;
CREATE TRIGGER user_nodes_inserted AFTER INSERT ON user_nodes
    FOR EACH ROW EXECUTE FUNCTION change_counters_bump('user_nodes');
CREATE TRIGGER user_nodes_updated AFTER UPDATE ON user_nodes
    FOR EACH ROW EXECUTE FUNCTION change_counters_bump('user_nodes');
CREATE TRIGGER user_nodes_deleted AFTER DELETE ON user_nodes
    FOR EACH ROW EXECUTE FUNCTION change_counters_bump('user_nodes');
CREATE TRIGGER event_filters_inserted AFTER INSERT ON event_filters
    FOR EACH ROW EXECUTE FUNCTION change_counters_bump('event_filters');
CREATE TRIGGER event_filters_updated AFTER UPDATE ON event_filters
    FOR EACH ROW EXECUTE FUNCTION change_counters_bump('event_filters');
CREATE TRIGGER event_filters_deleted AFTER DELETE ON event_filters
    FOR EACH ROW EXECUTE FUNCTION change_counters_bump('event_filters');

-- SQLite's instr(), which the OTA image and job filters call.
CREATE FUNCTION instr(haystack text, needle text) RETURNS integer LANGUAGE sql IMMUTABLE AS 'SELECT strpos(haystack, needle)';

-- SQLite's JSON functions as the admin node search calls them (its tag and type lists are JSON
-- arrays bound as text; node configs are JSON text): json_each over an array (value: a string
-- element unquoted, any other as JSON text), json_extract with '$[n]' or '$.a.b' paths (the
-- value as text), json_valid.
CREATE FUNCTION json_each(doc text) RETURNS TABLE(value text) LANGUAGE sql IMMUTABLE AS
    'SELECT jsonb_array_elements_text(doc::jsonb)';

CREATE FUNCTION json_extract(doc text, path text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT doc::jsonb #>> regexp_split_to_array(
        regexp_replace(regexp_replace(substr(path, 2), '\[(\d+)\]', '.\1', 'g'), '^\.', ''), '\.')
$$;

CREATE FUNCTION json_valid(doc text) RETURNS boolean LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    PERFORM doc::jsonb;
    RETURN true;
EXCEPTION WHEN others THEN
    RETURN false;
END
$$;
