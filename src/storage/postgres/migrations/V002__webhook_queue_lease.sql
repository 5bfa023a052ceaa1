-- Several server instances deliver from one store: SQLite's V032 (a queue's lease and holder).
ALTER TABLE webhook_queues ADD COLUMN leased_until_ms BIGINT NOT NULL DEFAULT 0;
ALTER TABLE webhook_queues ADD COLUMN leased_by TEXT COLLATE "C" NOT NULL DEFAULT '';
