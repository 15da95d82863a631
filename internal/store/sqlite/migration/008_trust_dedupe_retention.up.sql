-- How each event's sender was known (signal.Trust*): browser (pipeline key
-- only), server (a Segment route with Basic), signed (HMAC). Events stored
-- before this read as browser, the least trusted.
ALTER TABLE events ADD COLUMN trust TEXT NOT NULL DEFAULT 'browser';

-- The duplicate window is per integration, pipeline and signed-or-not:
-- message ids are the sender's, unique only within a pipeline, and an
-- unsigned (public-key) event must never suppress a signed one. The old
-- entries have no pipeline, so the 24-hour window starts afresh here.
DROP TABLE dedupe;
CREATE TABLE dedupe (
	integration_id TEXT    NOT NULL,
	pipeline_id    TEXT    NOT NULL,
	signed         INTEGER NOT NULL,
	message_id     TEXT    NOT NULL,
	created_at     INTEGER NOT NULL,
	PRIMARY KEY (integration_id, pipeline_id, signed, message_id)
) WITHOUT ROWID;
CREATE INDEX dedupe_created ON dedupe (created_at);

-- Per trait key, the trust rank (1 server, 2 signed) of the source that
-- set it: a less trusted source never overwrites it. Sealed JSON object,
-- key -> rank (trait keys are outside input); NULL when every key is
-- browser-set.
ALTER TABLE profiles ADD COLUMN trait_trust BLOB;

-- Retention finds events past the age limit by receipt time, wherever they
-- lie in the log (an undelivered backlog at its old end included).
CREATE INDEX events_received ON events (received_at);
