-- backfill_origin: the backfill a delivery was built for, kept for good.
-- backfill_id is cleared when a replay sends the row live (its backfill may
-- be over), so a backfill's progress and its end are counted from
-- backfill_origin: a replayed item still counts for its backfill (delivered,
-- failed, or pending while it goes out live), and the backfill no longer
-- waits for a row that left it.
ALTER TABLE deliveries ADD COLUMN backfill_origin TEXT NOT NULL DEFAULT '';
UPDATE deliveries SET backfill_origin = backfill_id WHERE backfill_id <> '';
CREATE INDEX deliveries_backfill_origin ON deliveries (backfill_origin, status, backfill_id, backfill_batch) WHERE backfill_origin <> '';

-- A finished backfill's counts, kept when it ends (counted = 1): reading
-- them no longer scans its rows (the list shows many old backfills), and
-- they stay as they were when retention prunes its events and deliveries.
ALTER TABLE backfills ADD COLUMN counted INTEGER NOT NULL DEFAULT 0;
ALTER TABLE backfills ADD COLUMN delivered INTEGER NOT NULL DEFAULT 0;
ALTER TABLE backfills ADD COLUMN failed INTEGER NOT NULL DEFAULT 0;
ALTER TABLE backfills ADD COLUMN filtered INTEGER NOT NULL DEFAULT 0;
