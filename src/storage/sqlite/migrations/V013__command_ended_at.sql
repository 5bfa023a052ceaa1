-- When a command request ended (answered, failed, overridden, timed out): the retention of
-- ended requests counts from here, not from their creation (a request waiting 29 days would
-- otherwise be deleted a day after its answer). 0 while pending.
ALTER TABLE cmd_requests ADD COLUMN ended_at INTEGER NOT NULL DEFAULT 0;
-- Requests that ended before this migration: their answer time, else (timed out, overridden
-- before an answer) their expiry or creation.
UPDATE cmd_requests SET ended_at = CASE
        WHEN responded_at > 0 THEN responded_at
        WHEN expires_at > 0 THEN expires_at
        ELSE created_at END
    WHERE status NOT IN ('requested', 'in_progress');
CREATE INDEX cmd_requests_ended ON cmd_requests(ended_at) WHERE ended_at > 0;
-- Only the retention read created_at through this index.
DROP INDEX cmd_requests_created;
