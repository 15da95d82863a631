-- Backfills: historical events sent to one integration through the
-- vendor's batch endpoint. A backfill that got a 202 is finished after a
-- restart: its items and the batches the vendor acknowledged are here.
CREATE TABLE backfills (
	id             TEXT PRIMARY KEY,
	integration_id TEXT    NOT NULL,
	status         TEXT    NOT NULL,
	accepted       INTEGER NOT NULL,
	created_at     INTEGER NOT NULL,
	updated_at     INTEGER NOT NULL
);
CREATE INDEX backfills_status ON backfills (status);

-- One accepted line: the message (sealed: it holds contacts), then the
-- batch it went out in (batch_id, set in the same transaction as the
-- batch row, before the batch is polled) and the item's result.
CREATE TABLE backfill_items (
	backfill_id     TEXT    NOT NULL,
	line            INTEGER NOT NULL,
	message         BLOB    NOT NULL,
	status          TEXT    NOT NULL,
	event_id        TEXT    NOT NULL,
	batch_id        TEXT    NOT NULL,
	vendor_status   INTEGER NOT NULL,
	vendor_response BLOB,
	updated_at      INTEGER NOT NULL,
	PRIMARY KEY (backfill_id, line)
) WITHOUT ROWID;
CREATE INDEX backfill_items_batch ON backfill_items (batch_id) WHERE batch_id <> '';

-- Batches the vendor acknowledged (its batchID), stored before polling:
-- after a crash they are polled again, never resent.
CREATE TABLE backfill_batches (
	batch_id    TEXT PRIMARY KEY,
	backfill_id TEXT    NOT NULL,
	done        INTEGER NOT NULL,
	created_at  INTEGER NOT NULL
);
CREATE INDEX backfill_batches_open ON backfill_batches (backfill_id) WHERE done = 0;
