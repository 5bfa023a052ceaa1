-- User node groups (homes, rooms): a hierarchy of at most three levels owned by one user.
CREATE TABLE node_groups (
    group_id           TEXT PRIMARY KEY,
    owner_id           TEXT NOT NULL REFERENCES users(user_id) ON DELETE CASCADE,
    parent_id          TEXT REFERENCES node_groups(group_id) ON DELETE CASCADE,
    group_name         TEXT NOT NULL,
    type               TEXT NOT NULL DEFAULT '',
    description        TEXT NOT NULL DEFAULT '',
    mutually_exclusive INTEGER NOT NULL DEFAULT 0,
    group_metadata     TEXT NOT NULL DEFAULT '{}',
    custom_data        TEXT NOT NULL DEFAULT '{}',
    level              INTEGER NOT NULL,          -- 1 = top level .. 3
    created_at         INTEGER NOT NULL
);
CREATE INDEX node_groups_owner ON node_groups(owner_id, parent_id, group_id);
CREATE INDEX node_groups_parent ON node_groups(parent_id);

CREATE TABLE node_group_nodes (
    group_id TEXT NOT NULL REFERENCES node_groups(group_id) ON DELETE CASCADE,
    node_id  TEXT NOT NULL,
    PRIMARY KEY (group_id, node_id)
);
CREATE INDEX node_group_nodes_node ON node_group_nodes(node_id);
