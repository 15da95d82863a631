-- Alert posts waiting for the webhook, queued in the transaction that opens
-- or closes their incident and deleted once the webhook took them (or after
-- 24 h of retries): a restart neither loses nor repeats one. The body holds
-- ids, names and reasons only.
CREATE TABLE alert_posts (
	id             INTEGER PRIMARY KEY,
	alert          TEXT    NOT NULL,
	integration_id TEXT    NOT NULL,
	body           BLOB    NOT NULL,
	created_at     INTEGER NOT NULL,
	next_at        INTEGER NOT NULL,
	attempts       INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX alert_posts_due ON alert_posts (next_at);

-- From here the processor indexes every event (event_search) by the keyed
-- hashes of its user and anonymous ids and of every email and phone number
-- in it, so a contact export or erase reads only the person's events. The
-- events processed before (up to the processor's cursor now) carry only
-- the Live Events keys: those are read whole, as before.
INSERT INTO cursors (name, seq) SELECT 'contact_index', COALESCE((SELECT seq FROM cursors WHERE name = 'processor'), 0);
