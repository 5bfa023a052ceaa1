-- Event filters (#76-#83): one row per (event_type, entity_id); enabled_for_integrations as a
-- JSON array of strings.
CREATE TABLE event_filters (
    event_type   TEXT NOT NULL,
    entity_id    TEXT NOT NULL,
    entity_type  TEXT NOT NULL CHECK (entity_type IN ('System', 'User', 'Node')),
    enabled      INTEGER NOT NULL,
    integrations TEXT NOT NULL,
    created_by   TEXT NOT NULL,
    updated_at   INTEGER NOT NULL,
    PRIMARY KEY (event_type, entity_id)
) WITHOUT ROWID;
CREATE INDEX event_filters_by_entity ON event_filters(entity_id, event_type);
