-- The event outbox and webhook delivery (#72-#75). Events now name their node; each consumer of
-- the event log keeps how far it has read (outbox_cursors). A webhook's deliveries wait in
-- webhook_deliveries until the receiver accepts them; webhook_queues holds one row per
-- (webhook, order key = node id) that has deliveries waiting, with when its oldest is next due,
-- so the dispatcher finds due work without scanning a backlog.
ALTER TABLE events ADD COLUMN node_id TEXT NOT NULL DEFAULT '';

CREATE TABLE outbox_cursors (
    consumer      TEXT PRIMARY KEY,
    last_event_id INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE webhooks (
    name             TEXT PRIMARY KEY,
    enabled          INTEGER NOT NULL,
    url              TEXT NOT NULL,
    sealed_secret    TEXT NOT NULL,   -- KeySealer::Seal of the signing secret, bound to the name
    nodes            TEXT NOT NULL,   -- JSON array of node ids; [] = every node
    events           TEXT NOT NULL,   -- JSON array of {event_name, event_active_timestamp}
    active_timestamp INTEGER NOT NULL,
    created_by       TEXT NOT NULL,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE webhook_deliveries (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    webhook    TEXT NOT NULL,
    order_key  TEXT NOT NULL,
    event_id   INTEGER NOT NULL,
    event_type TEXT NOT NULL,
    body       TEXT NOT NULL,         -- the exact bytes signed and sent
    attempts   INTEGER NOT NULL,
    dead       INTEGER NOT NULL,      -- 1: out of attempts, kept until replayed or removed
    last_error TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX webhook_deliveries_queue ON webhook_deliveries(webhook, order_key, dead, id);
CREATE INDEX webhook_deliveries_dead ON webhook_deliveries(dead, webhook, id);

CREATE TABLE webhook_queues (
    webhook     TEXT NOT NULL,
    order_key   TEXT NOT NULL,
    next_at_ms  INTEGER NOT NULL,
    PRIMARY KEY (webhook, order_key)
) WITHOUT ROWID;
CREATE INDEX webhook_queues_due ON webhook_queues(next_at_ms);
