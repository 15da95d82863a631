-- Retention deletes old dedupe entries without scanning the table.
CREATE INDEX dedupe_created ON dedupe (created_at);
