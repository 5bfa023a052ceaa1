-- Time series: one row per series, its fresh points one row each (the head), and older points
-- packed into chunks the domain encodes (delta-of-delta times, XOR floats). Chunks of a series
-- never overlap in time. A node's series go when its last user does.
CREATE TABLE ts_series (
    series_id  INTEGER PRIMARY KEY,
    node_id    TEXT NOT NULL,
    kind       INTEGER NOT NULL,           -- 0 tsdata, 1 simple_tsdata
    name       TEXT NOT NULL,              -- "<device>.<param>"
    data_type  INTEGER NOT NULL,           -- float, int, bool, string, object, array
    ttl_days   INTEGER NOT NULL DEFAULT 0, -- 0: the configured default
    UNIQUE (node_id, kind, name, data_type)
);

CREATE TABLE ts_head (
    series_id INTEGER NOT NULL,
    t         INTEGER NOT NULL,            -- unix seconds
    v,                                     -- REAL, INTEGER or TEXT, as given (no affinity)
    PRIMARY KEY (series_id, t)
) WITHOUT ROWID;

CREATE TABLE ts_chunks (
    series_id INTEGER NOT NULL,
    start_t   INTEGER NOT NULL,            -- its first point
    end_t     INTEGER NOT NULL,            -- its last point
    count     INTEGER NOT NULL,
    data      BLOB NOT NULL,
    PRIMARY KEY (series_id, start_t)
) WITHOUT ROWID;

-- start_id of time-series queries: the range a page was made for and where the next begins.
CREATE TABLE ts_pages (
    token      TEXT PRIMARY KEY,
    query_hash TEXT NOT NULL,
    start_t    INTEGER NOT NULL,
    end_t      INTEGER NOT NULL,
    cursor     INTEGER NOT NULL,
    uses       INTEGER NOT NULL DEFAULT 0,
    expires_at INTEGER NOT NULL
);
CREATE INDEX ts_pages_expiry ON ts_pages(expires_at);
