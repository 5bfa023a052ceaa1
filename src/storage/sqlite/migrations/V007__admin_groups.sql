-- Admin node groups (#52-#55) live beside user groups, told apart by kind. A dynamic admin
-- group keeps the node_type/node_model/node_fw_version it was made from (group_query, JSON;
-- '' for a group of listed nodes).
ALTER TABLE node_groups ADD COLUMN kind TEXT NOT NULL DEFAULT 'user';  -- user | admin
ALTER TABLE node_groups ADD COLUMN group_query TEXT NOT NULL DEFAULT '';
DROP INDEX node_groups_owner;
CREATE INDEX node_groups_owner ON node_groups(owner_id, kind, parent_id, group_id);
