-- Facts about the database itself: key_check holds a known value sealed
-- with the ENCRYPTION_KEY the data was written with, so a different key is
-- refused at start instead of failing on every sealed column later.
CREATE TABLE meta (
	key   TEXT PRIMARY KEY,
	value BYTEA NOT NULL
);
