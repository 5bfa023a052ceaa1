-- Group sharing, and where a user's access to a node comes from.
--
-- user_nodes.role stays the effective role every node operation checks. direct_role is the
-- part given to the user directly (mapping the node, node sharing: the "NODE" source); the
-- rest comes from groups shared with the user that hold the node (group_shares). The domain
-- recomputes role from both whenever either changes (domain/nodes/node_access.cpp).
ALTER TABLE user_nodes ADD COLUMN direct_role TEXT NOT NULL DEFAULT '';
UPDATE user_nodes SET direct_role = role;

-- A group shared with a user (sub-groups are shared with their parent).
CREATE TABLE group_shares (
    group_id   TEXT NOT NULL REFERENCES node_groups(group_id) ON DELETE CASCADE,
    user_id    TEXT NOT NULL REFERENCES users(user_id) ON DELETE CASCADE,
    role       TEXT NOT NULL,              -- primary | secondary
    metadata   TEXT NOT NULL DEFAULT '{}', -- given with the sharing request
    created_at INTEGER NOT NULL,
    PRIMARY KEY (group_id, user_id)
);
CREATE INDEX group_shares_user ON group_shares(user_id, group_id);

-- Sharing requests carry nodes or groups.
ALTER TABLE sharing_requests RENAME COLUMN node_ids TO item_ids;
ALTER TABLE sharing_requests ADD COLUMN kind TEXT NOT NULL DEFAULT 'node';  -- node | group
DROP INDEX sharing_requests_from;
DROP INDEX sharing_requests_to;
CREATE INDEX sharing_requests_from ON sharing_requests(from_user, kind, request_id);
CREATE INDEX sharing_requests_to ON sharing_requests(to_user, kind, request_id);
