-- A node's pending command requests (its poll, the per-node and per-user caps, override) are
-- found without walking the ended ones its 30 days of retention keep.
CREATE INDEX cmd_requests_node_pending ON cmd_requests(node_id, seq)
    WHERE status IN ('requested', 'in_progress');
