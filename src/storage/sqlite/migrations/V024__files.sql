-- Files (#46-#51): admins' files about an entity (a QA report or a bootloader for an OTA
-- image, ...) and users' own files (at most 10 of 10 MB each). A file is asked for like an OTA
-- upload: its pending row is an ota_uploads row of kind 'admin_file' or 'user_file' (image_name
-- holds the file name), swept with the others when it expires; its confirmation moves the bytes
-- to a files row under the same id. max_bytes bounds what a PUT of an upload may carry.
ALTER TABLE ota_uploads ADD COLUMN max_bytes INTEGER NOT NULL DEFAULT 0;  -- 0: the server's
ALTER TABLE ota_uploads ADD COLUMN entity_type TEXT NOT NULL DEFAULT '';
ALTER TABLE ota_uploads ADD COLUMN entity_id TEXT NOT NULL DEFAULT '';

CREATE TABLE files (
    file_id      TEXT PRIMARY KEY,       -- the upload_id it was asked under
    scope        TEXT NOT NULL,          -- 'admin' (#46) or 'user' (#48)
    owner        TEXT NOT NULL,          -- the user id of who uploaded it
    file_name    TEXT NOT NULL,
    entity_type  TEXT NOT NULL,
    entity_id    TEXT NOT NULL DEFAULT '',
    file_type    TEXT NOT NULL DEFAULT '',
    description  TEXT NOT NULL DEFAULT '',
    metadata     TEXT NOT NULL DEFAULT '',  -- a JSON object's text; '' = none
    public       INTEGER NOT NULL DEFAULT 0,
    blob_key     TEXT NOT NULL,
    file_size    INTEGER NOT NULL,
    file_md5     TEXT NOT NULL,
    created_at   INTEGER NOT NULL
);
-- One file of a name per entity: per owner for users, per deployment for admins.
CREATE UNIQUE INDEX files_user_name ON files(owner, entity_type, entity_id, file_name)
    WHERE scope = 'user';
CREATE UNIQUE INDEX files_admin_name ON files(entity_type, entity_id, file_name)
    WHERE scope = 'admin';
CREATE INDEX files_owner ON files(scope, owner, file_id);
CREATE INDEX files_blob ON files(blob_key);
