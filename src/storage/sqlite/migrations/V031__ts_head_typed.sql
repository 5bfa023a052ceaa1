-- A head point's value in the column of its type (v_real, v_int or v_text, the others NULL)
-- instead of one column without a type holding whichever it was given: the schema says what a
-- value is, as PostgreSQL's ts_head does (storage/postgres V001). ts_head has no index or
-- trigger besides its primary key, and no foreign key names it.
CREATE TABLE ts_head_typed (
    series_id INTEGER NOT NULL,
    t         INTEGER NOT NULL,            -- unix seconds
    v_real    REAL,
    v_int     INTEGER,
    v_text    TEXT,
    PRIMARY KEY (series_id, t),
    CONSTRAINT ts_head_one_value CHECK (
        (v_real IS NOT NULL) + (v_int IS NOT NULL) + (v_text IS NOT NULL) = 1)
) WITHOUT ROWID;

-- The store binds doubles, 64-bit integers and text only. A NULL or a BLOB, which it never
-- writes, becomes the text the store read it as ('' and the bytes).
INSERT INTO ts_head_typed(series_id, t, v_real, v_int, v_text)
    SELECT series_id, t,
           CASE typeof(v) WHEN 'real' THEN v END,
           CASE typeof(v) WHEN 'integer' THEN v END,
           CASE typeof(v) WHEN 'text' THEN v WHEN 'blob' THEN CAST(v AS TEXT)
                          WHEN 'null' THEN '' END
    FROM ts_head;

DROP TABLE ts_head;
ALTER TABLE ts_head_typed RENAME TO ts_head;
