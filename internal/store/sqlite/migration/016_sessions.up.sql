-- Sign-out ends a session at once, its access tokens included: a session id
-- is given at login, carried by every refresh token and access token of that
-- login, and listed here when the session is signed out, until its last
-- access token would have expired (Unix ms).
ALTER TABLE refresh_tokens ADD COLUMN session_id TEXT NOT NULL DEFAULT '';
CREATE TABLE revoked_sessions (
	session_id TEXT    PRIMARY KEY,
	expires_at INTEGER NOT NULL
) WITHOUT ROWID;
