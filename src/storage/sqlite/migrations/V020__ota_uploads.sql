-- OTA uploads through presigned URLs (#33 image, #44 package) until their confirmation (#34,
-- #45) or their expiry (the row and its bytes go then), and the images end users upload for
-- their own nodes (#40), kept while their download URL lasts. Both name their bytes in the blob
-- store by blob_key, like ota_images ('' = none yet). No foreign key to users: a user's images
-- go with the expiry sweep, which releases their blobs (a cascade could not).
CREATE TABLE ota_uploads (
    upload_id    TEXT PRIMARY KEY,       -- #33: the ota_image_id the image gets at #34
    kind         TEXT NOT NULL,          -- 'image' (#33) or 'package' (#44)
    image_name   TEXT NOT NULL,          -- #33: image_name; #44: file_name (#45's file_path)
    image_type   TEXT NOT NULL,          -- firmware | package | raw
    content_md5  TEXT NOT NULL DEFAULT '',  -- md5_checksum (base64) the PUT must carry; '' = none
    blob_key     TEXT NOT NULL DEFAULT '',
    file_size    INTEGER NOT NULL DEFAULT 0,
    file_md5     TEXT NOT NULL DEFAULT '',
    requested_by TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    uploaded_at  INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX ota_uploads_expiry ON ota_uploads(expires_at);
CREATE INDEX ota_uploads_blob ON ota_uploads(blob_key);
CREATE INDEX ota_uploads_package ON ota_uploads(kind, image_name);
CREATE INDEX ota_uploads_requester ON ota_uploads(requested_by, expires_at);

CREATE TABLE user_ota_images (
    image_id     TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL,
    image_name   TEXT NOT NULL,
    type         TEXT NOT NULL,
    fw_version   TEXT NOT NULL,
    model        TEXT NOT NULL,
    project_name TEXT NOT NULL DEFAULT '',
    blob_key     TEXT NOT NULL,
    file_size    INTEGER NOT NULL,
    file_md5     TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    UNIQUE (user_id, image_name)
);
CREATE INDEX user_ota_images_expiry ON user_ota_images(expires_at);
CREATE INDEX user_ota_images_blob ON user_ota_images(blob_key);
