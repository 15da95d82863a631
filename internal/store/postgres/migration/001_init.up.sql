-- PostgreSQL dialect of store/sqlite's 001_init. Times are milliseconds since
-- the Unix epoch (0: unset), as in SQLite, so both backends keep the same
-- precision and the same "zero means none" rules. Sealed columns (AES-GCM,
-- nonce first) are bytea.

-- Event log: every accepted message, in order. seq comes from event_seq,
-- drawn only by the appender while it holds the event-log advisory lock (see
-- event.go), so seqs commit in increasing order. The sequence must keep
-- CACHE 1: a session caching values would hand out seqs below those another
-- session committed. payload is sealed.
CREATE SEQUENCE event_seq AS BIGINT CACHE 1;

CREATE TABLE events (
	seq         BIGINT PRIMARY KEY,
	message_id  TEXT   NOT NULL,
	pipeline_id TEXT   NOT NULL,
	type        TEXT   NOT NULL,
	event       TEXT   NOT NULL,
	ts          BIGINT NOT NULL,
	received_at BIGINT NOT NULL,
	payload     BYTEA  NOT NULL
);

-- Positions of log consumers (the processor). They only move forward.
CREATE TABLE cursors (
	name TEXT PRIMARY KEY,
	seq  BIGINT NOT NULL
);

CREATE TABLE pipelines (
	id             TEXT PRIMARY KEY,
	name           TEXT   NOT NULL,
	key            TEXT   NOT NULL UNIQUE,
	signing_secret BYTEA  NOT NULL,
	created_at     BIGINT NOT NULL,
	updated_at     BIGINT NOT NULL
);

CREATE TABLE users (
	id            TEXT PRIMARY KEY,
	email         TEXT   NOT NULL UNIQUE,
	password_hash TEXT   NOT NULL,
	role          TEXT   NOT NULL,
	created_at    BIGINT NOT NULL
);

CREATE TABLE refresh_tokens (
	hash       TEXT PRIMARY KEY,
	user_id    TEXT   NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	expires_at BIGINT NOT NULL
);

CREATE INDEX refresh_tokens_user ON refresh_tokens (user_id);

-- config is sealed JSON: it holds vendor API keys.
CREATE TABLE integrations (
	id            TEXT PRIMARY KEY,
	catalog_key   TEXT    NOT NULL,
	name          TEXT    NOT NULL,
	variant       TEXT    NOT NULL,
	delivery_mode TEXT    NOT NULL,
	config        BYTEA   NOT NULL,
	enabled       BOOLEAN NOT NULL,
	status        TEXT    NOT NULL,
	status_reason TEXT    NOT NULL,
	pipeline_ids  JSONB   NOT NULL,
	blueprint     JSONB   NOT NULL,
	created_at    BIGINT  NOT NULL,
	updated_at    BIGINT  NOT NULL
);

-- Profiles: traits sealed; looked up by keyed hashes of the visitor's ids.
-- The lowest id is the oldest profile (it survives a merge).
CREATE TABLE profiles (
	id         BIGSERIAL PRIMARY KEY,
	traits     BYTEA  NOT NULL,
	updated_at BIGINT NOT NULL
);

CREATE TABLE profile_keys (
	key        TEXT PRIMARY KEY,
	profile_id BIGINT NOT NULL
);

CREATE INDEX profile_keys_profile ON profile_keys (profile_id);

-- Deliveries: one row per event and integration (integration_id '' when the
-- event reached none). The pending ones are the delivery queue; ids are
-- drawn from deliveries_id_seq in the order the processor records them.
CREATE TABLE deliveries (
	id                BIGSERIAL PRIMARY KEY,
	event_seq         BIGINT  NOT NULL,
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
	next_attempt_at   BIGINT  NOT NULL,
	lease_until       BIGINT  NOT NULL,
	expires_at        BIGINT  NOT NULL,
	vendor_status     INTEGER NOT NULL,
	vendor_response   BYTEA,
	payload           BYTEA,
	received_at       BIGINT  NOT NULL,
	created_at        BIGINT  NOT NULL,
	updated_at        BIGINT  NOT NULL
);

CREATE INDEX deliveries_event ON deliveries (event_seq);
CREATE INDEX deliveries_queue ON deliveries (integration_id, priority DESC, id) WHERE status = 'pending';
CREATE INDEX deliveries_contact ON deliveries (integration_id, contact_key, id) WHERE status = 'pending';
CREATE INDEX deliveries_due ON deliveries (integration_id, next_attempt_at) WHERE status = 'pending';
CREATE INDEX deliveries_failed ON deliveries (integration_id, updated_at) WHERE status = 'failed';
CREATE INDEX deliveries_updated ON deliveries (updated_at);

-- (integration, message id) pairs already delivered or queued, for the
-- duplicate window.
CREATE TABLE dedupe (
	integration_id TEXT   NOT NULL,
	message_id     TEXT   NOT NULL,
	created_at     BIGINT NOT NULL,
	PRIMARY KEY (integration_id, message_id)
);
