-- Event log: every accepted message, in order. payload is sealed (AES-GCM).
CREATE TABLE events (
	seq         INTEGER PRIMARY KEY,
	message_id  TEXT    NOT NULL,
	pipeline_id TEXT    NOT NULL,
	type        TEXT    NOT NULL,
	event       TEXT    NOT NULL,
	ts          INTEGER NOT NULL,
	received_at INTEGER NOT NULL,
	payload     BLOB    NOT NULL
);

-- Positions of log consumers (the processor).
CREATE TABLE cursors (
	name TEXT PRIMARY KEY,
	seq  INTEGER NOT NULL
);

CREATE TABLE pipelines (
	id             TEXT PRIMARY KEY,
	name           TEXT    NOT NULL,
	key            TEXT    NOT NULL UNIQUE,
	signing_secret BLOB    NOT NULL,
	created_at     INTEGER NOT NULL,
	updated_at     INTEGER NOT NULL
);

CREATE TABLE users (
	id            TEXT PRIMARY KEY,
	email         TEXT    NOT NULL UNIQUE,
	password_hash TEXT    NOT NULL,
	role          TEXT    NOT NULL,
	created_at    INTEGER NOT NULL
);

CREATE TABLE refresh_tokens (
	hash       TEXT PRIMARY KEY,
	user_id    TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	expires_at INTEGER NOT NULL
);

-- config is sealed JSON: it holds vendor API keys.
CREATE TABLE integrations (
	id            TEXT PRIMARY KEY,
	catalog_key   TEXT    NOT NULL,
	name          TEXT    NOT NULL,
	variant       TEXT    NOT NULL,
	delivery_mode TEXT    NOT NULL,
	config        BLOB    NOT NULL,
	enabled       INTEGER NOT NULL,
	status        TEXT    NOT NULL,
	status_reason TEXT    NOT NULL,
	pipeline_ids  TEXT    NOT NULL,
	blueprint     TEXT    NOT NULL,
	created_at    INTEGER NOT NULL,
	updated_at    INTEGER NOT NULL
);

-- Profiles: traits sealed; looked up by keyed hashes of the visitor's ids.
CREATE TABLE profiles (
	id         INTEGER PRIMARY KEY,
	traits     BLOB    NOT NULL,
	updated_at INTEGER NOT NULL
);

CREATE TABLE profile_keys (
	key        TEXT PRIMARY KEY,
	profile_id INTEGER NOT NULL
) WITHOUT ROWID;

CREATE INDEX profile_keys_profile ON profile_keys (profile_id);

-- Deliveries: one row per event and integration (integration_id '' when the
-- event reached none). The pending ones are the delivery queue.
CREATE TABLE deliveries (
	id                INTEGER PRIMARY KEY,
	event_seq         INTEGER NOT NULL,
	message_id        TEXT    NOT NULL,
	pipeline_id       TEXT    NOT NULL,
	integration_id    TEXT    NOT NULL,
	type              TEXT    NOT NULL,
	event             TEXT    NOT NULL,
	status            TEXT    NOT NULL,
	reason            TEXT    NOT NULL,
	note              TEXT    NOT NULL,
	vendor_event_name TEXT    NOT NULL,
	priority          INTEGER NOT NULL,
	contact_key       TEXT    NOT NULL,
	attempts          INTEGER NOT NULL,
	next_attempt_at   INTEGER NOT NULL,
	lease_until       INTEGER NOT NULL,
	expires_at        INTEGER NOT NULL,
	vendor_status     INTEGER NOT NULL,
	vendor_response   BLOB,
	payload           BLOB,
	received_at       INTEGER NOT NULL,
	created_at        INTEGER NOT NULL,
	updated_at        INTEGER NOT NULL
);

CREATE INDEX deliveries_event ON deliveries (event_seq);
CREATE INDEX deliveries_queue ON deliveries (integration_id, priority DESC, id) WHERE status = 'pending';
CREATE INDEX deliveries_contact ON deliveries (integration_id, contact_key, id) WHERE status = 'pending';
CREATE INDEX deliveries_failed ON deliveries (integration_id, updated_at) WHERE status = 'failed';
CREATE INDEX deliveries_updated ON deliveries (updated_at);

-- (integration, message id) pairs already delivered or queued, for the
-- 24-hour duplicate window.
CREATE TABLE dedupe (
	integration_id TEXT    NOT NULL,
	message_id     TEXT    NOT NULL,
	created_at     INTEGER NOT NULL,
	PRIMARY KEY (integration_id, message_id)
) WITHOUT ROWID;

CREATE INDEX deliveries_due ON deliveries (integration_id, next_attempt_at) WHERE status = 'pending';
