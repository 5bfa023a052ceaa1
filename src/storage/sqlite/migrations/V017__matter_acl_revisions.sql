-- Revocation in Matter fabrics (#9): a fabric's node ACLs change when a member joins, leaves or
-- changes role (their CAT versions are raised then, matter_fabrics.cat_admin / cat_operate);
-- controllers rewrite a device's ACL when its sequence grows. A fabric without a row here is
-- at sequence 1. (Numbered before V019, which makes matter_fabrics: SQLite resolves the
-- reference when rows are written, not when the table is created.)
CREATE TABLE matter_acl_revisions (
    group_id     TEXT PRIMARY KEY REFERENCES matter_fabrics(group_id) ON DELETE CASCADE,
    sequence     INTEGER NOT NULL,   -- 2, 3, ... (1 = no row)
    modified_at  INTEGER NOT NULL    -- when the sequence last grew
);
