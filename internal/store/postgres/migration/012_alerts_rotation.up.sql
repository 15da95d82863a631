-- Alert settings: one row, its body a sealed JSON document (the webhook
-- URL of a Slack incoming webhook is itself a credential, and the signing
-- secret is one).
CREATE TABLE alert_settings (
	id         INTEGER PRIMARY KEY CHECK (id = 1),
	body       BYTEA   NOT NULL,
	updated_at BIGINT  NOT NULL
);

-- Open alert incidents, one per (integration, alert kind): an incident is
-- posted when its row is inserted and its recovery when the row is
-- deleted, so a restart (or a second node) never posts an open one again.
CREATE TABLE alert_incidents (
	integration_id TEXT    NOT NULL,
	kind           TEXT    NOT NULL,
	opened_at      BIGINT  NOT NULL,
	PRIMARY KEY (integration_id, kind)
);

-- Events accepted only when signed (/v1/events), as a JSON array of names.
ALTER TABLE pipelines ADD COLUMN signed_only_events TEXT NOT NULL DEFAULT '[]';
-- Key rotation: the previous key and signing secret keep working until
-- previous_until (Unix ms; 0: no previous key).
ALTER TABLE pipelines ADD COLUMN previous_key TEXT;
ALTER TABLE pipelines ADD COLUMN previous_signing_secret BYTEA;
ALTER TABLE pipelines ADD COLUMN previous_until BIGINT  NOT NULL DEFAULT 0;
CREATE UNIQUE INDEX pipelines_previous_key ON pipelines (previous_key) WHERE previous_key IS NOT NULL;
