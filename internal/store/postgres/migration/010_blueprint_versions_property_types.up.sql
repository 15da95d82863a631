-- Every blueprint an integration was given, numbered from 1, with who saved
-- it: rollback copies an old version into a new one, so history is never
-- rewritten. Existing integrations start with their current blueprint as
-- version 1 (author unknown).
CREATE TABLE blueprint_versions (
	integration_id TEXT   NOT NULL,
	version        INTEGER NOT NULL,
	blueprint      TEXT   NOT NULL,
	author_id      TEXT   NOT NULL DEFAULT '',
	author_email   TEXT   NOT NULL DEFAULT '',
	summary        TEXT   NOT NULL DEFAULT '',
	created_at     BIGINT NOT NULL,
	PRIMARY KEY (integration_id, version)
);
INSERT INTO blueprint_versions (integration_id, version, blueprint, summary, created_at)
	SELECT id, 1, blueprint::text, 'blueprint before version history', updated_at FROM integrations;

-- The JSON type (string, number, boolean, object, array) each property of a
-- vendor event had the first time a payload was built with it: the vendor
-- fixes a property's type on first receipt and refuses later changes.
CREATE TABLE property_types (
	integration_id    TEXT   NOT NULL,
	vendor_event_name TEXT   NOT NULL,
	property          TEXT   NOT NULL,
	json_type         TEXT   NOT NULL,
	created_at        BIGINT NOT NULL,
	PRIMARY KEY (integration_id, vendor_event_name, property)
);

-- Warnings of a delivery (JSON list of {code, message}); property names
-- only, never values: not sealed.
ALTER TABLE deliveries ADD COLUMN warnings TEXT NOT NULL DEFAULT '';
