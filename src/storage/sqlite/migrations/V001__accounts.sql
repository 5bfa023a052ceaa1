-- Accounts, login sessions and pending verification codes.
CREATE TABLE users (
    user_id        TEXT PRIMARY KEY,
    user_name      TEXT NOT NULL UNIQUE,
    password_hash  TEXT NOT NULL,
    confirmed      INTEGER NOT NULL DEFAULT 0,
    name           TEXT NOT NULL DEFAULT '',
    phone_number   TEXT NOT NULL DEFAULT '',
    phone_verified INTEGER NOT NULL DEFAULT 0,
    mfa            INTEGER NOT NULL DEFAULT 0,
    super_admin    INTEGER NOT NULL DEFAULT 0,
    admin          INTEGER NOT NULL DEFAULT 0,
    picture_url    TEXT NOT NULL DEFAULT '',
    custom_data    TEXT NOT NULL DEFAULT '{}',
    public_profile TEXT NOT NULL DEFAULT '{}',
    tags           TEXT NOT NULL DEFAULT '[]',
    created_at     INTEGER NOT NULL
);
-- A verified phone number belongs to one account.
CREATE UNIQUE INDEX users_verified_phone ON users(phone_number)
    WHERE phone_verified = 1 AND phone_number <> '';

CREATE TABLE sessions (
    session_id   TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users(user_id) ON DELETE CASCADE,
    refresh_hash TEXT NOT NULL UNIQUE,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    revoked      INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX sessions_user ON sessions(user_id);

CREATE TABLE verification_codes (
    user_id    TEXT NOT NULL REFERENCES users(user_id) ON DELETE CASCADE,
    purpose    TEXT NOT NULL,
    code_hash  TEXT NOT NULL,
    session    TEXT NOT NULL DEFAULT '',
    expires_at INTEGER NOT NULL,
    attempts   INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (user_id, purpose)
);
