-- Events kept for webhooks and push notifications (later issues deliver them).
CREATE TABLE events (
    id         INTEGER PRIMARY KEY,
    event_type TEXT NOT NULL,   -- e.g. user_node_sharing_add, user_node_group_added
    user_id    TEXT NOT NULL,
    payload    TEXT NOT NULL,   -- JSON object
    created_at INTEGER NOT NULL
);
CREATE INDEX events_user ON events(user_id, id);
