-- Live Events search: keyed hashes of the ids an event was about ("u:"+user
-- id, "e:"+email, "o:"+order id), never the ids, written with its
-- deliveries. Payloads are sealed, so this is the only way to search them.
CREATE TABLE event_search (
	key       TEXT    NOT NULL,
	event_seq INTEGER NOT NULL,
	PRIMARY KEY (key, event_seq)
) WITHOUT ROWID;
CREATE INDEX event_search_event ON event_search (event_seq);

-- The event after identity and consent (sealed: it holds the profile's
-- traits as they stood when the event was processed).
CREATE TABLE event_processed (
	event_seq INTEGER PRIMARY KEY,
	body      BLOB    NOT NULL
);

-- The last attempts of each delivery (bounded per delivery by the store);
-- vendor_response is sealed: vendors echo contacts back.
CREATE TABLE delivery_attempts (
	id              INTEGER PRIMARY KEY,
	delivery_id     INTEGER NOT NULL,
	at              INTEGER NOT NULL,
	vendor_status   INTEGER NOT NULL,
	vendor_response BLOB,
	duration_ms     INTEGER NOT NULL,
	error           TEXT    NOT NULL
);
CREATE INDEX delivery_attempts_delivery ON delivery_attempts (delivery_id, id);

-- Live Events filters seek instead of walking the whole log; the deliveries
-- ones (rowid id implied) also give the page's order (event_seq, id).
CREATE INDEX events_pipeline ON events (pipeline_id, seq);
CREATE INDEX events_type ON events (type, seq);
CREATE INDEX events_event ON events (event, seq);
CREATE INDEX deliveries_integration ON deliveries (integration_id, event_seq);
-- Partial: the statuses worth an index are the rare ones (most rows are
-- delivered or filtered, found quickly in log order); every index here is
-- written by the processor and the engine's hot paths.
CREATE INDEX deliveries_failed_seq ON deliveries (event_seq) WHERE status = 'failed';
CREATE INDEX deliveries_reason ON deliveries (reason, event_seq) WHERE reason <> '';

-- Integration health: finished outcomes per integration over time
-- (covering); the backlog and its oldest row come from deliveries_queue.
CREATE INDEX deliveries_outcomes ON deliveries (integration_id, updated_at, status) WHERE status IN ('delivered', 'filtered', 'failed');
