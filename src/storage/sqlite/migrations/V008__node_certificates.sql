-- Every certificate issued to a node. A node has one valid certificate: claiming it again
-- revokes the earlier ones, and every revoked serial goes on the broker's CRL. Rows outlive
-- their node (an expired claim's certificate stays revoked).
CREATE TABLE node_certificates (
    serial     TEXT PRIMARY KEY,            -- hex, as the CRL lists it
    node_id    TEXT NOT NULL,
    issued_at  INTEGER NOT NULL,
    revoked_at INTEGER NOT NULL DEFAULT 0   -- unix seconds; 0 = valid
);
CREATE INDEX node_certificates_node ON node_certificates(node_id);
CREATE INDEX node_certificates_revoked ON node_certificates(revoked_at) WHERE revoked_at <> 0;
INSERT INTO node_certificates(serial, node_id, issued_at)
    SELECT cert_serial, node_id, created_at FROM nodes WHERE cert_serial <> '';

-- Claims: when the claimer last claimed the node, and when a user was last mapped to it
-- (0 = never). A claim never mapped expires (storage quota and stale identities).
ALTER TABLE nodes ADD COLUMN claimed_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE nodes ADD COLUMN mapped_at INTEGER NOT NULL DEFAULT 0;
UPDATE nodes SET claimed_at = created_at WHERE claimed_by <> '';
UPDATE nodes SET mapped_at = created_at
    WHERE node_id IN (SELECT node_id FROM user_nodes);
CREATE INDEX nodes_claimed_by ON nodes(claimed_by) WHERE claimed_by <> '';
CREATE INDEX nodes_pending_claims ON nodes(claimed_at)
    WHERE claimed_by <> '' AND mapped_at = 0;
