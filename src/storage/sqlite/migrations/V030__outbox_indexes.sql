-- Fewer writes per outbox event (issue #12). A node's event (user_id '') is written by the
-- ingest and deleted once planned: it no longer enters the per-user and retention indexes,
-- which only users' events need (retention deletes read node events by id). A delivery enters
-- the dead index only once it is dead.
DROP INDEX events_user;
CREATE INDEX events_user ON events(user_id, id) WHERE user_id <> '';
DROP INDEX events_time;
CREATE INDEX events_time ON events(created_at) WHERE user_id <> '';
DROP INDEX webhook_deliveries_dead;
CREATE INDEX webhook_deliveries_dead ON webhook_deliveries(webhook, id) WHERE dead = 1;

-- Versions of tables that readers cache (the delivery planner: each node's primary user and
-- the event filters), bumped by triggers in the writing transaction: a reader that sees the
-- same version in its own transaction knows its copy is current.
CREATE TABLE change_counters (
    name  TEXT PRIMARY KEY,
    value INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO change_counters(name, value) VALUES ('user_nodes', 0), ('event_filters', 0);
CREATE TRIGGER user_nodes_inserted AFTER INSERT ON user_nodes BEGIN
    UPDATE change_counters SET value = value + 1 WHERE name = 'user_nodes';
END;
CREATE TRIGGER user_nodes_updated AFTER UPDATE ON user_nodes BEGIN
    UPDATE change_counters SET value = value + 1 WHERE name = 'user_nodes';
END;
CREATE TRIGGER user_nodes_deleted AFTER DELETE ON user_nodes BEGIN
    UPDATE change_counters SET value = value + 1 WHERE name = 'user_nodes';
END;
CREATE TRIGGER event_filters_inserted AFTER INSERT ON event_filters BEGIN
    UPDATE change_counters SET value = value + 1 WHERE name = 'event_filters';
END;
CREATE TRIGGER event_filters_updated AFTER UPDATE ON event_filters BEGIN
    UPDATE change_counters SET value = value + 1 WHERE name = 'event_filters';
END;
CREATE TRIGGER event_filters_deleted AFTER DELETE ON event_filters BEGIN
    UPDATE change_counters SET value = value + 1 WHERE name = 'event_filters';
END;
