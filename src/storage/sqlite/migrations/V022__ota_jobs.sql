-- OTA jobs (#35-#39, #41-#43): one row per job; the nodes it targets, one row each with the
-- node's status for the job (listed node ids and the nodes of the listed groups or of
-- FFFF-FFFF, taken when the job is created; a dynamic job adds a node's row when the node is
-- first offered the job); the groups it named; the queue of nodes waiting for an otaurl push
-- (drained at [ota] push_per_second by the ota-push job).
CREATE TABLE ota_jobs (
    ota_job_id        TEXT PRIMARY KEY,
    ota_job_name      TEXT NOT NULL UNIQUE,
    description       TEXT NOT NULL DEFAULT '',
    ota_image_id      TEXT NOT NULL,      -- no foreign key: force_delete removes an image that
                                          -- only cancelled jobs name
    priority          INTEGER NOT NULL,   -- 1 (highest) .. 10
    timeout_seconds   INTEGER NOT NULL DEFAULT 0,  -- 0: none
    expires_at        INTEGER NOT NULL DEFAULT 0,  -- unix seconds; 0: never
    user_approval     INTEGER NOT NULL DEFAULT 0,
    force_push        INTEGER NOT NULL DEFAULT 0,
    notify            INTEGER NOT NULL DEFAULT 0,
    user_image_access INTEGER NOT NULL DEFAULT 0,  -- user_ota_image_acccess
    metadata          TEXT NOT NULL DEFAULT '',    -- JSON object as validated; '' for none
    nodes             TEXT NOT NULL DEFAULT '[]',  -- the node ids the request listed (JSON)
    all_nodes         INTEGER NOT NULL DEFAULT 0,  -- groups held FFFF-FFFF
    dynamic           INTEGER NOT NULL DEFAULT 0,  -- targets by the three filters below
    node_type         TEXT NOT NULL DEFAULT '',
    node_model        TEXT NOT NULL DEFAULT '',
    node_fw_version   TEXT NOT NULL DEFAULT '',
    status            TEXT NOT NULL,      -- active | completed | cancelled | expired
    archived          INTEGER NOT NULL DEFAULT 0,
    created_by        TEXT NOT NULL,      -- the admin's user id (kept when the account goes)
    created_at        INTEGER NOT NULL,   -- unix seconds
    ended_at          INTEGER NOT NULL DEFAULT 0  -- completed, cancelled or expired at
);
CREATE INDEX ota_jobs_image ON ota_jobs(ota_image_id, created_at);
CREATE INDEX ota_jobs_due ON ota_jobs(expires_at) WHERE status = 'active' AND expires_at > 0;
CREATE INDEX ota_jobs_dynamic ON ota_jobs(status) WHERE dynamic = 1;

CREATE TABLE ota_job_nodes (
    ota_job_id      TEXT NOT NULL REFERENCES ota_jobs(ota_job_id) ON DELETE CASCADE,
    node_id         TEXT NOT NULL REFERENCES nodes(node_id) ON DELETE CASCADE,
    status          TEXT NOT NULL,    -- pending | triggered | started | in_progress | delayed
                                      -- | success | failed | rejected | timed_out
    additional_info TEXT NOT NULL DEFAULT '',
    updated_at      INTEGER NOT NULL, -- unix ms of the last change
    approved        INTEGER NOT NULL DEFAULT 0,  -- a user approved it (#42)
    PRIMARY KEY (ota_job_id, node_id)
) WITHOUT ROWID;
-- The offers of one node (otafetch, pushes); the per-status counts of one job.
CREATE INDEX ota_job_nodes_node ON ota_job_nodes(node_id, ota_job_id);
CREATE INDEX ota_job_nodes_status ON ota_job_nodes(ota_job_id, status);

CREATE TABLE ota_job_groups (
    ota_job_id TEXT NOT NULL REFERENCES ota_jobs(ota_job_id) ON DELETE CASCADE,
    group_id   TEXT NOT NULL,  -- an admin group, or FFFF-FFFF
    group_name TEXT NOT NULL,  -- as it was when the job was made
    PRIMARY KEY (ota_job_id, group_id)
) WITHOUT ROWID;
-- Deleting a group an active job targets is refused (108028).
CREATE INDEX ota_job_groups_group ON ota_job_groups(group_id);

CREATE TABLE ota_push_queue (
    seq     INTEGER PRIMARY KEY AUTOINCREMENT,
    node_id TEXT NOT NULL UNIQUE REFERENCES nodes(node_id) ON DELETE CASCADE
);

-- OTA images and jobs take admin tags (V016) from now on: an image's go with it.
CREATE TRIGGER resource_tags_ota_image_gone AFTER DELETE ON ota_images BEGIN
    DELETE FROM resource_tags WHERE resource_type = 'otaimage' AND resource_id = OLD.ota_image_id;
END;
CREATE TRIGGER resource_tags_ota_job_gone AFTER DELETE ON ota_jobs BEGIN
    DELETE FROM resource_tags WHERE resource_type = 'otajob' AND resource_id = OLD.ota_job_id;
END;
