-- Emails are unique whatever their case (the API lowercases them, but a
-- row written otherwise must not make a second account).
CREATE UNIQUE INDEX users_email_lower ON users (lower(email));

-- The audit log of changes made through the Management API; seq orders it.
-- summary never holds a secret.
CREATE TABLE audit_log (
	seq         INTEGER PRIMARY KEY AUTOINCREMENT,
	id          TEXT    NOT NULL UNIQUE,
	at          INTEGER NOT NULL,
	actor_id    TEXT    NOT NULL,
	actor_email TEXT    NOT NULL,
	action      TEXT    NOT NULL,
	target_type TEXT    NOT NULL,
	target_id   TEXT    NOT NULL,
	summary     TEXT    NOT NULL
);
