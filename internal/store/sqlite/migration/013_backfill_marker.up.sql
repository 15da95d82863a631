-- Backfill marker: a delivery built from a backfill's line carries its
-- backfill id; the live claim skips such rows (the backfill sender sends
-- them through the vendor's batch endpoint instead). backfill_batch is the
-- vendor batch a row went out in ('' until one acknowledged it): set in the
-- same transaction as the batch row, so an acknowledged batch's rows are
-- only ever polled, never claimed again.
ALTER TABLE deliveries ADD COLUMN backfill_id TEXT NOT NULL DEFAULT '';
ALTER TABLE deliveries ADD COLUMN backfill_batch TEXT NOT NULL DEFAULT '';
CREATE INDEX deliveries_backfill ON deliveries (backfill_id, backfill_batch, status) WHERE backfill_id <> '';

-- One runner at a time per backfill (nodes sharing a database): it holds
-- the backfill's lease while it feeds and sends it.
ALTER TABLE backfills ADD COLUMN lease_holder TEXT NOT NULL DEFAULT '';
ALTER TABLE backfills ADD COLUMN lease_until INTEGER NOT NULL DEFAULT 0;
