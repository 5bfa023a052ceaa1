-- Secure boot signing (#110-#115): the deployment's signing keys, their private halves sealed
-- (AES-256-GCM under <data_dir>/keys/signing-sealing.key, bound to key_id); signing
-- requests, worked through by the secure-sign job; the signed images they produce (bytes in the
-- blob store by blob_key, like OTA images), and which keys signed each.
CREATE TABLE signing_keys (
    key_id             TEXT PRIMARY KEY,
    key_name           TEXT NOT NULL UNIQUE,
    key_spec           TEXT NOT NULL,          -- RSA_3072 | ECC_NIST_P256
    description        TEXT NOT NULL DEFAULT '',
    tags               TEXT NOT NULL DEFAULT '[]',
    public_key         TEXT NOT NULL,          -- PEM
    sealed_private_key TEXT NOT NULL,
    public_key_digest  TEXT NOT NULL,          -- SHA-256 of the signature block's key part
    created_by         TEXT NOT NULL,
    created_at         INTEGER NOT NULL
);

CREATE TABLE signing_requests (
    request_id         TEXT PRIMARY KEY,
    ota_image_id       TEXT NOT NULL,
    key_names          TEXT NOT NULL,          -- JSON array, in signing order
    sign_bootloader    INTEGER NOT NULL DEFAULT 0,
    bootloader_file_id TEXT NOT NULL DEFAULT '',
    status             TEXT NOT NULL,          -- in_progress | success | failed
    description        TEXT NOT NULL DEFAULT '',
    requested_by       TEXT NOT NULL,
    created_at         INTEGER NOT NULL,
    finished_at        INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX signing_requests_pending ON signing_requests(status, created_at);

CREATE TABLE signed_images (
    signed_image_id TEXT PRIMARY KEY,
    request_id      TEXT NOT NULL,
    ota_image_id    TEXT NOT NULL,
    file_type       TEXT NOT NULL,             -- SECURELY_SIGNED_FIRMWARE | _BOOTLOADER
    key_names       TEXT NOT NULL,             -- JSON array, in signing order
    blob_key        TEXT NOT NULL,
    file_size       INTEGER NOT NULL,
    file_md5        TEXT NOT NULL,
    signed_by       TEXT NOT NULL,
    created_at      INTEGER NOT NULL
);
CREATE INDEX signed_images_request ON signed_images(request_id);
CREATE INDEX signed_images_image ON signed_images(ota_image_id, signed_image_id);
CREATE INDEX signed_images_blob ON signed_images(blob_key);

CREATE TABLE signed_image_keys (
    signed_image_id TEXT NOT NULL REFERENCES signed_images(signed_image_id) ON DELETE CASCADE,
    key_id          TEXT NOT NULL REFERENCES signing_keys(key_id),
    PRIMARY KEY (key_id, signed_image_id)
);
