-- Live Events search: keyed hashes of the ids an event was about ("u:"+user
-- id, "e:"+email, "o:"+order id), never the ids, written with its
-- deliveries. Payloads are sealed, so this is the only way to search them.
CREATE TABLE event_search (
	key       TEXT    NOT NULL,
	event_seq BIGINT  NOT NULL,
	PRIMARY KEY (key, event_seq)
);
CREATE INDEX event_search_event ON event_search (event_seq);

-- The event after identity and consent (sealed: it holds the profile's
-- traits as they stood when the event was processed).
CREATE TABLE event_processed (
	event_seq BIGINT PRIMARY KEY,
	body      BYTEA   NOT NULL
);

-- The last attempts of each delivery (bounded per delivery by the store);
-- vendor_response is sealed: vendors echo contacts back.
CREATE TABLE delivery_attempts (
	id              BIGSERIAL PRIMARY KEY,
	delivery_id     BIGINT  NOT NULL,
	at              BIGINT  NOT NULL,
	vendor_status   BIGINT  NOT NULL,
	vendor_response BYTEA,
	duration_ms     BIGINT  NOT NULL,
	error           TEXT    NOT NULL
);
CREATE INDEX delivery_attempts_delivery ON delivery_attempts (delivery_id, id);

-- Live Events filters seek instead of walking the whole log; the deliveries
-- ones also give the page's order (event_seq, id) so a page reads its rows only.
CREATE INDEX events_pipeline ON events (pipeline_id, seq);
CREATE INDEX events_type ON events (type, seq);
CREATE INDEX events_event ON events (event, seq);
CREATE INDEX deliveries_integration ON deliveries (integration_id, event_seq, id);
-- Partial: the statuses worth an index are the rare ones (most rows are
-- delivered or filtered, found quickly in log order); every index here is
-- written by the processor and the engine's hot paths.
CREATE INDEX deliveries_failed_seq ON deliveries (event_seq, id) WHERE status = 'failed';
CREATE INDEX deliveries_reason ON deliveries (reason, event_seq, id) WHERE reason <> '';

-- Integration health: finished outcomes per integration over time
-- (covering); the backlog and its oldest row come from deliveries_queue.
CREATE INDEX deliveries_outcomes ON deliveries (integration_id, updated_at, status) WHERE status IN ('delivered', 'filtered', 'failed');
