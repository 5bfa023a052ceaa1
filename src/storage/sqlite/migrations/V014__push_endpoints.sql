-- Push-notification endpoints (#84-#86): a user's registered phones. One device token belongs
-- to one user (UNIQUE device_token): registered by another user, it moves to that user. The
-- endpoint ARN is our own opaque id (arn:rainmaker:push:endpoint/<32 hex>), stable for the life
-- of the registration. Rows go with the user's account (ON DELETE CASCADE).
CREATE TABLE push_endpoints (
    endpoint_arn  TEXT PRIMARY KEY,
    user_id       TEXT NOT NULL REFERENCES users(user_id) ON DELETE CASCADE,
    platform      TEXT NOT NULL,             -- GCM | APNS | APNS_SANDBOX
    platform_type TEXT NOT NULL DEFAULT '',  -- huawei | glory | ... | fcm | asus; '' = none given
    device_token  TEXT NOT NULL UNIQUE,
    created_at    INTEGER NOT NULL
);
-- A user's endpoints (#85, the per-user cap, and the senders of the next slice).
CREATE INDEX push_endpoints_user ON push_endpoints(user_id, created_at);
