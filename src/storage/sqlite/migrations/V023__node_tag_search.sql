-- The admin node search (#23) over type + model + tags without a probe per candidate node: a
-- node's tag rows carry a copy of the node's type, model and firmware version, kept by the
-- triggers below, so one index range holds the nodes of a type and model with a tag, in node id
-- order (issue #11 benchmark). Node tag rows exist only for nodes that exist, so a tag's range
-- in resource_tags_by_name counts its nodes without reading them.
ALTER TABLE resource_tags ADD COLUMN node_type TEXT;   -- NULL on the rows of other resources
ALTER TABLE resource_tags ADD COLUMN model TEXT;
ALTER TABLE resource_tags ADD COLUMN fw_version TEXT;

-- Tags of nodes that no longer exist (attached while the node was being deleted) go.
DELETE FROM resource_tags WHERE resource_type = 'node' AND NOT EXISTS
    (SELECT 1 FROM nodes WHERE nodes.node_id = resource_tags.resource_id);
UPDATE resource_tags SET (node_type, model, fw_version) =
    (SELECT node_type, model, fw_version FROM nodes WHERE nodes.node_id = resource_tags.resource_id)
    WHERE resource_type = 'node';

-- Nodes with a tag, of a type (and model) in node id order; fw_version is read from the entry.
-- Statements must spell resource_type = 'node' as a literal for SQLite to use it.
CREATE INDEX resource_tags_node_search
    ON resource_tags(tag_name, tag_value, node_type, model, resource_id, fw_version)
    WHERE resource_type = 'node';

-- A tag of a node that does not exist is not kept (the node was deleted meanwhile).
CREATE TRIGGER resource_tags_node_exists BEFORE INSERT ON resource_tags
WHEN NEW.resource_type = 'node' AND NOT EXISTS (SELECT 1 FROM nodes WHERE node_id = NEW.resource_id)
BEGIN
    SELECT RAISE(IGNORE);
END;

-- A new node tag takes its node's type, model and firmware version.
CREATE TRIGGER resource_tags_node_facts AFTER INSERT ON resource_tags
WHEN NEW.resource_type = 'node'
BEGIN
    UPDATE resource_tags SET (node_type, model, fw_version) =
        (SELECT node_type, model, fw_version FROM nodes WHERE node_id = NEW.resource_id)
        WHERE resource_type = 'node' AND resource_id = NEW.resource_id
          AND tag_name = NEW.tag_name AND tag_value = NEW.tag_value;
END;

-- A tag row moved to another resource (nothing does that today) follows the same rules.
CREATE TRIGGER resource_tags_node_moved AFTER UPDATE OF resource_type, resource_id ON resource_tags
WHEN NEW.resource_type = 'node'
BEGIN
    DELETE FROM resource_tags
        WHERE resource_type = 'node' AND resource_id = NEW.resource_id
          AND tag_name = NEW.tag_name AND tag_value = NEW.tag_value
          AND NOT EXISTS (SELECT 1 FROM nodes WHERE node_id = NEW.resource_id);
    UPDATE resource_tags SET (node_type, model, fw_version) =
        (SELECT node_type, model, fw_version FROM nodes WHERE node_id = NEW.resource_id)
        WHERE resource_type = 'node' AND resource_id = NEW.resource_id
          AND tag_name = NEW.tag_name AND tag_value = NEW.tag_value;
END;

-- A node that reports another type, model or firmware version (or, which nothing does today,
-- changes its id) carries its tags along.
CREATE TRIGGER resource_tags_node_changed
AFTER UPDATE OF node_id, node_type, model, fw_version ON nodes
WHEN OLD.node_id IS NOT NEW.node_id OR OLD.node_type IS NOT NEW.node_type
  OR OLD.model IS NOT NEW.model OR OLD.fw_version IS NOT NEW.fw_version
BEGIN
    UPDATE resource_tags SET resource_id = NEW.node_id
        WHERE OLD.node_id IS NOT NEW.node_id AND resource_type = 'node'
          AND resource_id = OLD.node_id;
    UPDATE resource_tags
        SET node_type = NEW.node_type, model = NEW.model, fw_version = NEW.fw_version
        WHERE resource_type = 'node' AND resource_id = NEW.node_id;
END;
