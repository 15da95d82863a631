-- Signed /v1/events requests already accepted, by a hash of their
-- signature: a replay within the signature window stores nothing, on any
-- node. Rows are written in the events' transaction and deleted once
-- expired (past the window, the signature check refuses the request anyway).
CREATE TABLE signed_requests (
	key        TEXT PRIMARY KEY,
	expires_at BIGINT NOT NULL
);
CREATE INDEX signed_requests_expiry ON signed_requests (expires_at);
