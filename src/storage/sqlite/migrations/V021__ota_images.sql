-- OTA firmware images (#29-#32): one row per uploaded image, its bytes in the blob store under
-- blob_key (the SHA-256 of the bytes: two rows may share one blob). image_name is unique: an
-- upload under a name in use replaces that image. What the image's app description says is
-- kept beside what the admin gave (project_name, idf_version, secure_version).
CREATE TABLE ota_images (
    ota_image_id     TEXT PRIMARY KEY,
    image_name       TEXT NOT NULL UNIQUE,
    type             TEXT NOT NULL,
    model            TEXT NOT NULL,
    fw_version       TEXT NOT NULL,
    project_name     TEXT NOT NULL DEFAULT '',
    idf_version      TEXT NOT NULL DEFAULT '',
    secure_version   INTEGER NOT NULL DEFAULT 0,
    blob_key         TEXT NOT NULL,
    file_size        INTEGER NOT NULL,
    file_md5         TEXT NOT NULL,
    archived         INTEGER NOT NULL DEFAULT 0,
    uploaded_by      TEXT NOT NULL,  -- the admin's user id (kept when the account goes)
    upload_timestamp INTEGER NOT NULL  -- unix seconds
);
-- Whether a blob is still named by a row, before removing it.
CREATE INDEX ota_images_blob ON ota_images(blob_key);
