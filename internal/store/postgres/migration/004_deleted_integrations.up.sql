-- Integrations deleted, so that events processed while the deletion
-- happened are not queued for them (nothing would ever send them).
CREATE TABLE deleted_integrations (
	id         TEXT PRIMARY KEY,
	deleted_at BIGINT NOT NULL
);
