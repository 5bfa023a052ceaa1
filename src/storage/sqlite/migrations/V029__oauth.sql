-- OAuth sign-in through an external OpenID Connect provider (#116, #117, /authorize): the
-- logins between /authorize and the provider's callback, keyed by the SHA-256 of the state we
-- sent the provider, and our one-time codes between the callback and POST /token, keyed by
-- their SHA-256. Both are taken (deleted) when used, and expire.
CREATE TABLE oauth_logins (
    state_hash     TEXT PRIMARY KEY,
    provider       TEXT NOT NULL,
    client_id      TEXT NOT NULL,
    redirect_uri   TEXT NOT NULL,
    client_state   TEXT NOT NULL,   -- the app's state, given back with our code
    code_challenge TEXT NOT NULL,   -- the app's PKCE S256 challenge ("" = none)
    code_verifier  TEXT NOT NULL,   -- our PKCE verifier towards the provider
    nonce          TEXT NOT NULL,
    expires_at     INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE oauth_codes (
    code_hash      TEXT PRIMARY KEY,
    user_id        TEXT NOT NULL,
    client_id      TEXT NOT NULL,
    redirect_uri   TEXT NOT NULL,
    code_challenge TEXT NOT NULL,
    expires_at     INTEGER NOT NULL
) WITHOUT ROWID;
