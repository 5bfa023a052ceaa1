-- Automations (#87-#90): a user's triggers and the params they set on nodes. node_params
-- automations are found by the node whose params they watch (node_id), daylight ones by their
-- next sunrise or sunset (next_run_at), weather ones by location. last_state holds whether the
-- events held at the last evaluation: actions run when it turns true (again only after it was
-- false, unless retrigger). V012: V011 is the command-response migration of another branch;
-- the runner applies every version it has not recorded, whatever the order they arrive in.
CREATE TABLE automations (
    automation_id  TEXT PRIMARY KEY,
    user_id        TEXT NOT NULL REFERENCES users(user_id) ON DELETE CASCADE,
    name           TEXT NOT NULL,
    event_type     TEXT NOT NULL,             -- node_params | daylight | weather
    node_id        TEXT NOT NULL DEFAULT '',  -- node_params: the node whose params are watched
    location       TEXT NOT NULL DEFAULT '',  -- daylight, weather: {latitude, longitude} as given
    latitude       REAL NOT NULL DEFAULT 0,
    longitude      REAL NOT NULL DEFAULT 0,
    events         TEXT NOT NULL,             -- JSON array, as checked
    event_operator TEXT NOT NULL DEFAULT '',  -- and | or | '' (one event)
    actions        TEXT NOT NULL,             -- JSON array of {node_id, params}
    metadata       TEXT NOT NULL DEFAULT '',  -- JSON, '' = none
    retrigger      INTEGER NOT NULL DEFAULT 0,
    enabled        INTEGER NOT NULL DEFAULT 1,
    last_state     INTEGER NOT NULL DEFAULT 0,
    next_run_at    INTEGER NOT NULL DEFAULT 0, -- daylight: unix seconds of the next event, 0 none
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    UNIQUE (user_id, name)
);
CREATE INDEX automations_user ON automations(user_id, automation_id);
CREATE INDEX automations_node ON automations(node_id) WHERE event_type = 'node_params';
CREATE INDEX automations_due ON automations(next_run_at) WHERE next_run_at > 0;
CREATE INDEX automations_weather ON automations(latitude, longitude) WHERE event_type = 'weather';
-- A node's automations of a user (GET ?node_id=) and the users who lose a node.
CREATE INDEX automations_user_node ON automations(user_id, node_id, automation_id);
