-- The event log's own file (see eventlog.go): every accepted message, in
-- order, and the signed requests already accepted (written in the events'
-- transaction). The shape is what the main file's migrations 001–018 gave
-- these tables there; a database from before the split has its rows moved
-- here once, at start. Changes to these tables go in this directory.
CREATE TABLE events (
	seq         INTEGER PRIMARY KEY,
	message_id  TEXT    NOT NULL,
	pipeline_id TEXT    NOT NULL,
	type        TEXT    NOT NULL,
	event       TEXT    NOT NULL,
	ts          INTEGER NOT NULL,
	received_at INTEGER NOT NULL,
	payload     BLOB    NOT NULL,
	trust       TEXT    NOT NULL DEFAULT 'browser'
);
CREATE INDEX events_pipeline ON events (pipeline_id, seq);
CREATE INDEX events_type ON events (type, seq);
CREATE INDEX events_event ON events (event, seq);
CREATE INDEX events_received ON events (received_at);

CREATE TABLE signed_requests (
	key        TEXT PRIMARY KEY,
	expires_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX signed_requests_expiry ON signed_requests (expires_at);

-- Facts about the log file: log_id pairs it with its main file (whose meta
-- holds the same id as event_log), so that a log from another database is
-- refused at start.
CREATE TABLE log_meta (
	key   TEXT PRIMARY KEY,
	value TEXT NOT NULL
);
