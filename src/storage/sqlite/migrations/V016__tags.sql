-- Admin tags on resources (#24, #25, #106-#109): one row per (resource, tag name, tag value).
-- resource_type is node | group | otaimage | otajob | user. Rows of a node, user or group go
-- when it is deleted (triggers below, which SQLite also fires for cascaded deletes).
CREATE TABLE resource_tags (
    resource_type TEXT NOT NULL,
    resource_id   TEXT NOT NULL,
    tag_name      TEXT NOT NULL,
    tag_value     TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    PRIMARY KEY (resource_type, resource_id, tag_name, tag_value)
) WITHOUT ROWID;
-- Resources by tag (tag_name + tag_value, tags expressions, the admin node search), tag names
-- and the values of one name.
CREATE INDEX resource_tags_by_tag ON resource_tags(resource_type, tag_name, tag_value, resource_id);
CREATE INDEX resource_tags_by_name ON resource_tags(tag_name, tag_value, resource_type);

CREATE TRIGGER resource_tags_node_gone AFTER DELETE ON nodes BEGIN
    DELETE FROM resource_tags WHERE resource_type = 'node' AND resource_id = OLD.node_id;
END;
CREATE TRIGGER resource_tags_user_gone AFTER DELETE ON users BEGIN
    DELETE FROM resource_tags WHERE resource_type = 'user' AND resource_id = OLD.user_id;
END;
CREATE TRIGGER resource_tags_group_gone AFTER DELETE ON node_groups BEGIN
    DELETE FROM resource_tags WHERE resource_type = 'group' AND resource_id = OLD.group_id;
END;

-- The admin node search (#23): type -> model -> fw_version filters walk one index in node id
-- order (pages by start_id), the status filters read the same rows.
CREATE INDEX nodes_type_model_fw ON nodes(node_type, model, fw_version, node_id);
-- type + model in node id order (the page of a type+model(+tags) search stops at its limit).
CREATE INDEX nodes_type_model ON nodes(node_type, model, node_id);
-- type alone in node id order; nodes_type (V002) is its prefix.
CREATE INDEX nodes_type_id ON nodes(node_type, node_id);
DROP INDEX nodes_type;
