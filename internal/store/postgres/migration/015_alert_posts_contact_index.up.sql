-- Alert posts waiting for the webhook, queued in the transaction that opens
-- or closes their incident and deleted once the webhook took them (or after
-- 24 h of retries): a restart neither loses nor repeats one. The body holds
-- ids, names and reasons only.
CREATE TABLE alert_posts (
	id             BIGSERIAL PRIMARY KEY,
	alert          TEXT    NOT NULL,
	integration_id TEXT    NOT NULL,
	body           BYTEA   NOT NULL,
	created_at     BIGINT  NOT NULL,
	next_at        BIGINT  NOT NULL,
	attempts       BIGINT  NOT NULL DEFAULT 0
);
CREATE INDEX alert_posts_due ON alert_posts (next_at);

-- From here the processor indexes every event (event_search) by the keyed
-- hashes of its user and anonymous ids and of every email and phone number
-- in it, so a contact export or erase reads only the person's events. The
-- events processed before (up to the processor's cursor now) carry only
-- the Live Events keys: those are read whole, as before.
INSERT INTO cursors (name, seq) SELECT 'contact_index', COALESCE((SELECT seq FROM cursors WHERE name = 'processor'), 0);
