-- Housekeeping: what the periodic sweep deletes is found by index, and the periodic jobs keep
-- their due times here, so a restart neither loses the schedule nor runs everything again.
CREATE INDEX users_unconfirmed ON users(created_at) WHERE confirmed = 0;
CREATE INDEX sessions_expiry ON sessions(expires_at);
CREATE INDEX sessions_revoked ON sessions(session_id) WHERE revoked = 1;
CREATE INDEX verification_codes_expiry ON verification_codes(expires_at);
CREATE INDEX mapping_requests_open ON mapping_requests(expires_at) WHERE status = 'requested';
CREATE INDEX mapping_requests_created ON mapping_requests(created_at);
CREATE INDEX node_mapping_reports_time ON node_mapping_reports(reported_at);
CREATE INDEX sharing_requests_created ON sharing_requests(created_at);
CREATE INDEX node_alerts_time ON node_alerts(created_at);
CREATE INDEX events_time ON events(created_at);

CREATE TABLE scheduled_jobs (
    name        TEXT PRIMARY KEY,
    due_at      INTEGER NOT NULL,            -- unix seconds of the next run
    last_run_at INTEGER NOT NULL DEFAULT 0
);
